/**
 * The build leaves parts of wx-server-sdk's tree out of the bundles (scripts/build-lib.ts). What
 * stands in for them must fail loudly, naming the module, the moment anything uses it, and be
 * inert to merely being imported (esbuild's interop looks at __esModule and default).
 */
import { build } from 'esbuild';
import { readFileSync } from 'fs';
import path from 'path';
import { LEAVE_OUT, LEFT_OUT_FILES, LEFT_OUT_MESSAGE, LEFT_OUT_MODULES, leftOutStub } from '../../../scripts/build-lib';
import { FUNCTIONS_DIR } from '../../emulator/paths';

function load(source: string): unknown {
  const mod = { exports: {} as unknown };
  new Function('module', 'exports', 'require', source)(mod, mod.exports, require);
  return mod.exports;
}

test.each(LEFT_OUT_MODULES)('%s: using the stand-in throws and logs its name; importing it does not', (name) => {
  const stub = load(leftOutStub(name)) as Record<string, unknown> & (() => unknown);
  const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  expect((stub as { __esModule?: unknown }).__esModule).toBe(false);
  expect(() => stub.get).toThrow(`${name} ${LEFT_OUT_MESSAGE}`);
  expect(() => stub()).toThrow(name);
  expect(() => new (stub as unknown as new () => unknown)()).toThrow(name);
  expect(logged).toHaveBeenCalledWith(expect.stringContaining(name));
  logged.mockRestore();
});

/** `contents` bundled as the functions are, with the left-out parts replaced. */
async function bundleLeavingOut(contents: string): Promise<string> {
  const r = await build({ stdin: { contents, resolveDir: process.cwd() }, bundle: true, platform: 'node', format: 'cjs', write: false, plugins: [LEAVE_OUT], logLevel: 'silent' });
  return r.outputFiles[0]!.text;
}

test('the plugin replaces a module and its subpaths, and and anything that uses it fails, naming it', async () => {
  const text = await bundleLeavingOut("const axios = require('axios'); const types = require('mime-types/index.js'); module.exports = () => axios.create();");
  expect(text).toContain(`axios ${LEFT_OUT_MESSAGE}`);
  expect(text).toContain(`mime-types/index.js ${LEFT_OUT_MESSAGE}`);
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  expect(() => (load(text) as () => unknown)()).toThrow(`axios ${LEFT_OUT_MESSAGE}`);
  spy.mockRestore();
});

test('every shipped bundle carries the stand-ins, not the modules (sizes stay down)', () => {
  for (const fn of ['pay', 'getBalance', 'paymentNotify']) {
    const text = readFileSync(path.join(FUNCTIONS_DIR, fn, 'index.js'), 'utf8');
    expect(text).toContain(LEFT_OUT_MESSAGE);
    expect(text.length).toBeLessThan(700_000);
  }
});

test('the factories the SDK calls while initialising return objects that fail only when used', () => {
  const stub = load(leftOutStub('@cloudbase/wx-cloud-client-sdk')) as { generateHTTPClient: () => Record<string, unknown> };
  const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const models = stub.generateHTTPClient();
  expect(logged).not.toHaveBeenCalled();
  expect(() => models.someModel).toThrow(`@cloudbase/wx-cloud-client-sdk ${LEFT_OUT_MESSAGE}`);
  logged.mockRestore();
});

test.each(LEFT_OUT_FILES)('%s: replaced in the shipped bundles by its stand-in', (file) => {
  for (const fn of ['pay', 'login', 'paymentNotify']) {
    expect(readFileSync(path.join(FUNCTIONS_DIR, fn, 'index.js'), 'utf8')).toContain(`${file} ${LEFT_OUT_MESSAGE}`);
  }
});

test('a left-out file fails, naming it, only when its feature is used: node-sdk storage', async () => {
  const text = await bundleLeavingOut(
    "const tcb = require('@cloudbase/node-sdk'); const app = tcb.init({ env: 'x', secretId: 'x', secretKey: 'x' }); module.exports = { app, upload: () => app.uploadFile({ cloudPath: 'a.txt', fileContent: Buffer.from('a') }) };",
  );
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const mod = load(text) as { app: { database: () => unknown }; upload: () => Promise<unknown> };
  expect(typeof mod.app.database).toBe('function');
  await expect(mod.upload()).rejects.toThrow(`@cloudbase/node-sdk/dist/storage/index.js ${LEFT_OUT_MESSAGE}`);
  spy.mockRestore();
});
