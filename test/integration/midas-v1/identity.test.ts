/**
 * Who may move whose coins: the player comes from the platform context, present is for
 * trusted callers only, and nothing secret leaves a function.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { FUNCTIONS_DIR } from '../../emulator/paths';
import { LocalCloud } from '../../emulator/local-cloud';
import { balanceOf, call, newOpenid, useLocalCloud } from '../helpers';

const OPERATOR = newOpenid();
const cloud = useLocalCloud({ functionEnv: { MIDAS_OPERATOR_OPENIDS: OPERATOR } });

describe('the player is the platform’s, never the event’s', () => {
  test('an openid in the event is refused and does not change whose coins move', async () => {
    const player = newOpenid();
    const victim = newOpenid();
    cloud().backend.topUp({ env: 'sandbox', openid: player }, 100);
    cloud().backend.topUp({ env: 'sandbox', openid: victim }, 100);
    const r = await call(cloud(), 'pay', { amt: 10, openid: victim }, { openid: player });
    expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field: 'openid' } });
    expect([balanceOf(cloud(), player), balanceOf(cloud(), victim)]).toEqual([100, 100]);
  });

  test('a forged userInfo in the event never names the player', async () => {
    const victim = newOpenid();
    cloud().backend.topUp({ env: 'sandbox', openid: victim }, 100);
    // No player in the context (the platform did not add userInfo): only the event claims one.
    const r = await call(cloud(), 'pay', { amt: 10, userInfo: { openId: victim, appId: cloud().app.appid } }, { source: 'wx_http' });
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_LOGGED_IN' } });
    expect(balanceOf(cloud(), victim)).toBe(100);
  });

  test('without a player in the context the answer is NOT_LOGGED_IN', async () => {
    const r = await call(cloud(), 'getBalance', {}, { source: 'wx_http' });
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_LOGGED_IN' } });
  });
});

describe('present is for trusted callers', () => {
  test.each(['wx_client', 'wx_devtools', 'wx_http', 'scf,wx_client'])('refused for a %s caller, and nothing reaches Midas', async (source) => {
    const target = newOpenid();
    const r = await call(cloud(), 'present', { toOpenid: target, presentCounts: 1000 }, { openid: target, source });
    expect(r).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', retryable: false } });
    expect(cloud().backend.journal.some((j) => j.params.openid === target)).toBe(false);
  });

  test.each([
    ['a timer', { source: 'wx_trigger' }],
    ['another cloud function', { source: 'scf' }],
    ['a function called by the client', { source: 'wx_client,scf', openid: newOpenid() }],
    ['an operator on the allowlist', { source: 'wx_client', openid: OPERATOR }],
  ])('allowed for %s', async (_name, player) => {
    const target = newOpenid();
    const r = await call(cloud(), 'present', { toOpenid: target, presentCounts: 3 }, player);
    expect(r.ok).toBe(true);
    expect(balanceOf(cloud(), target)).toBe(3);
  });
});

describe('secrets stay secret', () => {
  test('no secret appears in any answer or log line', async () => {
    const openid = newOpenid();
    const answers = [
      await call(cloud(), 'getBalance', {}, { openid }),
      await call(cloud(), 'pay', { amt: 1 }, { openid }),
      await call(cloud(), 'pay', { amt: 1 }, { openid }, { MIDAS_SANDBOX_SECRET: 'wrong-secret-00001' }),
    ];
    const text = JSON.stringify(answers) + cloud().runner.logs;
    expect(cloud().runner.logs).toContain('MIDAS_SIGNATURE_REJECTED'); // the failures were logged…
    for (const secret of Object.values(cloud().app.secrets)) expect(text).not.toContain(secret); // …without secrets
    expect(text).not.toContain('wrong-secret-00001');
    expect(text).not.toMatch(/[0-9a-f]{64}/); // no signature either
  });
});

describe('config.json permissions', () => {
  test('a function deployed without its openapi permission gets OPENAPI_PERMISSION_DENIED', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'midas-fn-'));
    cpSync(path.join(FUNCTIONS_DIR, 'getBalance'), path.join(dir, 'getBalance'), { recursive: true });
    writeFileSync(path.join(dir, 'getBalance', 'config.json'), JSON.stringify({ permissions: { openapi: ['midas.getBalance'] } }));
    const local = await LocalCloud.start({ functionsDir: dir });
    try {
      const r = await call(local, 'getBalance', {}, { openid: newOpenid() });
      expect(r).toMatchObject({ ok: false, error: { code: 'OPENAPI_PERMISSION_DENIED', retryable: false } });
      expect(local.backend.journal).toEqual([]);
    } finally {
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
