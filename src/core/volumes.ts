import { DeployError } from './errors.js';
import { LABEL } from './names.js';
import type { VolumeMount } from './types.js';

const VOLUME_HINT =
  'Write NAME:/path (a volume kept per app) or /host/path:/path (a bind mount), with :ro for read-only; for example data:/data.';

/** What Docker accepts as a volume name (the engine's own rule); the engine's name adds deploy-APP- in front. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const VOLUME_NAME_MAX = 64;

function bad(spec: string, why: string): never {
  throw new DeployError('usage', `Invalid volume ${JSON.stringify(spec)}: ${why}.`, { hint: VOLUME_HINT });
}

/** An absolute path, without "." or ".." parts, written without a trailing "/". */
function absolutePath(spec: string, path: string, what: string): string {
  if (!path.startsWith('/'))
    bad(spec, `the ${what} ${JSON.stringify(path)} must be an absolute path (starting with "/")`);
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..'))
    bad(spec, `the ${what} ${JSON.stringify(path)} must not contain "." or ".."`);
  if (/[\0\n\r]/.test(path)) bad(spec, `the ${what} contains a control character`);
  return `/${parts.join('/')}`;
}

/**
 * Parses a volume as `docker run -v` writes it: NAME:/path or /host/path:/path, with an optional :ro (or :rw).
 * A name is kept per app (the engine's volume is deploy-APP-NAME); a host path must be absolute.
 */
export function parseVolume(spec: string): VolumeMount {
  const text = spec.trim();
  if (text === '') bad(spec, 'it is empty');
  const parts = text.split(':');
  let readOnly = false;
  const last = parts[parts.length - 1] ?? '';
  if (parts.length === 3) {
    if (last !== 'ro' && last !== 'rw')
      bad(spec, `unknown option ${JSON.stringify(last)} (only "ro" and "rw" are known)`);
    readOnly = last === 'ro';
    parts.pop();
  }
  if (parts.length !== 2) {
    bad(
      spec,
      parts.length === 1
        ? 'it names no container path (an anonymous volume is not kept across releases)'
        : 'too many ":"',
    );
  }
  const [source = '', rawTarget = ''] = parts;
  const target = absolutePath(spec, rawTarget, 'container path');
  if (target === '/') bad(spec, 'the container path cannot be "/"');
  if (source.startsWith('/')) {
    const host = absolutePath(spec, source, 'host path');
    if (host === '/') bad(spec, 'the host path cannot be "/"');
    return { type: 'bind', source: host, target, readOnly };
  }
  if (source === '') bad(spec, 'the volume name is missing');
  if (source.startsWith('.') || source.startsWith('~'))
    bad(spec, `a host path must be absolute, not ${JSON.stringify(source)}`);
  if (!VOLUME_NAME.test(source))
    bad(
      spec,
      `${JSON.stringify(source)} is not a volume name Docker accepts (letters, digits, "_", "." and "-", starting with a letter or digit)`,
    );
  if (source.length > VOLUME_NAME_MAX) bad(spec, `the volume name is longer than ${VOLUME_NAME_MAX} characters`);
  return { type: 'volume', source, target, readOnly };
}

export function formatVolume(v: VolumeMount): string {
  return `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`;
}

/** Two mounts on one container path: the engine would refuse the container, so it is said before. */
export function assertNoDuplicateVolumes(volumes: readonly VolumeMount[]): void {
  const seen = new Map<string, VolumeMount>();
  for (const v of volumes) {
    const before = seen.get(v.target);
    if (before) {
      throw new DeployError(
        'usage',
        `Volumes ${formatVolume(before)} and ${formatVolume(v)} mount on the same container path ${v.target}.`,
        {
          hint: 'Mount one volume or host path on each container path.',
        },
      );
    }
    seen.set(v.target, v);
  }
}

/** The engine's name of an app's volume: per app, so two apps naming a volume "data" never share it. */
export function engineVolumeName(app: string, name: string): string {
  return `deploy-${app}-${name}`;
}

/**
 * The name given to the volume of a path an image declares as VOLUME (and the app does not map): its path's
 * parts joined by "-", other characters than Docker accepts as "_". /data is "data", /var/lib/mysql "var-lib-mysql".
 */
export function imageVolumeName(path: string): string {
  return path
    .split('/')
    .filter((p) => p !== '')
    .map((p) => p.replace(/[^a-zA-Z0-9_.-]/g, '_'))
    .join('-');
}

