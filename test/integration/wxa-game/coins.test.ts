/**
 * The coin functions with MIDAS_API=v2: built bundles against the local cloud's Virtual Payment
 * 2.0 backend, which checks the access_token, pay_sig over the exact bytes, the player's current
 * session_key and every field.
 */
import type { Order } from '../../../shared/ledger/order-store';
import type { MidasEnv } from '../../../shared/midas-v1/operation-table';
import { userSignature, v2PaySig } from '../../../shared/virtual-payment/signing';
import type { Fault } from '../../emulator/midas-backend';
import { billOf, call, newOpenid, useLocalCloud, waitFor } from '../helpers';

const cloud = useLocalCloud({ midasApi: 'v2' });
afterEach(() => cloud().clearFaults());

const ENV = (env: MidasEnv, extra: Record<string, string> = {}) => ({ MIDAS_ENV: env, ...extra });
const SCF = { source: 'scf' };

async function login(openid: string): Promise<void> {
  const r = await call(cloud(), 'login', { code: cloud().wechat.wxLogin(openid) }, { openid });
  if (!r.ok) throw new Error(`login failed: ${r.error.code}`);
}

async function player(coins: number, env: MidasEnv = 'sandbox'): Promise<string> {
  const openid = newOpenid();
  await login(openid);
  if (coins > 0) cloud().wxa.topUp(env, openid, coins);
  return openid;
}

const balance = (openid: string, env: MidasEnv = 'sandbox') => cloud().wxa.balance(env, openid);
const journalOf = (billNo: string) => cloud().wxa.journal.filter((j) => j.body.bill_no === billNo);

async function orders(): Promise<Order[]> {
  return (await cloud().database.all('midas_orders')) as unknown as Order[];
}

describe.each(['sandbox', 'production'] as const)('every op in %s', (env) => {
  test('getBalance, pay, present and a refund, with v1 names where the meaning is the same', async () => {
    const openid = await player(100, env);
    const b = await call(cloud(), 'getBalance', {}, { openid }, ENV(env));
    expect(b).toEqual({ ok: true, data: { balance: 100, genBalance: 0, saveAmt: 100, saveSum: 100, costSum: 0, presentSum: 0, firstSave: false } });

    const gift = await call(cloud(), 'present', { toOpenid: openid, presentCounts: 20 }, SCF, ENV(env));
    expect(gift).toMatchObject({ ok: true, data: { state: 'COMPLETED', kind: 'present', amount: 20, balance: 120 } });

    const paid = await call(cloud(), 'pay', { amt: 50, payItem: 'sword' }, { openid }, ENV(env));
    expect(paid).toMatchObject({ ok: true, data: { state: 'COMPLETED', kind: 'pay', amount: 50, balance: 70, usedGenAmt: 20 } });
    expect(billOf(paid)).toMatch(/^[0-9A-Za-z-][0-9A-Za-z_-]{0,62}$/);

    const refund = await call(cloud(), 'cancelPay', { billNo: billOf(paid) }, { source: 'scf' }, ENV(env));
    expect(refund).toMatchObject({ ok: true, data: { state: 'COMPLETED', kind: 'refund', amount: 50, refundOf: billOf(paid) } });
    expect(billOf(refund)).not.toBe(billOf(paid));
    expect(balance(openid, env)).toBe(120);
    // Everything went to this environment, signed for it.
    expect(new Set(cloud().wxa.journal.filter((j) => j.body.openid === openid).map((j) => j.env))).toEqual(new Set([env]));
  });
});

