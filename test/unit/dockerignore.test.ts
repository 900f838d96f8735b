import { describe, expect, it } from 'vitest';
import { cleanPath, ContextFilter, DockerignoreError, readDockerignore } from '../../src/core/dockerignore.js';

/** Does the docker CLI send `path` (a file unless it ends with '/') for these .dockerignore lines? */
const sent = (lines: string[], path: string, dockerfile = 'Dockerfile') =>
  new ContextFilter(readDockerignore(lines.join('\n')), dockerfile).includes(path, path.endsWith('/'));
const excluded = (lines: string[], path: string) => !sent(lines, path);

describe('readDockerignore (moby ignorefile.ReadAll)', () => {
  it('drops comments and blank lines, trims, cleans and removes a leading slash, keeps "!"', () => {
    const text = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
    expect(readDockerignore(text)).toEqual([
      'test1',
      'test2',
      'a/file/here',
      'lastfile',
      '!inverted/abs/path',
      '!',
      '!',
    ]);
  });
  it('strips a BOM, CRLF line ends, ./ and trailing slashes; a "#" after spaces is a pattern', () => {
    expect(readDockerignore('\uFEFF./a/\r\nb//c/../d\r\n  #x\n')).toEqual(['a', 'b/d', '#x']);
  });
  it('cleans like Go path.Clean', () => {
    expect([cleanPath(''), cleanPath('./'), cleanPath('a/../..'), cleanPath('/../x'), cleanPath('a//b/./c/')]).toEqual([
      '.',
      '.',
      '..',
      '/x',
      'a/b/c',
    ]);
  });
});

