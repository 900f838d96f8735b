/**
 * A small deterministic random source (mulberry32): the same seed gives the same numbers in [0, 1), so a generated
 * case can be replayed. The tests that generate their inputs use it, and so does the bench's store generator
 * (scripts/bench/store-generator.mjs bundles it with the tool's store), so every run generates the same store.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
