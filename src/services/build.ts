import { imagesOn } from '../adapters/images/engine-local.js';
import { imageDigest } from '../adapters/images/images.js';
import { redactValues } from '../core/redact.js';
import { buildSecretValues } from '../core/build-secrets.js';
import { secretValues } from './keep-logs.js';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { Streamed } from '../adapters/process.js';
import { ContextFilter } from '../core/dockerignore.js';
import { collectStreamGarbage } from '../adapters/memory.js';
import { BuildFailure, BuilderUnsupported } from '../adapters/docker/engine/builds.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import type { BuildOptions, ImageInfo } from '../adapters/docker/engine/types.js';
import type { Git } from '../adapters/git.js';
import { durationInProse } from '../core/duration.js';
import { DeployError, fromEngineRefusal, reasonOf } from '../core/errors.js';
import { tailText } from '../core/logs.js';
import { buildLabels, imageRef } from '../core/names.js';
import type { Context } from '../context.js';
import { sanitize } from '../ui/sanitize.js';
import type { Tracker } from './tracker.js';
import { buildCredentials, pulledRegistries } from './build-credentials.js';
import { DOCKER_HUB, refusedRegistry, releaseRepository } from '../core/image-ref.js';
import { imagesFor } from '../adapters/images/registry.js';
import {
  contextArchive,
  contextPathOf,
  readIgnoreFile,
  resolveSubmodules,
  type ContextSource,
} from './build-context.js';

/** Passes the build context through, freeing spent buffers every 8 MiB (see collectStreamGarbage). */
function boundedMemory(): Transform {
  let since = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      since += chunk.length;
      if (since >= 8 * 1024 * 1024) {
        since = 0;
        collectStreamGarbage();
      }
      done(null, chunk);
    },
  });
}

/** Lines of a failed build shown under the error (all of it is kept with the record). */
const FAILED_TAIL = 15;

export type BuildSource = ContextSource;

export type BuiltImage = ImageInfo & { ref: string };

/** Names what the commit holds that an archive of it does not ship as meant: Git LFS pointers. */
async function warnUnshippable(ctx: Context, git: Git, src: BuildSource, contextPath: string): Promise<void> {
  const lfs = await git.lfsPointers(src.root, src.treeish, contextPath);
  const list = (paths: string[]) =>
    `${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ` and ${paths.length - 5} more` : ''}`;
  if (lfs.length > 0) {
    ctx.reporter.warn(
      `The build context holds Git LFS pointer files (${list(lfs)}): the image gets the pointers, not their content. Commit the files themselves, or fetch them in the Dockerfile.`,
    );
  }
}

/**
 * Builds the deployment's image on its engine from `git archive` of the commit, its submodules' trees included
 * (see build-context.ts), filtered by its .dockerignore as the docker CLI filters a directory, streamed: the
 * repository is never copied to disk or held in memory. The whole output is kept with the record.
 * `buildSecrets` (id → value, from readBuildSecrets) are served to the build's `RUN --mount=type=secret` steps, and
 * masked wherever the build's output or failure is kept or shown.
 */
export async function buildImage(
  ctx: Context,
  engine: Engine,
  git: Git,
  tracker: Tracker,
  src: BuildSource,
  buildSecrets?: ReadonlyMap<string, Buffer>,
): Promise<BuiltImage> {
  const built = await buildOnEngine(ctx, engine, git, tracker, src, buildSecrets);
  return tracker.deployment.config.registry ? pushImage(ctx, engine, tracker, built) : built;
}

/**
 * Pushes a freshly built image to the app's registry as REGISTRY/APP:ID and records the registry's digest, which
 * any engine pulls it by. A refused push fails the deployment (exit 9, naming the registry and `docker login`)
 * before anything starts: what serves keeps serving.
 */
