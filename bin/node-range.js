// The Node.js versions deploy runs on: package.json's engines.node, the intersection of what its dependencies
// declare (@inquirer/prompts 8.8 asks for ^22.22.2 || ^24.15.0 || >=26; node:sqlite and util.styleText's
// stream option need 22.13). A unit test keeps this copy equal to package.json's. No imports: bin/deploy.js
// checks the version before anything else loads, and scripts/setup.sh checks the Node it installed.
export const NODE_RANGE = '^22.22.2 || ^24.15.0 || >=26.0.0';

/** Whether `version` ("24.21.0" or "v24.21.0") satisfies `range`: `^X.Y.Z` and `>=X.Y.Z` clauses joined by `||`. */
export function satisfies(version, range = NODE_RANGE) {
  const v = parse(version);
  return range.split('||').some((clause) => {
    const c = clause.trim();
    if (c.startsWith('^')) {
      const min = parse(c.slice(1));
      return v[0] === min[0] && compare(v, min) >= 0;
    }
    if (c.startsWith('>=')) return compare(v, parse(c.slice(2))) >= 0;
    throw new Error(`node-range: unsupported clause "${c}"`);
  });
}

function parse(version) {
  const parts = version.trim().replace(/^v/, '').split('-')[0].split('.').map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n)))
    throw new Error(`node-range: not a version: "${version}"`);
  return parts;
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}