/** The labels of a volume the tool makes: found by label, never by name. */
export function volumeLabels(app: string, name: string): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.app]: app, [LABEL.volume]: name };
}

/** One mount as the Engine API's HostConfig.Mounts takes it. */
export interface EngineMount {
  Type: 'volume' | 'bind';
  Source: string;
  Target: string;
  ReadOnly: boolean;
  VolumeOptions?: { Labels: Record<string, string> };
}

/** A named volume a container will use: the engine's name, where it is mounted, and why it exists. */
export interface PlannedVolume {
  name: string;
  engineName: string;
  target: string;
  /** Declared by the image as VOLUME and not mapped by the app's settings. */
  fromImage: boolean;
}

export interface MountPlan {
  mounts: EngineMount[];
  volumes: PlannedVolume[];
}

/**
 * The mounts of an app's container: its configured volumes and bind mounts, then a named volume for each path
 * the image declares as VOLUME that they do not cover (else the engine gives it an anonymous volume, lost with
 * the container). Refuses when two of those would end up as one volume on two paths.
 */
export function planMounts(
  app: string,
  configured: readonly VolumeMount[],
  imageVolumes: readonly string[],
): MountPlan {
  const mounts: EngineMount[] = [];
  const volumes: PlannedVolume[] = [];
  const byName = new Map<string, PlannedVolume>();
  for (const v of configured) {
    if (v.type === 'bind') {
      mounts.push({ Type: 'bind', Source: v.source, Target: v.target, ReadOnly: v.readOnly });
      continue;
    }
    const engineName = engineVolumeName(app, v.source);
    mounts.push({
      Type: 'volume',
      Source: engineName,
      Target: v.target,
      ReadOnly: v.readOnly,
      VolumeOptions: { Labels: volumeLabels(app, v.source) },
    });
    const planned = { name: v.source, engineName, target: v.target, fromImage: false };
    if (!byName.has(v.source)) {
      byName.set(v.source, planned);
      volumes.push(planned);
    }
  }
  const mapped = new Set(configured.map((v) => v.target));
  const declared = [
    ...new Set(
      imageVolumes.map(
        (p) =>
          `/${p
            .split('/')
            .filter((x) => x !== '')
            .join('/')}`,
      ),
    ),
  ]
    .filter((p) => p !== '/')
    .sort();
  for (const path of declared) {
    if (mapped.has(path)) continue;
    const name = imageVolumeName(path);
    const clash = byName.get(name);
    if (clash) {
      const what = clash.fromImage
        ? `the image's VOLUME ${clash.target}`
        : `the volume ${name}:${clash.target} of the settings`;
      throw new DeployError(
        'config',
        `The image declares VOLUME ${path}, whose kept volume would be ${engineVolumeName(app, name)}, already used by ${what}.`,
        {
          hint: `Map ${path} yourself, for example: deploy config set volumes=${[...configured.map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`), `${name}2:${path}`].join(',')} --app ${app}`,
        },
      );
    }
    const engineName = engineVolumeName(app, name);
    mounts.push({
      Type: 'volume',
      Source: engineName,
      Target: path,
      ReadOnly: false,
      VolumeOptions: { Labels: volumeLabels(app, name) },
    });
    const planned = { name, engineName, target: path, fromImage: true };
    byName.set(name, planned);
    volumes.push(planned);
  }
  return { mounts, volumes };
}

/**
 * The volumes of a container, one line each, for a plan or an inspection: where each mount comes from and what
 * the engine calls it. `imageVolumes` null: not known yet (the image is still to be built).
 */
export function describeVolumes(
  app: string,
  configured: readonly VolumeMount[],
  imageVolumes: readonly string[] | null,
): string[] {
  const lines = configured.map((v) =>
    v.type === 'bind'
      ? `${v.target} ← host ${v.source}${v.readOnly ? ' (read-only)' : ''}`
      : `${v.target} ← volume ${engineVolumeName(app, v.source)}${v.readOnly ? ' (read-only)' : ''}`,
  );
  if (imageVolumes) {
    let plan: MountPlan;
    try {
      plan = planMounts(app, configured, imageVolumes);
    } catch (error) {
      return [...lines, (error as Error).message];
    }
    for (const v of plan.volumes.filter((x) => x.fromImage))
      lines.push(`${v.target} ← volume ${v.engineName} (the image's VOLUME)`);
  }
  return lines;
}
