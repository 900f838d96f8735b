import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GET_SECRET, GRPC_STATUS, HEALTH_CHECK, answerCall, grpcFrame } from '../../src/adapters/docker/session.js';
import {
  buildSecretValues,
  csvFields,
  parseBuildSecret,
  type BuildSecretContext,
} from '../../src/core/build-secrets.js';
import { DeployError } from '../../src/core/errors.js';
import { protobufBytesField, protobufFields, protobufVarintField } from '../../src/core/protobuf.js';
import { readBuildSecrets } from '../../src/services/build-secrets.js';
import { failure } from '../helpers/unit.js';
import { rejectionOf } from '../helpers/rejection.js';

const at: BuildSecretContext = {
  cwd: '/work/app',
  home: '/home/ann',
  env: { NPM_TOKEN: 'x', token: 'set', EMPTY: '' },
};
const parse = (spec: string, env = at.env) => parseBuildSecret(spec, { ...at, env });

describe('parseBuildSecret: docker build --secret syntax', () => {
  it('reads a file (src= or source=), a variable (env=), with ~/ and relative paths made absolute', () => {
    expect(parse('id=npmrc,src=~/.npmrc')).toEqual({ id: 'npmrc', from: { file: '/home/ann/.npmrc' } });
    expect(parse('id=npmrc,source=conf/npmrc')).toEqual({ id: 'npmrc', from: { file: '/work/app/conf/npmrc' } });
    expect(parse('id=npmrc,src=../x/./npmrc')).toEqual({ id: 'npmrc', from: { file: '/work/x/npmrc' } });
    expect(parse('id=npmrc,src=/etc//npmrc')).toEqual({ id: 'npmrc', from: { file: '/etc/npmrc' } });
    expect(parse('id=home,src=~')).toEqual({ id: 'home', from: { file: '/home/ann' } });
    // ~user is not expanded (no password database in pure code): a relative path, as any other.
    expect(parse('id=x,src=~bob/f')).toEqual({ id: 'x', from: { file: '/work/app/~bob/f' } });
    expect(parse('id=token,env=NPM_TOKEN')).toEqual({ id: 'token', from: { env: 'NPM_TOKEN' } });
  });

  it('follows docker for keys: any case, source as src, the last of a repeated key, an empty value as none', () => {
    expect(parse('ID=a,SRC=f,Type=file')).toEqual({ id: 'a', from: { file: '/work/app/f' } });
    expect(parse('id=a,id=b,src=f1,src=f2')).toEqual({ id: 'b', from: { file: '/work/app/f2' } });
    expect(parse('id=a,env=,src=f')).toEqual({ id: 'a', from: { file: '/work/app/f' } });
    // Values keep their case and may hold "=".
    expect(parse('id=Tok=en,env=My_Var')).toEqual({ id: 'Tok=en', from: { env: 'My_Var' } });
  });

  it('with type=env takes the variable from env=, else src=, else the id', () => {
    expect(parse('id=a,type=env,env=V')).toEqual({ id: 'a', from: { env: 'V' } });
    expect(parse('id=a,type=env,src=V')).toEqual({ id: 'a', from: { env: 'V' } });
    expect(parse('id=a,type=env', {})).toEqual({ id: 'a', from: { env: 'a' } });
  });

  it('with an id alone reads the variable of that name when it is set (even empty), else the file of that name', () => {
    expect(parse('id=token')).toEqual({ id: 'token', from: { env: 'token' } });
    expect(parse('id=EMPTY')).toEqual({ id: 'EMPTY', from: { env: 'EMPTY' } });
    expect(parse('id=npmrc')).toEqual({ id: 'npmrc', from: { file: '/work/app/npmrc' } });
    expect(parse('id=token,type=file')).toEqual({ id: 'token', from: { file: '/work/app/token' } });
  });

  it('takes CSV quoting, so a path may hold a comma', () => {
    expect(parse('id=a,"src=/srv/a,b"')).toEqual({ id: 'a', from: { file: '/srv/a,b' } });
    expect(parse('"id=say ""hi""",env=V')).toEqual({ id: 'say "hi"', from: { env: 'V' } });
    expect(csvFields('a,,b')).toEqual(['a', '', 'b']);
    expect(csvFields('"a"')).toEqual(['a']);
    expect(csvFields('a"b')).toBe('a quote inside a field that does not start with one');
    expect(csvFields('"ab')).toBe('a quoted field is not closed');
    expect(csvFields('"a"b')).toBe('a quoted field goes on after its closing quote');
  });

  it('refuses what docker refuses, and the loose combinations docker lets through, with exit 2 and the syntax', () => {
    const refused = (spec: string) => failure(() => parse(spec));
    expect(refused('src=f')).toMatchObject({
      code: 'usage',
      message: 'Invalid --build-secret: no id (id=ID names the secret, as RUN --mount=type=secret,id=ID does).',
    });
    expect(refused('id=')).toMatchObject({ code: 'usage', message: expect.stringContaining('no id') });
    expect(refused('')).toMatchObject({ code: 'usage', message: 'Invalid --build-secret: it is empty.' });
    expect(refused('id=a,type=ssh').message).toBe('Invalid --build-secret: type is file or env.');
    expect(refused('id=a,src=f,env=V').message).toContain('build secret "a" has both src= and env=');
    expect(refused('id=a,type=file,env=V').message).toContain('is type=file but names an environment variable');
    expect(refused('id=a,"src=f').message).toBe('Invalid --build-secret: a quoted field is not closed.');
    expect(refused('id=a,required=true').message).toContain('unknown key "required"');
    expect(refused('src=f').hint).toContain('id=ID[,src=PATH|env=VAR][,type=file|env]');
  });

  it('never echoes a value typed where a key or name belongs (it may be the secret)', () => {
    expect(failure(() => parse('id=token,hunter2-password-123')).message).toBe(
      'Invalid --build-secret: a field without "=" (each field is key=value; the field is not shown).',
    );
    expect(failure(() => parse('id=token,value=hunter2-password-123')).message).not.toContain('hunter2');
    expect(failure(() => parse('id=a,S3CR3T-VALUE=x')).message).not.toContain('S3CR3T');
    expect(failure(() => parse('id=a,type=hunter2')).message).not.toContain('hunter2');
  });

  it('names the flag or setting the spec came from', () => {
    expect(failure(() => parseBuildSecret('src=f', { ...at, where: 'buildSecrets in deploy.json' })).message).toMatch(
      /^Invalid buildSecrets in deploy.json: no id/,
    );
  });
});

