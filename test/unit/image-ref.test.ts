import { describe, expect, it } from 'vitest';
import { authKeyOf, hostOfAuthKey, registryOf } from '../../src/core/image-ref.js';

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
