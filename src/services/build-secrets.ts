import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { parseBuildSecret } from '../core/build-secrets.js';
import type { DeployConfig } from '../core/types.js';
import type { Context } from '../context.js';
import { MAX_BUILD_SECRET_BYTES, type BuildSecret } from '../core/build-secrets.js';
import { DeployError } from '../core/errors.js';

function unreadable(id: string, why: string, hint: string): DeployError {
  return new DeployError('usage', `Build secret "${id}": ${why}.`, { hint });
}

const TOO_BIG_HINT = `BuildKit takes secrets of up to ${MAX_BUILD_SECRET_BYTES / 1024} KiB; keep larger data out of secrets (fetch it in the build with a smaller credential).`;

async function readSecretFile(id: string, path: string): Promise<Buffer> {
  const other = `Point src= at the file that holds the secret (--build-secret id=${id},src=PATH), or read it from a variable (env=VAR).`;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw unreadable(id, `${path} is a directory, not a file`, other);
    if (info.size > MAX_BUILD_SECRET_BYTES)
      throw unreadable(id, `${path} is larger than ${MAX_BUILD_SECRET_BYTES / 1024} KiB`, TOO_BIG_HINT);
    const data = await readFile(path);
    // A file that grew between stat and read (or one stat cannot size, like a pipe) is held to the same limit.
    if (data.length > MAX_BUILD_SECRET_BYTES)
      throw unreadable(id, `${path} is larger than ${MAX_BUILD_SECRET_BYTES / 1024} KiB`, TOO_BIG_HINT);
    return data;
  } catch (error) {
    if (error instanceof DeployError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw unreadable(
        id,
        `there is no file ${path}`,
        `Create it, or ${other.charAt(0).toLowerCase()}${other.slice(1)}`,
      );
    if (code === 'EACCES' || code === 'EPERM')
      throw unreadable(
        id,
        `${path} cannot be read (permission denied)`,
        `Make it readable by this user, or ${other.charAt(0).toLowerCase()}${other.slice(1)}`,
      );
    throw unreadable(id, `${path} cannot be read (${code ?? (error as Error).message})`, other);
  }
}

/**
 * Reads the values of a build's secrets, as the build will see them at /run/secrets/ID: a file's bytes, or an
 * environment variable's value. A file that is missing or unreadable, or a variable that is not set, is the
 * user's to fix (exit 2, with what to do next). A later spec of the same id replaces an earlier one, as docker's.
 */
export async function readBuildSecrets(
  specs: readonly BuildSecret[],
  env: Record<string, string | undefined>,
): Promise<Map<string, Buffer>> {
  const values = new Map<string, Buffer>();
  for (const { id, from } of specs) {
    if ('env' in from) {
      const value = env[from.env];
      if (value === undefined) {
        throw unreadable(
          id,
          `the environment variable ${from.env} is not set`,
          `Set ${from.env} (export ${from.env}=…), or read the secret from a file (--build-secret id=${id},src=PATH).`,
        );
      }
      const data = Buffer.from(value, 'utf8');
      if (data.length > MAX_BUILD_SECRET_BYTES)
        throw unreadable(id, `${from.env} is larger than ${MAX_BUILD_SECRET_BYTES / 1024} KiB`, TOO_BIG_HINT);
      values.set(id, data);
    } else {
      values.set(id, await readSecretFile(id, from.file));
    }
  }
  return values;
}

/**
 * The values of a deployment's build secrets (its buildSecrets setting), read before anything is recorded so a
 * missing file or variable changes nothing; undefined when it has none (the build then opens no session).
 */
export async function secretsFor(
  ctx: Context,
  config: Pick<DeployConfig, 'buildSecrets'>,
): Promise<Map<string, Buffer> | undefined> {
  const specs = config.buildSecrets ?? [];
  if (specs.length === 0) return undefined;
  const at = { cwd: ctx.cwd, home: ctx.env.HOME ?? homedir(), env: ctx.env, where: 'buildSecrets' };
  return readBuildSecrets(
    specs.map((spec) => parseBuildSecret(spec, at)),
    ctx.env,
  );
}
