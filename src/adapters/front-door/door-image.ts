import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DEFAULT_FRONT_DOOR_BASE, doorDockerfile, doorImageLabels, doorImageRef } from '../../core/door.js';
import { DeployError } from '../../core/errors.js';
import { FRONT_DOOR_IMAGE_REPO } from '../../core/names.js';
import { tarFiles } from '../../core/tar.js';
import { BuildFailure, BuilderUnsupported } from '../docker/engine/builds.js';
import type { Engine } from '../docker/engine/engine.js';

/** The front door's program as the build ships it (proxy/build.mjs; `npm run build` makes it). */
const BUNDLE = join('proxy', 'dist', 'proxy.js');

/**
 * Where the door's program is: proxy/dist/proxy.js at the package's root, found upward from this module (dist/ when
 * bundled, src/adapters/front-door when run from source).
 */
export function proxyBundlePath(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, BUNDLE);
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new DeployError(
    'front_door',
    `The front door's program (${BUNDLE}) is missing from this installation of deploy.`,
    {
      hint: 'Build it: npm run build (or node proxy/build.mjs) in the deploy package.',
    },
  );
}

/**
 * The base image of the door: DEPLOY_FRONT_DOOR_IMAGE, else node:24-slim. Any image with `node` (22 or later) on
 * its PATH will do. (An environment variable, not a setting: settings are an app's, and the door serves every app
 * of its engine.)
 */
export function frontDoorBaseImage(env: Record<string, string | undefined>): string {
  const value = env.DEPLOY_FRONT_DOOR_IMAGE;
  if (value === undefined || value.trim() === '') return DEFAULT_FRONT_DOOR_BASE;
  if (/\s/.test(value.trim())) {
    throw new DeployError('config', `DEPLOY_FRONT_DOOR_IMAGE must be an image name (got ${JSON.stringify(value)}).`, {
      hint: `For example: DEPLOY_FRONT_DOOR_IMAGE=${DEFAULT_FRONT_DOOR_BASE}.`,
    });
  }
  return value.trim();
}

export interface DoorImage {
  ref: string;
  id: string;
  /** Whether this call built it (false: it was on the engine already). */
  built: boolean;
}

export interface DoorImageOptions {
  base: string;
  /** Default: FRONT_DOOR_IMAGE_REPO. */
  repo?: string;
  /** The program's text; default: read from proxyBundlePath(). */
  program?: Buffer;
  env?: Record<string, string | undefined>;
}

/**
 * The door's image on the target engine, built there (no registry) from `base` and the program, and reused while
 * both (and how it is made) are unchanged: its tag is a hash of the program and the Dockerfile.
 */
export async function ensureDoorImage(engine: Engine, options: DoorImageOptions): Promise<DoorImage> {
  const program = options.program ?? readFileSync(proxyBundlePath());
  // The tag follows everything the image is made of: the program, and the Dockerfile (which names the base).
  const digest = createHash('sha256').update(program).update('\0').update(doorDockerfile(options.base)).digest('hex');
  const ref = doorImageRef(options.repo ?? FRONT_DOOR_IMAGE_REPO, digest);
  const found = await engine.images.inspect(ref);
  if (found) return { ref, id: found.id, built: false };

  if (!(await engine.images.inspect(options.base))) {
    throw new DeployError(
      'front_door',
      `The front door's base image ${options.base} is not on the Docker Engine at ${engine.endpoint.url}.`,
      {
        hint: `Load it there (docker pull ${options.base}, or docker load), or name another image with node on its PATH: DEPLOY_FRONT_DOOR_IMAGE=IMAGE.`,
      },
    );
  }
  const context = () =>
    Readable.from([
      tarFiles([
        { name: 'Dockerfile', content: Buffer.from(doorDockerfile(options.base)) },
        { name: 'proxy.js', content: program },
      ]),
    ]);
  const output: string[] = [];
  const build = (builder: 'buildkit' | 'classic') =>
    engine.builds.build(
      context(),
      {
        builder,
        tag: ref,
        dockerfile: 'Dockerfile',
        labels: doorImageLabels(options.base),
        buildArgs: {},
        noCache: false,
        pull: false,
      },
      (text) => output.push(text),
    );
  try {
    let built;
    try {
      built = await build(engine.builds.builderFor(options.env ?? process.env));
    } catch (error) {
      if (!(error instanceof BuilderUnsupported)) throw error;
      built = await build('classic');
    }
    return { ref, id: built.imageId, built: true };
  } catch (error) {
    if (!(error instanceof BuildFailure)) throw error;
    const tail = output.join('').trim().split('\n').slice(-10).join('\n');
    throw new DeployError(
      'front_door',
      `The front door's image ${ref} could not be built on the Docker Engine at ${engine.endpoint.url}: ${error.message}`,
      {
        hint: `Its base image is ${options.base}; the build said:\n${tail}`,
        cause: error,
      },
    );
  }
}
