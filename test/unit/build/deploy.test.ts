/**
 * The deploy: cloudbaserc.json written by the build from the function table (runtime, timeouts,
 * triggers, the names of each function's variables, never a value), and `npm run deploy` run
 * against a stand-in `tcb` that records what it was given.
 */
import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { CLOUDBASERC, FUNCTION_TABLE, functionNames, type FunctionEntry } from '../../../scripts/build-lib';
import { SETTINGS } from '../../../scripts/settings';
import { ROOT } from '../../emulator/paths';

type Rc = { version: string; envId: string; functionRoot: string; functions: { name: string; runtime: string; timeout: number; handler: string; triggers?: { name: string; type: string; config: string }[]; envVariables: Record<string, string> }[] };
const rc = (): Rc => JSON.parse(readFileSync(CLOUDBASERC, 'utf8')) as Rc;
const table = (): Record<string, FunctionEntry> => JSON.parse(readFileSync(FUNCTION_TABLE, 'utf8')) as Record<string, FunctionEntry>;

describe('cloudbaserc.json from the function table', () => {
  test('every function, on a Node runtime the bundles run on, with its timeout and its config.json trigger', () => {
    const c = rc();
    expect(c).toMatchObject({ version: '2.0', envId: '{{env.TCB_ENV_ID}}', functionRoot: './cloudfunctions' });
    expect(c.functions.map((f) => f.name)).toEqual(functionNames());
    for (const f of c.functions) {
      expect(f.runtime).toMatch(/^Nodejs(1[6-9]|2\d)\.\d+$/);
      expect(f.handler).toBe('index.main');
      const cfg = JSON.parse(readFileSync(path.join(ROOT, 'cloudfunctions', f.name, 'config.json'), 'utf8')) as { triggers?: unknown };
      expect(f.triggers).toEqual(cfg.triggers);
      expect(f.timeout).toBe(table()[f.name]!.timeoutSeconds);
    }
    const byName = Object.fromEntries(c.functions.map((f) => [f.name, f]));
    // ysdkBalance polls for up to 2 minutes after a top-up: its timeout is above that.
    expect(byName.ysdkBalance!.timeout * 1000).toBeGreaterThan(120_000);
    expect(byName.pay!.timeout).toBe(3);
    expect(byName.reconcile!.triggers).toEqual([{ name: 'reconcile', type: 'timer', config: '0 */5 * * * * *' }]);
  });

  test('variables are names with {{env.NAME}} placeholders, never values, and each function gets what its reader reads', () => {
    const c = rc();
    for (const f of c.functions) {
      for (const [name, value] of Object.entries(f.envVariables)) {
        expect(name in SETTINGS).toBe(true);
        expect(value).toBe(`{{env.${name}}}`);
      }
    }
    const vars = (n: string) => Object.keys(c.functions.find((f) => f.name === n)!.envVariables);
    expect(vars('pay')).toEqual(expect.arrayContaining(['MIDAS_ENV', 'MIDAS_OFFER_ID', 'MIDAS_SECRET', 'MIDAS_SANDBOX_SECRET', 'MIDAS_LEDGER_COLLECTION', 'MIDAS_API', 'MIDAS_APPKEY']));
    expect(vars('login')).toEqual(expect.arrayContaining(['WX_APP_SECRET', 'MIDAS_SESSIONS_COLLECTION']));
    expect(vars('login')).not.toContain('MIDAS_SECRET');
    expect(vars('paymentNotify')).toEqual(expect.arrayContaining(['WX_PUSH_TOKEN', 'WX_PUSH_AES_KEY', 'MIDAS_APPKEY', 'MIDAS_SANDBOX_APPKEY']));
    expect(vars('paymentNotify')).not.toContain('MIDAS_SECRET');
    expect(vars('ysdkBalance').every((v) => v.startsWith('YSDK_'))).toBe(true);
    expect(vars('catalogue')).toEqual([]);
    expect(readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['cloudbaserc.json', '.env', '.env.*', 'cloudbaserc.deploy.json']));
  });
});

