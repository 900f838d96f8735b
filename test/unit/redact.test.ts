import { describe, expect, it } from 'vitest';
import { redactUrl, redactValues } from '../../src/core/redact.js';

describe('redactUrl', () => {
  it('masks the password of user:password@ and keeps the user name', () => {
    expect(redactUrl('https://alice:s3cret@git.example.com/org/app.git')).toBe(
      'https://alice:***@git.example.com/org/app.git',
    );
    expect(redactUrl('http://bob:pw@localhost:3000/repo?x=1#frag')).toBe('http://bob:***@localhost:3000/repo?x=1#frag');
    expect(redactUrl('ssh://git:key@host/repo.git')).toBe('ssh://git:***@host/repo.git');
  });

  it('masks a token given as the user name of an http(s) URL', () => {
    expect(redactUrl('https://ghp_abc123@github.com/org/app.git')).toBe('https://***@github.com/org/app.git');
    expect(redactUrl('http://token@10.0.0.1:8080/app.git')).toBe('http://***@10.0.0.1:8080/app.git');
  });

  it('drops a password given without a user name', () => {
    expect(redactUrl('https://:tok3n@host/x.git')).toBe('https://host/x.git');
  });

  it('keeps the user of an ssh URL, which is not a secret', () => {
    expect(redactUrl('ssh://git@github.com/org/app.git')).toBe('ssh://git@github.com/org/app.git');
  });

  it('returns URLs without credentials unchanged, byte for byte', () => {
    for (const url of [
      'https://github.com/org/app.git',
      'https://HOST.example.com',
      'git://host/repo',
      'file:///srv/repos/app',
    ]) {
      expect(redactUrl(url)).toBe(url);
    }
  });

  it('returns paths and scp-style addresses, which are not URLs, unchanged', () => {
    for (const text of ['/home/ada/app', './app', 'git@github.com:org/app.git', '', 'not a url']) {
      expect(redactUrl(text)).toBe(text);
    }
  });

  it('never leaves the secret in the result', () => {
    const secret = 'Sup3r-Secr3t';
    for (const url of [`https://user:${secret}@h/r`, `https://${secret}@h/r`, `ftp://u:${secret}@h/r`]) {
      expect(redactUrl(url)).not.toContain(secret);
    }
  });
});

describe('redactValues', () => {
  it('replaces every occurrence of each secret with the mask', () => {
    expect(redactValues('token=abcd1234 again abcd1234; pw=hunter22', ['abcd1234', 'hunter22'])).toBe(
      'token=******** again ********; pw=********',
    );
  });

  it('leaves secrets shorter than four characters, which would mask ordinary text', () => {
    expect(redactValues('the value is abc and 1', ['abc', '1', ''])).toBe('the value is abc and 1');
    expect(redactValues('code: abcd', ['abcd'])).toBe('code: ********');
  });

  it('returns the text unchanged without secrets or matches', () => {
    expect(redactValues('nothing to hide', [])).toBe('nothing to hide');
    expect(redactValues('nothing to hide', ['s3cr3t'])).toBe('nothing to hide');
  });

  it('treats secrets literally, not as patterns', () => {
    expect(redactValues('a.b*c+d and axbxc', ['a.b*c+d'])).toBe('******** and axbxc');
    expect(redactValues('cost $1.00 (x)', ['$1.00 (x)'])).toBe('cost ********');
  });

  it('masks a secret that contains another, when the longer one comes first', () => {
    expect(redactValues('pass=longsecret', ['longsecret', 'secret'])).toBe('pass=********');
  });

  it('masks multi-line secrets', () => {
    const key = '-----BEGIN KEY-----\nMIIB\n-----END KEY-----';
    expect(redactValues(`key:\n${key}\ndone`, [key])).toBe('key:\n********\ndone');
  });
});
