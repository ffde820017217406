/**
 * The mini-game package `npm run build` makes (build/midas-client): compiled JavaScript and
 * declarations, no server code, no Node; a TypeScript game (as in Cocos Creator) type-checks
 * against it with WeChat's types alone.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { CLIENT_PACKAGE_DIR } from '../../../scripts/build-lib';
import { ROOT } from '../../emulator/paths';

test('the package holds CommonJS, ESM and declarations, and nothing of the server or of Node', () => {
  const pkg = JSON.parse(readFileSync(path.join(CLIENT_PACKAGE_DIR, 'package.json'), 'utf8')) as Record<string, unknown>;
  expect(pkg).toMatchObject({ main: 'index.js', module: 'index.mjs', types: 'index.d.ts' });
  for (const file of ['index.js', 'index.mjs']) {
    const js = readFileSync(path.join(CLIENT_PACKAGE_DIR, file), 'utf8');
    expect(js).not.toMatch(/\brequire\(/);
    expect(js).not.toMatch(/wx-server-sdk|\bBuffer\b|\bprocess\.|createHmac|cloud\.database/);
    expect(js).toContain('createMidasClient');
  }
});

test('a TypeScript game type-checks against the package with WeChat’s types and no Node types', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'midas-game-'));
  try {
    writeFileSync(
      path.join(dir, 'shop.ts'),
      `import { createMidasClient, type CatalogueResponse, type MyOrdersResponse, type ErrorCode } from ${JSON.stringify(CLIENT_PACKAGE_DIR)};
export async function buy(): Promise<string> {
  const midas = createMidasClient(wx);
  const cat: CatalogueResponse = await midas.catalogue();
  const item = await midas.buyItem(cat.products[0]!.productId);
  const orders: MyOrdersResponse = await midas.myOrders(item.outTradeNo);
  const code: ErrorCode = 'SESSION_EXPIRED';
  return item.status + orders.orders.length + code;
}
`,
    );
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2017', module: 'commonjs', moduleResolution: 'node', lib: ['ES2020'], types: ['minigame-api-typings'], typeRoots: [path.join(ROOT, 'node_modules')], noUncheckedIndexedAccess: true },
        files: ['shop.ts'],
      }),
    );
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
