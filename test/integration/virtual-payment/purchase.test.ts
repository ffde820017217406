/**
 * Virtual Payment 2.0 through the built bundles: login (jscode2session), signPayment, and the
 * emulated payment sheet checking what WeChat checks.
 */
import type { SignPaymentResponse } from '../../../shared/virtual-payment/sign-payment';
import type { LocalCloud } from '../../emulator/local-cloud';
import { call, newOpenid, useLocalCloud } from '../helpers';

const cloud = useLocalCloud();

async function loggedInPlayer(local: LocalCloud = cloud()): Promise<string> {
  const openid = newOpenid();
  const r = await call(local, 'login', { code: local.wechat.wxLogin(openid) }, { openid });
  expect(r).toEqual({ ok: true, data: { loggedIn: true } });
  return openid;
}

async function sign(openid: string, data: object, env?: Record<string, string>): Promise<SignPaymentResponse> {
  const r = await call(cloud(), 'signPayment', data, { openid }, env);
  if (!r.ok) throw new Error(`signPayment failed: ${r.error.code}: ${r.error.message}`);
  return r.data as unknown as SignPaymentResponse;
}

const payItem = (openid: string, s: Pick<SignPaymentResponse, 'signData' | 'paySig' | 'signature'>) => cloud().wechat.pay('requestMidasPaymentGameItem', openid, s);

test('a whole purchase: login → sign → the payment sheet accepts, and the order was recorded first', async () => {
  const openid = await loggedInPlayer();
  const signed = await sign(openid, { kind: 'item', productId: 'sword_basic', quantity: 2, attach: 'from-shop' });
  expect(JSON.parse(signed.signData)).toEqual({
    mode: 'goods', offerId: cloud().app.offerId, buyQuantity: 2, env: 1, currencyType: 'CNY', platform: 'android', zoneId: '1',
    productId: 'sword_basic', goodsPrice: 600, outTradeNo: signed.outTradeNo, attach: 'from-shop',
  });
  const orders = await cloud().database.all('midas_client_orders');
  expect(orders).toContainEqual(expect.objectContaining({ _id: signed.outTradeNo, openid, state: 'PENDING', productId: 'sword_basic', quantity: 2, totalFen: 1200, signData: signed.signData }));
  expect(payItem(openid, signed)).toEqual({ errCode: 0, errMsg: 'requestMidasPaymentGameItem:ok' });
  expect(cloud().wechat.paid.get(signed.outTradeNo)).toMatchObject({ openid, productId: 'sword_basic', quantity: 2, totalFen: 1200, env: 'sandbox' });
});

test('login tells the client nothing secret and keeps the session_key server-side only', async () => {
  const openid = await loggedInPlayer();
  const key = cloud().wechat.currentSessionKey(openid)!;
  const sessions = await cloud().database.all('midas_sessions');
  expect(sessions).toContainEqual(expect.objectContaining({ _id: openid, sessionKey: key }));
  const signed = await sign(openid, { kind: 'item', productId: 'gems_60' });
  const everything = JSON.stringify(signed) + cloud().runner.logs;
  expect(everything).not.toContain(key);
  expect(everything).not.toContain(cloud().wechat.app.appSecret);
  expect(everything).not.toContain(cloud().wechat.app.appKeys.sandbox);
});

describe('login codes', () => {
  test('are single-use, and unknown codes fail', async () => {
    const openid = newOpenid();
    const code = cloud().wechat.wxLogin(openid);
    expect((await call(cloud(), 'login', { code }, { openid })).ok).toBe(true);
    const again = await call(cloud(), 'login', { code }, { openid });
    expect(again).toMatchObject({ ok: false, error: { code: 'LOGIN_CODE_INVALID', retryable: false } });
    const unknown = await call(cloud(), 'login', { code: 'deadbeefdeadbeef' }, { openid });
    expect(!unknown.ok && unknown.error.code).toBe('LOGIN_CODE_INVALID');
  });

  test('of another player are refused, and nothing is stored for either', async () => {
    const victim = newOpenid();
    const attacker = newOpenid();
    const r = await call(cloud(), 'login', { code: cloud().wechat.wxLogin(victim) }, { openid: attacker });
    expect(r).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const ids = (await cloud().database.all('midas_sessions')).map((s) => s._id);
    expect(ids).not.toContain(victim);
    expect(ids).not.toContain(attacker);
  });

  test('each login rotates the session_key', async () => {
    const openid = newOpenid();
    await call(cloud(), 'login', { code: cloud().wechat.wxLogin(openid) }, { openid });
    const first = cloud().wechat.currentSessionKey(openid);
    await call(cloud(), 'login', { code: cloud().wechat.wxLogin(openid) }, { openid });
    expect(cloud().wechat.currentSessionKey(openid)).not.toBe(first);
  });
});

