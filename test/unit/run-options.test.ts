import { describe, expect, it } from 'vitest';
import {
  changedBuildInputs,
  DEFAULT_CONFIG,
  derivedOverrides,
  mergeSettings,
  resolveConfig,
} from '../../src/core/config.js';
import { diffConfig } from '../../src/core/config-diff.js';
import {
  displaySetting,
  isSettingKey,
  mistypedSetting,
  settingsFromEntries,
  settingValueFromText,
} from '../../src/core/config-keys.js';
import { containerSpec, stopGraceSeconds } from '../../src/core/container-spec.js';
import { publicConfig } from '../../src/core/record-view.js';
import { completeConfig, formatBytes, joinWords, listedSettings, splitWords } from '../../src/core/setting-table.js';
import { validateSettings } from '../../src/core/settings.js';
import type { DeployConfig } from '../../src/core/types.js';
import { failure, makeConfig, makeDeployment } from '../helpers/unit.js';

const valid = (doc: Record<string, unknown>) => validateSettings(doc, 'deploy.json');
const refusal = (doc: Record<string, unknown>) => failure(() => validateSettings(doc, 'deploy.json')).message;

describe('the docker run options as settings', () => {
  it('reads sizes, CPUs, words, hosts, signals and durations as docker writes them', () => {
    expect(valid({ memory: '512m', cpus: '1.5' })).toEqual({ memory: 512 * 1024 ** 2, cpus: 1.5 });
    expect(valid({ memory: '1g' }).memory).toBe(1024 ** 3);
    expect(valid({ memory: '1.5GB' }).memory).toBe(1.5 * 1024 ** 3);
    expect(valid({ memory: 104857600 }).memory).toBe(104857600);
    expect(valid({ command: 'node server.js --port "80 80"' }).command).toEqual([
      'node',
      'server.js',
      '--port',
      '80 80',
    ]);
    expect(valid({ command: ['sh', '-c', 'echo hi'] }).command).toEqual(['sh', '-c', 'echo hi']);
    expect(valid({ entrypoint: '' }).entrypoint).toEqual([]);
    expect(valid({ extraHosts: ['db.internal:10.0.0.5', 'gw=host-gateway', 'v6:[::1]'] }).extraHosts).toEqual([
      'db.internal:10.0.0.5',
      'gw:host-gateway',
      'v6:::1',
    ]);
    expect(valid({ stopSignal: 'quit' }).stopSignal).toBe('SIGQUIT');
    expect(valid({ stopTimeout: '2.5s' }).stopTimeoutMs).toBe(3000);
    expect(valid({ restart: 'on-failure:3' }).restart).toBe('on-failure:3');
    expect(valid({ init: false, user: '1000:1000', networks: ['backend'], logDriver: 'local' })).toEqual({
      init: false,
      user: '1000:1000',
      networks: ['backend'],
      logDriver: 'local',
    });
    expect(valid({ labels: { 'com.example.team': 'payments', tier: 1 } }).labels).toEqual({
      'com.example.team': 'payments',
      tier: '1',
    });
    expect(valid({ healthCheck: { command: 'curl -f localhost' } }).healthCheck).toEqual({
      command: 'curl -f localhost',
    });
    expect(
      valid({ buildTarget: 'runtime', buildSecrets: ['id=npmrc,src=~/.npmrc', 'id=token,env=NPM_TOKEN'] }),
    ).toEqual({
      buildTarget: 'runtime',
      buildSecrets: ['id=npmrc,src=~/.npmrc', 'id=token,env=NPM_TOKEN'],
    });
  });

  it('refuses bad values at their path, saying what would be right', () => {
    expect(refusal({ memory: '2x' })).toBe('deploy.json: $.memory: "2x" is not a size');
    expect(refusal({ memory: '1m' })).toBe("deploy.json: $.memory: 1m is below the engine's minimum of 6m");
    expect(refusal({ cpus: 0 })).toBe('deploy.json: $.cpus: 0 is not a number of CPUs');
    expect(refusal({ command: 'echo "unclosed' })).toBe(
      'deploy.json: $.command: unterminated " quote in "echo \\"unclosed"',
    );
    expect(refusal({ command: [1] })).toBe(
      'deploy.json: $.command: expected a string or an array of strings, found an array',
    );
    expect(refusal({ extraHosts: ['nohost'] })).toBe('deploy.json: $.extraHosts: "nohost" is not HOST:IP');
    expect(refusal({ extraHosts: ['db:not-an-ip'] })).toBe('deploy.json: $.extraHosts: "db:not-an-ip" is not HOST:IP');
    expect(refusal({ restart: 'on-failure:0' })).toMatch(/^deploy\.json: \$\.restart: expected one of no, always/);
    expect(refusal({ networks: ['host'] })).toBe('deploy.json: $.networks: host networking is not supported');
    expect(refusal({ networks: ['a', 'a'] })).toBe('deploy.json: $.networks: a network is listed twice');
    expect(refusal({ labels: { 'dev.deploy.app': 'x' } })).toBe(
      'deploy.json: $.labels["dev.deploy.app"]: dev.deploy.app: labels starting with dev.deploy. are the tool\'s own.',
    );
    expect(refusal({ init: 'no' })).toBe('deploy.json: $.init: expected true or false, found a string');
    expect(refusal({ buildTarget: 'no stage' })).toBe('deploy.json: $.buildTarget: "no stage" is not a stage name');
    expect(refusal({ buildSecrets: ['src=/x'] })).toBe(
      'deploy.json: $.buildSecrets[0]: Invalid build secret: no id (id=ID names the secret, as RUN --mount=type=secret,id=ID does).',
    );
    expect(refusal({ buildSecrets: ['id=a,env=A', 'id=a,env=B'] })).toBe(
      'deploy.json: $.buildSecrets: the build secret a is given twice',
    );
    expect(refusal({ healthCheck: { command: ' ' } })).toBe('deploy.json: $.healthCheck.command: the command is empty');
    expect(refusal({ stopTimeout: '2h' })).toBe('deploy.json: $.stopTimeout: at most 1h');
  });

  it('splits a command line as a shell does, and joins words back so that it splits the same', () => {
    const cases = ['a b  c', `it\\'s "a \\"quoted\\" word" 'and $this'`, 'back\\ slash', '""'];
    for (const line of cases) expect(splitWords(joinWords(splitWords(line)))).toEqual(splitWords(line));
    expect(splitWords("it\\'s")).toEqual(["it's"]);
    expect(splitWords('""')).toEqual(['']);
    expect(splitWords('  ')).toEqual([]);
    expect(formatBytes(512 * 1024 ** 2)).toBe('512m');
    expect(formatBytes(1536 * 1024 ** 2)).toBe('1536m');
    expect(formatBytes(1000)).toBe('1000b');
  });
});

