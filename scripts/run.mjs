// Runs a TypeScript script of this repo: esbuild bundles it (dependencies stay external) and
// node runs the result. Keeps the toolchain to esbuild alone, no separate TS runtime.
import { buildSync } from 'esbuild';
import { createRequire } from 'module';
import path from 'path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <script.ts> [args]');
  process.exit(2);
}
const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const outfile = path.join(root, '.build', 'scripts', path.basename(entry).replace(/\.ts$/, '.cjs'));
buildSync({
  entryPoints: [path.resolve(entry)],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
process.argv = [process.argv[0], outfile, ...args];
createRequire(import.meta.url)(outfile);
