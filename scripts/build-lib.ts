/**
 * Builds every function under cloudfunctions/ into a folder WeChat devtools can upload as is:
 * index.js (esbuild bundle with wx-server-sdk inside), package.json, config.json. A function is
 * a folder with an index.ts that calls defineFunction; its config.json comes from its own
 * definition (read from a build of it with the SDK stubbed out), so no list of functions exists.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'fs';
import path from 'path';
import { configJson, type FunctionManifest } from '../shared/edge/function';
import type { SettingProblem } from '../shared/edge/settings';
import { variablesRead } from './settings';
import { catalogue } from '../shared/virtual-payment/catalogue';
import { FUNCTION_TABLE, FUNCTIONS_DIR } from '../test/emulator/paths';

export { FUNCTION_TABLE, FUNCTIONS_DIR };


/** The cloud runtime the bundles target (the oldest the console offers for new functions). */
export const TARGET = 'node16';

export function functionNames(): string[] {
  return readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(FUNCTIONS_DIR, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/**
 * Parts of wx-server-sdk's dependency tree that never run on our functions' paths (V8 coverage of
 * every function: none of their code executes), but that cost most of a cold start to load.
 * The shipped bundles replace each with a stub that throws, naming the module, if anything ever
 * reaches it; every integration test runs the shipped bundles, so a path that needs one fails.
 */
export const LEFT_OUT_MODULES = [
  '@cloudbase/wx-cloud-client-sdk',
  '@cloudbase/ai',
  '@cloudbase/app',
  'mime-db',
  'mime-types',
  'axios',
  'xml2js',
  'jsonwebtoken',
  'web-streams-polyfill',
  // Used by @cloudbase/node-sdk only when an HTTP proxy is configured (they bring debug, agent-base).
  'https-proxy-agent',
  'http-proxy-agent',
] as const;

/**
 * Files inside packages we otherwise use, for features we never use (V8 coverage: none of their
 * code runs on our paths): the database's realtime `watch()` client (websockets), node-sdk's
 * cloud storage and AI modules. Each is reached only from the method of that feature, so its
 * stand-in fails, naming the file, only if that method is ever called.
 */
export const LEFT_OUT_FILES = [
  '@cloudbase/database/dist/commonjs/realtime/websocket-client.js',
  '@cloudbase/node-sdk/dist/storage/index.js',
  '@cloudbase/node-sdk/dist/ai/index.js',
] as const;

/**
 * Factories the SDK calls while it initialises (inside a try/catch, for features we never use:
 * @cloudbase/node-sdk sets up data models and MySQL with them). Their stand-ins return objects
 * that fail, naming the module, only when used.
 */
const INIT_TIME_FACTORIES: Partial<Record<(typeof LEFT_OUT_MODULES)[number], string[]>> = {
  '@cloudbase/wx-cloud-client-sdk': ['generateHTTPClient', 'generateMySQLClient'],
};

/** The message a left-out module throws with (tests look for it). */
export const LEFT_OUT_MESSAGE = 'was left out of this bundle at build time';

/** The stub that stands in for a left-out module: nothing may use it. */
export function leftOutStub(name: string): string {
  const factories = INIT_TIME_FACTORIES[name as (typeof LEFT_OUT_MODULES)[number]] ?? [];
  return `'use strict';
const message = ${JSON.stringify(`midas-cloud: ${name} ${LEFT_OUT_MESSAGE} (it never runs on our paths; see LEFT_OUT_MODULES in scripts/build-lib.ts)`)};
// Logged as well as thrown: a caller that swallows the error still leaves it in the logs.
const fail = () => { console.error(message); throw new Error(message); };
const unusable = () => new Proxy(function leftOut() {}, {
  get(_t, p) { if (p === '__esModule') return false; if (typeof p === 'symbol' || p === 'then' || p === 'default') return undefined; return fail(); },
  apply: fail, construct: fail, set: fail, defineProperty: fail,
});
const factories = new Set(${JSON.stringify(factories)});
module.exports = new Proxy(function leftOut() {}, {
  get(_t, p) {
    if (p === '__esModule') return false;
    if (typeof p === 'symbol' || p === 'then' || p === 'default') return undefined;
    if (factories.has(p)) return () => unusable();
    return fail();
  },
  apply: fail, construct: fail, set: fail, defineProperty: fail,
});
`;
}

/** The esbuild plugin that replaces {@link LEFT_OUT_MODULES} (and their subpaths) with stubs. */
export const LEAVE_OUT: Plugin = {
  name: 'leave-out-unused-sdk-parts',
  setup(b) {
    const escaped = LEFT_OUT_MODULES.map((m) => m.replace(/[/.]/g, (c) => `\\${c}`)).join('|');
    b.onResolve({ filter: new RegExp(`^(${escaped})(/.*)?$`) }, (a) => ({ path: a.path, namespace: 'left-out' }));
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (a) => ({ loader: 'js', contents: leftOutStub(a.path) }));
    const files = LEFT_OUT_FILES.map((f) => f.replace(/[/.]/g, (c) => `\\${c}`)).join('|');
    b.onLoad({ filter: new RegExp(`node_modules/(${files})$`) }, (a) => ({ loader: 'js', contents: leftOutStub(/node_modules\/(.*)$/.exec(a.path.split(path.sep).join('/'))![1]!) }));
  },
};

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
    // The SDK carries Chinese messages: UTF-8 takes 3 bytes a character where \uXXXX takes 6.
    charset: 'utf8',
    logLevel: 'warning',
    ...extra,
  };
}

