import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DeployError } from '../../core/errors.js';

/**
 * The docker CLI's own configuration, read the way it reads it:
 *   $DOCKER_CONFIG (default ~/.docker)/config.json              {"currentContext": "NAME"}
 *   contexts/meta/<sha256(NAME)>/meta.json                      {"Name", "Endpoints": {"docker": {"Host", "SkipTLSVerify"}}}
 *   contexts/tls/<sha256(NAME)>/docker/{ca,cert,key}.pem        TLS material, when the context has any
 */
function dockerConfigDir(env: Record<string, string | undefined>): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

export function currentContext(env: Record<string, string | undefined>): string | undefined {
  const path = join(dockerConfigDir(env), 'config.json');
  try {
    const config = JSON.parse(readFileSync(path, 'utf8')) as { currentContext?: string };
    return config.currentContext || undefined;
  } catch {
    return undefined;
  }
}

export interface TlsFiles {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
}

export interface DockerContext {
  name: string;
  host: string;
  skipTlsVerify: boolean;
  tls: TlsFiles | null;
}

function readIf(path: string): Buffer | undefined {
  return existsSync(path) ? readFileSync(path) : undefined;
}

/** Reads one docker context, TLS material included; a clear error when there is no such context. */
export function readContext(env: Record<string, string | undefined>, name: string): DockerContext {
  const dir = dockerConfigDir(env);
  const id = createHash('sha256').update(name).digest('hex');
  const metaPath = join(dir, 'contexts', 'meta', id, 'meta.json');
  let meta: { Name?: string; Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as typeof meta;
  } catch {
    throw new DeployError(
      'usage',
      `There is no docker context named ${JSON.stringify(name)} (looked in ${dir}/contexts).`,
      {
        hint: 'List them with: docker context ls. Create one with: docker context create NAME --docker host=ssh://USER@HOST',
      },
    );
  }
  const host = meta.Endpoints?.docker?.Host;
  if (!host) throw new DeployError('config', `The docker context ${JSON.stringify(name)} has no Docker endpoint.`);
  const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
  const tls = {
    ca: readIf(join(tlsDir, 'ca.pem')),
    cert: readIf(join(tlsDir, 'cert.pem')),
    key: readIf(join(tlsDir, 'key.pem')),
  };
  return {
    name,
    host,
    skipTlsVerify: Boolean(meta.Endpoints?.docker?.SkipTLSVerify),
    tls: tls.ca || tls.cert || tls.key ? tls : null,
  };
}

/** Every context of the docker CLI, for finding the one a recorded endpoint URL belongs to. */
export function listContexts(env: Record<string, string | undefined>): DockerContext[] {
  const metaDir = join(dockerConfigDir(env), 'contexts', 'meta');
  let ids: string[];
  try {
    ids = existsSync(metaDir) ? readdirSync(metaDir) : [];
  } catch {
    return [];
  }
  const out: DockerContext[] = [];
  for (const id of ids) {
    try {
      const meta = JSON.parse(readFileSync(join(metaDir, id, 'meta.json'), 'utf8')) as { Name?: string };
      if (meta.Name) out.push(readContext(env, meta.Name));
    } catch {
      // an unreadable context is skipped, as docker context ls does
    }
  }
  return out;
}

/** TLS material from DOCKER_CERT_PATH (default ~/.docker), as DOCKER_TLS_VERIFY=1 expects it. */
export function envTls(env: Record<string, string | undefined>): TlsFiles {
  const dir = env.DOCKER_CERT_PATH || dockerConfigDir(env);
  return { ca: readIf(join(dir, 'ca.pem')), cert: readIf(join(dir, 'cert.pem')), key: readIf(join(dir, 'key.pem')) };
}
