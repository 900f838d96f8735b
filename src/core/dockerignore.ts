/**
 * `.dockerignore` as the docker CLI applies it when it packs a directory for the classic builder: the file read
 * as moby's ignorefile.ReadAll reads it, patterns matched as moby/patternmatcher matches them
 * (MatchesUsingParentResults), the walk's rule for excluded directories (pkg/archive TarWithOptions: an excluded
 * directory is entered only when an exception pattern starts with its path), and the Dockerfile and
 * `.dockerignore` re-included as TrimBuildFilesFromExcludes does. Pure: paths in, decisions out.
 */

/** A .dockerignore that docker itself would refuse (it fails the build with the same complaint). */
export class DockerignoreError extends Error {
  override name = 'DockerignoreError';
}

/** Go's path.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** The patterns of a .dockerignore file, in order, as moby's ignorefile.ReadAll returns them. */
export function readDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const line of lines) {
    // A comment is a line that starts with '#' in its first column (before any trimming).
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

interface Pattern {
  text: string;
  exclusion: boolean;
  type: MatchType;
  regexp: RegExp | null;
}

const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/'.split(''));
const CLASS_CHARS = new Set('\\]^-['.split(''));
const literal = (c: string) => (SYNTAX_CHARS.has(c) ? `\\${c}` : c);
const classLiteral = (c: string) => (CLASS_CHARS.has(c) ? `\\${c}` : c);
// RE2's Perl classes, which moby's translation passes through after a backslash (ASCII only in RE2).
const PERL_CLASSES: Record<string, string> = {
  d: '[0-9]',
  D: '[^0-9]',
  w: '[0-9A-Za-z_]',
  W: '[^0-9A-Za-z_]',
  s: '[\\t\\n\\f\\r ]',
  S: '[^\\t\\n\\f\\r ]',
};

/**
 * Reads a character class at chars[i] (just after '['), as Go's filepath.Match accepts one, and returns its
 * regular expression and the index after its ']'. Throws on what filepath.Match calls a bad pattern.
 */
function readClass(chars: string[], start: number): { re: string; next: number } {
  let i = start;
  let re = '[';
  if (chars[i] === '^') {
    re += '^';
    i++;
  }
  const escaped = (): string => {
    let c = chars[i];
    if (c === undefined || c === '-' || c === ']') throw new DockerignoreError('syntax error in pattern');
    if (c === '\\') {
      i++;
      c = chars[i];
      if (c === undefined) throw new DockerignoreError('syntax error in pattern');
    }
    i++;
    return c;
  };
  let ranges = 0;
  for (;;) {
    if (chars[i] === ']' && ranges > 0) return { re: `${re}]`, next: i + 1 };
    const lo = escaped();
    let hi = lo;
    if (chars[i] === '-') {
      i++;
      hi = escaped();
    }
    // Go's Match compares runes; a reversed range matches nothing there and is an error for a RegExp.
    if ((lo.codePointAt(0) ?? 0) > (hi.codePointAt(0) ?? 0)) re += '\\u{10FFFF}-\\u{10FFFF}';
    else re += lo === hi ? classLiteral(lo) : `${classLiteral(lo)}-${classLiteral(hi)}`;
    ranges++;
  }
}

/** One pattern compiled as patternmatcher's Pattern.compile does (with '/' as the separator). */
function compile(text: string, exclusion: boolean): Pattern {
  const chars = Array.from(text);
  let re = '^';
  let type: MatchType = 'exact';
  for (let i = 0; i < chars.length;) {
    const c = chars[i] as string;
    if (c === '*') {
      if (chars[i + 1] === '*') {
        const first = i === 0;
        i += 2;
        if (chars[i] === '/') i++;
        if (i >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(?:.*/)?';
          type = 'regexp';
        }
        // A leading "**" makes a suffix match (a later wildcard or escape makes it a regexp again).
        if (first) type = 'suffix';
        continue;
      }
      re += '[^/]*';
      type = 'regexp';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      type = 'regexp';
      i++;
    } else if (c === '\\') {
      const next = chars[i + 1];
      if (next === undefined) {
        re += '\\\\';
        i++;
      } else {
        re += PERL_CLASSES[next] ?? literal(next);
        type = 'regexp';
        i += 2;
      }
    } else if (c === '[') {
      const cls = readClass(chars, i + 1);
      re += cls.re;
      type = 'regexp';
      i = cls.next;
    } else if (c === '^') {
      // Passed to the regexp as is by moby, where it anchors (so matches nothing mid-pattern); literal otherwise.
      re += '^';
      i++;
    } else if (c === ']') {
      re += '\\]';
      type = 'regexp';
      i++;
    } else {
      re += literal(c);
      i++;
    }
  }
  return { text, exclusion, type, regexp: type === 'regexp' ? new RegExp(`${re}$`, 'u') : null };
}

/** Go's filepath.Match syntax check, which patternmatcher.New runs on every pattern. */
function checkSyntax(text: string): void {
  const chars = Array.from(text);
  for (let i = 0; i < chars.length;) {
    const c = chars[i];
    if (c === '\\') {
      if (i + 1 >= chars.length) throw new DockerignoreError(`syntax error in pattern: ${JSON.stringify(text)}`);
      i += 2;
    } else if (c === '[') {
      try {
        i = readClass(chars, i + 1).next;
      } catch {
        throw new DockerignoreError(`syntax error in pattern: ${JSON.stringify(text)}`);
      }
    } else if (c === ']') {
      // Go's Match reads a stray ']' as itself; RE2 too.
      i++;
    } else i++;
  }
}

function matches(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact':
      return path === p.text;
    case 'prefix':
      return path.startsWith(p.text.slice(0, -2));
    case 'suffix': {
      const suffix = p.text.slice(2);
      if (path.endsWith(suffix)) return true;
      return suffix.startsWith('/') && path === suffix.slice(1);
    }
    case 'regexp':
      return (p.regexp as RegExp).test(path);
  }
}

