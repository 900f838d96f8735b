import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployError } from '../core/errors.js';
import type { EnvVar } from '../core/types.js';

/** User-wide defaults, as `deploy config --global` keeps them: env vars and settings (deploy.json-shaped). */
export interface GlobalSettingsFile {
  env?: Record<string, EnvVar>;
  settings?: Record<string, unknown>;
}

function globalSettingsPath(configDir: string): string {
  return join(configDir, 'config.json');
}

/**
 * Reads the user-wide defaults. A plain read: this runs on every deploy, and loading conf (and the JSON
 * Schema validator it brings) costs ~80 ms. Writes go through conf (atomic, 0600).
 */
export function readGlobalSettings(configDir: string): GlobalSettingsFile {
  const path = globalSettingsPath(configDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as GlobalSettingsFile;
  } catch (error) {
    throw new DeployError(
      'config',
      `The user-wide settings file ${path} is not valid JSON: ${(error as Error).message}.`,
      {
        hint: `Fix or remove ${path}; deploy config set --global rewrites it.`,
      },
    );
  }
}

/** Changes the user-wide defaults through conf: an atomic write, file mode 0600 in a 0700 directory. */
export async function writeGlobalSettings(
  configDir: string,
  change: (current: GlobalSettingsFile) => GlobalSettingsFile,
): Promise<void> {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const { default: Conf } = await import('conf');
  const conf = new Conf<GlobalSettingsFile>({
    cwd: configDir,
    configName: 'config',
    configFileMode: 0o600,
    projectName: 'deploy',
  });
  const next = change(conf.store);
  conf.store = next;
}
