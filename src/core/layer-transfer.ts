/**
 * What an engine-to-engine image copy can leave out. `docker save` (engine 20.10's format) writes one directory per
 * layer, `<v1 id>/VERSION`, `<v1 id>/json`, `<v1 id>/layer.tar`, then the image's config and `manifest.json`; and
 * `docker load` reads a layer's `layer.tar` only when the engine lacks that layer's chain (checked on 20.10: a
 * tarball without the `layer.tar` of a layer the engine has loads, and one without a layer it lacks is refused). So
 * the copy leaves out the `layer.tar` of every layer whose chain the receiving engine has. The directory names are
 * v1 ids; which layer each one is, is told from its `json` (which comes before its `layer.tar`) by recomputing the
 * v1 id the engine gave it (moby's v1.CreateID) for each position: a directory that matches no position is sent.
 * Pure: unit-tested.
 */
import { createHash } from 'node:crypto';

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** The chain id of each layer of an image (what an engine keys its layers by): from its diff ids, in order. */
export function chainIds(diffIds: readonly string[]): string[] {
  const chains: string[] = [];
  diffIds.forEach((d, i) => chains.push(i === 0 ? d : sha256(`${chains[i - 1]} ${d}`)));
  return chains;
}

/** The positions of an image's layers whose chain the receiving engine has (their data need not be sent). */
export function presentLayers(diffIds: readonly string[], present: ReadonlySet<string>): Set<number> {
  const out = new Set<number>();
  chainIds(diffIds).forEach((c, i) => {
    if (present.has(c)) out.add(i);
  });
  return out;
}

/** The top-level members of a JSON object as raw text (key, value as written), in order; null if it is not one. */
export function jsonMembers(text: string): Array<[string, string]> | null {
  const out: Array<[string, string]> = [];
  let i = text.indexOf('{');
  if (i < 0) return null;
  i++;
  const n = text.length;
  for (;;) {
    while (i < n && /[\s,]/.test(text[i] as string)) i++;
    if (i >= n) return null;
    if (text[i] === '}') return out;
    if (text[i] !== '"') return null;
    const k0 = i++;
    while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    let key: string;
    try {
      key = JSON.parse(text.slice(k0, i)) as string;
    } catch {
      return null;
    }
    while (i < n && text[i] !== ':') i++;
    const v0 = ++i;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
    }
    if (i >= n) return null;
    out.push([key, text.slice(v0, i).trim()]);
  }
}

/**
 * The v1 id docker save gives the layer at chain `chainId` whose legacy json is `members` (moby's v1.CreateID: the
 * json without its id, with `layer_id` and the parent's full digest, keys sorted, hashed). The engine computes it
 * before it sets the layer's `os` on layers below the top one, so both readings are tried by the caller.
 */
function v1Id(members: ReadonlyArray<[string, string]>, chainId: string, withOs: boolean): string {
  const kept: Array<[string, string]> = members.filter(([k]) => k !== 'id' && k !== 'parent' && (withOs || k !== 'os'));
  const parent = members.find(([k]) => k === 'parent');
  if (parent) kept.push(['parent', JSON.stringify(`sha256:${JSON.parse(parent[1]) as string}`)]);
  kept.push(['layer_id', JSON.stringify(chainId)]);
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(`{${kept.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`).slice(7);
}

/**
 * Which layer of the image (its position) the save directory `dir` holds, from the directory's `json`; null when no
 * position gives that v1 id (another format, another engine version): such a layer is sent.
 */
export function layerPosition(dir: string, json: string, chains: readonly string[]): number | null {
  const members = jsonMembers(json);
  if (!members) return null;
  for (let i = 0; i < chains.length; i++) {
    for (const withOs of [false, true]) if (v1Id(members, chains[i] as string, withOs) === dir) return i;
  }
  return null;
}