/** wx-server-sdk replaced by an inert object, to evaluate a definition without starting the SDK. */
const SDK_STUB: Plugin = {
  name: 'wx-server-sdk-stub',
  setup(b) {
    b.onResolve({ filter: /^wx-server-sdk$/ }, () => ({ path: 'wx-server-sdk', namespace: 'sdk-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'sdk-stub' }, () => ({ contents: 'module.exports = { init() {}, DYNAMIC_CURRENT_ENV: null };', loader: 'js' }));
  },
};

/** A function as the function table holds it: its manifest and the environment variables it reads. */
export type FunctionEntry = FunctionManifest & { variables: string[] };

/** The manifest (and name) a function's index.ts declares. */
type SettingsReader = (env: Record<string, string | undefined>) => unknown;
type ProblemsReader = (env: Record<string, string | undefined>) => SettingProblem[];

export async function readDefinition(dir: string): Promise<{ name: string; manifest: FunctionManifest; variables: string[]; readSettings: SettingsReader; settingsProblems: ProblemsReader }> {
  const r = await build(bundleOptions(path.join(dir, 'index.ts'), path.join(dir, 'manifest.cjs'), { write: false, minify: false, plugins: [SDK_STUB] }));
  const mod = { exports: {} as { manifest?: FunctionManifest; main?: unknown; readSettings?: SettingsReader; settingsProblems?: ProblemsReader } };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('module', 'exports', 'require', r.outputFiles![0]!.text)(mod, mod.exports, require);
  const { manifest, main, readSettings, settingsProblems } = mod.exports;
  if (!manifest || typeof main !== 'function' || typeof readSettings !== 'function' || typeof settingsProblems !== 'function') {
    throw new Error(`${path.relative(process.cwd(), dir)}/index.ts must export { main, manifest, readSettings, settingsProblems } from defineFunction(...)`);
  }
  return { name: path.basename(dir), manifest, variables: variablesRead(readSettings), readSettings, settingsProblems };
}


export async function buildFunctions(): Promise<string[]> {
  catalogue(); // a bad edit of shared/virtual-payment/catalogue.json fails the build, not a purchase
  const names = functionNames();
  const table: Record<string, FunctionEntry> = {};
  await Promise.all(
    names.map(async (name) => {
      const dir = path.join(FUNCTIONS_DIR, name);
      const { manifest, variables } = await readDefinition(dir);
      table[name] = { ...manifest, variables };
      await build(bundleOptions(path.join(dir, 'index.ts'), path.join(dir, 'index.js'), { plugins: [LEAVE_OUT] }));
      const pkg = { name, version: '1.0.0', private: true, main: 'index.js', description: `midas-cloud ${name} (built; wx-server-sdk is bundled)`, dependencies: {} };
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify(configJson(manifest), null, 2) + '\n');
    }),
  );
  mkdirSync(path.dirname(FUNCTION_TABLE), { recursive: true });
  const ordered = Object.fromEntries(names.map((n) => [n, table[n]!]));
  writeFileSync(FUNCTION_TABLE, JSON.stringify(ordered, null, 2) + '\n');
  return names;
}

/** Where `npm run build` puts the mini-game package. */
export const CLIENT_PACKAGE_DIR = path.join(path.dirname(FUNCTIONS_DIR), 'build', 'midas-client');

/**
 * The mini-game package: client/ (createMidasClient, createLocalWx) and shared/contract, as
 * CommonJS (index.js, for a plain JavaScript mini-game) and ESM (index.mjs), with declarations
 * that need no typings at all (no Node types, no WeChat typings, no server code).
 */
export async function buildClientPackage(): Promise<string> {
  const root = path.dirname(FUNCTIONS_DIR);
  const out = CLIENT_PACKAGE_DIR;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const common: BuildOptions = { entryPoints: [path.join(root, 'client', 'index.ts')], bundle: true, platform: 'neutral', target: 'es2017', legalComments: 'none', logLevel: 'warning', charset: 'utf8' };
  await build({ ...common, format: 'cjs', outfile: path.join(out, 'index.js') });
  await build({ ...common, format: 'esm', outfile: path.join(out, 'index.mjs') });
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'client', 'tsconfig.package.json')], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`the mini-game package's declarations do not type-check on WeChat's types alone:\n${tsc.stdout}${tsc.stderr}`);
  writeFileSync(path.join(out, 'index.d.ts'), "export * from './types/client/index';\n");
  // For ESM importers (moduleResolution node16/nodenext/bundler): the same declarations.
  writeFileSync(path.join(out, 'index.d.mts'), "export * from './types/client/index.js';\n");
  const pkg = {
    name: 'midas-cloud-client',
    version: '0.1.0',
    description: 'The mini-game side of midas-cloud: buy items and coins with WeChat virtual payment (built; no server code)',
    main: 'index.js',
    module: 'index.mjs',
    types: 'index.d.ts',
    exports: {
      '.': {
        import: { types: './index.d.mts', default: './index.mjs' },
        require: { types: './index.d.ts', default: './index.js' },
      },
      './package.json': './package.json',
    },
    sideEffects: false,
    license: 'MIT',
  };
  writeFileSync(path.join(out, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  return out;
}

/** Where `npm run build` puts the sample game as a browser script (the local cloud serves it at /game/). */
export const GAME_WEB_DIR = path.join(path.dirname(FUNCTIONS_DIR), 'build', 'game-web');

/**
 * The sample mini-game (game.js at the root, which requires game/ and the mini-game package) as
 * one browser script: the same code devtools runs, with `wx` and `GameGlobal` given by the page.
 */
export async function buildGameForWeb(): Promise<string> {
  const root = path.dirname(FUNCTIONS_DIR);
  rmSync(GAME_WEB_DIR, { recursive: true, force: true });
  await build({ entryPoints: [path.join(root, 'game.js')], outfile: path.join(GAME_WEB_DIR, 'game.js'), bundle: true, format: 'iife', platform: 'browser', target: 'es2017', legalComments: 'none', logLevel: 'warning', charset: 'utf8' });
  return GAME_WEB_DIR;
}