async function pushImage(ctx: Context, engine: Engine, tracker: Tracker, built: BuiltImage): Promise<BuiltImage> {
  const r = ctx.reporter;
  const d = tracker.deployment;
  const images = imagesFor(engine, d.config.registry, ctx.env, (line) => r.update(line), ctx.signal);
  const repo = releaseRepository(d.config.registry as string, d.app);
  const startedAt = ctx.now();
  r.step(`Pushing ${repo}:${d.id}`);
  let digest: string | null;
  try {
    digest = await images.publish({ app: d.app, id: d.id, image: built.ref, imageId: built.id });
  } catch (error) {
    r.stopSpinner();
    // Ctrl-C: recorded as interrupted where the command ends (runToEnd), as an interrupted build is.
    if (ctx.signal.aborted)
      throw new DeployError(
        'interrupted',
        `The push of ${repo}:${d.id} was interrupted; ${d.app} v${d.version} (${d.id}) was not deployed.`,
      );
    const failure =
      error instanceof DeployError
        ? error
        : new DeployError('build_failed', `The push of ${repo}:${d.id} failed: ${reasonOf(error)}.`);
    const message = `${reasonOf(failure)}; ${d.app} v${d.version} (${d.id}) was not deployed.`;
    tracker.update(
      { status: 'failed', finishedAt: ctx.now(), error: { code: failure.code, message } },
      { type: 'failed', message: `push failed: ${failure.message}` },
    );
    throw new DeployError(failure.code, message, { hint: failure.hint, details: failure.details });
  }
  if (digest) {
    tracker.update({ imageDigest: digest }, { type: 'pushed', message: `pushed ${repo}:${d.id} (${digest})` });
    r.done(`Pushed ${repo}:${d.id} (${digest.slice(0, 19)}) in ${durationInProse(ctx.now() - startedAt)}`);
  }
  return built;
}

