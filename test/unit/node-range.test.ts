import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_RANGE, satisfies as check } from '../../bin/node-range.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe('the Node versions deploy runs on', () => {
  it('are package.json engines.node, which bin/deploy.js and scripts/setup.sh check', () => {
    expect(NODE_RANGE).toBe(pkg.engines.node);
  });

  it('include the Node set-up installs (the devDependency "node") and exclude those a dependency refuses', () => {
    expect(check(pkg.devDependencies.node!.replace(/^\^/, ''))).toBe(true);
    expect(
      ['20.20.2', '22.13.0', '22.22.1', '23.11.0', '24.14.9', '25.2.1', 'v22.12.0'].filter((v) => check(v)),
    ).toEqual([]);
    expect(
      ['22.22.2', 'v22.23.0', '24.15.0', '24.21.0', '26.0.0', '27.1.0', '24.15.0-pre'].filter((v) => !check(v)),
    ).toEqual([]);
  });

  it('refuse a range they cannot read rather than guess', () => {
    expect(() => check('24.0.0', '~24.1.0')).toThrow(/unsupported clause/);
    expect(() => check('24', NODE_RANGE)).toThrow(/not a version/);
  });
});