describe('buildSecretValues: what the output must not show', () => {
  it('is each value and each line of a value of several lines, longest first, too-short ones left out', () => {
    const secrets = new Map([
      ['token', Buffer.from('tok-12345\n')],
      ['npmrc', Buffer.from('registry=https://r.example/\n//r.example/:_authToken=abcdef\n  x\n')],
      ['pin', Buffer.from('123')],
    ]);
    expect(buildSecretValues(secrets)).toEqual([
      'registry=https://r.example/\n//r.example/:_authToken=abcdef\n  x\n',
      'registry=https://r.example/\n//r.example/:_authToken=abcdef\n  x',
      '//r.example/:_authToken=abcdef',
      'registry=https://r.example/',
      'tok-12345\n',
      'tok-12345',
    ]);
    expect(buildSecretValues(new Map())).toEqual([]);
    // Binary: the value as text, not split into "lines".
    const binary = Buffer.from([0xff, 0x61, 0x62, 0x63, 0x0a, 0x64, 0x65, 0x66, 0x67, 0x68]);
    expect(buildSecretValues(new Map([['bin', binary]]))).toEqual([binary.toString('utf8')]);
  });
});

describe('readBuildSecrets (real files in a temp directory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const refusal = async (p: Promise<unknown>) => {
    const error = await rejectionOf(p);
    expect(error).toBeInstanceOf(DeployError);
    return {
      code: (error as DeployError).code,
      message: (error as DeployError).message,
      hint: (error as DeployError).hint,
    };
  };

  it('reads files as bytes and variables as UTF-8; a later id replaces an earlier one', async () => {
    writeFileSync(join(dir, 'bin'), Buffer.from([0, 255, 10, 1]));
    const values = await readBuildSecrets(
      [
        { id: 'b', from: { file: join(dir, 'bin') } },
        { id: 't', from: { env: 'TOKEN' } },
        { id: 'e', from: { env: 'EMPTY' } },
        { id: 't', from: { env: 'OTHER' } },
      ],
      { TOKEN: 'first', OTHER: 'zwölf', EMPTY: '' },
    );
    expect([...values.entries()]).toEqual([
      ['b', Buffer.from([0, 255, 10, 1])],
      ['t', Buffer.from('zwölf', 'utf8')],
      ['e', Buffer.alloc(0)],
    ]);
  });

  it('refuses an unset variable, a missing file, a directory and an unreadable file, saying what to do', async () => {
    expect(await refusal(readBuildSecrets([{ id: 'token', from: { env: 'NPM_TOKEN' } }], {}))).toEqual({
      code: 'usage',
      message: 'Build secret "token": the environment variable NPM_TOKEN is not set.',
      hint: 'Set NPM_TOKEN (export NPM_TOKEN=…), or read the secret from a file (--build-secret id=token,src=PATH).',
    });
    const missing = join(dir, 'nope', 'npmrc');
    expect(await refusal(readBuildSecrets([{ id: 'npmrc', from: { file: missing } }], {}))).toMatchObject({
      code: 'usage',
      message: `Build secret "npmrc": there is no file ${missing}.`,
      hint: expect.stringMatching(/^Create it, or point src= at the file/),
    });
    mkdirSync(join(dir, 'adir'));
    expect((await refusal(readBuildSecrets([{ id: 'd', from: { file: join(dir, 'adir') } }], {}))).message).toBe(
      `Build secret "d": ${join(dir, 'adir')} is a directory, not a file.`,
    );
    writeFileSync(join(dir, 'locked'), 'x');
    chmodSync(join(dir, 'locked'), 0);
    if (process.getuid?.() !== 0) {
      // root reads any file: the permission case is only real for another user.
      expect(
        (await refusal(readBuildSecrets([{ id: 'l', from: { file: join(dir, 'locked') } }], {}))).message,
      ).toContain('cannot be read (permission denied)');
    }
  });

  it("refuses a secret larger than BuildKit's 500 KiB", async () => {
    writeFileSync(join(dir, 'big'), Buffer.alloc(500 * 1024 + 1, 97));
    writeFileSync(join(dir, 'fits'), Buffer.alloc(500 * 1024, 97));
    expect((await refusal(readBuildSecrets([{ id: 'big', from: { file: join(dir, 'big') } }], {}))).message).toBe(
      `Build secret "big": ${join(dir, 'big')} is larger than 500 KiB.`,
    );
    expect(
      (await refusal(readBuildSecrets([{ id: 'v', from: { env: 'V' } }], { V: 'a'.repeat(500 * 1024 + 1) }))).message,
    ).toBe('Build secret "v": V is larger than 500 KiB.');
    expect((await readBuildSecrets([{ id: 'fits', from: { file: join(dir, 'fits') } }], {})).get('fits')?.length).toBe(
      500 * 1024,
    );
  });
});

