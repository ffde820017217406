/**
 * `npm run deploy` as a user runs it, against the local cloud's emulated Tencent Cloud API: the
 * real script in its own process, @cloudbase/manager-node signing real TC3 requests, HTTPS through
 * `http_proxy` to `*.tencentcloudapi.com` with the local certificate authority in
 * NODE_EXTRA_CA_CERTS. What is live afterwards is read from the emulated cloud itself.
 */
import { spawn } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { unzipSync } from 'fflate';
import { COLLECTIONS } from '../../../shared/edge/collections';
import { readDefinition, type FunctionEntry } from '../../../scripts/build-lib';
import { LocalCloud, randomSecret } from '../../emulator/local-cloud';
import { FUNCTION_TABLE, FUNCTIONS_DIR, ROOT } from '../../emulator/paths';
import type { TcbEnv } from '../../emulator/tencent-cloud/api';
import { answer, newOpenid, useLocalCloud } from '../helpers';

jest.setTimeout(120_000);

const KEY = { secretId: 'AKIDdeployTest00000001', secretKey: randomSecret() };
const TEMP = { secretId: 'AKIDdeployTemp00000001', secretKey: randomSecret(), token: 'temporary-session-token-01' };
const cloud = useLocalCloud({ tencentCloud: { credentials: [KEY, TEMP] } });
const api = () => cloud().tencentCloud!.api;
const table = (): Record<string, FunctionEntry> => JSON.parse(readFileSync(FUNCTION_TABLE, 'utf8')) as Record<string, FunctionEntry>;

const SETTINGS = {
  MIDAS_ENV: 'sandbox',
  MIDAS_OFFER_ID: '1450012345',
  MIDAS_APPID: 'wx51dc10ca1c0ffee0',
  MIDAS_SANDBOX_SECRET: 'deploy-sandbox-secret-01',
  MIDAS_SANDBOX_APPKEY: 'deploy-sandbox-appkey-01',
  WX_APP_SECRET: 'deploy-app-secret-000001',
  WX_PUSH_TOKEN: 'deployToken1',
  YSDK_OFFER_ID: '1450099999',
  YSDK_SANDBOX_APPKEY: 'deploy-ysdk-appkey-0001',
};
const SECRET_VALUES = [KEY.secretKey, TEMP.secretKey, SETTINGS.MIDAS_SANDBOX_SECRET, SETTINGS.MIDAS_SANDBOX_APPKEY, SETTINGS.WX_APP_SECRET, SETTINGS.YSDK_SANDBOX_APPKEY];

let envSeq = 0;
/** A fresh cloud environment in the emulated account (as made in the console). */
function newEnv(): string {
  const id = `deploy-test-${++envSeq}`;
  api().addEnv(id);
  return id;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** What the process connected to and looked up. */
  net: string[];
  home: string;
}

/** Runs `npm run deploy`'s script in its own process, as a user's shell would. */
function deploy(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-run-'));
  const home = path.join(dir, 'home');
  mkdirSync(home);
  const record = path.join(dir, 'net.txt');
  writeFileSync(record, '');
  const proxy = cloud().tencentCloud!.proxy;
  const full: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    http_proxy: proxy.url,
    NODE_EXTRA_CA_CERTS: proxy.caFile,
    NODE_OPTIONS: `--require ${path.join(__dirname, 'net-recorder.cjs')}`,
    NET_RECORD: record,
    DEPLOY_POLL_MS: '40',
    DEPLOY_RETRY_DELAYS_MS: '20,40,80',
  };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) full[k] = v;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'scripts', 'run.mjs'), path.join(ROOT, 'scripts', 'deploy.ts'), '--settings', path.join(dir, 'no.env'), ...args], { cwd: ROOT, env: full });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr, net: readFileSync(record, 'utf8').split('\n').filter(Boolean), home }));
  });
}

const as = (envId: string, key: { secretId: string; secretKey: string } = KEY) => ({ ...SETTINGS, TCB_ENV_ID: envId, TENCENTCLOUD_SECRETID: key.secretId, TENCENTCLOUD_SECRETKEY: key.secretKey });
const WRITES = /^(Create|Update|Modify|Delete)/;
const writesSince = (n: number) => api().calls.slice(n).filter((c) => WRITES.test(c.action) && !c.error);
const envState = (id: string): TcbEnv => api().envs.get(id)!;

