import { describe, expect, it } from 'vitest';
import { settingValueFromText, settingsFromEntries } from '../../src/core/config-keys.js';
import { diffConfig } from '../../src/core/config-diff.js';
import { resolveConfig } from '../../src/core/config.js';
import { containerSpec } from '../../src/core/container-spec.js';
import { parseJsonWithPositions } from '../../src/core/json-source.js';
import { validateSettings } from '../../src/core/settings.js';
import { describeVolumes, formatVolume, imageVolumeName, parseVolume, planMounts } from '../../src/core/volumes.js';
import { failure, makeConfig, makeDeployment } from '../helpers/unit.js';

const labels = (app: string, name: string) => ({
  'dev.deploy.managed': 'true',
  'dev.deploy.app': app,
  'dev.deploy.volume': name,
});

/** The mount of app web's kept volume `name` (engine name deploy-web-NAME, labelled as the tool's) on `target`. */
const keptVolume = (name: string, target: string) => ({
  Type: 'volume',
  Source: `deploy-web-${name}`,
  Target: target,
  ReadOnly: false,
  VolumeOptions: { Labels: labels('web', name) },
});

describe('parseVolume', () => {
  it('reads named volumes and bind mounts, with :ro and :rw', () => {
    expect(parseVolume('data:/data')).toEqual({ type: 'volume', source: 'data', target: '/data', readOnly: false });
    expect(parseVolume('/srv/uploads:/uploads:ro')).toEqual({
      type: 'bind',
      source: '/srv/uploads',
      target: '/uploads',
      readOnly: true,
    });
    expect(parseVolume(' cache_1.v2:/var/cache/app/:rw ')).toEqual({
      type: 'volume',
      source: 'cache_1.v2',
      target: '/var/cache/app',
      readOnly: false,
    });
  });

  it('writes them back as they are read', () => {
    for (const spec of ['data:/data', '/srv/uploads:/uploads:ro']) expect(formatVolume(parseVolume(spec))).toBe(spec);
  });

  it('refuses what it cannot keep or Docker would not accept, with a usage error that says why', () => {
    const hint =
      'Write NAME:/path (a volume kept per app) or /host/path:/path (a bind mount), with :ro for read-only; for example data:/data.';
    expect(failure(() => parseVolume('/data'))).toEqual({
      code: 'usage',
      message: 'Invalid volume "/data": it names no container path (an anonymous volume is not kept across releases).',
      hint,
      details: undefined,
    });
    const why = (spec: string) => failure(() => parseVolume(spec)).message;
    // Each spec and the message it is refused with.
    const refusals: [string, string][] = [
      [
        'data:data',
        'Invalid volume "data:data": the container path "data" must be an absolute path (starting with "/").',
      ],
      ['data:/', 'Invalid volume "data:/": the container path cannot be "/".'],
      [
        'data:/a/../etc',
        'Invalid volume "data:/a/../etc": the container path "/a/../etc" must not contain "." or "..".',
      ],
      ['./up:/up', 'Invalid volume "./up:/up": a host path must be absolute, not "./up".'],
      [
        'my vol:/data',
        'Invalid volume "my vol:/data": "my vol" is not a volume name Docker accepts (letters, digits, "_", "." and "-", starting with a letter or digit).',
      ],
      ['data:/data:z', 'Invalid volume "data:/data:z": unknown option "z" (only "ro" and "rw" are known).'],
      ['a:/b:/c:ro', 'Invalid volume "a:/b:/c:ro": too many ":".'],
      [':/data', 'Invalid volume ":/data": the volume name is missing.'],
      [
        `${'v'.repeat(65)}:/data`,
        `Invalid volume "${'v'.repeat(65)}:/data": the volume name is longer than 64 characters.`,
      ],
    ];
    for (const [spec, message] of refusals) expect(why(spec)).toBe(message);
    expect(why('-x:/data')).toContain('is not a volume name Docker accepts');
  });
});