describe('patterns (moby patternmatcher)', () => {
  const cases: Array<[string, string, boolean]> = [
    // filepath.Match-style wildcards: * and ? never cross a '/'
    ['*.go', 'file.go', true],
    ['*.go', 'dir/file.go', false],
    ['*/*.go', 'dir/file.go', true],
    ['fileutils.?o', 'fileutils.go', true],
    ['fileutils.?o', 'fileutils.o', false],
    ['*/temp*', 'somedir/temporary.txt', true],
    ['*/temp*', 'somedir/temp', true],
    ['*/*/temp*', 'somedir/subdir/temporary.txt', true],
    ['temp?', 'tempa', true],
    ['temp?', 'temp', false],
    // character classes as Go's filepath.Match reads them (^ negates; ! does not)
    ['[a-c]b', 'bb', true],
    ['[a-c]b', 'db', false],
    ['[^a-c]b', 'db', true],
    ['[!a]b', '!b', true],
    ['[\\]]', ']', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    // ** spans any number of directories, none included
    ['**', 'anything/at/all', true],
    ['**/*.go', 'file.go', true],
    ['**/*.go', 'a/b/c/file.go', true],
    ['**/file.go', 'file.go', true],
    ['**/file.go', 'a/file.go', true],
    ['dir/**', 'dir/file', true],
    ['dir/**', 'dir', false],
    ['dir/**/file', 'dir/file', true],
    ['dir/**/file', 'dir/a/b/file', true],
    ['dir/**/file', 'dirx/file', false],
    ['**/node_modules', 'a/b/node_modules', true],
    ['a**', 'abc/d', true],
    ['**.go', 'a/b.go', true],
    // regexp metacharacters are literal
    ['a.b', 'axb', false],
    ['a+b', 'a+b', true],
    ['(x)|{y}$', '(x)|{y}$', true],
    // a leading / and ./ are the context's root; the pattern is cleaned
    ['/secret', 'secret', true],
    ['./secret', 'secret', true],
    ['a/../secret', 'secret', true],
    // a match on a parent directory excludes what is below it
    ['docs', 'docs/a/b.md', true],
    ['*.d', 'x.d/y', true],
    ['a/b', 'a/b/c/d', true],
    ['a/b', 'a/bc', false],
  ];
  it.each(cases)('%s against %s: %s', (pattern, path, expected) => {
    expect(excluded([pattern], path)).toBe(expected);
  });

  it('lets the last matching line win, with ! exceptions', () => {
    const lines = ['*.md', '!README*.md', 'README-secret.md'];
    expect(excluded(lines, 'CHANGES.md')).toBe(true);
    expect(excluded(lines, 'README.md')).toBe(false);
    expect(excluded(lines, 'README-secret.md')).toBe(true);
  });

  it('re-includes a file in an excluded directory when an exception names it', () => {
    const lines = ['secrets', '!secrets/public.pem'];
    expect(sent(lines, 'secrets/')).toBe(false); // the directory entry itself is not sent
    expect(sent(lines, 'secrets/public.pem')).toBe(true);
    expect(sent(lines, 'secrets/key.pem')).toBe(false);
  });

  it('never enters an excluded directory for an exception that does not start with its path', () => {
    // docker's walk skips the directory: **/keep cannot bring anything back out of it.
    const lines = ['build', '!**/keep'];
    expect(sent(lines, 'build/')).toBe(false);
    expect(sent(lines, 'build/keep')).toBe(false);
    expect(sent(lines, 'other/keep')).toBe(true);
  });

  it('includes a directory excluded by * and re-included by name, with all it holds', () => {
    const lines = ['*', '!src'];
    expect(sent(lines, 'src/')).toBe(true);
    expect(sent(lines, 'src/deep/a.ts')).toBe(true);
    expect(sent(lines, 'package.json')).toBe(false);
  });

  it('excludes the children of a re-included directory that a later pattern matches', () => {
    const lines = ['*', '!src', 'src/**/*.test.ts'];
    expect(sent(lines, 'src/a.ts')).toBe(true);
    expect(sent(lines, 'src/x/a.test.ts')).toBe(false);
  });

  it('tells which directories the walk goes into: sent, or excluded with an exception inside; not pruned ones', () => {
    const f = new ContextFilter(readDockerignore('vendor\n!vendor/keep/a.txt\nnode_modules\n!**/x'), 'Dockerfile');
    expect(f.walks('src')).toBe(true);
    expect(f.walks('vendor/')).toBe(true); // excluded, but an exception starts with its path
    expect(f.includes('vendor/', true)).toBe(false);
    expect(f.walks('vendor/keep')).toBe(true);
    expect(f.walks('vendor/other')).toBe(false);
    expect(f.walks('node_modules')).toBe(false);
    expect(f.walks('node_modules/lib')).toBe(false);
    expect(new ContextFilter([], 'Dockerfile').walks('anything')).toBe(true);
  });

  it('sends a file below a pruned directory never, whatever order entries come in', () => {
    const f = new ContextFilter(['node_modules'], 'Dockerfile');
    expect(f.includes('node_modules/a/b.js', false)).toBe(false);
    expect(f.includes('node_modules/', true)).toBe(false);
    expect(f.includes('node_modulesx', false)).toBe(true);
  });

  it('matches what an exact, prefix or suffix pattern names literally, even ^ and ]', () => {
    expect(excluded(['a^b'], 'a^b')).toBe(true);
    expect(excluded(['**/a^b'], 'x/a^b')).toBe(true);
    expect(excluded(['a]'], 'a]')).toBe(true);
  });

  it('matches non-ASCII names one character per ?', () => {
    expect(excluded(['caf?'], 'café')).toBe(true);
    expect(excluded(['?.txt'], '😀.txt')).toBe(true);
  });
});

describe('the Dockerfile and .dockerignore are always sent (TrimBuildFilesFromExcludes)', () => {
  it('keeps both under a pattern that matches everything', () => {
    expect(sent(['*'], '.dockerignore')).toBe(true);
    expect(sent(['*'], 'Dockerfile')).toBe(true);
    expect(sent(['*'], 'app.js')).toBe(false);
  });
  it('keeps a Dockerfile elsewhere, and only it, in an excluded directory', () => {
    expect(sent(['build'], 'build/app.Dockerfile', 'build/app.Dockerfile')).toBe(true);
    expect(sent(['build'], 'build/other', 'build/app.Dockerfile')).toBe(false);
    expect(sent(['build'], 'Dockerfile', 'build/app.Dockerfile')).toBe(true);
    expect(sent(['Dockerfile*'], 'Dockerfile', 'build/app.Dockerfile')).toBe(false);
  });
});

describe('patterns docker refuses', () => {
  it.each([['!'], ['! '], ['[a'], ['[]a]'], ['a\\'], ['[a-]'], ['[-a]']])('%s', (line) => {
    expect(() => new ContextFilter(readDockerignore(line), 'Dockerfile')).toThrow(DockerignoreError);
  });
  it('accepts a stray ] and a lone [x]', () => {
    expect(() => new ContextFilter(['a]', '[x]'], 'Dockerfile')).not.toThrow();
  });
});
