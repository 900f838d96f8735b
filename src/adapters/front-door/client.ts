import {
  deployExecTimeoutMs,
  DOOR_NAMES,
  DOOR_PROGRAM,
  doorUnreachable,
  readDoorAnswer,
  type DoorDeployResult,
  type DoorRoute,
} from '../../core/door.js';
import { DeployError, fromEngineRefusal } from '../../core/errors.js';
import type { Binding } from '../../core/front-door.js';
import { ApiError } from '../docker/api.js';
import { ExecTimeout } from '../docker/engine/exec.js';
import type { Engine } from '../docker/engine/engine.js';

/** How long a command other than deploy may take: node starting in the container and one answer. */
const COMMAND_TIMEOUT_MS = 20_000;

export interface RelayListening {
  generation: number;
  bindings: Binding[];
  failed: Array<Binding & { error: string }>;
}

export interface DoorStatus {
  app: string;
  state: string;
  [key: string]: unknown;
}

/**
 * The one way the tool talks to an engine's front door: each command is one `docker exec` of
 * `node /proxy.js VERB JSON` in the door's container (so it works wherever the Engine API reaches: a local socket,
 * ssh://, tcp:// with TLS), and its one JSON line of answer. A refusal is a DeployError `front_door` naming the app
 * and the door's own reason.
 */
export class FrontDoorClient {
  constructor(
    private readonly engine: Engine,
    private readonly container: string = DOOR_NAMES.container,
  ) {}

  /** Gate `route.target`, then route the app to it; resolves once the switch is made (and the drain, with waitDrain). */
  async deploy(route: DoorRoute, { waitDrain = false }: { waitDrain?: boolean } = {}): Promise<DoorDeployResult> {
    const options = waitDrain ? { ...route, waitDrain } : route;
    return (await this.send('deploy', options, route.app, deployExecTimeoutMs(route, waitDrain))) as DoorDeployResult;
  }

  /** Swap back to the release kept for the bake window; the address now served. */
  async rollback(app: string): Promise<{ app: string; target: string }> {
    return (await this.send('rollback', { app }, app)) as { app: string; target: string };
  }

  /** Answer 503 (holdMs 0), or hold requests up to holdMs for a resume. */
  async pause(app: string, holdMs = 0): Promise<void> {
    await this.send('pause', { app, holdMs }, app);
  }

  async resume(app: string): Promise<void> {
    await this.send('resume', { app }, app);
  }

  /** Stop routing the app (its requests in flight drain first). */
  async remove(app: string): Promise<void> {
    await this.send('remove', { app }, app);
  }

  async status(app: string): Promise<DoorStatus>;
  async status(): Promise<{ apps: DoorStatus[]; failed: DoorStatus[]; pending?: DoorStatus[] }>;
  async status(app?: string): Promise<unknown> {
    return this.send('status', app === undefined ? {} : { app }, app ?? null);
  }

  /** Whether the door answers (its routes are restored by then): its version, pid and uptime. */
  async ping(timeoutMs = COMMAND_TIMEOUT_MS): Promise<{ pong: true; version: string; pid: number; uptimeMs: number }> {
    return (await this.send('ping', {}, null, timeoutMs)) as {
      pong: true;
      version: string;
      pid: number;
      uptimeMs: number;
    };
  }

  /**
   * The relay only (a client made with the relay's container): listen on exactly `bindings`, sending new
   * connections to the door of `generation`. What bound and what could not (a port another program holds).
   */
  async listen(generation: number, bindings: readonly Binding[]): Promise<RelayListening> {
    return (await this.send('listen', { generation, bindings }, null)) as RelayListening;
  }

  /** The relay only: its generation and the bindings it listens on. */
  async relayState(timeoutMs = COMMAND_TIMEOUT_MS): Promise<{ generation: number; bindings: Binding[] }> {
    return (await this.send('ping', {}, null, timeoutMs)) as { generation: number; bindings: Binding[] };
  }

  private async send(
    verb: string,
    options: object,
    app: string | null,
    timeoutMs = COMMAND_TIMEOUT_MS,
  ): Promise<unknown> {
    const what = app === null ? verb : `${verb} of ${app}`;
    const logs = `Its log says more: deploy proxy logs (docker logs ${this.container}).`;
    let result;
    try {
      result = await this.engine.exec.run(this.container, ['node', DOOR_PROGRAM, verb, JSON.stringify(options)], {
        timeoutMs,
      });
    } catch (error) {
      if (error instanceof ExecTimeout) {
        throw new DeployError(
          'front_door',
          `The front door (container ${this.container}) did not answer the ${what} within ${Math.round(timeoutMs / 1000)}s.`,
          { hint: logs, cause: error },
        );
      }
      if (error instanceof ApiError && (error.statusCode === 404 || error.statusCode === 409)) {
        const why = error.statusCode === 404 ? 'there is no such container' : 'it is not running';
        throw new DeployError(
          'front_door',
          `The front door cannot be reached for the ${what}: ${why} (container ${this.container} on ${this.engine.endpoint.url}).`,
          {
            hint: `A deploy of an app behind it starts it again; or: deploy proxy restart. ${logs}`,
            cause: error,
          },
        );
      }
      throw fromEngineRefusal(error);
    }
    const answer = readDoorAnswer(result.stdout);
    if (!answer) {
      const said = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-3).join(' / ') || 'nothing';
      throw new DeployError(
        'front_door',
        `The front door (container ${this.container}) gave no answer to the ${what} (exit ${result.exitCode}; it said: ${said}).`,
        { hint: logs },
      );
    }
    if (answer.ok) return answer.result;
    if (doorUnreachable(answer.error)) {
      throw new DeployError(
        'front_door',
        `The front door (container ${this.container}) is running but its server does not answer the ${what}: ${answer.error}`,
        {
          hint: `It may be starting or stopping: try again in a moment, or restart it (deploy proxy restart). ${logs}`,
        },
      );
    }
    throw new DeployError('front_door', `The front door refused the ${what}: ${answer.error}`, {
      hint: logs,
      details: { frontDoorError: answer.error },
    });
  }
}
