import type { Endpoint } from '../endpoint.js';
import { EngineBuilds } from './builds.js';
import { EngineConnection } from './connection.js';
import { EngineContainers } from './containers.js';
import { EngineEvents } from './events.js';
import { EngineExec } from './exec.js';
import { EngineImages } from './images.js';
import { EngineLogs } from './logs.js';
import { EngineNetworks } from './networks.js';
import { EngineServices } from './services.js';
import { EngineSystem } from './system.js';
import { EngineVolumes } from './volumes.js';

/**
 * A running Docker Engine, reached through the Engine API. The only code that talks to Docker: one connection,
 * shared by a part per kind of thing the engine holds (containers, images, builds, exec, networks, volumes,
 * events, logs, the engine as a whole, and Swarm services).
 */
export class Engine {
  readonly endpoint: Endpoint;
  readonly apiVersion: string;
  readonly containers: EngineContainers;
  readonly images: EngineImages;
  readonly builds: EngineBuilds;
  readonly exec: EngineExec;
  readonly networks: EngineNetworks;
  readonly volumes: EngineVolumes;
  readonly events: EngineEvents;
  readonly logs: EngineLogs;
  readonly system: EngineSystem;
  readonly services: EngineServices;
  private readonly connection: EngineConnection;

  private constructor(connection: EngineConnection) {
    this.connection = connection;
    this.endpoint = connection.endpoint;
    this.apiVersion = connection.apiVersion;
    this.containers = new EngineContainers(connection);
    this.images = new EngineImages(connection);
    this.builds = new EngineBuilds(connection);
    this.exec = new EngineExec(connection);
    this.networks = new EngineNetworks(connection);
    this.volumes = new EngineVolumes(connection);
    this.events = new EngineEvents(connection);
    this.logs = new EngineLogs(connection);
    this.system = new EngineSystem(connection);
    this.services = new EngineServices(connection);
  }

  /**
   * Connects and agrees on an API version (the older of the engine's and ours, or DOCKER_API_VERSION). An
   * aborted signal gives up at once and closes what was opened (an ssh process among it).
   */
  static async connect(
    endpoint: Endpoint,
    env: Record<string, string | undefined> = process.env,
    signal?: AbortSignal,
  ): Promise<Engine> {
    return new Engine(await EngineConnection.open(endpoint, env, signal));
  }

  /** Lets the process end: idle connections (and ssh processes) are closed. */
  close(): void {
    this.connection.close();
  }
}
