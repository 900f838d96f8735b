import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DeployError } from '../core/errors.js';
import { authKeyOf, hostOfAuthKey } from '../core/image-ref.js';
import type { RegistryAuth } from './docker/engine/types.js';
import { runAllowFailure } from './process.js';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** What a credential helper answers when it has nothing for a server (docker-credential-helpers' own words). */
const NOT_FOUND = /credentials not found/i;
/** The user name by which a credential helper says its secret is an identity token. */
const TOKEN_USER = '<token>';

/**
 * Registry credentials the way the docker CLI has them: `$DOCKER_CONFIG/config.json` (default ~/.docker), through
 * the registry's credential helper (`credHelpers`), else the default store (`credsStore`), else the file's own
 * `auths` (what `docker login` writes without a store). Read when a build or pull needs them; never printed,
 * recorded or labelled: the values go only to the engine.
 */
export class RegistryCredentials {
  private readonly cache = new Map<string, Promise<RegistryAuth | null>>();

  private constructor(
    /** The config.json read (for messages). */
    readonly file: string,
    private readonly config: DockerConfig,
    private readonly env: Record<string, string | undefined>,
  ) {}

  /** Reads config.json; a missing file means no credentials, an unreadable one is a config error naming it. */
  static read(env: Record<string, string | undefined>): RegistryCredentials {
    const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
    const file = join(dir, 'config.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
        return new RegistryCredentials(file, {}, env);
      throw new DeployError('config', `Could not read the docker configuration ${file}: ${(error as Error).message}.`, {
        hint: 'Check its permissions, or point DOCKER_CONFIG at another directory.',
      });
    }
    let config: unknown;
    try {
      config = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new DeployError('config', `The docker configuration ${file} is not valid JSON.`, {
        hint: 'Fix it (docker login rewrites it), or point DOCKER_CONFIG at another directory.',
      });
    }
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new DeployError('config', `The docker configuration ${file} is not a JSON object.`, {
        hint: 'Fix it (docker login rewrites it), or point DOCKER_CONFIG at another directory.',
      });
    }
    return new RegistryCredentials(file, config as DockerConfig, env);
  }

  /** Whether any registry may have credentials here (a helper, a store, or a login kept in the file). */
  get any(): boolean {
    const c = this.config;
    return (
      Boolean(c.credsStore) || Object.keys(c.credHelpers ?? {}).length > 0 || Object.keys(c.auths ?? {}).length > 0
    );
  }

  /** The credentials for a registry (`docker.io`, `ghcr.io`, `127.0.0.1:5000`), or null when there are none. */
  get(registry: string): Promise<RegistryAuth | null> {
    let found = this.cache.get(registry);
    if (!found) {
      found = this.lookUp(registry);
      this.cache.set(registry, found);
    }
    return found;
  }

  private async lookUp(registry: string): Promise<RegistryAuth | null> {
    const helper =
      Object.entries(this.config.credHelpers ?? {}).find(([key]) => hostOfAuthKey(key) === registry)?.[1] ??
      this.config.credsStore;
    if (helper) return this.fromHelper(helper, registry);
    const entry = Object.entries(this.config.auths ?? {}).find(([key]) => hostOfAuthKey(key) === registry)?.[1];
    if (!entry) return null;
    const serveraddress = authKeyOf(registry);
    if (entry.identitytoken) return { serveraddress, identitytoken: entry.identitytoken };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0)
        throw new DeployError('config', `The login for ${registry} in ${this.file} is not in the form docker writes.`, {
          hint: `Log in again: docker login ${registry}`,
        });
      return { serveraddress, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username && entry.password) return { serveraddress, username: entry.username, password: entry.password };
    return null;
  }

  private async fromHelper(name: string, registry: string): Promise<RegistryAuth | null> {
    const program = `docker-credential-${name}`;
    const key = authKeyOf(registry);
    let result;
    try {
      result = await runAllowFailure(program, ['get'], { input: key, env: this.env, timeoutMs: 30_000 });
    } catch (error) {
      throw new DeployError(
        'config',
        `The credential helper ${program} (from ${this.file}) could not be run: ${(error as Error).message}.`,
        {
          hint: `Install ${program} on your PATH, or remove it from ${this.file}.`,
        },
      );
    }
    // Only stderr may be shown: stdout carries the secret.
    if (result.code !== 0) {
      if (NOT_FOUND.test(result.stdout) || NOT_FOUND.test(result.stderr)) return null;
      throw new DeployError(
        'config',
        `The credential helper ${program} failed for ${registry} (exit ${result.code})${result.stderr.trim() ? `: ${result.stderr.trim().split('\n').slice(-1)[0]}` : ''}.`,
        {
          hint: `Try it yourself: echo ${key} | ${program} get`,
        },
      );
    }
    let answer: { Username?: unknown; Secret?: unknown };
    try {
      answer = JSON.parse(result.stdout) as typeof answer;
    } catch {
      throw new DeployError(
        'config',
        `The credential helper ${program} gave an answer that is not JSON for ${registry}.`,
        { hint: `Try it yourself: echo ${key} | ${program} get` },
      );
    }
    const username = typeof answer.Username === 'string' ? answer.Username : '';
    const secret = typeof answer.Secret === 'string' ? answer.Secret : '';
    if (secret === '') return null;
    return username === TOKEN_USER
      ? { serveraddress: key, identitytoken: secret }
      : { serveraddress: key, username, password: secret };
  }
}