describe('config set and --set text for the new settings', () => {
  it('knows dotted map names with dots of their own, and reads each text as deploy.json would hold it', () => {
    expect(isSettingKey('labels.com.example.team')).toBe(true);
    expect(isSettingKey('logOptions.max-size')).toBe(true);
    expect(isSettingKey('labels.bad name')).toBe(false);
    expect(settingValueFromText('init', 'false')).toBe(false);
    expect(settingValueFromText('memory', 'none')).toBe(null);
    expect(settingValueFromText('networks', 'a, b')).toEqual(['a', 'b']);
    expect(settingValueFromText('buildSecrets', 'id=a,env=A; id=b,src=/b')).toEqual(['id=a,env=A', 'id=b,src=/b']);
    const layer = settingsFromEntries(
      [
        { key: 'labels.com.example.team', value: 'x' },
        { key: 'memory', value: '64m' },
        { key: 'command', value: 'node a.js' },
      ],
      {},
      'the configuration of web',
    );
    expect(layer).toEqual({ labels: { 'com.example.team': 'x' }, memory: 64 * 1024 ** 2, command: ['node', 'a.js'] });
    expect(displaySetting('memory', 64 * 1024 ** 2)).toBe('64m');
    expect(displaySetting('stopTimeout', 3000)).toBe('3s');
    expect(displaySetting('command', ['node', 'a b.js'])).toBe("node 'a b.js'");
  });

  it('says what was meant for a misspelt new name', () => {
    expect(mistypedSetting('memroy')?.hint).toBe(
      'Did you mean memory? (To set an environment variable of that name, pass --env.)',
    );
    expect(mistypedSetting('label.team')?.hint).toBe('Did you mean labels.team?');
    expect(mistypedSetting('logOptions.bad name')?.message).toMatch(/^"bad name" is not a log option/);
    expect(mistypedSetting('logOptions.bad name')?.hint).toBe('For example: logOptions.max-size=50m.');
  });
});

