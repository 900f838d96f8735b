/**
 * Git submodules as `git clone --recurse-submodules` finds them: the `.gitmodules` of a commit read, and a
 * relative URL resolved against the superproject's remote as git resolves it. Pure: text in, decisions out.
 */

/** One `[submodule "NAME"]` section of a `.gitmodules` file. */
export interface GitmodulesEntry {
  name: string;
  path: string;
  /** As written (a relative URL is resolved with resolveSubmoduleUrl); null when the section has none. */
  url: string | null;
}

/**
 * The sections of a `.gitmodules`, by path, from the output of `git config -z --blob REV:.gitmodules --list`
 * (each entry `key\nvalue`, NUL-terminated). Later values win, as in git's own reading; a path claimed by two
 * sections keeps the first.
 */
export function parseGitmodules(list: string): Map<string, GitmodulesEntry> {
  const byName = new Map<string, { path: string | null; url: string | null }>();
  for (const item of list.split('\0')) {
    const nl = item.indexOf('\n');
    const key = nl < 0 ? item : item.slice(0, nl);
    const value = nl < 0 ? null : item.slice(nl + 1);
    const dot = key.lastIndexOf('.');
    if (!key.startsWith('submodule.') || dot <= 'submodule.'.length) continue;
    const name = key.slice('submodule.'.length, dot);
    const variable = key.slice(dot + 1);
    const entry = byName.get(name) ?? { path: null, url: null };
    if (variable === 'path') entry.path = value;
    else if (variable === 'url') entry.url = value;
    byName.set(name, entry);
  }
  const byPath = new Map<string, GitmodulesEntry>();
  for (const [name, { path, url }] of byName) {
    const clean = path?.replace(/\/+$/, '');
    if (!clean || byPath.has(clean)) continue;
    byPath.set(clean, { name, path: clean, url });
  }
  return byPath;
}

/**
 * A submodule name that may be used as a directory under `.git/modules/` (git refuses the others, so that a
 * committed `.gitmodules` cannot point outside the repository's git directory).
 */
export function isSafeModuleName(name: string): boolean {
  if (name === '' || name.startsWith('/') || /^[A-Za-z]:/.test(name)) return false;
  return !name.split(/[/\\]/).includes('..');
}

/** A URL git reads as a local path: no scheme, no `host:` before the first slash (git's url_is_local_not_ssh). */
export function isLocalPathUrl(url: string): boolean {
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  return colon < 0 || (slash >= 0 && slash < colon);
}

/**
 * The URL a submodule is cloned from. A URL starting with `./` or `../` is relative to the superproject's
 * remote (`base`; git uses the superproject's own directory when it has no remote): each `../` takes one
 * component off it, at a `/` or else at a `host:` colon, as git's relative_url does. Any other URL is used as
 * it is. Null when `../` climbs above what the base has.
 */
export function resolveSubmoduleUrl(url: string, base: string): string | null {
  if (!url.startsWith('./') && !url.startsWith('../')) return url;
  let remote = base.endsWith('/') ? base.slice(0, -1) : base;
  let rest = url;
  let colon = false;
  for (;;) {
    if (rest.startsWith('../')) {
      rest = rest.slice(3);
      const slash = remote.lastIndexOf('/');
      const at = slash >= 0 ? slash : remote.lastIndexOf(':');
      if (at < 0) return null;
      if (slash < 0) colon = true;
      remote = remote.slice(0, at);
    } else if (rest.startsWith('./')) {
      rest = rest.slice(2);
    } else {
      break;
    }
  }
  const joined = `${remote}${colon ? ':' : '/'}${rest}`;
  return rest.endsWith('/') ? joined.slice(0, -1) : joined;
}
