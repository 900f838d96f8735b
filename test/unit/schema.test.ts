import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJsonWithPositions } from '../../src/core/json-source.js';
import { HEALTH_KEYS, SETTINGS_KEYS, validateSettings } from '../../src/core/settings.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/deploy.schema.json', import.meta.url), 'utf8')) as {
  properties: Record<string, { oneOf?: Array<{ properties?: Record<string, unknown> }> }>;
};

describe('schema/deploy.schema.json', () => {
  it('knows exactly the keys the validator knows', () => {
    expect(Object.keys(schema.properties).filter((k) => k !== '$schema').sort()).toEqual([...SETTINGS_KEYS].sort());
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
