/**
 * The mini-game package used the way a game uses it: packed with `npm pack`, installed with npm
 * into a scratch project (offline: the package and WeChat's typings as tarballs), compiled as a
 * TypeScript mini-game with the tsconfig `tsc --init` writes, and imported from Node ESM and
 * CommonJS scripts whose calls reach the local cloud.
 */
import { spawn, spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { CLIENT_PACKAGE_DIR } from '../../../scripts/build-lib';
import { ROOT } from '../../emulator/paths';
import { newOpenid, useLocalCloud } from '../helpers';

jest.setTimeout(120_000);

const cloud = useLocalCloud({ midasApi: 'v2' });
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
let project = '';

function run(cmd: string, args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Runs a script of the scratch project in its own Node process (the local cloud answers meanwhile). */
function node(file: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [file], { cwd: project, env: { PATH: process.env.PATH ?? '' } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (status) => resolve({ status, out }));
  });
}

beforeAll(() => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'midas-game-project-'));
  const packs = path.join(dir, 'packs');
  mkdirSync(packs);
  for (const pkg of [CLIENT_PACKAGE_DIR, path.join(ROOT, 'node_modules', 'minigame-api-typings')]) {
    const r = run('npm', ['pack', pkg, '--pack-destination', packs, '--silent'], ROOT);
    if (r.status !== 0) throw new Error(`npm pack ${pkg}: ${r.out}`);
  }
  project = path.join(dir, 'my-game');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'my-game', version: '1.0.0', private: true, type: 'module' }, null, 2));
  const tarballs = readdirSync(packs).map((f) => path.join(packs, f));
  const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs], project);
  if (install.status !== 0) throw new Error(`npm install: ${install.out}`);
  const init = run(process.execPath, [TSC, '--init'], project);
  if (init.status !== 0) throw new Error(`tsc --init: ${init.out}`);
  // A TypeScript mini-game inside it, configured as mini-games are: no DOM (a mini-game has none), WeChat's typings.
  mkdirSync(path.join(project, 'minigame'));
  writeFileSync(path.join(project, 'minigame', 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'ES2020', module: 'commonjs', moduleResolution: 'node10', lib: ['ES2020'], types: ['minigame-api-typings'], skipLibCheck: false }, files: ['game.ts'] }));
});

test('a TypeScript game compiles against the installed package with the default tsconfig (tsc --init), and the declarations under strict', () => {
  writeFileSync(
    path.join(project, 'shop.ts'),
    `import { createLocalWx, createMidasClient, MidasClientError, type BalanceResponse, type Functions, type MidasWx, type OrderView } from 'midas-cloud-client';

export async function shop(wx: MidasWx = createLocalWx({ url: 'http://127.0.0.1:8787', openid: 'oLocalPlayer_000000000000001' })): Promise<string> {
  const midas = createMidasClient(wx);
  const order: OrderView = await midas.call('pay', { amt: 10, idempotencyKey: 'sword-1' });
  const balance: BalanceResponse = await midas.getBalance();
  const firstTime = balance.firstSave === true || balance.firstSave === 1;
  const request: Functions['buyWithCoins']['request'] = { productId: 'sword_basic', idempotencyKey: 'k-1' };
  try {
    const sword = await midas.buyWithCoins(request.productId);
    return order.state + String(firstTime) + sword.state;
  } catch (e) {
    if (e instanceof MidasClientError && (e.code === 'INSUFFICIENT_BALANCE' || e.code === 'CLOUD_CALL_FAILED')) return e.code;
    throw e;
  }
}
`,
  );
  const r = run(process.execPath, [TSC, '-p', '.', '--noEmit'], project);
  expect(r.out).toBe('');
  expect(r.status).toBe(0);
  // The package's own declarations, checked too (the default tsconfig skips them).
  const strict = run(process.execPath, [TSC, '-p', '.', '--noEmit', '--skipLibCheck', 'false'], project);
  expect(strict.out).toBe('');
});

test('a TypeScript mini-game with WeChat’s typings passes the real wx', () => {
  const dir = path.join(project, 'minigame');
  writeFileSync(
    path.join(dir, 'game.ts'),
    `import { createMidasClient } from 'midas-cloud-client';
const midas = createMidasClient(wx);
export const buySword = (): Promise<unknown> => midas.buyItem('sword_basic');
`,
  );
  const r = run(process.execPath, [TSC, '-p', dir], project);
  expect(r.out).toBe('');
  expect(r.status).toBe(0);
});