describe('the build session answers BuildKit (gRPC unary calls, hand-framed protobuf)', () => {
  const secrets = new Map([['token', Buffer.from('s3cr3t')]]);
  const request = (id: string) =>
    grpcFrame(
      Buffer.concat([
        protobufBytesField(1, Buffer.from(id)),
        protobufBytesField(
          2,
          Buffer.concat([protobufBytesField(1, Buffer.from('k')), protobufBytesField(2, Buffer.from('v'))]),
        ),
      ]),
    );

  it('returns a secret by id as GetSecretResponse{data}, and NOT_FOUND for an id it was not given', () => {
    const answer = answerCall(GET_SECRET, request('token'), secrets);
    expect(answer.status).toBe(GRPC_STATUS.OK);
    expect([...protobufFields(answer.message as Buffer)]).toEqual([[1, 2, Buffer.from('s3cr3t')]]);
    expect(answerCall(GET_SECRET, request('other'), secrets)).toEqual({
      status: GRPC_STATUS.NOT_FOUND,
      error: 'secret other not found',
    });
  });

  it('answers a health check SERVING, an unknown method UNIMPLEMENTED, a compressed or missing message as errors', () => {
    expect(answerCall(HEALTH_CHECK, grpcFrame(Buffer.alloc(0)), secrets)).toEqual({
      status: GRPC_STATUS.OK,
      message: protobufVarintField(1, 1),
    });
    expect(answerCall('/grpc.health.v1.Health/Watch', grpcFrame(Buffer.alloc(0)), secrets).status).toBe(
      GRPC_STATUS.UNIMPLEMENTED,
    );
    const compressed = Buffer.from(request('token'));
    compressed[0] = 1;
    expect(answerCall(GET_SECRET, compressed, secrets).status).toBe(GRPC_STATUS.UNIMPLEMENTED);
    expect(answerCall(GET_SECRET, Buffer.alloc(2), secrets).status).toBe(GRPC_STATUS.INVALID_ARGUMENT);
  });

  it('frames a message with a zero flag and its big-endian length', () => {
    expect(grpcFrame(Buffer.from('abc'))).toEqual(Buffer.from([0, 0, 0, 0, 3, 0x61, 0x62, 0x63]));
  });
});
