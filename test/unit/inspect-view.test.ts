import { describe, expect, it } from 'vitest';
import { inspectionJson, type Inspection } from '../../src/services/inspect.js';
import { makeColors } from '../../src/ui/colors.js';
import { renderInspection } from '../../src/ui/inspect-view.js';
import { makeConfig, makeDeployment } from '../helpers/unit.js';

const port = { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 8080, protocol: 'tcp' as const };

function inspection(
  config: Parameters<typeof makeConfig>[0],
  status: 'running' | 'superseded' = 'running',
): Inspection {
  return {
    deployment: makeDeployment({ status, config: makeConfig({ ports: [port], ...config }) }),
    events: [],
    parents: [],
    logs: { build: false, runtime: false },
    image: { registry: null, engines: [] },
  };
}

/** The value of a row of the person's view, by its label. */
function rowOf(text: string, label: string): string | undefined {
  return text
    .split('\n')
    .find((l) => l.trimStart().startsWith(`${label} `))
    ?.trim()
    .slice(label.length)
    .trim();
}

describe('inspect: how a deployment is reached', () => {
  const plain = makeColors(false);

  it('says a routed release is reached through the front door, at its URLs (HTTPS with TLS)', () => {
    const i = inspection({ proxy: true, domains: ['shop.example'] });
    const text = renderInspection(i, plain);
    expect(rowOf(text, 'traffic')).toBe('through the front door');
    expect(rowOf(text, 'url')).toBe('http://shop.example:8080/');
    expect(inspectionJson(i).urls).toEqual(['http://shop.example:8080/']);
  });

  it('says a release kept behind the door for a bake window is kept running', () => {
    const i = inspection({ proxy: true }, 'superseded');
    expect(rowOf(renderInspection(i, plain), 'traffic')).toBe(
      'through the front door (kept running for a bake window)',
    );
  });

  it('says a release that publishes its own ports is reached there', () => {
    const i = inspection({ proxy: false });
    const text = renderInspection(i, plain);
    expect(rowOf(text, 'traffic')).toBe('published by its container');
    expect(rowOf(text, 'url')).toBe('http://127.0.0.1:8080/');
  });
});
