/**
 * Builds every function under cloudfunctions/ into a folder WeChat devtools can upload as is:
 * index.js (esbuild bundle with wx-server-sdk inside), package.json, config.json.
 */
import { build, type BuildOptions } from 'esbuild';
import { existsSync, readdirSync, writeFileSync } from 'fs';
import path from 'path';
import { catalogue } from '../shared/catalogue';
import { configJson, isFunctionName } from '../shared/functions';
import { FUNCTIONS_DIR } from '../test/emulator/paths';

export { FUNCTIONS_DIR };


/** The cloud runtime the bundles target (the oldest the console offers for new functions). */
export const TARGET = 'node16';

export function functionNames(): string[] {
  return readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(FUNCTIONS_DIR, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

export function bundleOptions(entry: string, outfile: string, extra: Partial<BuildOptions> = {}): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: TARGET,
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    ...extra,
  };
}

export async function buildFunctions(): Promise<string[]> {
  catalogue(); // a bad edit of shared/catalogue.json fails the build, not a purchase
  const names = functionNames();
  for (const name of names) {
    if (!isFunctionName(name)) throw new Error(`cloudfunctions/${name} has no entry in shared/functions.ts`);
  }
  await Promise.all(
    names.map(async (name) => {
      const dir = path.join(FUNCTIONS_DIR, name);
      await build(bundleOptions(path.join(dir, 'index.ts'), path.join(dir, 'index.js')));
      const pkg = { name, version: '1.0.0', private: true, main: 'index.js', description: `midas-cloud ${name} (built; wx-server-sdk is bundled)`, dependencies: {} };
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify(configJson(name), null, 2) + '\n');
    }),
  );
  return names;
}