describe('refused purchases', () => {
  test('without a login: SESSION_EXPIRED, telling the game to log in again', async () => {
    const r = await call(cloud(), 'signPayment', { kind: 'item', productId: 'sword_basic' }, { openid: newOpenid() });
    expect(r).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED', message: expect.stringContaining('log in again') } });
  });

  test('with a login older than WX_SESSION_MAX_AGE_MS: SESSION_EXPIRED', async () => {
    const openid = await loggedInPlayer();
    await cloud().database.handle('database.modifyDocument', {
      collectionName: 'midas_sessions', query: JSON.stringify({ _id: openid }), multi: false, merge: true,
      data: JSON.stringify({ $set: { updatedAt: Date.now() - 120_000 } }),
    });
    const r = await call(cloud(), 'signPayment', { kind: 'item', productId: 'sword_basic' }, { openid }, { WX_SESSION_MAX_AGE_MS: '60000' });
    expect(!r.ok && r.error.code).toBe('SESSION_EXPIRED');
  });

  test('tampered signData: the sheet answers -15014 (paySig)', async () => {
    const openid = await loggedInPlayer();
    const signed = await sign(openid, { kind: 'item', productId: 'vip_month' });
    const cheaper = signed.signData.replace('"goodsPrice":3000', '"goodsPrice":1');
    expect(payItem(openid, { ...signed, signData: cheaper }).errCode).toBe(-15014);
    const spaced = signed.signData.replace(',"env"', ', "env"'); // same JSON, other bytes
    expect(payItem(openid, { ...signed, signData: spaced }).errCode).toBe(-15014);
    expect(cloud().wechat.paid.has(signed.outTradeNo)).toBe(false);
  });

  test('a wrong AppKey: -15014', async () => {
    const openid = await loggedInPlayer();
    const signed = await sign(openid, { kind: 'item', productId: 'sword_basic' }, { MIDAS_SANDBOX_APPKEY: 'not-the-appkey-01' });
    expect(payItem(openid, signed).errCode).toBe(-15014);
  });

  test('a stale session_key (the player logged in again since): -15015', async () => {
    const openid = await loggedInPlayer();
    const signed = await sign(openid, { kind: 'item', productId: 'sword_basic' });
    // The game logs in again; WeChat's current key rotates.
    await call(cloud(), 'login', { code: cloud().wechat.wxLogin(openid) }, { openid });
    expect(payItem(openid, signed).errCode).toBe(-15015);
    // Signed anew with the new key, it goes through.
    expect(payItem(openid, await sign(openid, { kind: 'item', productId: 'sword_basic' })).errCode).toBe(0);
  });

  test('another player paying with my signed order: -15012 (signature)', async () => {
    const me = await loggedInPlayer();
    const other = await loggedInPlayer();
    const signed = await sign(me, { kind: 'item', productId: 'sword_basic' });
    expect(payItem(other, signed).errCode).toBe(-15012);
  });

  test.each(['goodsPrice', 'priceFen', 'amount'])('a client-supplied %s is refused before anything is signed', async (field) => {
    const openid = await loggedInPlayer();
    const before = (await cloud().database.all('midas_client_orders')).length;
    const r = await call(cloud(), 'signPayment', { kind: 'item', productId: 'vip_month', [field]: 1 }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field, message: expect.stringContaining("server's catalogue") } });
    expect((await cloud().database.all('midas_client_orders')).length).toBe(before);
  });

  test('an unknown product: PRODUCT_NOT_FOUND', async () => {
    const openid = await loggedInPlayer();
    const r = await call(cloud(), 'signPayment', { kind: 'item', productId: 'diamond_sword' }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'PRODUCT_NOT_FOUND', field: 'productId' } });
  });

  test('a catalogue out of step with the console: the sheet answers -15016 (item price)', async () => {
    const openid = await loggedInPlayer();
    const prices = cloud().wechat.app.productPrices;
    prices.set('gems_60', 800);
    try {
      expect(payItem(openid, await sign(openid, { kind: 'item', productId: 'gems_60' })).errCode).toBe(-15016);
    } finally {
      prices.set('gems_60', 600);
    }
  });
});

describe('coin top-ups', () => {
  test('a quantity that is no price tier is refused, naming the valid ones', async () => {
    const openid = await loggedInPlayer();
    const r = await call(cloud(), 'signPayment', { kind: 'coins', quantity: 55 }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field: 'quantity', message: expect.stringContaining('10, 30, 60, 80') } });
  });

  test('a valid quantity is signed for requestMidasPayment and lands in the Midas balance', async () => {
    const openid = await loggedInPlayer();
    const signed = await sign(openid, { kind: 'coins', quantity: 60 });
    expect(JSON.parse(signed.signData)).toMatchObject({ mode: 'game', buyQuantity: 60, env: 1 });
    // The item sheet refuses a coin order: its mode is "game", not "goods".
    expect(payItem(openid, signed).errCode).toBe(-15002);
    expect(cloud().wechat.pay('requestMidasPayment', openid, signed).errCode).toBe(0);
    expect(cloud().backend.balance({ env: 'sandbox', openid })).toBe(60);
  });
});

test('production signs env 0 with the production AppKey', async () => {
  const openid = await loggedInPlayer();
  const signed = await sign(openid, { kind: 'item', productId: 'sword_basic' }, { MIDAS_ENV: 'production' });
  expect(JSON.parse(signed.signData).env).toBe(0);
  expect(payItem(openid, signed).errCode).toBe(0);
});

test('the catalogue function lists products and coin quantities', async () => {
  const r = await call(cloud(), 'catalogue', {}, { openid: newOpenid() });
  expect(r).toMatchObject({ ok: true, data: { coinPriceFen: 10, products: expect.arrayContaining([expect.objectContaining({ productId: 'sword_basic', priceFen: 600 })]) } });
});
