import type Docker from 'dockerode';
import { SshDialAgent } from './ssh.js';

/** Where an engine is and how to reach it, as the docker CLI would reach it. */
export interface Endpoint {
  /** unix:///path, tcp://host:port or ssh://user@host[:port]: what records keep and messages show. */
  url: string;
  /** What chose it: "--host", "DOCKER_HOST", "context prod (--context)", "default", "record". */
  source: string;
  /** The docker context it came from, when it came from one. */
  context?: string | undefined;
  tls?: { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined; verify: boolean } | undefined;
  /** DOCKER_API_VERSION, when the user pins one. */
  apiVersion?: string | undefined;
}


/**
 * dockerode's options for an endpoint. Every key is set, because docker-modem merges DOCKER_HOST from the
 * environment under whatever it is given.
 */
export function connectionOptions(endpoint: Endpoint, env: Record<string, string | undefined>): Docker.DockerOptions {
  const url = new URL(endpoint.url);
  const base = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined, agent: undefined };
  if (url.protocol === 'unix:') {
    return { ...base, socketPath: decodeURIComponent(url.pathname) } as Docker.DockerOptions;
  }
  if (url.protocol === 'ssh:') {
    // The host and port here only fill in the request line; the agent's ssh process is the connection.
    return { ...base, host: 'localhost', port: '2375', protocol: 'http', agent: new SshDialAgent(endpoint.url, env) } as unknown as Docker.DockerOptions;
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const tls = endpoint.tls;
    const https = Boolean(tls) || url.protocol === 'https:';
    return {
      ...base,
      host: url.hostname,
      port: url.port || (https ? '2376' : '2375'),
      protocol: https ? 'https' : 'http',
      ca: tls?.ca,
      cert: tls?.cert,
      key: tls?.key,
      ...(tls && !tls.verify ? { checkServerIdentity: () => undefined } : {}),
    } as Docker.DockerOptions;
  }
  throw new Error(`unsupported endpoint ${endpoint.url}`);
}