test('what must not compile does not: a misspelt error code, a request field the function does not take', () => {
  writeFileSync(
    path.join(project, 'wrong.ts'),
    `import { createLocalWx, createMidasClient, MidasClientError } from 'midas-cloud-client';
const midas = createMidasClient(createLocalWx({ url: 'http://127.0.0.1:8787', openid: 'o1' }));
export async function wrong(e: MidasClientError): Promise<void> {
  if (e.code === 'PAYMENT_CANCELED') return;
  await midas.call('pay', { amount: 10 });
}
`,
  );
  const r = run(process.execPath, [TSC, '--noEmit', '--strict', '--module', 'nodenext', '--target', 'esnext', 'wrong.ts'], project);
  expect(r.status).not.toBe(0);
  expect(r.out).toContain(`'"PAYMENT_CANCELED"'`);
  expect(r.out).toMatch(/'amount' does not exist in type 'PayRequest'/);
  expect(r.out.trim().split('\n').filter((l) => l.includes('error TS'))).toHaveLength(2);
});

test('Node ESM and CommonJS import it by name and buy through the local cloud; a cloud that is down is a MidasClientError', async () => {
  const openid = newOpenid();
  writeFileSync(
    path.join(project, 'buy.mjs'),
    `import { createLocalWx, createMidasClient } from 'midas-cloud-client';
const midas = createMidasClient(createLocalWx({ url: ${JSON.stringify(cloud().url)}, openid: ${JSON.stringify(openid)} }), { deliveryPollMs: 50 });
const r = await midas.buyItem('gems_60');
console.log(JSON.stringify({ status: r.status, inventory: r.inventory }));
`,
  );
  const esm = await node('buy.mjs');
  expect(esm.status).toBe(0);
  expect(JSON.parse(esm.out)).toEqual({ status: 'delivered', inventory: { gems: 60 } });

  writeFileSync(
    path.join(project, 'shop.cjs'),
    `const { createLocalWx, createMidasClient, MidasClientError } = require('midas-cloud-client');
async function main() {
  const midas = createMidasClient(createLocalWx({ url: ${JSON.stringify(cloud().url)}, openid: ${JSON.stringify(openid)} }));
  const cat = await midas.catalogue();
  const down = createMidasClient(createLocalWx({ url: 'http://127.0.0.1:9', openid: ${JSON.stringify(openid)} }));
  let failure;
  try { await down.catalogue(); } catch (e) { failure = { isMidasError: e instanceof MidasClientError, code: e.code, retryable: e.retryable }; }
  console.log(JSON.stringify({ products: cat.products.length, failure }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  const cjs = await node('shop.cjs');
  expect(cjs.status).toBe(0);
  const out = JSON.parse(cjs.out) as { products: number; failure: unknown };
  expect(out.products).toBeGreaterThan(0);
  expect(out.failure).toEqual({ isMidasError: true, code: 'CLOUD_CALL_FAILED', retryable: true });
});

/** The ```js and ```ts blocks of a markdown page that use the package. */
function snippets(file: string, lang: 'js' | 'ts'): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!).filter((code) => code.includes('midas-cloud-client'));
}

const PAGES = ['docs/mini-game-package.md', 'docs/spending-coins.md'];
const TS_PAGES = ['docs/mini-game-package.md'];

test.each(PAGES)('the JavaScript snippets of %s run as copied, as a mini-game (wx from the local cloud) or in Node', async (page) => {
  const list = snippets(page, 'js');
  expect(list.length).toBeGreaterThan(0);
  for (const [i, code] of list.entries()) {
    // A mini-game's `wx`, reaching the local cloud, for a player with 100 coins; the page's
    // local-cloud address is this test's.
    const openid = newOpenid();
    cloud().wxa.topUp('sandbox', openid, 100);
    const prelude = `globalThis.wx = require('midas-cloud-client').createLocalWx({ url: ${JSON.stringify(cloud().url)}, openid: ${JSON.stringify(openid)} });\n`;
    const file = `snippet-${path.basename(page, '.md')}-${i}.cjs`;
    writeFileSync(path.join(project, file), prelude + code.replaceAll('http://127.0.0.1:8787', cloud().url));
    const r = await node(file);
    expect({ snippet: i, out: r.out, status: r.status }).toEqual({ snippet: i, out: expect.not.stringMatching(/Error|error|not bought|cancelled/), status: 0 });
  }
});

test.each(TS_PAGES)('the TypeScript snippets of %s compile in a mini-game project', (page) => {
  const list = snippets(page, 'ts');
  expect(list.length).toBeGreaterThan(0);
  const dir = path.join(project, 'minigame');
  const files = list.map((code, i) => {
    const f = `snippet-${path.basename(page, '.md')}-${i}.ts`;
    writeFileSync(path.join(dir, f), code);
    return f;
  });
  writeFileSync(path.join(dir, 'tsconfig.snippets.json'), JSON.stringify({ extends: './tsconfig.json', files }));
  const r = run(process.execPath, [TSC, '-p', path.join(dir, 'tsconfig.snippets.json')], project);
  expect(r.out).toBe('');
});