beforeAll(() => {
  api().transitionMs = 60;
});
afterEach(() => api().clearFaults());

describe('a first deploy and a second one', () => {
  let envId = '';
  let first: Run;
  beforeAll(async () => {
    envId = newEnv();
    first = await deploy([], as(envId));
  });

  test('every function is live with its code, runtime, handler, timeout, memory, settings and timers, and the run says so', () => {
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('Deployed: every function and collection is live as planned');
    const t = table();
    const live = envState(envId).functions;
    expect(Object.keys(live).sort()).toEqual(Object.keys(t).sort());
    for (const [name, entry] of Object.entries(t)) {
      const f = live[name]!;
      expect(f).toMatchObject({ Runtime: 'Nodejs18.15', Handler: 'index.main', Timeout: entry.timeoutSeconds, MemorySize: 256, Status: 'Active' });
      // Only variables the function reads, with a value; the values are the user's.
      for (const k of f.Environment.Variables.map((v) => v.Key)) expect([k, entry.variables.includes(k) && k in SETTINGS]).toEqual([k, true]);
      for (const v of f.Environment.Variables) expect(v.Value).toBe(SETTINGS[v.Key as keyof typeof SETTINGS]);
      expect(f.Triggers.map((x) => ({ name: x.TriggerName, type: x.Type, config: x.TriggerDesc }))).toEqual(entry.triggers ?? []);
    }
    const keys = (name: string) => live[name]!.Environment.Variables.map((v) => v.Key);
    // A Midas v1 function holds its Midas secret and not the 2.0 keys, the push token or YSDK's.
    expect(keys('pay')).toEqual(expect.arrayContaining(['MIDAS_ENV', 'MIDAS_OFFER_ID', 'MIDAS_SANDBOX_SECRET']));
    for (const k of ['WX_PUSH_TOKEN', 'WX_APP_SECRET', 'MIDAS_SANDBOX_APPKEY', 'YSDK_SANDBOX_APPKEY']) expect(keys('pay')).not.toContain(k);
    expect(keys('login')).toContain('WX_APP_SECRET');
    expect(keys('login')).not.toContain('MIDAS_SANDBOX_SECRET');
    expect(keys('paymentNotify')).toEqual(expect.arrayContaining(['WX_PUSH_TOKEN', 'MIDAS_SANDBOX_APPKEY']));
    expect(live.reconcile!.Triggers).toEqual([expect.objectContaining({ TriggerName: 'reconcile', TriggerDesc: '0 */5 * * * * *' })]);
    expect(live.ysdkBalance!.Timeout).toBeGreaterThan(120);
  });

  test('every collection the functions use is admin-only, with every declared index', () => {
    const tables = envState(envId).tables;
    for (const c of Object.values(COLLECTIONS)) {
      const live = tables[c.defaultName]!;
      expect(live.AclTag).toBe('ADMINONLY');
      for (const i of c.indexes) {
        expect(live.Indexes).toContainEqual({ Name: i.name, Keys: i.keys.map(([Name, d]) => ({ Name, Direction: String(d) })), Unique: false });
      }
    }
    // The local cloud's database has them too (the functions' environment).
  });

  test('the uploaded code, unzipped, is the build; and it runs with the deployed settings', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deployed-code-'));
    const functionsDir = path.join(dir, 'cloudfunctions');
    for (const [name, f] of Object.entries(envState(envId).functions)) {
      const files = unzipSync(Buffer.from(f.zip, 'base64'));
      expect(Object.keys(files).sort()).toEqual(['config.json', 'index.js', 'package.json']);
      for (const [file, data] of Object.entries(files)) {
        expect(Buffer.from(data).equals(readFileSync(path.join(FUNCTIONS_DIR, name, file)))).toBe(true);
        mkdirSync(path.join(functionsDir, name), { recursive: true });
        writeFileSync(path.join(functionsDir, name, file), data);
      }
    }
    // A cloud whose functions are the unzipped upload, configured with what the deploy set on `pay`.
    const deployed = Object.fromEntries(envState(envId).functions.pay!.Environment.Variables.map((v) => [v.Key, v.Value]));
    const other = await LocalCloud.start({ functionsDir, functionEnv: deployed });
    try {
      const openid = newOpenid();
      other.backend.topUp({ env: 'sandbox', openid }, 50);
      const r = answer(await other.invoke('pay', { amt: 20, idempotencyKey: 'deployed-1' }, { openid }));
      expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED', balance: 30 } });
    } finally {
      await other.close();
    }
  });

  test('every function starts with only the settings the deploy gave it', async () => {
    for (const [name, f] of Object.entries(envState(envId).functions)) {
      const given = Object.fromEntries(f.Environment.Variables.map((v) => [v.Key, v.Value]));
      const { readSettings } = await readDefinition(path.join(FUNCTIONS_DIR, name));
      expect(() => readSettings(given)).not.toThrow();
    }
  });

  test('it reached nothing but the Tencent Cloud API, through the proxy; no secret printed, nothing written to HOME', () => {
    const proxy = cloud().tencentCloud!.proxy;
    expect(new Set(proxy.hostsAsked)).toEqual(new Set(['tcb.tencentcloudapi.com:443', 'scf.tencentcloudapi.com:443']));
    const port = new URL(proxy.url).port;
    expect(first.net.filter((l) => l.startsWith('connect')).every((l) => l === `connect 127.0.0.1:${port}`)).toBe(true);
    expect(first.net.filter((l) => l.startsWith('lookup'))).toEqual([]);
    for (const s of SECRET_VALUES) expect(first.stdout + first.stderr).not.toContain(s);
    expect(readdirSync(first.home)).toEqual([]);
  });

  test('a second run changes nothing and says everything is already right', async () => {
    const before = api().calls.length;
    const again = await deploy([], as(envId));
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/live as planned \(0 changes, \d+ already right\)/);
    expect(writesSince(before)).toEqual([]);
  });

  test('--check reports no drift, then every kind of drift, changing nothing; a deploy repairs it', async () => {
    expect((await deploy(['--check'], as(envId))).status).toBe(0);
    const env = envState(envId);
    env.functions.pay!.Timeout = 10;
    env.functions.login!.Environment.Variables = env.functions.login!.Environment.Variables.filter((v) => v.Key !== 'WX_APP_SECRET');
    env.functions.reconcile!.Triggers = [];
    delete env.functions.catalogue;
    env.tables.midas_sessions!.AclTag = 'PRIVATE';
    env.tables.midas_orders!.Indexes = env.tables.midas_orders!.Indexes.filter((i) => i.Name !== 'state_updatedAt');
    const before = api().calls.length;
    const check = await deploy(['--check'], as(envId));
    expect(check.status).toBe(1);
    for (const line of [
      'function pay: timeout 10 s, not 3 s',
      'function login: settings differ (WX_APP_SECRET)',
      'function reconcile: timer reconcile missing',
      'function catalogue: missing',
      'collection midas_sessions: permission PRIVATE, not ADMINONLY',
      'collection midas_orders: index state_updatedAt missing',
    ]) expect(check.stderr).toContain(line);
    expect(writesSince(before)).toEqual([]);
    expect(check.stdout).not.toContain('Deployed');
    const repair = await deploy([], as(envId));
    expect(repair.status).toBe(0);
    expect((await deploy(['--check'], as(envId))).status).toBe(0);
  });
});

