import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJsonWithPositions } from '../../src/core/json-source.js';
import { HEALTH_KEYS, SETTINGS_KEYS, validateSettings } from '../../src/core/settings.js';
import { deploySchema } from '../../src/core/settings-schema.js';

const file = new URL('../../schema/deploy.schema.json', import.meta.url);
// UPDATE_SCHEMA=1 writes the file from the table of settings; the test then checks it as usual.
if (process.env.UPDATE_SCHEMA === '1') writeFileSync(file, `${JSON.stringify(deploySchema(), null, 2)}\n`);

const schema = JSON.parse(readFileSync(new URL('../../schema/deploy.schema.json', import.meta.url), 'utf8')) as {
  properties: Record<string, { oneOf?: Array<{ properties?: Record<string, unknown> }> }>;
};

describe('schema/deploy.schema.json', () => {
  it('is the schema the table of settings makes (UPDATE_SCHEMA=1 rewrites it)', () => {
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(deploySchema());
  });

  it('knows exactly the keys the validator knows', () => {
    expect(
      Object.keys(schema.properties)
        .filter((k) => k !== '$schema')
        .sort(),
    ).toEqual([...SETTINGS_KEYS].sort());
    const health = schema.properties.healthCheck?.oneOf?.find((o) => o.properties)?.properties ?? {};
    expect(Object.keys(health).sort()).toEqual([...HEALTH_KEYS].sort());
  });

  it('describes the bundled example, which the validator accepts', () => {
    const text = readFileSync(new URL('../../examples/hello/deploy.json', import.meta.url), 'utf8');
    const settings = validateSettings(parseJsonWithPositions(text).value, 'deploy.json');
    expect(settings.app).toBe('hello');
    expect(settings.ports).toEqual([{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 8080, protocol: 'tcp' }]);
  });
});

describe("README's table of docker options", () => {
  it('names every setting that stands for a docker option', async () => {
    const { SETTINGS } = await import('../../src/core/setting-table.js');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('### `docker run` and `docker build` options'));
    for (const d of SETTINGS.filter((s) => s.docker)) {
      const name = d.group ? `${d.group}.${d.name}` : d.name;
      expect(table, name).toContain(`\`${name}\``);
    }
  });
});
