/**
 * What a Dockerfile says about the image it builds, read without building it: enough to tell, before a build,
 * which health check will gate the deployment (the confirmation names it instead of hedging).
 */

export type HealthcheckDecl =
  /** The final stage declares a HEALTHCHECK. */
  | { kind: 'declared' }
  /** The final stage turns the base image's check off (HEALTHCHECK NONE). */
  | { kind: 'none' }
  /** The final stage says nothing: the base image (or an earlier stage) decides. */
  | { kind: 'inherited'; from: string };

interface Stage {
  from: string;
  name: string | null;
  healthcheck: 'declared' | 'none' | null;
}

/** Joins continuation lines and drops comments and blank lines. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    out.push(current + line);
    current = '';
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

function stagesOf(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions(text)) {
    const [word = '', ...rest] = ins.split(/\s+/);
    const keyword = word.toUpperCase();
    if (keyword === 'FROM') {
      const args = rest.filter((a) => !a.startsWith('--'));
      const asAt = args.findIndex((a) => a.toUpperCase() === 'AS');
      stages.push({
        from: args[0] ?? '',
        name: asAt >= 0 ? ((args[asAt + 1] ?? null)?.toLowerCase() ?? null) : null,
        healthcheck: null,
      });
    } else if (keyword === 'HEALTHCHECK') {
      const stage = stages[stages.length - 1];
      if (!stage) continue;
      const args = rest.filter((a) => !a.startsWith('--'));
      stage.healthcheck = (args[0] ?? '').toUpperCase() === 'NONE' ? 'none' : 'declared';
    }
  }
  return stages;
}

/**
 * Whether the image built from this Dockerfile has a HEALTHCHECK: declared or turned off by the stage built (the
 * final one, or `target`) or a
 * stage it builds on), or inherited from a base image that only the engine can tell about. null when the file
 * has no FROM.
 */
export function healthcheckOf(dockerfile: string, target: string | null = null): HealthcheckDecl | null {
  const stages = stagesOf(dockerfile);
  // --target builds the named stage; else the last one.
  let stage = target === null ? stages[stages.length - 1] : stages.find((s) => s.name === target.toLowerCase());
  const seen = new Set<Stage>();
  while (stage && !seen.has(stage)) {
    seen.add(stage);
    if (stage.healthcheck) return { kind: stage.healthcheck };
    const parentName = stage.from.toLowerCase();
    const index = stages.indexOf(stage);
    const parent = stages
      .slice(0, index)
      .reverse()
      .find((s) => s.name === parentName);
    if (!parent) return { kind: 'inherited', from: stage.from };
    stage = parent;
  }
  return null;
}

/** The names the Dockerfile gives its stages (FROM ... AS NAME), lower-cased as BuildKit compares them. */
export function stageNames(dockerfile: string): string[] {
  return stagesOf(dockerfile).flatMap((s) => (s.name ? [s.name] : []));
}

/**
 * The images a build pulls from a registry: each FROM that is not an earlier stage or `scratch`, and each
 * `COPY --from=` / `RUN --mount=from=` naming an image. A FROM through a build argument takes the argument's
 * default (`ARG BASE=busybox` before it) or the value given; one it cannot tell is left out.
 */
export function baseImages(dockerfile: string, buildArgs: Readonly<Record<string, string>> = {}): string[] {
  const args = new Map<string, string>();
  const stages = new Set<string>();
  const out = new Set<string>();
  const expand = (text: string): string | null => {
    let unknown = false;
    const value = text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => {
      const v = buildArgs[name] ?? args.get(name);
      if (v === undefined) unknown = true;
      return v ?? '';
    });
    return unknown || value === '' ? null : value;
  };
  const add = (ref: string | null) => {
    if (ref && ref.toLowerCase() !== 'scratch' && !stages.has(ref.toLowerCase()) && !/^\d+$/.test(ref)) out.add(ref);
  };
  let seenFrom = false;
  for (const ins of instructions(dockerfile)) {
    const [word = '', ...rest] = ins.split(/\s+/);
    const keyword = word.toUpperCase();
    if (keyword === 'ARG' && !seenFrom) {
      for (const a of rest) {
        const eq = a.indexOf('=');
        if (eq > 0) args.set(a.slice(0, eq), a.slice(eq + 1).replace(/^"(.*)"$/, '$1'));
      }
    } else if (keyword === 'FROM') {
      seenFrom = true;
      const plain = rest.filter((a) => !a.startsWith('--'));
      add(expand(plain[0] ?? ''));
      const asAt = plain.findIndex((a) => a.toUpperCase() === 'AS');
      if (asAt >= 0 && plain[asAt + 1]) stages.add(plain[asAt + 1]!.toLowerCase());
    } else if (keyword === 'COPY' || keyword === 'RUN') {
      for (const m of ins.matchAll(/--(?:from|mount=[^\s]*?\bfrom)=([^\s,]+)/g)) add(expand(m[1]!));
    }
  }
  return [...out];
}
