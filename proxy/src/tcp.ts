// Non-HTTP ports: each new connection is piped to the app's active target; a replaced target's connections are
// left to end on their own (cut only at the stream-drain deadline).
import net, { type Socket } from 'node:net';
import { splitAddress } from './health.js';
import type { Target } from './target.js';

/** Pipe `client` to `target`, counted on the target as a stream until either side closes. */
export function pipeTcp(target: Target, client: Socket): void {
  const { host, port } = splitAddress(target.address);
  const upstream = net.connect({ host, port });
  const teardown = (): void => {
    client.destroy();
    upstream.destroy();
  };
  const { done } = target.track('stream', teardown);
  client.on('error', teardown);
  upstream.on('error', teardown);
  client.once('close', () => {
    upstream.destroy();
    done();
  });
  upstream.once('close', () => {
    client.destroy();
    done();
  });
  client.pipe(upstream);
  upstream.pipe(client);
}
