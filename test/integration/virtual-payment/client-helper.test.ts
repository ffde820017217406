/**
 * The mini-game helper, driven by a stand-in for `wx` that reaches the local cloud over HTTP
 * (wx.cloud.callFunction → /callFunction, wx.login → /__wx/login, the payment sheets →
 * /__wx/requestMidasPayment*), so the helper, the built functions and the emulated WeChat
 * meet as they do on a phone.
 */
import { MidasClientError, createMidasClient, type MidasWx } from '../../../client/midas-client';
import { newOpenid, useLocalCloud } from '../helpers';

const cloud = useLocalCloud();

async function post(path: string, body: object): Promise<Record<string, unknown>> {
  const res = await fetch(`${cloud().url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

/** `wx` on the phone of `openid`; `cancel` makes the player close the sheet. */
function phone(openid: string, behaviour: { cancel?: boolean } = {}): MidasWx {
  const sheet = (method: string) => (o: Record<string, unknown> & { success?: (r: unknown) => void; fail?: (r: unknown) => void }) => {
    if (behaviour.cancel) return void o.fail?.({ errCode: -2, errMsg: `${method}:fail cancel` });
    const { success, fail, complete: _c, ...options } = o;
    void post(`/__wx/${method}`, { openid, ...options }).then((r) => (r.errCode === 0 ? success?.(r) : fail?.(r)));
  };
  const wx = {
    cloud: {
      callFunction: async ({ name, data }: { name: string; data?: object }) => {
        const r = await post('/callFunction', { name, data, player: { openid } });
        if (r.errCode) throw new Error(String(r.errMsg));
        return { result: r.result, errMsg: 'cloud.callFunction:ok' };
      },
    },
    login: ({ success }: { success?: (r: { code: string; errMsg: string }) => void }) => {
      void post('/__wx/login', { openid }).then((r) => success?.({ code: String(r.code), errMsg: 'login:ok' }));
    },
    requestMidasPaymentGameItem: sheet('requestMidasPaymentGameItem'),
    requestMidasPayment: sheet('requestMidasPayment'),
  };
  return wx as unknown as MidasWx;
}

test('one call buys an item: the helper logs in by itself when there is no session yet', async () => {
  const openid = newOpenid();
  const midas = createMidasClient(phone(openid));
  const r = await midas.buyItem('sword_basic', 1);
  expect(r.totalFen).toBe(600);
  expect(cloud().wechat.paid.get(r.outTradeNo)).toMatchObject({ openid, productId: 'sword_basic' });
  // It resolves once the server delivered the item (WeChat's push to paymentNotify).
  expect(r).toMatchObject({ delivered: true, status: 'delivered', inventory: { sword_basic: 1 } });
});

test('a purchase whose push is lost resolves as "paid, delivery pending", not as a failure', async () => {
  const openid = newOpenid();
  cloud().pushes.injectFault({ kind: 'drop' });
  const midas = createMidasClient(phone(openid), { deliveryPollMs: 50, deliveryWaitMs: 300 });
  const r = await midas.buyItem('gems_60');
  expect(r).toMatchObject({ delivered: false, status: 'paid_delivery_pending' });
  expect((await midas.myOrders(r.outTradeNo)).orders).toMatchObject([{ outTradeNo: r.outTradeNo, state: 'PENDING' }]);
});

test('an expired session_key on the sheet (-15015): it logs in again, signs anew, and pays once', async () => {
  const openid = newOpenid();
  const midas = createMidasClient(phone(openid));
  await midas.login();
  // The game called wx.login elsewhere: WeChat's key rotated, the server's did not.
  cloud().wechat.jscode2session(new URLSearchParams({ appid: cloud().app.appid, secret: cloud().wechat.app.appSecret, js_code: cloud().wechat.wxLogin(openid), grant_type: 'authorization_code' }));
  const journalBefore = cloud().wechat.sheetJournal.length;
  const r = await midas.buyItem('gems_60');
  expect(cloud().wechat.sheetJournal.slice(journalBefore).map((a) => a.errCode)).toEqual([-15015, 0]);
  expect([...cloud().wechat.paid.values()].filter((p) => p.openid === openid)).toHaveLength(1);
  expect(cloud().wechat.paid.has(r.outTradeNo)).toBe(true);
});

test('buying coins waits until they arrive, polling the balance', async () => {
  const openid = newOpenid();
  const progress: number[] = [];
  const midas = createMidasClient(phone(openid), { pollIntervalMs: 100, pollMaxMs: 3000, onProgress: (p) => progress.push(p.saveAmt) });
  // The coins reach the Midas account late, as SPEC §3 warns.
  const credit = cloud().wechat.onCoinsPaid!;
  cloud().wechat.onCoinsPaid = (o, env, coins) => void setTimeout(() => credit(o, env, coins), 350);
  try {
    const r = await midas.buyCoins(60);
    expect(r).toMatchObject({ arrived: true, totalFen: 600, balance: { saveAmt: 60, balance: 60 } });
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(60);
    expect(progress.length).toBeGreaterThan(1);
  } finally {
    cloud().wechat.onCoinsPaid = credit;
  }
});

test('a quantity that is no price tier fails with the server’s reason', async () => {
  const midas = createMidasClient(phone(newOpenid()));
  await expect(midas.buyCoins(55)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('valid quantities') });
});

test('a player closing the sheet is PAYMENT_CANCELLED, not an error to retry', async () => {
  const midas = createMidasClient(phone(newOpenid(), { cancel: true }));
  const e = await midas.buyItem('sword_basic').catch((x: unknown) => x);
  expect(e).toBeInstanceOf(MidasClientError);
  expect(e).toMatchObject({ code: 'PAYMENT_CANCELLED', errCode: -2, retryable: false });
});

test('the catalogue is what the shop shows', async () => {
  const c = await createMidasClient(phone(newOpenid())).catalogue();
  expect(c.coinQuantities).toContain(60);
  expect(c.products.map((p) => p.productId)).toEqual(['sword_basic', 'gems_60', 'vip_month', 'potion_heal']);
  // Prices as the server's catalogue has them: money, coins, or both.
  expect(c.products.find((p) => p.productId === 'sword_basic')).toMatchObject({ priceFen: 600, coinPrice: 60 });
  expect(c.products.find((p) => p.productId === 'potion_heal')).not.toHaveProperty('priceFen');
});

test('buyWithCoins (v1 coins): the server’s price, granted once; a product not sold for coins is refused by name', async () => {
  const openid = newOpenid();
  cloud().backend.topUp({ env: 'sandbox', openid }, 70);
  const midas = createMidasClient(phone(openid));
  const r = await midas.buyWithCoins('gems_60', 1, { idempotencyKey: 'helper-gems' });
  expect(r).toMatchObject({ state: 'DELIVERED', coins: 50, balance: 20, grant: 'DELIVERED' });
  await expect(midas.buyWithCoins('vip_month')).rejects.toMatchObject({ code: 'PRODUCT_NOT_FOUND' });
  expect((await midas.myOrders()).inventory).toEqual({ gems: 60 });
});
