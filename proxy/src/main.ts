// Entry point. `node proxy.js serve` runs the front door; `node proxy.js relay` runs the relay that binds host ports
// and pipes them to the door's unix sockets; `node proxy.js VERB ['JSON']` sends one command to either over its
// control socket, prints the JSON answer and exits 0 (ok) or 1 (refused or unreachable).
import { DEFAULT_SOCKET, sendCommand, VERBS } from './client.js';

export const VERSION = '1';

const USAGE = `usage: proxy.js serve | relay
       proxy.js VERB ['{"option": ...}']     VERB: ${VERBS.join(', ')}
env:   FRONT_DOOR_SOCKET (default ${DEFAULT_SOCKET}): the control socket, of serve, relay or the one sent to
serve: FRONT_DOOR_STATE (default /var/lib/front-door/state.json), FRONT_DOOR_LISTEN (default 0.0.0.0),
       FRONT_DOOR_SOCKETS (a directory: listen on its PORT.sock behind the relay instead of TCP),
       FRONT_DOOR_ACCESS_LOG=1 (one JSON line per request on stdout)
relay: FRONT_DOOR_RELAY_STATE (default /var/lib/front-door/relay.json),
       FRONT_DOOR_SOCKETS_ROOT (default /var/lib/front-door/sockets), FRONT_DOOR_RELAY_GRACE_MS (default 30000)
`;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

/** On SIGTERM or SIGINT (once): log, run `stop`, exit 0. */
function onStop(what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: ${what}`);
    void stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => handle('SIGTERM'));
  process.on('SIGINT', () => handle('SIGINT'));
}

async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  // Loaded only to serve: client mode (one per docker exec) must start fast.
  const [{ Router }, { listenControl }] = await Promise.all([import('./router.js'), import('./control.js')]);
  const socketPath = env['FRONT_DOOR_SOCKET'] ?? DEFAULT_SOCKET;
  const socketsDir = env['FRONT_DOOR_SOCKETS'];
  const router = new Router({
    stateFile: env['FRONT_DOOR_STATE'] ?? '/var/lib/front-door/state.json',
    listenHost: env['FRONT_DOOR_LISTEN'] ?? '0.0.0.0',
    ...(socketsDir ? { socketsDir } : {}),
    log,
    ...(env['FRONT_DOOR_ACCESS_LOG'] === '1' ? { accessLog: (line: string) => process.stdout.write(`${line}\n`) } : {}),
  });
  const { restored, failed } = await router.restore();
  log(
    `restored ${restored.length} app(s)${failed.length > 0 ? `, ${failed.length} kept out: ${failed.join(', ')}` : ''}`,
  );
  const control = await listenControl(socketPath, router, { version: VERSION, startedAt: Date.now() });
  log(`control socket ${socketPath}`);
  onStop('draining and stopping', async () => {
    control.close();
    await router.close();
  });
}

async function relay(env: NodeJS.ProcessEnv): Promise<void> {
  const [{ Relay, answerRelay }, { listenLines }] = await Promise.all([
    import('./relay.js'),
    import('./control-socket.js'),
  ]);
  const grace = env['FRONT_DOOR_RELAY_GRACE_MS'] ?? '30000';
  if (!/^\d{1,9}$/.test(grace)) throw new Error(`FRONT_DOOR_RELAY_GRACE_MS must be milliseconds (got "${grace}")`);
  const socketPath = env['FRONT_DOOR_SOCKET'] ?? DEFAULT_SOCKET;
  const relay = new Relay({
    stateFile: env['FRONT_DOOR_RELAY_STATE'] ?? '/var/lib/front-door/relay.json',
    socketsRoot: env['FRONT_DOOR_SOCKETS_ROOT'] ?? '/var/lib/front-door/sockets',
    log,
  });
  // Serving again before answering: a restarted relay container needs no command to carry traffic.
  await relay.restore();
  const info = { version: VERSION, startedAt: Date.now() };
  const control = await listenLines(socketPath, (line) => answerRelay(relay, line, info));
  log(`relay control socket ${socketPath}`);
  onStop(`closing the ports, piped connections run up to ${grace} ms`, async () => {
    control.close();
    await relay.close(Number(grace));
  });
}

async function client(verb: string, json: string | undefined, env: NodeJS.ProcessEnv): Promise<number> {
  let options: unknown = {};
  if (json !== undefined) {
    try {
      options = JSON.parse(json);
    } catch {
      process.stdout.write(`${JSON.stringify({ ok: false, error: `the options are not JSON: ${json}` })}\n`);
      return 1;
    }
  }
  const reply = await sendCommand(env['FRONT_DOOR_SOCKET'] ?? DEFAULT_SOCKET, verb, options);
  process.stdout.write(`${JSON.stringify(reply)}\n`);
  return reply.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<void> {
  const [verb, json, extra] = argv;
  if (verb === 'serve' && json === undefined) return serve(process.env);
  if (verb === 'relay' && json === undefined) return relay(process.env);
  if (!verb || verb === '--help' || verb === '-h' || extra !== undefined) {
    process.stderr.write(USAGE);
    process.exitCode = verb ? 0 : 2;
    if (extra !== undefined) process.exitCode = 2;
    return;
  }
  process.exitCode = await client(verb, json, process.env);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  log(`fatal: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