async function buildOnEngine(
  ctx: Context,
  engine: Engine,
  git: Git,
  tracker: Tracker,
  src: BuildSource,
  buildSecrets?: ReadonlyMap<string, Buffer>,
): Promise<BuiltImage> {
  const r = ctx.reporter;
  const d = tracker.deployment;
  const ref = imageRef(d.app, d.id);
  const cache = d.config.noCache ? 'no cache' : 'layer cache';
  const buildStartedAt = ctx.now();
  tracker.update(
    { status: 'building', buildStartedAt, image: ref },
    { type: 'building', message: `building ${ref} (${cache})` },
  );
  r.step(`Building ${ref} from ${d.commit.slice(0, 7)}${d.dirty ? ' + uncommitted changes' : ''} (${cache})`);

  let output = '';
  let steps = 0;
  // A Dockerfile can hold one of the app's secrets by mistake, and a step can print a build secret: neither shows.
  const secrets = [...secretValues(ctx.store(), d), ...buildSecretValues(buildSecrets ?? new Map())];
  const onOutput = (text: string) => {
    output += text;
    // "Step 2/5 : COPY …" (classic builder) or "#7 [2/5] COPY …" (BuildKit).
    const step = /^Step (\d+)\/(\d+) : (.*)$/m.exec(text) ?? /^#\d+ \[(\d+)\/(\d+)\] (.*)$/m.exec(text);
    if (step) {
      steps = Number(step[2]);
      r.update(`Building ${ref}: step ${step[1]}/${step[2]} ${sanitize(step[3] ?? '').slice(0, 60)}`);
    }
    if (r.verbose) r.output(secrets.length > 0 ? redactValues(text, secrets) : text);
  };

  const contextPath = contextPathOf(src, d.config.context);
  await warnUnshippable(ctx, git, src, contextPath);
  const ignore = await readIgnoreFile(git, src, contextPath, d.config.dockerfile);
  // A bad .dockerignore fails the build below, with docker's complaint; its submodules are not looked for.
  const submodules = ignore?.error
    ? []
    : await resolveSubmodules(
        git,
        src,
        contextPath,
        ignore ? new ContextFilter(ignore.patterns, d.config.dockerfile) : null,
      );
  const archive = { current: null as Streamed | null };
  const context = async (): Promise<Readable> => {
    const streamed = await contextArchive(git, src, contextPath, submodules, ignore, d.config.dockerfile);
    archive.current = streamed;
    // An unreadable archive ends the build's upload with the reason, rather than leaving it waiting.
    return pipeline(streamed.stdout, boundedMemory(), () => undefined);
  };
  const keepOutput = () => {
    const { text, truncated } = tailText(output);
    ctx.store().saveLog(d.id, 'build', Buffer.from(redactValues(text, secrets)), truncated, ctx.now());
  };
  let credentials: BuildOptions['credentials'];
  const run = async (builder: BuildOptions['builder']) => {
    const body = await context();
    return Promise.all([
      engine.builds.build(
        body,
        {
          builder,
          tag: ref,
          dockerfile: d.config.dockerfile,
          target: d.config.buildTarget ?? null,
          labels: buildLabels(d),
          buildArgs: d.config.buildArgs,
          noCache: d.config.noCache,
          pull: d.config.pull,
          secrets: buildSecrets,
          credentials,
        },
        onOutput,
        ctx.signal,
      ),
      archive.current?.done,
    ]);
  };
  try {
    if (ignore?.error) throw new BuildFailure(`${ignore.file}: ${ignore.error}`);
    credentials = await buildCredentials(ctx, git, src, d.config);
    let built;
    try {
      [built] = await run(engine.builds.builderFor(ctx.env));
    } catch (error) {
      if (!(error instanceof BuilderUnsupported)) throw error;
      // An engine without BuildKit: the same build with the classic builder, from a fresh archive.
      archive.current?.kill();
      [built] = await run('classic');
    }
    keepOutput();
    const buildFinishedAt = ctx.now();
    const info = await imagesOn(engine).inspect(built.imageId);
    tracker.update(
      { buildFinishedAt, imageId: built.imageId, imageDigest: imageDigest(info, built.imageId) },
      {
        type: 'built',
        message: `built ${ref} (${built.imageId.slice(7, 19)}) in ${durationInProse(buildFinishedAt - buildStartedAt)}`,
      },
    );
    r.done(
      `Built ${ref} in ${durationInProse(buildFinishedAt - buildStartedAt)}${steps ? ` (${steps === 1 ? '1 step' : `${steps} steps`})` : ''}`,
    );
    return {
      ref,
      id: built.imageId,
      hasHealthcheck: info?.hasHealthcheck ?? false,
      labels: info?.labels ?? {},
      volumes: info?.volumes ?? [],
      healthcheckIntervalMs: info?.healthcheckIntervalMs ?? null,
      exposed: info?.exposed ?? [],
    };
  } catch (error) {
    archive.current?.kill();
    keepOutput();
    // Ctrl-C first: the engine connection it cut would otherwise read as an unreachable engine.
    // The failure is reported once, where the command ends; the spinner only stops here.
    r.stopSpinner();
    if (ctx.signal.aborted) {
      throw new DeployError(
        'interrupted',
        `The build of ${d.app} v${d.version} (${d.id}) was interrupted; nothing was deployed.`,
      );
    }
    if (error instanceof DeployError && error.code !== 'build_failed') {
      throw error;
    }
    if (error instanceof Error && error.name === 'ApiError') {
      throw fromEngineRefusal(error);
    }
    const reason = redactValues(
      error instanceof BuildFailure
        ? error.message
        : `the build context could not be read: ${(error as Error).message}`,
      secrets,
    );
    if (!r.verbose && !r.json) {
      const tail = output.trimEnd().split('\n').slice(-FAILED_TAIL);
      r.info(r.colors.dim(`Last ${tail.length} lines of the build:`));
      for (const line of tail) r.info(r.colors.dim(`  ${sanitize(redactValues(line, secrets))}`));
    }
    const message = `The build of ${d.app} v${d.version} (${d.id}) failed: ${reason}`;
    const refused = refusedRegistry(reason, credentials?.registries ?? (await pulledRegistries(git, src, d.config)));
    tracker.update(
      { status: 'failed', buildFinishedAt: ctx.now(), finishedAt: ctx.now(), error: { code: 'build_failed', message } },
      { type: 'failed', message: `build failed: ${reason}` },
    );
    throw new DeployError('build_failed', message, {
      hint: refused
        ? `The registry ${refused} refused the pull for want of credentials: log in (${refused === DOCKER_HUB ? 'docker login' : `docker login ${refused}`}) or set up its credential helper, then deploy again.`
        : `See the whole build output: deploy logs ${d.id} --build`,
    });
  }
}