test('a production deploy gives no function but delivery a sandbox key, and no Midas v1 function a 2.0 key or the AppSecret', async () => {
  const envId = newEnv();
  const production = { ...as(envId), MIDAS_ENV: 'production', YSDK_ENV: 'production', MIDAS_SECRET: 'deploy-prod-secret-0001', MIDAS_APPKEY: 'deploy-prod-appkey-0001', YSDK_APPKEY: 'deploy-prod-ysdk-key-01' };
  const run = await deploy([], production);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const keys = (name: string) => envState(envId).functions[name]!.Environment.Variables.map((v) => v.Key);
  // Delivery keeps the AppKey of each environment configured: a push says which one signed it.
  for (const name of Object.keys(envState(envId).functions).filter((n) => n !== 'paymentNotify' && n !== 'deliveryReconcile')) {
    for (const k of ['MIDAS_SANDBOX_SECRET', 'MIDAS_SANDBOX_APPKEY', 'YSDK_SANDBOX_APPKEY']) expect([name, keys(name)]).not.toEqual([name, expect.arrayContaining([k])]);
  }
  for (const name of ['getBalance', 'pay', 'present', 'cancelPay', 'reconcile']) {
    expect(keys(name)).toContain('MIDAS_SECRET');
    for (const k of ['MIDAS_APPKEY', 'WX_APP_SECRET']) expect([name, keys(name)]).not.toEqual([name, expect.arrayContaining([k])]);
  }
  expect(keys('signPayment')).toEqual(expect.arrayContaining(['MIDAS_APPKEY', 'WX_APP_SECRET']));
  expect(keys('ysdkBalance')).toContain('YSDK_APPKEY');
  // The same settings with MIDAS_API=v2: the coin functions now hold the AppKey and AppSecret instead.
  const v2 = await deploy([], { ...production, MIDAS_API: 'v2' });
  expect(v2.status).toBe(0);
  expect(keys('pay')).toEqual(expect.arrayContaining(['MIDAS_APPKEY', 'WX_APP_SECRET']));
  expect(keys('pay')).not.toContain('MIDAS_SECRET');
});

