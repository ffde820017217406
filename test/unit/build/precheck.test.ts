/**
 * The deploy's pre-check reads every function's settings by the function's own rules and lists
 * every problem at once, each with the reason that applies to the MIDAS_API and MIDAS_ENV given,
 * and the functions it stops. What it refuses is what the function refuses at its first call.
 */
import path from 'path';
import { functionNames, readDefinition } from '../../../scripts/build-lib';
import { describeProblems, pairProblems, precheck, type FunctionSettings } from '../../../scripts/deploy/precheck';
import { FUNCTIONS_DIR } from '../../emulator/paths';

let functions: (FunctionSettings & { readSettings: (env: Record<string, string | undefined>) => unknown })[] = [];
beforeAll(async () => {
  functions = await Promise.all(functionNames().map((n) => readDefinition(path.join(FUNCTIONS_DIR, n))));
}, 60_000);

const byVariable = (values: Record<string, string>) => Object.fromEntries(precheck(functions, values).map((p) => [`${p.variable}: ${p.problem}`, p.functions]));

const complete = {
  MIDAS_ENV: 'sandbox', MIDAS_OFFER_ID: '1450012345', MIDAS_APPID: 'wx51dc10ca1c0ffee0',
  MIDAS_SANDBOX_SECRET: 'sandbox-secret-000001', MIDAS_SANDBOX_APPKEY: 'sandbox-appkey-000001', WX_APP_SECRET: 'app-secret-0000000001',
  YSDK_OFFER_ID: '1450099999', YSDK_SANDBOX_APPKEY: 'ysdk-appkey-00000001',
};

test('a complete configuration (v1 and v2) has no problem', () => {
  expect(precheck(functions, complete)).toEqual([]);
  expect(precheck(functions, { ...complete, MIDAS_API: 'v2' })).toEqual([]);
});

test('MIDAS_API=v1 with the 2.0 secrets missing: login, signPayment and delivery each named with their own reason, none blamed on MIDAS_API=v2', () => {
  const { WX_APP_SECRET: _a, MIDAS_SANDBOX_APPKEY: _b, ...rest } = complete;
  const found = byVariable({ ...rest, MIDAS_API: 'v1' });
  expect(found['WX_APP_SECRET: is not set (needed by login: it exchanges wx.login codes for session keys (jscode2session))']).toEqual(['login']);
  expect(found['MIDAS_SANDBOX_APPKEY: is not set (needed by signPayment: it signs payments of MIDAS_ENV=sandbox (paySig))']).toEqual(['signPayment']);
  const delivery = Object.entries(found).filter(([k]) => k.startsWith('MIDAS_SANDBOX_APPKEY: ') && !k.includes('signPayment'));
  expect(delivery.map(([, fns]) => fns)).toEqual([['deliveryReconcile', 'paymentNotify']]);
  expect(delivery[0]![0]).toMatch(/queryorderinfo/);
  expect(Object.keys(found).join('\n')).not.toMatch(/MIDAS_API=v2/);
  // The v1 coin functions do not need them.
  expect(Object.values(found).flat()).not.toContain('pay');
});

test('every missing and malformed setting in one round, with the functions each one stops', () => {
  const found = precheck(functions, { MIDAS_ENV: 'prod', MIDAS_ZONE_ID: 'zone two', MIDAS_CALL_TIMEOUT_MS: 'abc', WX_PUSH_AES_KEY: 'short' });
  const names = found.map((p) => p.variable);
  for (const v of ['MIDAS_ENV', 'MIDAS_OFFER_ID', 'MIDAS_ZONE_ID', 'MIDAS_CALL_TIMEOUT_MS', 'WX_PUSH_AES_KEY', 'YSDK_OFFER_ID', 'WX_APP_SECRET']) expect(names).toContain(v);
  expect(found.find((p) => p.variable === 'MIDAS_ENV')!.problem).toBe('must be `sandbox` or `production`');
  expect(found.find((p) => p.variable === 'WX_PUSH_AES_KEY')!.functions).toEqual(['deliveryReconcile', 'paymentNotify']);
  const lines = describeProblems(found, functionNames());
  expect(lines.length).toBe(found.length);
  expect(lines.join('\n')).toContain('MIDAS_ENV must be `sandbox` or `production`  [');
});

test('each problem is what the function itself refuses at its first call', () => {
  const values = { ...complete, MIDAS_ZONE_ID: 'zone two', MIDAS_API: 'v2', WX_APP_SECRET: '' };
  for (const f of functions) {
    const problems = f.settingsProblems({ ...values });
    if (problems.length === 0) {
      expect(() => f.readSettings({ ...values })).not.toThrow();
    } else {
      expect(() => f.readSettings({ ...values })).toThrow(`configuration: ${problems[0]!.variable} ${problems[0]!.problem}`);
    }
  }
});

test('no secret value appears in a problem', () => {
  const values = { ...complete, MIDAS_SANDBOX_SECRET: 'has spaces in it', WX_APP_SECRET: 'x' };
  const text = JSON.stringify(precheck(functions, values));
  expect(text).toContain('MIDAS_SANDBOX_SECRET');
  expect(text).not.toContain('has spaces in it');
});

test('a time budget as long as the function timeout is a problem of the functions that read it', () => {
  const limits = functions.map((f) => ({ name: f.name, timeoutSeconds: (f as unknown as { manifest: { timeoutSeconds: number } }).manifest.timeoutSeconds, variables: (f as unknown as { variables: string[] }).variables }));
  expect(pairProblems(limits, { MIDAS_TIME_BUDGET_MS: '2700' })).toEqual([]);
  const found = pairProblems(limits, { MIDAS_TIME_BUDGET_MS: '10000' });
  expect(found).toHaveLength(1);
  expect(found[0]!.functions).toEqual(expect.arrayContaining(['pay', 'present', 'cancelPay', 'reconcile', 'buyWithCoins']));
  expect(found[0]!.functions).not.toContain('ysdkBalance');
  expect(found[0]!.problem).toContain('Keep it at most 2700 ms');
});
