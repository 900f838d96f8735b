import { groupFields, SETTINGS, type SettingDef } from './setting-table.js';

/**
 * schema/deploy.schema.json, made from the table of settings (test/unit/schema.test.ts checks the file against
 * it; `UPDATE_SCHEMA=1 npx vitest run test/unit/schema.test.ts` writes it).
 */
export function deploySchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    $schema: { type: 'string' },
    app: {
      description: "The app's name (default: the directory's name).",
      type: 'string',
      pattern: '^[a-z0-9]+(?:(?:\\.|_{1,2}|-+)[a-z0-9]+)*$',
      maxLength: 63,
    },
  };
  const fieldsOf = (defs: SettingDef[]) => Object.fromEntries(defs.map((d) => [d.name, d.schema]));
  for (const d of SETTINGS) {
    if (d.group === 'healthCheck') {
      properties.healthCheck ??= {
        description:
          'What must pass before a deployment counts as running. An image HEALTHCHECK (or healthCheck.command) wins; else an HTTP GET of `path`; else the container must keep running for `settle`. `false` turns the HTTP check off.',
        oneOf: [
          { const: false },
          { type: 'object', additionalProperties: false, properties: fieldsOf(groupFields('healthCheck')) },
        ],
      };
    } else {
      properties[d.name] = d.schema;
    }
  }
  properties.env = {
    description:
      'Environment variables of the container. Keep secrets out of the repository: use `deploy config set KEY=VALUE --secret`.',
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    additionalProperties: { type: ['string', 'number', 'boolean'] },
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://deploy.dev/schema/deploy.schema.json',
    title: 'deploy.json',
    description:
      "Project settings for `deploy`, at the root of the app's directory in its repository. Command-line flags override them; `deploy config` can override them per app.",
    type: 'object',
    additionalProperties: false,
    properties,
    $defs: {
      duration: {
        oneOf: [
          { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$|^[0-9]+(\\.[0-9]+)?$' },
          { type: 'number', minimum: 0, description: 'seconds' },
        ],
      },
    },
  };
}
