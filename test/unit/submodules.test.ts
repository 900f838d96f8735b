import { describe, expect, it } from 'vitest';
import { isLocalPathUrl, isSafeModuleName, parseGitmodules, resolveSubmoduleUrl } from '../../src/core/submodules.js';

describe('parseGitmodules (git config -z --list of a .gitmodules blob)', () => {
  it('reads each section by path, with its name and URL; names may hold dots and slashes', () => {
    const list = [
      'submodule.vendor/lib.path\nvendor/lib',
      'submodule.vendor/lib.url\n../lib.git',
      'submodule.a.b.path\ndeep/ab/',
      'submodule.a.b.url\nhttps://h/ab.git',
      'submodule.a.b.branch\nmain',
      '',
    ].join('\0');
    expect([...parseGitmodules(list).values()]).toEqual([
      { name: 'vendor/lib', path: 'vendor/lib', url: '../lib.git' },
      { name: 'a.b', path: 'deep/ab', url: 'https://h/ab.git' },
    ]);
  });

  it('lets a later value win, keeps the first section claiming a path, and skips sections with no path', () => {
    const list = [
      'submodule.x.path\nlib',
      'submodule.x.url\nold',
      'submodule.x.url\nnew',
      'submodule.y.path\nlib',
      'submodule.y.url\nother',
      'submodule.z.url\nnowhere',
      'core.bare\nfalse',
      'submodule.w.path',
    ].join('\0');
    const m = parseGitmodules(list);
    expect([...m.keys()]).toEqual(['lib']);
    expect(m.get('lib')).toEqual({ name: 'x', path: 'lib', url: 'new' });
  });

  it('gives a section without a URL a null one, and reads nothing from empty output', () => {
    expect(parseGitmodules('submodule.s.path\ns\0').get('s')).toEqual({ name: 's', path: 's', url: null });
    expect(parseGitmodules('').size).toBe(0);
  });
});

describe('resolveSubmoduleUrl (what git submodule init writes, checked against git 2.39)', () => {
  it.each([
    ['https://h/org/app.git', '../lib.git', 'https://h/org/lib.git'],
    ['https://h/org/app.git/', './lib', 'https://h/org/app.git/lib'],
    ['git@h:org/app.git', '../lib.git', 'git@h:org/lib.git'],
    ['git@h:app.git', '../lib.git', 'git@h:lib.git'],
    ['git@h:org/app.git', '../../x.git', 'git@h:x.git'],
    ['/srv/git/app', '../lib', '/srv/git/lib'],
    ['file:///srv/app.git', '../../other/x.git', 'file:///other/x.git'],
    ['/srv/app', './sub/', '/srv/app/sub'],
    ['https://h/app.git', '../../x', 'https://x'],
    ['ssh://u@h:22/a/b.git', '../c.git', 'ssh://u@h:22/a/c.git'],
    ['https://h/org/app.git', '.././../x', 'https://h/x'],
  ])('%s + %s -> %s', (base, url, expected) => {
    expect(resolveSubmoduleUrl(url, base)).toBe(expected);
  });

  it('uses any other URL as it is', () => {
    expect(resolveSubmoduleUrl('https://other/x.git', '/srv/app')).toBe('https://other/x.git');
    expect(resolveSubmoduleUrl('/abs/lib', 'https://h/app.git')).toBe('/abs/lib');
  });

  it('gives null when ../ climbs above the base', () => {
    expect(resolveSubmoduleUrl('../x', 'app')).toBeNull();
  });
});

describe('isSafeModuleName / isLocalPathUrl', () => {
  it('refuses names that would leave .git/modules', () => {
    expect(isSafeModuleName('vendor/lib')).toBe(true);
    expect(isSafeModuleName('a..b')).toBe(true);
    for (const bad of ['', '../x', 'a/../../x', '/etc', 'a\\..\\b', 'C:x']) expect(isSafeModuleName(bad)).toBe(false);
  });

  it('tells a local path from a URL or an scp-like address', () => {
    for (const local of ['/srv/app', '../lib', 'lib', './a:b']) expect(isLocalPathUrl(local)).toBe(true);
    for (const remote of ['https://h/x', 'file:///x', 'git@h:x.git', 'h:x']) expect(isLocalPathUrl(remote)).toBe(false);
  });
});