describe('sessions', () => {
  test('no login on record: SESSION_EXPIRED asking for a login, nothing written, nothing sent', async () => {
    const openid = newOpenid();
    cloud().wxa.topUp('sandbox', openid, 100);
    const sent = cloud().wxa.journal.length;
    const r = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'nl-1' }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(!r.ok && r.error.message).toMatch(/log in/);
    expect(cloud().wxa.journal.length).toBe(sent);
    expect((await orders()).filter((o) => o.openid === openid)).toHaveLength(0);
  });

  test('a key WeChat no longer takes (the player logged in elsewhere): SESSION_EXPIRED, the stale key is dropped, the same key pays after a login', async () => {
    const openid = await player(100);
    // A wx.login the game did not pass to our login function: WeChat's current key is now another.
    cloud().wechat.jscode2session(new URLSearchParams({ appid: cloud().app.appid, secret: cloud().functionEnv.WX_APP_SECRET!, js_code: cloud().wechat.wxLogin(openid), grant_type: 'authorization_code' }));
    const r = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'stale-1' }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(cloud().wxa.journal.filter((j) => j.body.openid === openid).map((j) => j.errcode)).toEqual([90010]);
    // The stale key is gone: the next call asks for a login without sending anything.
    const sent = cloud().wxa.journal.length;
    const again = await call(cloud(), 'getBalance', {}, { openid });
    expect(again).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(!again.ok && again.error.message).toMatch(/no login on record/);
    expect(cloud().wxa.journal.length).toBe(sent);
    await login(openid);
    expect(await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'stale-1' }, { openid })).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(balance(openid)).toBe(90);
  });

  test('90016 (WeChat expired the session): SESSION_EXPIRED and the key is dropped', async () => {
    const openid = await player(100);
    cloud().wxa.expireSession(openid);
    expect(await call(cloud(), 'getBalance', {}, { openid })).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(cloud().wxa.journal.filter((j) => j.body.openid === openid).map((j) => j.errcode)).toEqual([90016]);
    expect(await cloud().database.all('midas_sessions')).not.toContainEqual(expect.objectContaining({ _id: openid }));
  });

  test('a gift to a player who never logged in is refused with a message that says why, and nothing is written', async () => {
    const recipient = newOpenid();
    const r = await call(cloud(), 'present', { toOpenid: recipient, presentCounts: 5, idempotencyKey: 'gift-nl' }, SCF);
    expect(r).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(!r.ok && r.error.message).toMatch(/recipient/);
    expect((await orders()).filter((o) => o.openid === recipient)).toHaveLength(0);
  });
});

describe('the access_token', () => {
  test('one token per instance; refused after a force refresh elsewhere, fetched again once, the call goes through', async () => {
    const openid = await player(100);
    await call(cloud(), 'getBalance', {}, { openid });
    const fetched = cloud().wxa.stableTokenCalls;
    await call(cloud(), 'getBalance', {}, { openid });
    expect(cloud().wxa.stableTokenCalls).toBe(fetched);
    // Another server of the game forces a new token: ours stops working.
    const body = JSON.stringify({ grant_type: 'client_credential', appid: cloud().app.appid, secret: cloud().functionEnv.WX_APP_SECRET, force_refresh: true });
    expect(JSON.parse(cloud().wxa.stableToken(body).body)).toHaveProperty('access_token');
    const r = await call(cloud(), 'pay', { amt: 5 }, { openid });
    expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(cloud().wxa.journal.filter((j) => j.body.openid === openid && j.body.bill_no === billOf(r))).toHaveLength(1);
    expect(cloud().wxa.stableTokenCalls).toBe(fetched + 2);
  });

  test('an expired token (42001) is fetched again', async () => {
    const openid = await player(10);
    await call(cloud(), 'getBalance', {}, { openid });
    cloud().wxa.advanceClock(7300);
    expect(await call(cloud(), 'getBalance', {}, { openid })).toMatchObject({ ok: true, data: { balance: 10 } });
  });

  test('a wrong AppSecret is a configuration error, told to the operator not the player', async () => {
    const openid = await player(10);
    const r = await call(cloud(), 'getBalance', {}, { openid }, { WX_APP_SECRET: 'not-the-app-secret' });
    expect(r).toMatchObject({ ok: false, error: { code: 'WECHAT_CONFIG_REJECTED' } });
    expect(!r.ok && r.error.message).not.toMatch(/secret/i);
  });
});

