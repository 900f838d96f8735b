// Builds dist/ from src/: one ESM bundle for the start-up path (main, the command line, commander) and a
// chunk per command module, loaded only when that command runs. Bundling saves the module resolution of
// dozens of small files on every start; types are checked separately (npm run typecheck).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: 'linked',
  // Heavy libraries stay in node_modules and load only in the commands that use them.
  external: ['@inquirer/prompts', 'ora', 'cli-table3', 'conf'],
  logLevel: 'warning',
});

// The front door's program (proxy/dist/proxy.js): the tool builds it into the door's image on each engine
// (src/adapters/front-door/door-image.ts), so the package ships it.
await import('../proxy/build.mjs');
