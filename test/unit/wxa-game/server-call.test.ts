import { hmacSha256Hex } from '../../../shared/edge/hmac';
import type { MidasConfig } from '../../../shared/midas-v1/settings';
import { forgetAccessTokens } from '../../../shared/wxa-game/access-token';
import { bodyOf } from '../../../shared/wxa-game/coin-api';
import { callWxaGame, fromWxaErrcode } from '../../../shared/wxa-game/server-call';

const cfg = { appId: 'wx51dc10ca1c0ffee0', appSecret: 'app-secret-0001', apiBaseUrl: 'http://wechat.test', appKey: '12345', timeoutMs: 1000 };

type Sent = { url: string; body: string };

/** A WeChat that answers from a script, recording what it was sent. */
function wechat(answers: ((s: Sent) => unknown)[]) {
  const sent: Sent[] = [];
  let token = 0;
  const post = async (url: string, _h: Record<string, string>, body: string) => {
    const s = { url, body };
    sent.push(s);
    if (url.endsWith('/cgi-bin/stable_token')) return { status: 200, body: JSON.stringify({ access_token: `T${++token}`, expires_in: 7200 }) };
    const a = answers.shift()!(s);
    return { status: 200, body: typeof a === 'string' ? a : JSON.stringify(a) };
  };
  return { sent, post };
}

beforeEach(() => forgetAccessTokens());

test('the body is serialised in the official field order, and the bytes sent are the bytes signed', async () => {
  const config = { offerId: '12345678', env: 'production' } as MidasConfig;
  const body = bodyOf('getbalance', config, { openid: 'oUrsfxxxxxxxxxx', zone_id: '1' }, 1668136271_000);
  expect(JSON.stringify(body)).toBe('{"offer_id":"12345678","openid":"oUrsfxxxxxxxxxx","ts":1668136271,"zone_id":"1","env":0}');
  const w = wechat([() => ({ errcode: 0, balance: 1, present_balance: 0, sum_save: 1, sum_present: 0, sum_balance: 1, sum_cost: 0, first_save: false })]);
  await callWxaGame('getbalance', body, '9hAb/NEYUlkaMBEsmFgzig==', cfg, { post: w.post });
  const call = w.sent.find((s) => s.url.includes('/wxa/game/'))!;
  const q = new URL(call.url).searchParams;
  expect(call.body).toBe(JSON.stringify(body));
  expect(q.get('pay_sig')).toBe(hmacSha256Hex('12345', `/wxa/game/getbalance&${call.body}`));
  expect(q.get('signature')).toBe(hmacSha256Hex('9hAb/NEYUlkaMBEsmFgzig==', call.body));
  expect(q.get('sig_method')).toBe('hmac_sha256');
  expect(q.get('access_token')).toBe('T1');
});

test('40001 fetches the token again and sends the same bytes once more; a second 40001 is an error', async () => {
  const ok = { errcode: 0, bill_no: 'b1', balance: 9, used_present_amount: 0 };
  const w = wechat([() => ({ errcode: 40001 }), () => ok]);
  await expect(callWxaGame('pay', { amount: 1 }, 'k', cfg, { post: w.post })).resolves.toMatchObject({ balance: 9 });
  const calls = w.sent.filter((s) => s.url.includes('/wxa/game/'));
  expect(calls.map((c) => new URL(c.url).searchParams.get('access_token'))).toEqual(['T1', 'T2']);
  expect(calls[0]!.body).toBe(calls[1]!.body);
  const w2 = wechat([() => ({ errcode: 42001 }), () => ({ errcode: 40001 })]);
  forgetAccessTokens();
  await expect(callWxaGame('pay', { amount: 1 }, 'k', cfg, { post: w2.post })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outcome: 'not_applied' });
});

test('an empty 200, a missing answer field or -1 on a coin-moving call: the outcome is unknown', async () => {
  await expect(callWxaGame('pay', { amount: 1 }, 'k', cfg, { post: wechat([() => '']).post })).rejects.toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', outcome: 'unknown' });
  await expect(callWxaGame('pay', { amount: 1 }, 'k', cfg, { post: wechat([() => ({ errcode: 0, bill_no: 'b' })]).post })).rejects.toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', outcome: 'unknown' });
  await expect(callWxaGame('pay', { amount: 1 }, 'k', cfg, { post: wechat([() => ({ errcode: -1 })]).post })).rejects.toMatchObject({ code: 'MIDAS_BUSY', outcome: 'unknown' });
});

test.each([
  [90010, 'SESSION_EXPIRED'],
  [90016, 'SESSION_EXPIRED'],
  [90011, 'MIDAS_SIGNATURE_REJECTED'],
  [90012, 'BILL_ALREADY_EXISTS'],
  [90013, 'INSUFFICIENT_BALANCE'],
  [90000, 'BILL_NOT_FOUND'],
  [90018, 'MIDAS_BAD_PARAMS'],
  [90019, 'OUT_TRADE_NO_NOT_FOUND'],
])('errcode %i is %s, not applied', (errcode, code) => {
  expect(fromWxaErrcode(errcode, true)).toMatchObject({ code, outcome: 'not_applied', upstreamCode: errcode });
});
