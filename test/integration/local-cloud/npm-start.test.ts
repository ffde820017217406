/**
 * `npm start` as a person runs it: settings from the environment, printed without secrets; each
 * function's log lines printed as they happen; plain messages for a bad port, a port in use and a
 * bad setting.
 */
import { spawn } from 'child_process';
import { mkdtempSync } from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { LocalCloud } from '../../emulator/local-cloud';
import { ROOT } from '../../emulator/paths';
import { waitFor } from '../helpers';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'run.mjs'), path.join(ROOT, 'scripts', 'start.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOCAL_CLOUD_DIR: mkdtempSync(path.join(os.tmpdir(), 'npm-start-')), ...env },
  });
  const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', (code) => ((out.code = code), resolve())));
  return { child, out, exited };
}

test('settings from the environment are in force and listed without secret values; function logs are printed live', async () => {
  const port = await freePort();
  const secret = 'operator-production-secret-0001';
  const s = start({ PORT: String(port), MIDAS_ENV: 'production', MIDAS_SECRET: secret });
  try {
    await waitFor('the banner', () => s.out.stdout.includes('Ctrl-C to stop'), 20_000);
    expect(s.out.stdout).toContain(`Console:  http://127.0.0.1:${port}/`);
    expect(s.out.stdout).toContain('Midas production');
    expect(s.out.stdout).toContain('MIDAS_ENV=production  [environment]');
    expect(s.out.stdout).toContain('MIDAS_SECRET=(set, not shown)  [environment]');
    expect(s.out.stdout).toMatch(/Timers \(config\.json\): .*reconcile "0 \*\/5 \* \* \* \* \*"/);
    const res = await fetch(`http://127.0.0.1:${port}/callFunction`, {
      method: 'POST',
      body: JSON.stringify({ name: 'getBalance', data: {}, player: { openid: 'oLocalPlayer_000000000000001' } }),
    });
    // The operator's secret signed the call and the emulated Midas accepted it: the seeded production balance.
    expect(await res.json()).toMatchObject({ result: { ok: true, data: { balance: 1000 } } });
    await waitFor('the log line', () => /\d\d:\d\d:\d\d\.\d{3} → getBalance +called by wx_client oLocalPlayer_000000000000001 \(\d+ ms, cold start\): ok/.test(s.out.stdout));
    expect(s.out.stdout + s.out.stderr).not.toContain(secret);
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

test.each([
  [{ PORT: 'abc' }, 'npm start: PORT must be a whole number from 1 to 65535 (got "abc")'],
  [{ MIDAS_ENV: 'prod' }, 'npm start: bad setting: configuration: MIDAS_ENV must be `sandbox` or `production`'],
  [{ MIDAS_SANDBOX_SECRET: 'short' }, 'npm start: bad setting: configuration: MIDAS_SANDBOX_SECRET is malformed'],
])('%j ends with one plain line, no stack', async (env, message) => {
  const s = start({ PORT: String(await freePort()), ...env });
  await s.exited;
  expect(s.out.code).toBe(1);
  expect(s.out.stderr.trim().split('\n')[0]).toContain(message);
  expect(s.out.stderr).not.toMatch(/\n\s+at /);
  expect(s.out.stderr).not.toContain('short');
});

test('a port in use is said plainly', async () => {
  const other = await LocalCloud.start();
  try {
    const s = start({ PORT: new URL(other.url).port });
    await s.exited;
    expect(s.out.code).toBe(1);
    expect(s.out.stderr.trim()).toBe(`npm start: port ${new URL(other.url).port} on 127.0.0.1 is already in use (another local cloud?): stop it, or choose another port with PORT=<port>`);
  } finally {
    await other.close();
  }
});

test('a second npm start on a data folder in use (on another port) is refused, naming the process that holds it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'npm-start-shared-'));
  const first = start({ PORT: String(await freePort()), LOCAL_CLOUD_DIR: dir });
  try {
    await waitFor('the first local cloud', () => first.out.stdout.includes('Function logs follow'), 30_000);
    const second = start({ PORT: String(await freePort()), LOCAL_CLOUD_DIR: dir });
    await second.exited;
    expect(second.out.code).toBe(1);
    expect(second.out.stderr.trim()).toMatch(new RegExp(`^npm start: the data folder ${dir.replace(/[.]/g, '\\.')} is in use by process ${first.child.pid} \\(http://127\\.0\\.0\\.1:\\d+\\), started .*: stop that one, or give this one its own folder with LOCAL_CLOUD_DIR$`));
  } finally {
    first.child.kill('SIGTERM');
    await first.exited;
  }
}, 60_000);

test('a time budget longer than the functions can run is refused at start, naming the setting and the functions', async () => {
  const s = start({ PORT: String(await freePort()), MIDAS_TIME_BUDGET_MS: '10000' });
  await s.exited;
  expect(s.out.code).toBe(1);
  expect(s.out.stderr.trim()).toMatch(/^npm start: bad setting: MIDAS_TIME_BUDGET_MS is 10000 ms, which cannot work with a function timeout of 3 s: .* Keep it at most 2700 ms, or raise those functions' timeoutSeconds \(buyWithCoins, cancelPay, .*pay.*\)$/);
}, 60_000);
