import { describe, expect, it } from 'vitest';
import { chainIds, jsonMembers, layerPosition, presentLayers } from '../../src/core/layer-transfer.js';

// From a real `docker save` on engine 20.10 of `FROM busybox:1.36` + `RUN echo hi > /hi.txt`.
const DIFF_IDS = [
  'sha256:8618aa88bbd244b995b6b5d8ff4935812eed2cc811f02273ad2f889cc7d673c3',
  'sha256:7d5c580bf8249fb6291ba7a56029ad274833d935dfd121655d00bca72abb824e',
];
const BASE_DIR = 'feddb1beeb1bcb1ca415e3571cf62544a6f6432ad6935f1ea221856480511953';
const BASE_JSON =
  '{"id":"feddb1beeb1bcb1ca415e3571cf62544a6f6432ad6935f1ea221856480511953","created":"1970-01-01T00:00:00Z","container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"os":"linux"}';
const TOP_DIR = 'c23ecbc2d69a0cdca724f11f2b24673e22dce1ff2789c5f3adb4b044b72ec506';
const TOP_JSON =
  '{"id":"c23ecbc2d69a0cdca724f11f2b24673e22dce1ff2789c5f3adb4b044b72ec506","parent":"feddb1beeb1bcb1ca415e3571cf62544a6f6432ad6935f1ea221856480511953","created":"2026-12-02T05:18:29.048642077Z","container":"bc83d6ecb696e53bf6c1afc0ce9eae9e7bab44c3ae995235da45fc87e3dc866b","container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/bin"],"Cmd":["/bin/sh","-c","echo hi \\u003e /hi.txt"],"Image":"sha256:6ff74fd3f0ff23cadbec2e2a1f2a32dcfa5416244d566449fad249c9bcf8b565","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"docker_version":"20.10.24+dfsg1","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/bin"],"Cmd":["sh"],"Image":"sha256:6ff74fd3f0ff23cadbec2e2a1f2a32dcfa5416244d566449fad249c9bcf8b565","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"architecture":"amd64","os":"linux"}';

describe('layer transfer: what a copy to another engine can leave out', () => {
  it('chains diff ids as the engine does (the first is its own chain id)', () => {
    const chains = chainIds(DIFF_IDS);
    expect(chains[0]).toBe(DIFF_IDS[0]);
    expect(chains[1]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(chains[1]).not.toBe(DIFF_IDS[1]);
    expect(chainIds([])).toEqual([]);
  });

  it('tells which layer each save directory holds from its json, and null for one it cannot place', () => {
    const chains = chainIds(DIFF_IDS);
    expect(layerPosition(BASE_DIR, BASE_JSON, chains)).toBe(0);
    expect(layerPosition(TOP_DIR, TOP_JSON, chains)).toBe(1);
    expect(layerPosition(TOP_DIR, TOP_JSON, chains.slice(0, 1))).toBeNull();
    expect(layerPosition('0'.repeat(64), BASE_JSON, chains)).toBeNull();
    expect(layerPosition(BASE_DIR, 'not json', chains)).toBeNull();
  });

  it('leaves out the layers whose chain the receiving engine has, and only those', () => {
    const chains = chainIds(DIFF_IDS);
    expect(presentLayers(DIFF_IDS, new Set([chains[0] as string]))).toEqual(new Set([0]));
    expect(presentLayers(DIFF_IDS, new Set(chains))).toEqual(new Set([0, 1]));
    // The same diff id on top of another base is another chain: it is sent.
    expect(presentLayers(DIFF_IDS, new Set([DIFF_IDS[1] as string]))).toEqual(new Set());
  });

  it('reads the members of a JSON object as written', () => {
    expect(jsonMembers('{"a":1,"b":{"c":[1,"x,}"]},"d":"\\"q"}')).toEqual([
      ['a', '1'],
      ['b', '{"c":[1,"x,}"]}'],
      ['d', '"\\"q"'],
    ]);
    expect(jsonMembers('[1]')).toBeNull();
    expect(jsonMembers('{"a":')).toBeNull();
  });
});
