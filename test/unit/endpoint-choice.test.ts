import { describe, expect, it } from 'vitest';
import { chooseEndpoint, normalizeHost, type EndpointInputs } from '../../src/core/endpoint-choice.js';
import { failure } from '../helpers/unit.js';

const everything: EndpointInputs = {
  flagContext: 'flagctx',
  flagHost: undefined,
  setting: { value: 'pinned', origin: 'app' },
  env: { DOCKER_HOST: 'tcp://envhost:2376', DOCKER_CONTEXT: 'envctx' },
  currentContext: 'currentctx',
};

describe('chooseEndpoint: the docker CLI order, with the app pin after the command line', () => {
  it('takes --context first', () => {
    expect(chooseEndpoint(everything)).toEqual({ kind: 'context', name: 'flagctx', source: '--context' });
  });

  it('refuses --context and --host together, as docker does', () => {
    expect(failure(() => chooseEndpoint({ ...everything, flagHost: 'tcp://x:1' }))).toMatchObject({
      code: 'usage',
      message: 'Conflicting options: give either --host or --context, not both.',
    });
  });

  it('takes --host next', () => {
    expect(chooseEndpoint({ ...everything, flagContext: undefined, flagHost: 'ssh://me@box' })).toEqual({
      kind: 'host',
      url: 'ssh://me@box',
      source: '--host',
    });
  });

  it("then the app's endpoint setting, a context name or a URL", () => {
    const base = { ...everything, flagContext: undefined };
    expect(chooseEndpoint(base)).toEqual({ kind: 'context', name: 'pinned', source: 'endpoint (app)' });
    expect(chooseEndpoint({ ...base, setting: { value: 'ssh://deploy@app1', origin: 'deploy.json' } })).toEqual({
      kind: 'host',
      url: 'ssh://deploy@app1',
      source: 'endpoint (deploy.json)',
    });
  });

  it('then DOCKER_HOST, then DOCKER_CONTEXT, then the current context, then the local socket', () => {
    const noPin = { ...everything, flagContext: undefined, setting: undefined };
    expect(chooseEndpoint(noPin)).toEqual({ kind: 'host', url: 'tcp://envhost:2376', source: 'DOCKER_HOST' });
    expect(chooseEndpoint({ ...noPin, env: { DOCKER_CONTEXT: 'envctx' } })).toEqual({
      kind: 'context',
      name: 'envctx',
      source: 'DOCKER_CONTEXT',
    });
    expect(chooseEndpoint({ ...noPin, env: {} })).toEqual({
      kind: 'context',
      name: 'currentctx',
      source: 'docker config (currentContext)',
    });
    expect(chooseEndpoint({ env: {} })).toEqual({
      kind: 'host',
      url: 'unix:///var/run/docker.sock',
      source: 'default',
    });
  });

  it('reads the context named "default" as DOCKER_HOST or the local socket', () => {
    expect(chooseEndpoint({ flagContext: 'default', env: {} })).toEqual({
      kind: 'host',
      url: 'unix:///var/run/docker.sock',
      source: '--context: default context',
    });
    expect(
      chooseEndpoint({ env: { DOCKER_CONTEXT: 'default', DOCKER_HOST: undefined }, currentContext: 'other' }),
    ).toMatchObject({ kind: 'host', url: 'unix:///var/run/docker.sock' });
  });
});

describe('normalizeHost', () => {
  it('reads host:port as tcp, as the docker CLI does, and keeps full URLs', () => {
    expect(normalizeHost('10.0.0.5:2376')).toBe('tcp://10.0.0.5:2376');
    expect(normalizeHost('ssh://deploy@app1:2222')).toBe('ssh://deploy@app1:2222');
    expect(normalizeHost('unix:///run/docker.sock')).toBe('unix:///run/docker.sock');
  });

  it('refuses schemes it cannot reach and ssh URLs with a path', () => {
    expect(failure(() => normalizeHost('npipe:////./pipe/docker_engine')).message).toContain('Unsupported Docker host');
    expect(failure(() => normalizeHost('ssh://me@box/some/path')).message).toContain('takes no path');
  });
});
