// Entry point. `node proxy.js serve` runs the front door; `node proxy.js VERB ['JSON']` sends one command to it
// over the control socket, prints the JSON answer and exits 0 (ok) or 1 (refused or unreachable).
import { DEFAULT_SOCKET, sendCommand, VERBS } from './client.js';

export const VERSION = '1';

const USAGE = `usage: proxy.js serve
       proxy.js VERB ['{"option": ...}']     VERB: ${VERBS.join(', ')}
env:   FRONT_DOOR_SOCKET (default ${DEFAULT_SOCKET}), FRONT_DOOR_STATE (default /var/lib/front-door/state.json),
       FRONT_DOOR_LISTEN (default 0.0.0.0), FRONT_DOOR_ACCESS_LOG=1 (one JSON line per request on stdout)
`;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  // Loaded only to serve: client mode (one per docker exec) must start fast.
  const [{ Router }, { listenControl }] = await Promise.all([import('./router.js'), import('./control.js')]);
  const socketPath = env['FRONT_DOOR_SOCKET'] ?? DEFAULT_SOCKET;
  const router = new Router({
    stateFile: env['FRONT_DOOR_STATE'] ?? '/var/lib/front-door/state.json',
    listenHost: env['FRONT_DOOR_LISTEN'] ?? '0.0.0.0',
    log,
    ...(env['FRONT_DOOR_ACCESS_LOG'] === '1' ? { accessLog: (line: string) => process.stdout.write(`${line}\n`) } : {}),
  });
  const { restored, failed } = await router.restore();
  log(
    `restored ${restored.length} app(s)${failed.length > 0 ? `, ${failed.length} kept out: ${failed.join(', ')}` : ''}`,
  );
  const control = await listenControl(socketPath, router, { version: VERSION, startedAt: Date.now() });
  log(`control socket ${socketPath}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining and stopping`);
    control.close();
    void router.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
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