describe('the volumes setting', () => {
  it('is validated in deploy.json with the JSON path and line of the bad entry (exit 8)', () => {
    const text = '{\n  "volumes": [\n    "data:/data",\n    "data:relative"\n  ]\n}\n';
    const { value, positions } = parseJsonWithPositions(text);
    const f = failure(() => validateSettings(value, 'deploy.json', positions));
    expect(f.code).toBe('config');
    expect(f.message).toBe(
      'deploy.json:4:5: $.volumes[1]: Invalid volume "data:relative": the container path "relative" must be an absolute path (starting with "/").',
    );
    expect(f.details).toEqual({ file: 'deploy.json', path: '$.volumes[1]', line: 4, column: 5 });
  });

  it('refuses two mounts on one container path, and a value that is not a list', () => {
    expect(failure(() => validateSettings({ volumes: ['a:/data', '/srv/x:/data/'] }, 'deploy.json')).message).toBe(
      'deploy.json: $.volumes: Volumes a:/data and /srv/x:/data mount on the same container path /data.',
    );
    expect(failure(() => validateSettings({ volumes: 'data:/data' }, 'deploy.json')).message).toBe(
      'deploy.json: $.volumes: expected an array of strings such as "data:/data", found a string',
    );
  });

  it('comes from `config set volumes=...` as a comma-separated list, and none clears it', () => {
    expect(settingValueFromText('volumes', 'data:/data, /srv/up:/uploads:ro')).toEqual([
      'data:/data',
      '/srv/up:/uploads:ro',
    ]);
    expect(settingValueFromText('volumes', '')).toEqual([]);
    const s = settingsFromEntries(
      [{ key: 'volumes', value: ['data:/data', '/srv/up:/uploads:ro'] }],
      {},
      'the app configuration',
    );
    expect(s.volumes?.map(formatVolume)).toEqual(['data:/data', '/srv/up:/uploads:ro']);
  });

  it('comes whole from the strongest layer that sets it, and its change shows in a diff', () => {
    const resolved = resolveConfig([
      { origin: 'flag', settings: { volumes: [parseVolume('a:/a')] } },
      { origin: 'deploy.json', settings: { volumes: [parseVolume('b:/b'), parseVolume('c:/c')] } },
    ]);
    expect(resolved.config.volumes.map(formatVolume)).toEqual(['a:/a']);
    expect(resolved.origins.volumes).toBe('flag');
    expect(diffConfig(makeConfig(), resolved.config)).toEqual([{ key: 'volumes', from: 'none', to: 'a:/a' }]);
  });
});

describe('planMounts', () => {
  it("names each volume per app, binds host paths, and gives each unmapped image VOLUME a volume of the app's", () => {
    const plan = planMounts(
      'web',
      [parseVolume('data:/data'), parseVolume('/srv/up:/uploads:ro')],
      ['/data', '/var/lib/mysql/', '/cache dir'],
    );
    expect(plan.mounts).toEqual([
      keptVolume('data', '/data'),
      { Type: 'bind', Source: '/srv/up', Target: '/uploads', ReadOnly: true },
      keptVolume('cache_dir', '/cache dir'),
      keptVolume('var-lib-mysql', '/var/lib/mysql'),
    ]);
    expect(plan.volumes.map((v) => [v.engineName, v.fromImage])).toEqual([
      ['deploy-web-data', false],
      ['deploy-web-cache_dir', true],
      ['deploy-web-var-lib-mysql', true],
    ]);
  });

  it('names an image VOLUME from its path', () => {
    expect(imageVolumeName('/data')).toBe('data');
    expect(imageVolumeName('/var/lib/postgresql/data/')).toBe('var-lib-postgresql-data');
  });

  it('refuses an image VOLUME whose volume a setting already uses on another path, saying how to map it', () => {
    const f = failure(() => planMounts('web', [parseVolume('data:/srv')], ['/data']));
    expect(f.code).toBe('config');
    expect(f.message).toBe(
      'The image declares VOLUME /data, whose kept volume would be deploy-web-data, already used by the volume data:/srv of the settings.',
    );
    expect(f.hint).toBe('Map /data yourself, for example: deploy config set volumes=data:/srv,data2:/data --app web');
  });

  it('is part of the container spec, which has no mounts when there are none', () => {
    const d = makeDeployment({ config: makeConfig({ volumes: [parseVolume('data:/data')] }) });
    expect(containerSpec(d, 'img', 'n', ['/state']).HostConfig.Mounts).toEqual([
      keptVolume('data', '/data'),
      keptVolume('state', '/state'),
    ]);
    expect(containerSpec(makeDeployment(), 'img', 'n').HostConfig).not.toHaveProperty('Mounts');
  });

  it('is described line by line for a plan or an inspection', () => {
    expect(describeVolumes('web', [parseVolume('data:/data'), parseVolume('/srv/up:/uploads:ro')], ['/state'])).toEqual(
      [
        '/data ← volume deploy-web-data',
        '/uploads ← host /srv/up (read-only)',
        "/state ← volume deploy-web-state (the image's VOLUME)",
      ],
    );
    expect(describeVolumes('web', [], null)).toEqual([]);
  });
});
