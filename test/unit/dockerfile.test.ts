import { describe, expect, it } from 'vitest';
import { healthcheckOf } from '../../src/core/dockerfile.js';

describe('healthcheckOf', () => {
  it('finds a HEALTHCHECK in the final stage, continuation lines included', () => {
    expect(healthcheckOf('FROM busybox:1.36\nHEALTHCHECK --interval=1s \\\n  CMD nc -z 127.0.0.1 8080\nCMD ["httpd"]\n')).toEqual({ kind: 'declared' });
  });

  it('says NONE turns the check off', () => {
    expect(healthcheckOf('FROM app-base\nHEALTHCHECK NONE\n')).toEqual({ kind: 'none' });
  });

  it('says the base image decides when the final stage is silent', () => {
    expect(healthcheckOf('# comment\nFROM --platform=linux/amd64 busybox:1.36 AS run\nCMD ["sh"]\n')).toEqual({ kind: 'inherited', from: 'busybox:1.36' });
  });

  it('follows a stage built on an earlier one, and ignores checks in stages that are not built on', () => {
    const text = 'FROM busybox:1.36 AS base\nHEALTHCHECK CMD true\nFROM busybox:1.36 AS other\nHEALTHCHECK NONE\nFROM base\nCMD ["sh"]\n';
    expect(healthcheckOf(text)).toEqual({ kind: 'declared' });
    expect(healthcheckOf('FROM busybox AS build\nHEALTHCHECK CMD true\nFROM busybox\n')).toEqual({ kind: 'inherited', from: 'busybox' });
  });

  it('gives null for a file without FROM', () => {
    expect(healthcheckOf('# nothing\n')).toBeNull();
  });
});

describe('healthcheckOf with a build target', () => {
  it('reads the stage --target names, not the last one', () => {
    const text = 'FROM alpine AS base\nHEALTHCHECK CMD true\nFROM base AS dev\nHEALTHCHECK NONE\nFROM base\n';
    expect(healthcheckOf(text, 'dev')).toEqual({ kind: 'none' });
    expect(healthcheckOf(text, 'BASE')).toEqual({ kind: 'declared' });
    expect(healthcheckOf(text)).toEqual({ kind: 'declared' });
    expect(healthcheckOf(text, 'missing')).toBeNull();
  });
});
