/**
 * Registry credentials read as the docker CLI reads them, from real config.json files and a real credential helper
 * program on PATH (a script speaking the docker-credential-helpers protocol). No engine is needed.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RegistryCredentials } from '../../src/adapters/registry-credentials.js';
import { DeployError, isDeployError } from '../../src/core/errors.js';
import { rejectionOf } from '../helpers/rejection.js';

const root = mkdtempSync(join(tmpdir(), 'deploy-creds-'));
const bin = join(root, 'bin');
mkdirSync(bin);
const asked = join(root, 'asked.txt');
const SECRET = `helper-s3cret-${process.pid}`;

// A helper that knows one server, says "not found" for others as the real helpers do, and logs what it was asked.
writeFileSync(
  join(bin, 'docker-credential-test'),
  `#!/bin/sh\nread server\necho "$server" >> ${asked}\ncase "$server" in\n  ghcr.io) echo '{"ServerURL":"ghcr.io","Username":"ada","Secret":"${SECRET}"}' ;;` +
    `\n  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"hub-token"}' ;;\n  *) echo "credentials not found in native keychain"; exit 1 ;;\nesac\n`,
);
// A helper that fails, printing its secret to stdout (which must never be shown) and a reason to stderr.
writeFileSync(
  join(bin, 'docker-credential-broken'),
  `#!/bin/sh\necho '{"Secret":"${SECRET}"}'\necho "the keychain is locked" >&2\nexit 3\n`,
);
chmodSync(join(bin, 'docker-credential-test'), 0o755);
chmodSync(join(bin, 'docker-credential-broken'), 0o755);

let n = 0;
function withConfig(config: unknown): RegistryCredentials {
  const dir = join(root, `config-${++n}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return RegistryCredentials.read({ DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH ?? ''}` });
}
const basic = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('registry credentials from docker config', () => {
  it('has none without a config.json', async () => {
    const creds = RegistryCredentials.read({ DOCKER_CONFIG: join(root, 'nowhere'), PATH: process.env.PATH });
    expect(creds.any).toBe(false);
    expect(await creds.get('ghcr.io')).toBeNull();
  });

  it("reads docker login's own entries, under any key form docker writes", async () => {
    const creds = withConfig({
      auths: {
        'https://index.docker.io/v1/': { auth: basic('hubuser', 'hub:pass') },
        'http://127.0.0.1:5000': { auth: basic('ada', 'pw') },
        'registry.example.com': { identitytoken: 'refresh-token' },
      },
    });
    expect(creds.any).toBe(true);
    expect(await creds.get('docker.io')).toEqual({
      serveraddress: 'https://index.docker.io/v1/',
      username: 'hubuser',
      password: 'hub:pass',
    });
    expect(await creds.get('127.0.0.1:5000')).toEqual({
      serveraddress: '127.0.0.1:5000',
      username: 'ada',
      password: 'pw',
    });
    expect(await creds.get('registry.example.com')).toEqual({
      serveraddress: 'registry.example.com',
      identitytoken: 'refresh-token',
    });
    expect(await creds.get('ghcr.io')).toBeNull();
  });

  it("asks a registry's credential helper first, then the default store; a helper's token is an identity token", async () => {
    writeFileSync(asked, '');
    const creds = withConfig({
      credHelpers: { 'ghcr.io': 'test' },
      credsStore: 'test',
      auths: { 'ghcr.io': {}, 'https://index.docker.io/v1/': {} },
    });
    expect(await creds.get('ghcr.io')).toEqual({ serveraddress: 'ghcr.io', username: 'ada', password: SECRET });
    expect(await creds.get('docker.io')).toEqual({
      serveraddress: 'https://index.docker.io/v1/',
      identitytoken: 'hub-token',
    });
    expect(await creds.get('127.0.0.1:5000')).toBeNull();
    // Asked once per registry, by the key docker uses.
    expect(await creds.get('ghcr.io')).toMatchObject({ username: 'ada' });
    expect(readFileSync(asked, 'utf8')).toBe('ghcr.io\nhttps://index.docker.io/v1/\n127.0.0.1:5000\n');
  });

  it('says which helper failed and why, never what it printed on stdout', async () => {
    const error = await rejectionOf(withConfig({ credsStore: 'broken' }).get('ghcr.io'));
    expect(isDeployError(error, 'config')).toBe(true);
    expect((error as DeployError).message).toBe(
      'The credential helper docker-credential-broken failed for ghcr.io (exit 3): the keychain is locked.',
    );
    expect((error as DeployError).hint).toBe('Try it yourself: echo ghcr.io | docker-credential-broken get');
    expect(JSON.stringify(error)).not.toContain(SECRET);
    expect(String((error as Error).stack)).not.toContain(SECRET);
  });

  it('names a helper that is not installed, and a config.json that is not JSON', async () => {
    const missing = await rejectionOf(withConfig({ credsStore: 'nonexistent' }).get('ghcr.io'));
    expect(isDeployError(missing, 'config')).toBe(true);
    expect((missing as DeployError).message).toMatch(
      /^The credential helper docker-credential-nonexistent \(from .*config\.json\) could not be run: /,
    );
    expect((missing as DeployError).hint).toBe(
      `Install docker-credential-nonexistent on your PATH, or remove it from ${(missing as DeployError).message.match(/from (.*config\.json)/)![1]}.`,
    );
    const bad = (() => {
      try {
        withConfig('{"auths": ');
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(isDeployError(bad, 'config')).toBe(true);
    expect((bad as DeployError).message).toMatch(
      /^The docker configuration .*config-\d+\/config\.json is not valid JSON\.$/,
    );
  });
});
