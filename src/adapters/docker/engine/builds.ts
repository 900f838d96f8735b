import type { Readable } from 'node:stream';
import { DeployError } from '../../../core/errors.js';
import { BuildkitProgress, decodeStatus } from '../../../core/buildkit-progress.js';
import { buildSecretValues } from '../../../core/build-secrets.js';
import { redactValues } from '../../../core/redact.js';
import { ApiError } from '../api.js';
import { compareVersions, isConnectionError, jsonLines, unreachable, type EngineConnection } from './connection.js';
import type { BuildOptions, BuildResult } from './types.js';

export class BuildFailure extends Error {}

/**
 * The classic builder's X-Registry-Config: the credentials of the registries its base images come from, keyed as
 * docker keys them (base64url JSON), or null when there are none.
 */
async function registryConfig(credentials: BuildOptions['credentials']): Promise<string | null> {
  if (!credentials) return null;
  const found = await Promise.all(credentials.registries.map(async (r) => credentials.lookUp(r)));
  const auths = Object.fromEntries(found.filter((a) => a !== null).map((a) => [a.serveraddress, a]));
  // URL-safe and padded, as Go's base64.URLEncoding (what the engine decodes it with) writes it.
  return Object.keys(auths).length === 0
    ? null
    : Buffer.from(JSON.stringify(auths)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The engine refused the builder asked for before reading the context: build again with the classic one. */
export class BuilderUnsupported extends Error {}

/** Image builds on the engine, with BuildKit or the classic builder. */
export class EngineBuilds {
  constructor(private readonly conn: EngineConnection) {}

  /** BuildKit where the engine has it (API 1.39, Docker 19.03, and later), unless DOCKER_BUILDKIT=0 says no. */
  builderFor(env: Record<string, string | undefined>): BuildOptions['builder'] {
    if (env.DOCKER_BUILDKIT === '0' || env.DOCKER_BUILDKIT === 'false') return 'classic';
    return compareVersions(this.conn.apiVersion, '1.39') >= 0 ? 'buildkit' : 'classic';
  }

  /**
   * Builds an image from a tar stream. Each piece of build output goes to onOutput; the image id is returned.
   * A build error rejects with BuildFailure carrying the engine's message.
   *
   * With `secrets` (BuildKit only), a build session serves them while the build runs and is closed when the build
   * ends, however it ends; a secret's value that shows in a piece of output or in the failure (a step that prints
   * it) is masked there. An empty map still opens a session, as `docker build` always does: a secret mount the
   * build was given nothing for is then left out (or, when `required`, fails naming the secret) rather than
   * failing with BuildKit's "no active sessions".
   */
  async build(
    context: Readable,
    options: BuildOptions,
    onOutput: (text: string) => void,
    signal?: AbortSignal,
  ): Promise<BuildResult> {
    const { secrets, credentials } = options;
    if (options.builder !== 'buildkit' && secrets && secrets.size > 0)
      throw this.secretsNeedBuildkit([...secrets.keys()]);
    if (options.builder !== 'buildkit')
      return this.run(context, options, onOutput, signal, { registryConfig: await registryConfig(credentials) });
    if (!secrets && !credentials) {
      try {
        return await this.run(context, options, onOutput, signal);
      } catch (error) {
        if (error instanceof BuildFailure && /no active sessions?\b/.test(error.message)) {
          throw new BuildFailure(
            `${error.message} (BuildKit asked this client for something only a build session serves: the secret of a RUN --mount=type=secret step, or registry credentials; this build opened no session)`,
          );
        }
        throw error;
      }
    }
    const values = buildSecretValues(secrets ?? new Map());
    const { openBuildSession } = await import('../session.js');
    const session = await this.conn.call('open a build session', () =>
      openBuildSession(
        this.conn.api,
        { secrets: secrets ?? new Map(), credentials: credentials ? (r) => credentials.lookUp(r) : undefined },
        signal,
      ),
    );
    try {
      return await this.run(context, options, (text) => onOutput(redactValues(text, values)), signal, {
        session: session.id,
      });
    } catch (error) {
      // A credential helper that failed when BuildKit asked is the reason, not the registry's refusal that followed.
      if (session.credentialError) throw session.credentialError;
      if (error instanceof BuildFailure) throw new BuildFailure(redactValues(error.message, values));
      throw error;
    } finally {
      session.close();
    }
  }

  /** Build secrets with the classic builder: it has no way to receive them, so the build is refused before it starts. */
  private secretsNeedBuildkit(ids: string[]): DeployError {
    const why =
      compareVersions(this.conn.apiVersion, '1.39') < 0
        ? `the Docker Engine at ${this.conn.endpoint.url} speaks API ${this.conn.apiVersion}, which has no BuildKit (Docker 19.03 and later have it)`
        : 'this build would use the classic builder (DOCKER_BUILDKIT=0, or an engine that refused BuildKit)';
    return new DeployError('usage', `Build secrets (${ids.join(', ')}) need BuildKit, but ${why}.`, {
      hint: 'Build with BuildKit (unset DOCKER_BUILDKIT, or use Docker 19.03 or later), or build without the secrets.',
    });
  }

  private async run(
    context: Readable,
    options: BuildOptions,
    onOutput: (text: string) => void,
    signal?: AbortSignal,
    { session, registryConfig }: { session?: string; registryConfig?: string | null } = {},
  ): Promise<BuildResult> {
    const buildkit = options.builder === 'buildkit';
    const progress = new BuildkitProgress();
    let stream: Readable;
    try {
      stream = await this.conn.call('build', () =>
        this.conn.api.stream('POST', '/build', {
          query: {
            version: buildkit ? '2' : undefined,
            t: options.tag,
            dockerfile: options.dockerfile,
            target: options.target ?? undefined,
            labels: JSON.stringify(options.labels),
            buildargs: JSON.stringify(options.buildArgs),
            nocache: options.noCache ? 'true' : undefined,
            pull: options.pull ? 'true' : undefined,
            rm: 'true',
            forcerm: 'true',
            session,
          },
          body: context,
          // The classic builder's credentials for its pulls (the values: never logged or shown).
          headers: registryConfig
            ? { 'Content-Type': 'application/x-tar', 'X-Registry-Config': registryConfig }
            : { 'Content-Type': 'application/x-tar' },
          ...(signal ? { signal } : {}),
        }),
      );
    } catch (error) {
      if (
        buildkit &&
        error instanceof ApiError &&
        error.statusCode < 500 &&
        /buildkit|builder|version/i.test(error.message)
      )
        throw new BuilderUnsupported(error.message);
      throw error;
    }
    return new Promise<BuildResult>((resolve, reject) => {
      let imageId: string | null = null;
      let failure: string | null = null;
      jsonLines(
        stream,
        (msg) => {
          if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string') {
            const text = progress.push(decodeStatus(Buffer.from(msg.aux, 'base64')));
            if (text) onOutput(text);
            return;
          }
          const aux = msg.aux as { ID?: string } | undefined;
          if (aux?.ID) imageId = aux.ID;
          if (typeof msg.stream === 'string') onOutput(msg.stream);
          if (typeof msg.status === 'string') onOutput(`${msg.status}\n`);
          if (msg.error || msg.errorDetail) {
            failure =
              (msg.errorDetail as { message?: string } | undefined)?.message ?? String(msg.error ?? 'build failed');
            onOutput(`${failure}\n`);
          }
        },
        (line) => onOutput(`${line}\n`),
      );
      stream.on('error', (error: unknown) =>
        reject(isConnectionError(error) ? unreachable(this.conn.endpoint, error) : error),
      );
      stream.on('end', () => {
        if (failure) reject(new BuildFailure(failure));
        else if (!imageId) reject(new BuildFailure('the engine finished the build without reporting an image'));
        else resolve({ imageId });
      });
    });
  }
}