describe('layers, snapshots and redeploys with the new settings', () => {
  it('merges labels and log options name by name, and takes lists and words whole', () => {
    const { config, origins } = resolveConfig([
      { origin: 'flag', settings: { labels: { a: 'flag' }, networks: ['x'] } },
      {
        origin: 'deploy.json',
        settings: {
          labels: { a: 'file', b: 'file' },
          networks: ['y', 'z'],
          logOptions: { 'max-size': '1m' },
          memory: 1024 ** 3,
        },
      },
    ]);
    expect(config.labels).toEqual({ a: 'flag', b: 'file' });
    expect(config.networks).toEqual(['x']);
    expect(config.logOptions).toEqual({ 'max-size': '1m' });
    expect(origins).toMatchObject({
      'labels.a': 'flag',
      'labels.b': 'deploy.json',
      networks: 'flag',
      memory: 'deploy.json',
    });
    expect(mergeSettings({ labels: { a: '1' } }, { labels: { b: '2' }, memory: 5 })).toEqual({
      labels: { a: '1', b: '2' },
      memory: 5,
    });
  });

  it("guesses an old record's one-off run options from its snapshot", () => {
    const snapshot = makeConfig({ memory: 64 * 1024 ** 2, labels: { a: '1' } });
    expect(derivedOverrides(snapshot, resolveConfig([]))).toEqual({ memory: 64 * 1024 ** 2, labels: { a: '1' } });
  });

  it('names the build inputs that differ (a redeploy rebuilds), and only those', () => {
    const a = makeConfig({ buildArgs: { A: '1' } });
    expect(changedBuildInputs(a, { ...a, memory: 1 << 30, env: { X: { value: '1', secret: false } } })).toEqual([]);
    expect(
      changedBuildInputs(a, { ...a, buildArgs: { A: '2' }, buildTarget: 'dev', dockerfile: 'Dockerfile.prod' }),
    ).toEqual(['dockerfile', 'buildArgs', 'buildTarget']);
  });

  it('completes a snapshot written before the settings existed, and shows the same diff as a complete one', () => {
    const old = { ...DEFAULT_CONFIG } as Partial<DeployConfig>;
    delete old.memory;
    delete old.labels;
    const full = completeConfig(old);
    expect(full.memory).toBe(null);
    expect(full.labels).toEqual({});
    expect(completeConfig(full)).toBe(full);
    expect(diffConfig(old as DeployConfig, DEFAULT_CONFIG)).toEqual([]);
    expect(diffConfig(DEFAULT_CONFIG, { ...DEFAULT_CONFIG, memory: 64 * 1024 ** 2, labels: { t: 'x' } })).toEqual([
      { key: 'labels.t', from: null, to: 'x' },
      { key: 'memory', from: 'none', to: '64m' },
    ]);
  });

  it('prints the new settings in the public record in their deploy.json form, and lists those not at their default', () => {
    const c = makeConfig({ memory: 64 * 1024 ** 2, stopTimeoutMs: 3000, command: ['a', 'b c'], labels: { t: 'x' } });
    expect(publicConfig(c)).toMatchObject({
      memory: '64m',
      stopTimeout: 3,
      command: ['a', 'b c'],
      labels: { t: 'x' },
      init: true,
    });
    expect(listedSettings(c)).toEqual([
      { name: 'memory', value: '64m' },
      { name: 'command', value: "a 'b c'" },
      { name: 'labels.t', value: 'x' },
      { name: 'stopTimeout', value: '3s' },
    ]);
  });
});

describe('containerSpec with the docker run options', () => {
  it('applies each one where docker run puts it', () => {
    const d = makeDeployment({
      config: makeConfig({
        memory: 64 * 1024 ** 2,
        cpus: 0.5,
        command: ['node', 'a.js'],
        entrypoint: [],
        user: 'node',
        extraHosts: ['db:10.0.0.5'],
        labels: { 'com.example.team': 'x' },
        networks: ['front', 'back'],
        logDriver: 'json-file',
        logOptions: { 'max-size': '1m' },
        stopSignal: 'SIGQUIT',
        stopTimeoutMs: 3000,
        restart: 'on-failure:2',
        init: false,
        healthCheck: { ...DEFAULT_CONFIG.healthCheck, command: 'true' },
      }),
    });
    const spec = containerSpec(d, 'img', 'name');
    expect(spec).toMatchObject({
      Cmd: ['node', 'a.js'],
      Entrypoint: [''],
      User: 'node',
      StopSignal: 'SIGQUIT',
      StopTimeout: 3,
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Timeout: 5e9, Retries: 3 },
      HostConfig: {
        Memory: 64 * 1024 ** 2,
        NanoCpus: 5e8,
        ExtraHosts: ['db:10.0.0.5'],
        NetworkMode: 'front',
        Init: false,
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
        LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '3' } },
      },
      NetworkingConfig: { EndpointsConfig: { front: { Aliases: ['web'] } } },
    });
    expect(spec.Labels['com.example.team']).toBe('x');
    expect(spec.Labels['dev.deploy.app']).toBe('web');
    expect(stopGraceSeconds(d.config)).toBe(3);
  });

  it("turns the image's HEALTHCHECK off with none, and leaves another log driver's options alone", () => {
    const d = makeDeployment({
      config: makeConfig({ logDriver: 'syslog', healthCheck: { ...DEFAULT_CONFIG.healthCheck, command: 'none' } }),
    });
    const spec = containerSpec(d, 'img', 'name');
    expect(spec.Healthcheck).toEqual({ Test: ['NONE'] });
    expect(spec.HostConfig.LogConfig).toEqual({ Type: 'syslog', Config: {} });
    expect(spec.HostConfig.Init).toBe(true);
    expect(spec.Cmd).toBeUndefined();
    expect(spec.StopTimeout).toBeUndefined();
    expect(stopGraceSeconds(d.config)).toBe(10);
  });
});