/** patternmatcher.New: patterns trimmed, cleaned, '!' read, syntax checked. */
export function compilePatterns(lines: readonly string[]): Pattern[] {
  const out: Pattern[] = [];
  for (const line of lines) {
    let p = line.trim();
    if (p === '') continue;
    p = cleanPath(p);
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw new DockerignoreError('illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    checkSyntax(p);
    out.push(compile(p, exclusion));
  }
  return out;
}

/** Per pattern: did the path (or a parent) match it. */
type MatchInfo = boolean[];

/** patternmatcher's MatchesUsingParentResults. */
function matchWithParents(
  patterns: readonly Pattern[],
  path: string,
  parent: MatchInfo | null,
): { matched: boolean; info: MatchInfo } {
  let matched = false;
  const info: MatchInfo = new Array<boolean>(patterns.length).fill(false);
  patterns.forEach((p, i) => {
    let match = parent?.[i] ?? false;
    if (!match) {
      if (p.exclusion !== matched) return;
      match = matches(p, path);
      if (!match && parent === null) {
        const dirs = path.split('/').slice(0, -1);
        for (let n = 1; n <= dirs.length && !match; n++) match = matches(p, dirs.slice(0, n).join('/'));
      }
    }
    info[i] = match;
    if (match) matched = !p.exclusion;
  });
  return { matched, info };
}

/** patternmatcher.MatchesOrParentMatches, for the decision about the Dockerfile and .dockerignore. */
function matchesOrParentMatches(patterns: readonly Pattern[], path: string): boolean {
  const file = cleanPath(path);
  if (file === '.') return false;
  return matchWithParents(patterns, file, null).matched;
}

type DirState = { state: 'sent' | 'entered' | 'pruned'; info: MatchInfo };

/**
 * Decides, entry by entry, what of a directory tree the docker CLI would send. Entries may come in any order;
 * a directory's decision is remembered for what is below it.
 */
export class ContextFilter {
  private readonly patterns: Pattern[];
  private readonly exceptions: string[];
  private readonly dirs = new Map<string, DirState>();
  readonly active: boolean;

  /** @param lines the patterns of the ignore file in effect; @param dockerfile the Dockerfile's path in the context */
  constructor(lines: readonly string[], dockerfile: string) {
    const base = compilePatterns(lines);
    const extra: string[] = [];
    // TrimBuildFilesFromExcludes: the CLI keeps both files in the context whatever the patterns say.
    if (matchesOrParentMatches(base, '.dockerignore')) extra.push('!.dockerignore');
    const df = dockerfile.replace(/^\.\//, '');
    if (matchesOrParentMatches(base, df)) extra.push(`!${df}`);
    this.patterns = [...base, ...compilePatterns(extra)];
    this.exceptions = this.patterns.filter((p) => p.exclusion).map((p) => p.text);
    this.active = this.patterns.length > 0;
  }

  private parentOf(path: string): DirState | null {
    const slash = path.lastIndexOf('/');
    if (slash < 0) return null;
    const dir = path.slice(0, slash);
    return this.dirs.get(dir) ?? this.visit(dir, true);
  }

  private visit(path: string, isDir: boolean): DirState {
    const parent = this.parentOf(path);
    if (parent?.state === 'pruned') {
      const pruned: DirState = { state: 'pruned', info: parent.info };
      if (isDir) this.dirs.set(path, pruned);
      return pruned;
    }
    const { matched, info } = matchWithParents(this.patterns, path, parent ? parent.info : null);
    let state: DirState['state'] = matched ? 'pruned' : 'sent';
    if (matched && isDir) {
      // An excluded directory is still walked when an exception could name something inside it.
      const prefix = `${path}/`;
      if (this.exceptions.some((e) => `${e}/`.startsWith(prefix))) state = 'entered';
    }
    const result: DirState = { state, info };
    if (isDir) this.dirs.set(path, result);
    return result;
  }

  /**
   * Does the walk go into this directory, so that something below it may be sent? True for a directory that is
   * sent, and for an excluded one that an exception may reach into; false for one skipped with all it holds.
   */
  walks(dir: string): boolean {
    const p = cleanPath(dir.replace(/\/+$/, ''));
    if (p === '.' || !this.active) return true;
    return this.visit(p, true).state !== 'pruned';
  }

  /** Is this entry (a path relative to the context, '/'-separated) sent? */
  includes(path: string, isDir: boolean): boolean {
    const p = cleanPath(path.replace(/\/+$/, ''));
    if (p === '.' || !this.active) return true;
    return this.visit(p, isDir).state === 'sent';
  }
}