describe('the local cloud checks what WeChat checks', () => {
  async function token(): Promise<string> {
    const body = JSON.stringify({ grant_type: 'client_credential', appid: cloud().app.appid, secret: cloud().functionEnv.WX_APP_SECRET, force_refresh: false });
    return (JSON.parse(cloud().wxa.stableToken(body).body) as { access_token: string }).access_token;
  }

  async function send(raw: string, signedRaw: string, sessionKey: string, appKey = cloud().functionEnv.MIDAS_SANDBOX_APPKEY!) {
    const q = `access_token=${await token()}&signature=${userSignature(signedRaw, sessionKey)}&sig_method=hmac_sha256&pay_sig=${v2PaySig('/wxa/game/pay', signedRaw, appKey)}`;
    const res = await fetch(`${cloud().url}/wxa/game/pay?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
    return (await res.json()) as { errcode: number; errmsg: string };
  }

  test('a body one byte off the signed body is refused (90011); the signed bytes themselves pass', async () => {
    const openid = await player(100);
    const key = cloud().wechat.currentSessionKey(openid)!;
    const signed = JSON.stringify({ offer_id: cloud().app.offerId, openid, ts: Math.floor(Date.now() / 1000), zone_id: '1', env: 1, amount: 1, bill_no: 'byte-test-1' });
    expect(await send(`${signed} `, signed, key)).toMatchObject({ errcode: 90011 });
    expect(await send(signed.replace(',"env"', ', "env"'), signed, key)).toMatchObject({ errcode: 90011 });
    expect(balance(openid)).toBe(100);
    expect(await send(signed, signed, key)).toMatchObject({ errcode: 0 });
    expect(balance(openid)).toBe(99);
  });

  test('the AppKey of the other environment (90011), an older session_key (90010), a missing field (90018 naming it)', async () => {
    const openid = await player(100);
    const old = cloud().wechat.currentSessionKey(openid)!;
    const base = { offer_id: cloud().app.offerId, openid, ts: Math.floor(Date.now() / 1000), zone_id: '1', env: 1, amount: 1, bill_no: 'check-1' };
    const raw = JSON.stringify(base);
    expect(await send(raw, raw, old, cloud().functionEnv.MIDAS_APPKEY)).toMatchObject({ errcode: 90011 });
    await login(openid);
    expect(await send(raw, raw, old)).toMatchObject({ errcode: 90010 });
    const key = cloud().wechat.currentSessionKey(openid)!;
    const { amount: _dropped, ...noAmount } = base;
    const missing = JSON.stringify(noAmount);
    expect(await send(missing, missing, key)).toEqual({ errcode: 90018, errmsg: 'invalid param: amount' });
    const leading = JSON.stringify({ ...base, bill_no: '_platform' });
    expect(await send(leading, leading, key)).toEqual({ errcode: 90018, errmsg: 'invalid param: bill_no' });
    expect(balance(openid)).toBe(100);
  });
});

describe('checksession and a balance too low', () => {
  test('checksession answers 0 for the current session_key and 87009 for an older one', async () => {
    const openid = await player(0);
    const old = cloud().wechat.currentSessionKey(openid)!;
    const tokenBody = JSON.stringify({ grant_type: 'client_credential', appid: cloud().app.appid, secret: cloud().functionEnv.WX_APP_SECRET, force_refresh: false });
    const token = (JSON.parse(cloud().wxa.stableToken(tokenBody).body) as { access_token: string }).access_token;
    const check = async (key: string) => {
      const q = new URLSearchParams({ access_token: token, openid, signature: userSignature('', key), sig_method: 'hmac_sha256' });
      return ((await (await fetch(`${cloud().url}/wxa/checksession?${q}`)).json()) as { errcode: number }).errcode;
    };
    expect(await check(old)).toBe(0);
    await login(openid);
    expect(await check(old)).toBe(87009);
    expect(await check(cloud().wechat.currentSessionKey(openid)!)).toBe(0);
  });

  test('a pay above the balance is INSUFFICIENT_BALANCE (90013), and nothing moves', async () => {
    const openid = await player(5);
    const r = await call(cloud(), 'pay', { amt: 10 }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_BALANCE', message: 'the balance is too low' } });
    expect(cloud().wxa.journal.filter((j) => j.body.openid === openid && j.op === 'pay').map((j) => j.errcode)).toEqual([90013]);
    expect(balance(openid)).toBe(5);
  });
});

describe('refunds: each its own bill, partial, never more than the pay', () => {
  test('partial refunds add up to the pay and no further; a repeated refund is the same refund', async () => {
    const openid = await player(100);
    const paid = await call(cloud(), 'pay', { amt: 100 }, { openid });
    const payBill = billOf(paid);
    const r1 = await call(cloud(), 'cancelPay', { billNo: payBill, amount: 30, idempotencyKey: 'r1' }, { source: 'scf' });
    expect(r1).toMatchObject({ ok: true, data: { state: 'COMPLETED', amount: 30 } });
    const r1again = await call(cloud(), 'cancelPay', { billNo: payBill, amount: 30, idempotencyKey: 'r1' }, { source: 'scf' });
    expect(billOf(r1again)).toBe(billOf(r1));
    expect(balance(openid)).toBe(30);
    const tooMuch = await call(cloud(), 'cancelPay', { billNo: payBill, amount: 80, idempotencyKey: 'r2' }, { source: 'scf' });
    expect(tooMuch).toMatchObject({ ok: false, error: { code: 'REFUND_EXCEEDS_PAYMENT', field: 'amount' } });
    const rest = await call(cloud(), 'cancelPay', { billNo: payBill }, { source: 'scf' });
    expect(rest).toMatchObject({ ok: true, data: { state: 'COMPLETED', amount: 70 } });
    expect(await call(cloud(), 'cancelPay', { billNo: payBill }, { source: 'scf' })).toMatchObject({ ok: true, data: { billNo: billOf(rest) } });
    expect(await call(cloud(), 'cancelPay', { billNo: payBill, amount: 1, idempotencyKey: 'r3' }, { source: 'scf' })).toMatchObject({ ok: false, error: { code: 'BILL_ALREADY_CANCELLED' } });
    expect(balance(openid)).toBe(100);
    expect(cloud().wxa.journal.filter((j) => j.op === 'cancelpay' && j.body.pay_bill_no === payBill && j.applied).map((j) => j.body.amount)).toEqual([30, 70]);
  });

  test('a refund cut short after its share was reserved (its order not written) is sent by the reconciler, once', async () => {
    const openid = await player(100);
    const paid = await call(cloud(), 'pay', { amt: 100 }, { openid });
    const payBill = billOf(paid);
    cloud().database.injectFault({ kind: 'refuse', collection: 'midas_orders', action: 'database.insertDocument' });
    const cut = await call(cloud(), 'cancelPay', { billNo: payBill, amount: 30, idempotencyKey: 'cut' }, { source: 'scf' });
    expect(cut).toMatchObject({ ok: false, error: { code: 'LEDGER_UNAVAILABLE' } });
    expect(balance(openid)).toBe(0);
    const pay = (await orders()).find((o) => o.billNo === payBill)!;
    expect(pay).toMatchObject({ refundReserved: 30, grantOpen: true });
    cloud().database.clearFaults();
    await call(cloud(), 'reconcile', {}, { source: 'wx_trigger' }, { MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0' });
    expect(balance(openid)).toBe(30);
    expect((await orders()).find((o) => o.billNo === payBill)).toMatchObject({ refundReserved: 30, grantOpen: false });
    // The same request again is the same refund; the rest is still there to refund.
    expect(await call(cloud(), 'cancelPay', { billNo: payBill, amount: 30, idempotencyKey: 'cut' }, { source: 'scf' })).toMatchObject({ ok: true, data: { state: 'COMPLETED', amount: 30 } });
    expect(await call(cloud(), 'cancelPay', { billNo: payBill }, { source: 'scf' })).toMatchObject({ ok: true, data: { state: 'COMPLETED', amount: 70 } });
    expect(balance(openid)).toBe(100);
    expect(cloud().wxa.journal.filter((j) => j.op === 'cancelpay' && j.body.pay_bill_no === payBill && j.applied).map((j) => j.body.amount)).toEqual([30, 70]);
    // A refund written at once leaves nothing for the reconciler to look at.
    expect((await orders()).find((o) => o.billNo === payBill)).toMatchObject({ refundReserved: 100, grantOpen: false });
  });

  test('a refund refused because the player’s login lapsed is sent by the reconciler once the player logs in again', async () => {
    const openid = await player(100);
    const paid = await call(cloud(), 'pay', { amt: 40 }, { openid });
    const payBill = billOf(paid);
    cloud().wxa.expireSession(openid);
    expect(await call(cloud(), 'cancelPay', { billNo: payBill }, { source: 'scf' })).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
    expect(balance(openid)).toBe(60);
    const now = { MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0' };
    // No login yet: nothing is sent, the refund waits, the pay stays marked.
    const sent = cloud().wxa.journal.length;
    await call(cloud(), 'reconcile', {}, { source: 'wx_trigger' }, now);
    expect(cloud().wxa.journal.length).toBe(sent);
    expect((await orders()).find((o) => o.billNo === payBill)).toMatchObject({ refundReserved: 40, grantOpen: true });
    await login(openid);
    await call(cloud(), 'reconcile', {}, { source: 'wx_trigger' }, now);
    expect(balance(openid)).toBe(100);
    expect((await orders()).find((o) => o.billNo === payBill)).toMatchObject({ refundReserved: 40, grantOpen: false });
    expect((await orders()).filter((o) => o.refundOf && o.call.payBillNo === payBill).map((o) => o.state)).toEqual(['COMPLETED']);
  });

  test('a refund still unknown keeps the pay marked: when it is refused later for a lapsed login, it is still sent after the next login', async () => {
    const openid = await player(100);
    const paid = await call(cloud(), 'pay', { amt: 50 }, { openid });
    const payBill = billOf(paid);
    const now = { MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0' };
    cloud().injectFault({ op: 'cancelPay', fault: { kind: 'busy' }, times: 1000 });
    expect(await call(cloud(), 'cancelPay', { billNo: payBill, amount: 20, idempotencyKey: 'unk' }, { source: 'scf' }, { MIDAS_TIME_BUDGET_MS: '400' })).toMatchObject({ ok: true, data: { state: 'UNKNOWN' } });
    // Still unknown after a run: the pay stays marked.
    await call(cloud(), 'reconcile', {}, { source: 'wx_trigger' }, { ...now, MIDAS_TIME_BUDGET_MS: '400' });
    expect((await orders()).find((o) => o.billNo === payBill)).toMatchObject({ refundReserved: 20, grantOpen: true });
    // Then WeChat expires the session: the refund is refused (90016) and waits for a login.
    cloud().clearFaults();
    cloud().wxa.expireSession(openid);
    await call(cloud(), 'reconcile', {}, { source: 'wx_trigger' }, now);
    expect(balance(openid)).toBe(50);
    expect((await orders()).find((o) => o.billNo === payBill)).toMatchObject({ refundReserved: 20, grantOpen: true });
    await login(openid);
    await call(cloud(), 'reconcile', {}, { source: 'wx_trigger' }, now);
    expect(balance(openid)).toBe(70);
    expect((await orders()).find((o) => o.billNo === payBill)).toMatchObject({ refundReserved: 20, grantOpen: false });
  });

  test('a refund still unknown after 47 h ends EXPIRED for an operator, and the pay no longer waits for it', async () => {
    const openid = await player(100);
    const paid = await call(cloud(), 'pay', { amt: 50 }, { openid });
    const payBill = billOf(paid);
    cloud().injectFault({ op: 'cancelPay', fault: { kind: 'busy' }, times: 1000 });
    expect(await call(cloud(), 'cancelPay', { billNo: payBill, amount: 20, idempotencyKey: 'old' }, { source: 'scf' }, { MIDAS_TIME_BUDGET_MS: '400' })).toMatchObject({ ok: true, data: { state: 'UNKNOWN' } });
    const late = { MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0', EMULATOR_CLOCK_OFFSET_MS: String(48 * 3600_000) };
    await call(cloud(), 'reconcile', {}, { source: 'wx_trigger' }, late);
    expect((await orders()).filter((o) => o.refundOf && o.call.payBillNo === payBill).map((o) => o.state)).toEqual(['EXPIRED']);
    expect((await orders()).find((o) => o.billNo === payBill)).toMatchObject({ refundReserved: 20, grantOpen: false });
  });

  test('a partial refund needs its own idempotency key', async () => {
    const openid = await player(10);
    const paid = await call(cloud(), 'pay', { amt: 10 }, { openid });
    expect(await call(cloud(), 'cancelPay', { billNo: billOf(paid), amount: 5 }, { source: 'scf' })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field: 'idempotencyKey' } });
  });

  test('six concurrent refunds of 30 against a pay of 100: three go through, never more than the pay', async () => {
    const openid = await player(100);
    const paid = await call(cloud(), 'pay', { amt: 100 }, { openid });
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => call(cloud(), 'cancelPay', { billNo: billOf(paid), amount: 30, idempotencyKey: `c${i}` }, { source: 'scf' })));
    const done = rs.filter((r) => r.ok && (r.data as { state: string }).state === 'COMPLETED');
    expect(done).toHaveLength(3);
    expect(rs.filter((r) => !r.ok).every((r) => !r.ok && ['REFUND_EXCEEDS_PAYMENT', 'LEDGER_UNAVAILABLE'].includes(r.error.code))).toBe(true);
    expect(balance(openid)).toBe(90);
  });

  test('no player refunds anything: neither the payer nor another player (FORBIDDEN, nothing sent)', async () => {
    const alice = await player(10);
    const bob = await player(0);
    const paid = await call(cloud(), 'pay', { amt: 10 }, { openid: alice });
    for (const openid of [alice, bob]) {
      expect(await call(cloud(), 'cancelPay', { billNo: billOf(paid) }, { openid })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    expect(balance(alice)).toBe(0);
    expect(cloud().wxa.journal.filter((j) => j.op === 'cancelpay' && j.body.pay_bill_no === billOf(paid))).toHaveLength(0);
  });
});

test('coins bought on the payment sheet appear in the 2.0 balance', async () => {
  const openid = await player(0);
  const cat = await call(cloud(), 'catalogue', {}, { openid });
  const quantity = (cat as unknown as { data: { coinQuantities: number[] } }).data.coinQuantities[0]!;
  const signed = await call(cloud(), 'signPayment', { kind: 'coins', quantity }, { openid });
  const { signData, paySig, signature } = (signed as unknown as { data: { signData: string; paySig: string; signature: string } }).data;
  expect(cloud().wechat.pay('requestMidasPayment', openid, { signData, paySig, signature })).toMatchObject({ errCode: 0 });
  expect(await call(cloud(), 'getBalance', {}, { openid })).toMatchObject({ ok: true, data: { balance: quantity, saveAmt: quantity } });
});

describe('every scripted fault × pay, present, refund (2.0)', () => {
  const FAULTS: Fault[] = [{ kind: 'busy' }, { kind: 'applyThenBusy' }, { kind: 'delay', ms: 450 }, { kind: 'inProgress' }, { kind: 'empty' }, { kind: 'gatewayError' }];
  const env = { MIDAS_CALL_TIMEOUT_MS: '250' };

  describe.each(FAULTS)('$kind', (fault) => {
    test('pay: COMPLETED, charged once', async () => {
      const openid = await player(100);
      cloud().injectFault({ op: 'pay', fault });
      const r = await call(cloud(), 'pay', { amt: 10 }, { openid }, env);
      expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
      await waitFor('calls to land', () => journalOf(billOf(r)).length >= 2 || fault.kind === 'gatewayError' || fault.kind === 'busy' || fault.kind === 'inProgress');
      expect(journalOf(billOf(r)).filter((j) => j.applied)).toHaveLength(1);
      expect(balance(openid)).toBe(90);
    });

    test('present: COMPLETED, gifted once', async () => {
      const openid = await player(0);
      cloud().injectFault({ op: 'present', fault });
      const r = await call(cloud(), 'present', { toOpenid: openid, presentCounts: 4 }, SCF, env);
      expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
      await waitFor('calls to land', () => journalOf(billOf(r)).filter((j) => j.applied).length >= 1);
      expect(balance(openid)).toBe(4);
    });

    test('refund: COMPLETED, refunded once', async () => {
      const openid = await player(100);
      const paid = await call(cloud(), 'pay', { amt: 10 }, { openid }, env);
      cloud().injectFault({ op: 'cancelPay', fault });
      const r = await call(cloud(), 'cancelPay', { billNo: billOf(paid) }, { source: 'scf' }, env);
      expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED', kind: 'refund' } });
      await waitFor('calls to land', () => journalOf(billOf(r)).filter((j) => j.applied).length >= 1);
      expect(journalOf(billOf(r)).filter((j) => j.applied)).toHaveLength(1);
      expect(balance(openid)).toBe(100);
    });
  });
});

describe('reconciliation in 2.0', () => {
  const reconcile = async (extra: Record<string, string> = {}) => {
    const r = await call(cloud(), 'reconcile', {}, { source: 'wx_trigger' }, { MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0', ...extra });
    if (!r.ok) throw new Error(`reconcile failed: ${r.error.code}`);
    return r.data as { resolved: { orderId: string; from: string; to: string }[] };
  };

  test('an UNKNOWN pay is re-sent with its bill and kept (policy complete), or refunded with a refund bill (policy refund)', async () => {
    for (const policy of ['complete', 'refund'] as const) {
      const openid = await player(100);
      cloud().injectFault({ op: 'pay', fault: { kind: 'applyThenBusy' } });
      cloud().injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 1000 });
      const r = await call(cloud(), 'pay', { amt: 10 }, { openid }, { MIDAS_TIME_BUDGET_MS: '400' });
      expect(r).toMatchObject({ ok: true, data: { state: 'UNKNOWN' } });
      cloud().clearFaults();
      const report = await reconcile({ MIDAS_RECONCILE_PAY_POLICY: policy });
      expect(report.resolved).toContainEqual({ orderId: (r as unknown as { data: { orderId: string } }).data.orderId, from: 'UNKNOWN', to: policy === 'complete' ? 'COMPLETED' : 'CANCELLED' });
      expect(journalOf(billOf(r)).filter((j) => j.applied)).toHaveLength(1);
      expect(balance(openid)).toBe(policy === 'complete' ? 90 : 100);
    }
  });

  test('randomized: pays, gifts and refunds with random faults end final, exact and never doubled', async () => {
    let seed = Number(process.env.RANDOM_SEED ?? 20261123);
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const FAULTS: Fault[] = [{ kind: 'busy' }, { kind: 'applyThenBusy' }, { kind: 'delay', ms: 400 }, { kind: 'empty' }, { kind: 'gatewayError' }];
    const env = { MIDAS_TIME_BUDGET_MS: '1200', MIDAS_CALL_TIMEOUT_MS: '300' };
    const players = await Promise.all(Array.from({ length: 5 }, () => player(5000)));
    const paidBills = new Map<string, string[]>();
    const one = async () => {
      const openid = pick(players);
      if (rand() < 0.3) cloud().injectFault({ op: pick(['pay', 'present', 'cancelPay'] as const), fault: pick(FAULTS), times: 1 });
      const roll = rand();
      if (roll < 0.5) {
        const key = `k${Math.floor(rand() * 30)}`;
        const copies = rand() < 0.2 ? 2 : 1;
        const rs = await Promise.all(Array.from({ length: copies }, () => cloud().invoke('pay', { amt: 1 + (Number(key.slice(1)) % 20), idempotencyKey: key }, { openid }, env)));
        for (const r of rs) {
          const a = r.result as { ok: boolean; data?: { state: string; billNo: string } } | undefined;
          if (a?.ok && a.data?.state === 'COMPLETED') paidBills.set(openid, [...(paidBills.get(openid) ?? []), a.data.billNo]);
        }
      } else if (roll < 0.75) {
        await cloud().invoke('present', { toOpenid: openid, presentCounts: 1 + Math.floor(rand() * 10), idempotencyKey: `g${Math.floor(rand() * 1e9)}` }, SCF, env);
      } else {
        const bills = paidBills.get(openid) ?? [];
        if (bills.length > 0) await cloud().invoke('cancelPay', { billNo: pick(bills), amount: 1, idempotencyKey: `r${Math.floor(rand() * 4)}` }, { source: 'scf' }, env);
      }
    };
    for (let batch = 0; batch < 30; batch++) await Promise.all(Array.from({ length: 5 }, one));
    cloud().clearFaults();
    await new Promise((r) => setTimeout(r, 1500));
    for (let round = 0; round < 10 && (await orders()).some((o) => players.includes(o.openid) && !['COMPLETED', 'FAILED'].includes(o.state)); round++) {
      await reconcile(env);
    }
    const mine = (await orders()).filter((o) => players.includes(o.openid));
    expect(mine.filter((o) => !['COMPLETED', 'FAILED'].includes(o.state)).map((o) => `${o.kind} ${o.state}`)).toEqual([]);
    for (const o of mine) {
      const applied = journalOf(o.billNo).filter((j) => j.applied).length;
      expect({ bill: o.billNo, applied }).toEqual({ bill: o.billNo, applied: o.state === 'COMPLETED' ? 1 : 0 });
    }
    for (const p of mine.filter((o) => o.kind === 'pay')) {
      const refunded = mine.filter((o) => o.kind === 'refund' && o.refundOf === p._id && o.state === 'COMPLETED').reduce((n, o) => n + o.amount, 0);
      expect(refunded).toBeLessThanOrEqual(p.amount);
    }
    for (const openid of players) {
      const of = mine.filter((o) => o.openid === openid && o.state === 'COMPLETED');
      const sum = (kind: string) => of.filter((o) => o.kind === kind).reduce((n, o) => n + o.amount, 0);
      expect({ openid, balance: balance(openid) }).toEqual({ openid, balance: 5000 + sum('present') - sum('pay') + sum('refund') });
    }
    expect(mine.some((o) => o.kind === 'refund' && o.state === 'COMPLETED')).toBe(true);
  }, 120_000);
});

describe('the reconciler reads only its own deployment’s orders', () => {
  test('101 open v1 orders and 101 of another app, all older, never starve a v2 UNKNOWN order', async () => {
    const openid = await player(100);
    cloud().injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 1000 });
    const stuck = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'starve-1' }, { openid }, { MIDAS_TIME_BUDGET_MS: '400' });
    cloud().clearFaults();
    expect(stuck).toMatchObject({ ok: true, data: { state: 'UNKNOWN' } });
    const old = Date.now() - 3600_000;
    const base = { kind: 'pay', env: 'sandbox', offerId: cloud().functionEnv.MIDAS_OFFER_ID, state: 'UNKNOWN', openid: 'oSomeoneElse01', amount: 1, call: {}, attempts: 1, cancelAttempts: 0, leaseId: '', leaseUntil: 0, lastError: null, result: null, createdAt: old, updatedAt: old, resolvedAt: null };
    const docs = [
      ...Array.from({ length: 101 }, (_, i) => ({ ...base, _id: `v1open${i}`, billNo: `v1open${i}`, appid: cloud().functionEnv.MIDAS_APPID })),
      ...Array.from({ length: 101 }, (_, i) => ({ ...base, _id: `otherapp${i}`, billNo: `otherapp${i}`, api: 'v2', appid: 'wxanotherapp0001' })),
    ];
    await cloud().database.handle('database.insertDocument', { collectionName: 'midas_orders', data: docs.map((d) => JSON.stringify(d)) });
    const r = await call(cloud(), 'reconcile', {}, SCF, { MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0' });
    expect(r).toMatchObject({ ok: true, data: { resolved: expect.arrayContaining([expect.objectContaining({ orderId: (stuck as unknown as { data: { orderId: string } }).data.orderId, to: 'COMPLETED' })]) } });
    // It did not spend its page on orders it would skip.
    expect((r as unknown as { data: { skipped: unknown[] } }).data.skipped).toEqual([]);
    expect(balance(openid)).toBe(90);
  });
});
