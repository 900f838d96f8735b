import { describe, expect, it } from 'vitest';
import {
  authKeyOf,
  hostOfAuthKey,
  isDigest,
  parseRegistrySetting,
  refusedRegistry,
  registryOf,
  releaseRepository,
} from '../../src/core/image-ref.js';
import { SETTINGS } from '../../src/core/setting-table.js';
import { validateSettings } from '../../src/core/settings.js';

describe('registryOf: where an image lives, as docker reads its reference', () => {
  it.each([
    ['busybox', 'docker.io'],
    ['busybox:1.36', 'docker.io'],
    ['library/busybox', 'docker.io'],
    ['team/app:v1', 'docker.io'],
    ['docker.io/team/app', 'docker.io'],
    ['index.docker.io/team/app', 'docker.io'],
    ['ghcr.io/team/app:v1', 'ghcr.io'],
    ['Registry.Example.com/team/app', 'registry.example.com'],
    ['127.0.0.1:5000/base/busybox:private', '127.0.0.1:5000'],
    ['localhost/app', 'localhost'],
    ['localhost:5000/app@sha256:abc', 'localhost:5000'],
    ['team/app@sha256:abc', 'docker.io'],
  ])('%s is on %s', (ref, registry) => {
    expect(registryOf(ref)).toBe(registry);
  });
});

describe("config.json's keys, and the hosts a build session asks about", () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['http://127.0.0.1:5000', '127.0.0.1:5000'],
    ['https://registry.example.com/v2/', 'registry.example.com'],
    ['registry.example.com', 'registry.example.com'],
  ])('%s names %s', (key, host) => {
    expect(hostOfAuthKey(key)).toBe(host);
  });

  it("asks for Docker Hub under docker login's own key, and for any other registry by its host", () => {
    expect(authKeyOf('docker.io')).toBe('https://index.docker.io/v1/');
    expect(authKeyOf('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });
});

describe('refusedRegistry: a pull refused for want of credentials, and by which registry', () => {
  const registries = ['docker.io', '127.0.0.1:5000'];
  it.each([
    [
      'failed to solve with frontend dockerfile.v0: failed to create LLB definition: failed to authorize: rpc error: code = Unknown desc = failed to fetch anonymous token: unexpected status: 401 Unauthorized',
      '127.0.0.1:5000',
    ],
    ['Head "http://127.0.0.1:5000/v2/base/busybox/manifests/private": no basic auth credentials', '127.0.0.1:5000'],
    [
      "pull access denied for team/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      '127.0.0.1:5000',
    ],
  ])('%s', (failure, registry) => {
    expect(refusedRegistry(failure, registries)).toBe(registry);
  });

  it('names the registry a message names, a URL names, or the only one there is', () => {
    expect(
      refusedRegistry('failed to resolve source metadata for ghcr.io/team/base:1: 401 Unauthorized', [
        'docker.io',
        'ghcr.io',
        '127.0.0.1:5000',
      ]),
    ).toBe('ghcr.io');
    expect(
      refusedRegistry('GET https://registry.example.com/v2/token: unauthorized: authentication required', []),
    ).toBe('registry.example.com');
    expect(refusedRegistry('pull access denied for team/app', ['docker.io'])).toBe('docker.io');
  });

  it('is null for a build that failed for another reason', () => {
    expect(refusedRegistry("The command '/bin/sh -c false' returned a non-zero code: 1", registries)).toBeNull();
    expect(refusedRegistry('executor failed running [/bin/sh -c make]: exit code: 2', registries)).toBeNull();
  });
});

describe('the registry setting: where releases are pushed', () => {
  it.each([
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['Registry.Example.com/team', 'registry.example.com/team'],
    ['ghcr.io/org/sub-team/', 'ghcr.io/org/sub-team'],
    ['localhost/apps', 'localhost/apps'],
  ])('%s is kept as %s', (value, kept) => {
    expect(parseRegistrySetting(value)).toBe(kept);
  });

  it.each([
    ['team/apps', /does not start with a registry host/],
    ['registry.example.com/Team', /"Team" .* is not a repository path component/],
    ['registry.example.com:port', /does not start with a registry host/],
    ['', /does not start with a registry host/],
  ])('refuses %s', (value, message) => {
    expect(() => parseRegistrySetting(value)).toThrow(message);
  });

  it('has a JSON Schema pattern that takes and refuses what the check does', () => {
    const pattern = new RegExp((SETTINGS.find((d) => d.name === 'registry')?.schema as { pattern: string }).pattern);
    for (const ok of [
      '127.0.0.1:5000',
      'Registry.Example.com/team',
      'ghcr.io/org/sub__team/',
      'localhost/apps',
      'myhost:5000/x',
    ])
      expect([ok, pattern.test(ok)]).toEqual([ok, true]);
    for (const bad of ['team', 'team/apps', 'registry.example.com/Team', 'registry.example.com:port', ''])
      expect([bad, pattern.test(bad)]).toEqual([bad, false]);
  });

  it('is checked where deploy.json sets it, with the way to write it', () => {
    expect(validateSettings({ registry: 'Registry.Example.com/team' }, 'deploy.json')).toEqual({
      registry: 'registry.example.com/team',
    });
    expect(validateSettings({ registry: null }, 'deploy.json')).toEqual({ registry: null });
    expect(() => validateSettings({ registry: 'team' }, 'deploy.json')).toThrow(
      /deploy\.json: \$\.registry: "team" does not start with a registry host/,
    );
  });

  it('names the repository REGISTRY/APP, and knows a digest from an image id by its form only', () => {
    expect(releaseRepository('registry.example.com/team', 'web')).toBe('registry.example.com/team/web');
    expect(isDigest(`sha256:${'a'.repeat(64)}`)).toBe(true);
    expect(isDigest('sha256:abc')).toBe(false);
    expect(isDigest(null)).toBe(false);
  });
});
