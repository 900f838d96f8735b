// Non-HTTP ports: each new connection is piped to the app's active target; a replaced target's connections are
// left to end on their own (cut only at the stream-drain deadline).
import net, { type Socket } from 'node:net';
import { splitAddress } from './health.js';
import type { Target } from './target.js';

/**
 * Pipe `client` to `target`, counted on the target as a stream until either side closes. If the connection to the
 * target cannot be opened, `retry(target)` may name another one (nothing was sent yet: the client's bytes wait).
 */
export function pipeTcp(target: Target, client: Socket, retry: (failed: Target) => Target | null = () => null): void {
  const { host, port } = splitAddress(target.address);
  const upstream = net.connect({ host, port });
  let connected = false;
  let handedOver = false;
  const teardown = (): void => {
    client.destroy();
    upstream.destroy();
  };
  const { done } = target.track('stream', teardown);
  client.pause();
  const onClientError = (): void => teardown();
  client.on('error', onClientError);
  const onClientClose = (): void => {
    upstream.destroy();
    done();
  };
  client.once('close', onClientClose);
  upstream.once('connect', () => {
    connected = true;
    client.pipe(upstream);
    upstream.pipe(client);
  });
  upstream.on('error', () => {
    const other = connected || client.destroyed ? null : retry(target);
    if (other && other !== target) {
      handedOver = true;
      client.off('error', onClientError);
      client.off('close', onClientClose);
      done();
      pipeTcp(other, client, retry);
      return;
    }
    teardown();
  });
  upstream.once('close', () => {
    if (handedOver) return;
    client.destroy();
    done();
  });
}
