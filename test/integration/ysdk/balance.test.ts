/**
 * ysdkBalance through the built bundle against the local YSDK endpoint.
 */
import http from 'http';
import { balanceRequest, loadYsdkConfig, validateYsdkPlayer, ysdkGetBalance } from '../../../shared/ysdk/balance';
import { call, newOpenid, useLocalCloud } from '../helpers';

const cloud = useLocalCloud();

function player(login: 'qq' | 'wx') {
  const openid = newOpenid();
  const openkey = cloud().ysdk.login(openid, login);
  return { login, openid, openkey, pf: `myapp_m_${login}-00000000-android-00000000-ysdk`, pfkey: 'c3a1e5f0d2b4' };
}

const APP = { source: 'wx_http' };

test.each(['qq', 'wx'] as const)('a %s login reads every field of the balance', async (login) => {
  const p = player(login);
  cloud().ysdk.topUp('sandbox', p.openid, 60);
  cloud().ysdk.account('sandbox', p.openid).tssList.push({
    innerproductid: '1450000594-1001', begintime: '2026-11-01 10:00:00', endtime: '2026-12-01 10:00:00', paychan: 'wechat',
    paysubchan: 1, autopaychan: '', autopaysubchan: 0, grandtotal_opendays: 30, grandtotal_presentdays: 1, first_buy_time: '2026-11-01 10:00', extend: '',
  });
  const r = await call(cloud(), 'ysdkBalance', p, APP);
  expect(r).toEqual({
    ok: true,
    data: {
      balance: 60, genBalance: 0, firstSave: 0, saveAmt: 60,
      tssList: [expect.objectContaining({ innerproductid: '1450000594-1001', grandtotal_opendays: 30 })],
    },
  });
  expect(cloud().ysdk.journal.at(-1)).toEqual({ env: 'sandbox', ret: 0 });
});

test('a wrong AppKey is a 1001 (YSDK_BAD_PARAMS)', async () => {
  const r = await call(cloud(), 'ysdkBalance', player('qq'), APP, { YSDK_SANDBOX_APPKEY: 'not-the-appkey-1' });
  expect(r).toMatchObject({ ok: false, error: { code: 'YSDK_BAD_PARAMS', retryable: false } });
  expect(cloud().ysdk.journal.at(-1)).toEqual({ env: 'sandbox', ret: 1001, why: 'sig' });
});

test('the production AppKey does not sign sandbox requests', async () => {
  const r = await call(cloud(), 'ysdkBalance', player('wx'), APP, { YSDK_SANDBOX_APPKEY: cloud().functionEnv.YSDK_APPKEY! });
  expect(!r.ok && r.error.code).toBe('YSDK_BAD_PARAMS');
});

test('a missing cookie is a 1001', async () => {
  const p = validateYsdkPlayer(player('qq'));
  const config = loadYsdkConfig(cloud().functionEnv);
  // The real request, less its session_type cookie.
  const get = (url: string, headers: Record<string, string>, timeoutMs: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const cookie = headers.cookie!.split('; ').filter((c) => !c.startsWith('session_type=')).join('; ');
      http
        .get(url, { headers: { cookie }, timeout: timeoutMs }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
  await expect(ysdkGetBalance(p, { config, get })).rejects.toMatchObject({ code: 'YSDK_BAD_PARAMS', upstreamCode: 1001 });
  expect(cloud().ysdk.journal.at(-1)).toEqual({ env: 'sandbox', ret: 1001, why: 'cookie' });
  expect(balanceRequest(p, config, 1).cookie).toContain('session_type=kp_actoken'); // what the real request sends
});

test('a token of another player, or of the other login type, is a 1018 and the openkey is nowhere', async () => {
  const p = player('qq');
  const other = player('qq');
  const r = await call(cloud(), 'ysdkBalance', { ...p, openkey: other.openkey }, APP);
  expect(r).toMatchObject({ ok: false, error: { code: 'YSDK_LOGIN_INVALID' } });
  const wrongType = await call(cloud(), 'ysdkBalance', { ...p, login: 'wx' }, APP);
  expect(!wrongType.ok && wrongType.error.code).toBe('YSDK_LOGIN_INVALID');
  const text = JSON.stringify([r, wrongType]) + cloud().runner.logs;
  expect(text).not.toContain(p.openkey);
  expect(text).not.toContain(other.openkey);
});

test('after a top-up it polls until save_amt grows, reporting progress', async () => {
  const p = player('wx');
  cloud().ysdk.topUp('sandbox', p.openid, 100);
  const before = await call(cloud(), 'ysdkBalance', p, APP);
  const saveAmt = before.ok ? (before.data as { saveAmt: number }).saveAmt : -1;
  // Arrives late, counted in reads rather than time: the third read of the poll sees it, however
  // fast or slow this machine is.
  cloud().ysdk.topUpAfterReads('sandbox', p.openid, 30, 3);
  const r = await call(cloud(), 'ysdkBalance', { ...p, afterTopUp: { saveAmt } }, APP, { YSDK_POLL_INTERVAL_MS: '100', YSDK_POLL_MAX_MS: '2500' });
  expect(r).toMatchObject({ ok: true, data: { arrived: true, saveAmt: 130, balance: 130 } });
  const progress = (r as unknown as { data: { progress: { poll: number; saveAmt: number }[] } }).data.progress;
  expect(progress.map((x) => x.saveAmt)).toEqual([100, 100, 130]);
  expect(progress[0]!.saveAmt).toBe(100);
  expect(progress.at(-1)!.saveAmt).toBe(130);
  expect(cloud().runner.logs).toContain('"event":"ysdk_poll"');
});

test('a top-up that does not arrive in time ends the poll with arrived: false', async () => {
  const p = player('qq');
  const r = await call(cloud(), 'ysdkBalance', { ...p, afterTopUp: { saveAmt: 0 } }, APP, { YSDK_POLL_INTERVAL_MS: '100', YSDK_POLL_MAX_MS: '350' });
  expect(r).toMatchObject({ ok: true, data: { arrived: false, saveAmt: 0 } });
  const progress = (r as unknown as { data: { progress: { elapsedMs: number; saveAmt: number }[] } }).data.progress;
  expect(progress.every((x) => x.saveAmt === 0)).toBe(true);
  // It polled while another poll fitted in the window and stopped at the first that would not
  // (however long each read took on this machine).
  const fits = progress.map((x) => x.elapsedMs + 100 <= 350);
  expect(fits.at(-1)).toBe(false);
  expect(fits.slice(0, -1).every(Boolean)).toBe(true);
});

test('bad tokens are refused before anything is sent', async () => {
  const sent = cloud().ysdk.journal.length;
  const r = await call(cloud(), 'ysdkBalance', { ...player('qq'), pfkey: 'no/slashes' }, APP);
  expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field: 'pfkey' } });
  expect(cloud().ysdk.journal.length).toBe(sent);
});