describe('npm run deploy', () => {
  const SECRET = 'deploy-test-secret-0001';
  const APPKEY = 'deploy-test-appkey-0001';

  /** A stand-in for tcb: records its arguments and what the files it is pointed at hold, then answers `status`. */
  function fakeTcb(status = 0) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-tcb-'));
    const out = path.join(dir, 'seen.json');
    const bin = path.join(dir, 'tcb');
    writeFileSync(
      bin,
      `#!${process.execPath}
const fs = require('fs'); const path = require('path');
const args = process.argv.slice(2);
const config = args[args.indexOf('--config-file') + 1];
const mode = args[args.indexOf('--mode') + 1];
const envFile = path.join(process.cwd(), '.env.' + mode);
fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify({ args, cwd: process.cwd(), config: JSON.parse(fs.readFileSync(config, 'utf8')), env: fs.readFileSync(envFile, 'utf8'), envMode: (fs.statSync(envFile).mode & 0o777).toString(8) }));
process.exit(${status});
`,
    );
    chmodSync(bin, 0o755);
    return { bin, out };
  }

  function deploy(args: string[], env: Record<string, string>) {
    return spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'run.mjs'), path.join(ROOT, 'scripts', 'deploy.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
    });
  }

  const settings = { TCB_ENV_ID: 'prod-1a2b3c', MIDAS_ENV: 'production', MIDAS_OFFER_ID: '1450012345', MIDAS_SECRET: SECRET, MIDAS_APPKEY: APPKEY, WX_APP_SECRET: 'deploy-test-appsecret-01', MIDAS_ZONE_ID: '2' };

  test('the CLI gets the functions with the variables that have values, filled from an env file that is gone afterwards', () => {
    const tcb = fakeTcb();
    const r = deploy(['--only', 'pay,login'], { ...settings, TCB_BIN: tcb.bin });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const seen = JSON.parse(readFileSync(tcb.out, 'utf8')) as { args: string[]; cwd: string; config: Rc; env: string; envMode: string };
    expect(seen.args).toEqual(['--config-file', 'cloudbaserc.deploy.json', '--mode', 'midas-deploy', 'fn', 'deploy', '--all', '--force', '--yes', '-e', 'prod-1a2b3c']);
    expect(seen.cwd).toBe(ROOT);
    expect(seen.config.functions.map((f) => f.name)).toEqual(['login', 'pay']);
    const pay = seen.config.functions.find((f) => f.name === 'pay')!;
    expect(pay.envVariables).toEqual({
      MIDAS_ENV: '{{env.MIDAS_ENV}}', MIDAS_OFFER_ID: '{{env.MIDAS_OFFER_ID}}', MIDAS_SECRET: '{{env.MIDAS_SECRET}}', MIDAS_ZONE_ID: '{{env.MIDAS_ZONE_ID}}',
      MIDAS_APPKEY: '{{env.MIDAS_APPKEY}}', WX_APP_SECRET: '{{env.WX_APP_SECRET}}',
    });
    expect(seen.config.functions.find((f) => f.name === 'login')!.envVariables).not.toHaveProperty('MIDAS_SECRET');
    expect(seen.env.split('\n')).toEqual(expect.arrayContaining(['TCB_ENV_ID=prod-1a2b3c', `MIDAS_SECRET='${SECRET}'`, `MIDAS_APPKEY='${APPKEY}'`, "MIDAS_ZONE_ID='2'"]));
    expect(seen.envMode).toBe('600');
    // Nothing with a value stays behind, and no secret was printed.
    expect(existsSync(path.join(ROOT, '.env.midas-deploy'))).toBe(false);
    expect(existsSync(path.join(ROOT, 'cloudbaserc.deploy.json'))).toBe(false);
    expect(r.stdout).toContain('MIDAS_SECRET (secret)');
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).not.toContain(APPKEY);
  });

  test('a missing or bad setting stops the deploy before anything is uploaded, naming function and variable', () => {
    const tcb = fakeTcb();
    const { MIDAS_SECRET: _s, ...rest } = settings;
    const r = deploy(['--only', 'pay,myOrders'], { ...rest, MIDAS_ZONE_ID: 'two', TCB_BIN: tcb.bin });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('npm run deploy: not deployed: 2 settings to fix first');
    expect(r.stderr).toContain('MIDAS_SECRET is not set (needed because MIDAS_API=v1 and MIDAS_ENV=production)  [pay]');
    expect(r.stderr).toMatch(/MIDAS_ZONE_ID .*\[pay\]/);
    expect(existsSync(tcb.out)).toBe(false);
  });

  test('a failed upload is reported, and the env file is removed all the same', () => {
    const tcb = fakeTcb(3);
    const r = deploy(['--only', 'catalogue'], { TCB_ENV_ID: 'prod-1a2b3c', TCB_BIN: tcb.bin });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('tcb ended with status 3');
    expect(existsSync(tcb.out)).toBe(true);
    expect(existsSync(path.join(ROOT, '.env.midas-deploy'))).toBe(false);
  });

  test.each([
    [[], {}, 'TCB_ENV_ID is not set'],
    [['--only', 'pay,nope'], { TCB_ENV_ID: 'prod-1a2b3c' }, '--only takes function names separated by commas'],
  ])('%j %j: %s', (args, env, message) => {
    const r = deploy(args, env as Record<string, string>);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
  });
});
