// Bundle the front door into one CommonJS file (undici included) that runs on a bare node:24 image.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, 'dist');
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(outdir, 'proxy.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});
// The repository's package.json says "type": "module"; this one makes Node read the bundle as CommonJS here.
writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
