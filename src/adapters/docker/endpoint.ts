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
