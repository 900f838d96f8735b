import { describe, expect, it } from 'vitest';
import { baseImages, healthcheckOf } from '../../src/core/dockerfile.js';

describe('healthcheckOf', () => {
  it('finds a HEALTHCHECK in the final stage, continuation lines included', () => {
    expect(
      healthcheckOf('FROM busybox:1.36\nHEALTHCHECK --interval=1s \\\n  CMD nc -z 127.0.0.1 8080\nCMD ["httpd"]\n'),
    ).toEqual({ kind: 'declared' });
  });

  it('says NONE turns the check off', () => {
    expect(healthcheckOf('FROM app-base\nHEALTHCHECK NONE\n')).toEqual({ kind: 'none' });
  });

  it('says the base image decides when the final stage is silent', () => {
    expect(healthcheckOf('# comment\nFROM --platform=linux/amd64 busybox:1.36 AS run\nCMD ["sh"]\n')).toEqual({
      kind: 'inherited',
      from: 'busybox:1.36',
    });
  });

  it('follows a stage built on an earlier one, and ignores checks in stages that are not built on', () => {
    const text =
      'FROM busybox:1.36 AS base\nHEALTHCHECK CMD true\nFROM busybox:1.36 AS other\nHEALTHCHECK NONE\nFROM base\nCMD ["sh"]\n';
    expect(healthcheckOf(text)).toEqual({ kind: 'declared' });
    expect(healthcheckOf('FROM busybox AS build\nHEALTHCHECK CMD true\nFROM busybox\n')).toEqual({
      kind: 'inherited',
      from: 'busybox',
    });
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

describe('baseImages: what a build pulls from a registry', () => {
  it('names each FROM image once, not the stages, scratch, or a stage copied from', () => {
    const dockerfile = [
      'FROM 127.0.0.1:5000/base/node:24 AS build',
      'RUN make',
      'FROM scratch AS empty',
      'FROM ghcr.io/team/runtime:1',
      'COPY --from=build /out /app',
      'COPY --from=busybox:1.36 /bin/busybox /bin/',
      'RUN --mount=type=cache,from=ghcr.io/team/cache:1,target=/c true',
      'COPY --from=0 /x /y',
      'FROM build',
    ].join('\n');
    expect(baseImages(dockerfile)).toEqual([
      '127.0.0.1:5000/base/node:24',
      'ghcr.io/team/runtime:1',
      'busybox:1.36',
      'ghcr.io/team/cache:1',
    ]);
  });

  it('reads a FROM through its build argument: the value given, else the default; one it cannot tell is left out', () => {
    const dockerfile = 'ARG BASE=registry.example.com/base:1\nARG OTHER\nFROM ${BASE}\nFROM $OTHER\n';
    expect(baseImages(dockerfile)).toEqual(['registry.example.com/base:1']);
    expect(baseImages(dockerfile, { BASE: 'ghcr.io/x/y:2', OTHER: 'busybox' })).toEqual(['ghcr.io/x/y:2', 'busybox']);
  });
});