describe('a deploy that cannot finish says what it did not do and exits non-zero', () => {
  test('every missing setting and credential at once, before anything is called', async () => {
    const before = api().calls.length;
    const r = await deploy([], { MIDAS_API: 'v1', MIDAS_ENV: 'sandbox' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('nothing was changed');
    for (const v of ['TCB_ENV_ID is not set', 'TENCENTCLOUD_SECRETID is not set', 'TENCENTCLOUD_SECRETKEY is not set', 'MIDAS_OFFER_ID is not set', 'MIDAS_SANDBOX_SECRET is not set', 'WX_APP_SECRET is not set (needed by login', 'YSDK_OFFER_ID is not set']) {
      expect(r.stderr).toContain(v);
    }
    expect(api().calls.length).toBe(before);
    expect(r.net.filter((l) => l.startsWith('connect'))).toEqual([]);
    expect(r.stdout).toContain('Still to do by hand');
  });

  test('a wrong SecretKey: AuthFailure.SignatureFailure, nothing changed, never "Deployed"', async () => {
    const envId = newEnv();
    const r = await deploy([], as(envId, { secretId: KEY.secretId, secretKey: 'not-the-key-0000000001' }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('AuthFailure.SignatureFailure');
    expect(r.stderr).toContain('Nothing was changed before it.');
    expect(r.stdout).not.toContain('Deployed');
    expect(Object.keys(envState(envId).functions)).toEqual([]);
    // The manual steps are printed all the same.
    expect(r.stdout).toContain('Still to do by hand');
  });

  test('temporary credentials work with their session token, and not without it', async () => {
    const envId = newEnv();
    const bad = await deploy(['--only', 'catalogue'], { ...as(envId, TEMP), TENCENTCLOUD_SESSIONTOKEN: 'another-token' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('AuthFailure.TokenFailure');
    const good = await deploy(['--only', 'catalogue'], { ...as(envId, TEMP), TENCENTCLOUD_SESSIONTOKEN: TEMP.token });
    expect(good.status).toBe(0);
    expect(Object.keys(envState(envId).functions)).toEqual(['catalogue']);
  });

  test('an unknown environment is named', async () => {
    const r = await deploy(['--only', 'catalogue'], as('no-such-env-01'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no environment no-such-env-01 in this account');
  });

  test('an action that fails halfway: exit 1 naming it and what was done; the second run finishes', async () => {
    const envId = newEnv();
    api().injectFault({ action: 'CreateTrigger', code: 'InternalError', message: 'emulated outage' });
    const r = await deploy([], as(envId));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/NOT deployed: function deliveryReconcile: timer deliveryReconcile "0 \* \* \* \* \* \*" failed: CreateTrigger: InternalError: emulated outage/);
    expect(r.stderr).toContain('Done before it (and kept):\n  collection midas_orders');
    expect(r.stderr).toContain('function deliveryReconcile: code');
    expect(r.stdout).not.toContain('Deployed');
    const functionsAfterFirst = Object.keys(envState(envId).functions);
    expect(functionsAfterFirst).toContain('deliveryReconcile');
    expect(functionsAfterFirst).not.toContain('pay');
    const second = await deploy([], as(envId));
    expect(second.status).toBe(0);
    expect((await deploy(['--check'], as(envId))).status).toBe(0);
  });

  test('a throttled call is tried again; one that stays throttled fails the run', async () => {
    const envId = newEnv();
    api().injectFault({ action: 'DescribeTable', code: 'RequestLimitExceeded', message: 'too many requests', times: 2 });
    expect((await deploy(['--only', 'catalogue'], as(envId))).status).toBe(0);
    api().injectFault({ action: 'GetFunction', code: 'RequestLimitExceeded', message: 'too many requests', times: 50 });
    const r = await deploy(['--only', 'catalogue'], as(envId));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('GetFunction: RequestLimitExceeded');
    api().clearFaults();
    expect((await deploy(['--only', 'catalogue'], as(envId))).status).toBe(0);
  });

  test('a function that ends CreateFailed or UpdateFailed fails the run; the next run repairs it', async () => {
    const envId = newEnv();
    api().injectStatusFault('CreateFailed');
    const r = await deploy(['--only', 'catalogue'], as(envId));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('status CreateFailed');
    expect((await deploy(['--only', 'catalogue'], as(envId))).status).toBe(0);
    api().injectStatusFault('UpdateFailed');
    const changed = await deploy(['--only', 'myOrders'], { ...as(envId), MIDAS_CLIENT_ORDER_TTL_MS: '60000' });
    expect(changed.status).toBe(0);
    const update = await deploy(['--only', 'myOrders'], { ...as(envId), MIDAS_LEDGER_COLLECTION: 'midas_orders_2' });
    expect(update.status).toBe(1);
    expect(update.stderr).toContain('status UpdateFailed');
    const again = await deploy(['--only', 'myOrders'], { ...as(envId), MIDAS_LEDGER_COLLECTION: 'midas_orders_2' });
    expect(again.status).toBe(0);
    expect(envState(envId).tables.midas_orders_2!.AclTag).toBe('ADMINONLY');
  });

  test('a function on another runtime (as miniprogram-ci creates them) is refused with what to do', async () => {
    const envId = newEnv();
    expect((await deploy(['--only', 'catalogue'], as(envId))).status).toBe(0);
    envState(envId).functions.catalogue!.Runtime = 'Nodejs8.9';
    const r = await deploy(['--only', 'catalogue'], as(envId));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('it runs on Nodejs8.9; these bundles need Nodejs18.15');
    expect(r.stderr).toContain('delete catalogue in the CloudBase console');
  });
});

test('--dry-run prints the plan and the manual steps, calls nothing and prints no secret', async () => {
  const before = api().calls.length;
  const r = await deploy(['--dry-run'], { ...SETTINGS, TCB_ENV_ID: 'prod-1a2b3c' });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('Plan for prod-1a2b3c: 13 functions, 4 collections');
  expect(r.stdout).toMatch(/function reconcile +Nodejs18\.15, index\.main, timeout 3 s, 256 MB/);
  expect(r.stdout).toContain('timers: reconcile "0 */5 * * * * *"');
  expect(r.stdout).toContain('MIDAS_SANDBOX_SECRET (secret)');
  expect(r.stdout).toMatch(/collection midas_sessions +ADMINONLY/);
  expect(r.stdout).toContain('Cloud-call permissions');
  expect(r.stdout).toContain('Message push');
  for (const s of SECRET_VALUES) expect(r.stdout + r.stderr).not.toContain(s);
  expect(api().calls.length).toBe(before);
  expect(r.net.filter((l) => l.startsWith('connect'))).toEqual([]);
});
