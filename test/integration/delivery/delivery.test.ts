/**
 * Delivery through the built bundles: a purchase on the payment sheet is pushed to
 * `paymentNotify` by the local cloud (WeChat's retry schedule, compressed) and delivered exactly
 * once, however pushes are lost, repeated, reordered, forged or arrive early.
 */
import { encrypt } from '@wecom/crypto';
import { payEventSig, sha1Sorted } from '../../../shared/delivery/push';
import type { ClientOrder } from '../../../shared/delivery/fulfilment';
import { call, newOpenid, useLocalCloud, waitFor } from '../helpers';

const cloud = useLocalCloud({ midasApi: 'v2' });
afterEach(() => cloud().pushes.clearFaults());

const SCF = { source: 'scf' };
const PUSH = { source: 'wx_push' };

async function login(openid: string): Promise<void> {
  expect((await call(cloud(), 'login', { code: cloud().wechat.wxLogin(openid) }, { openid })).ok).toBe(true);
}

/** Signs and pays on the sheet, as the game and the player do; returns the outTradeNo. */
async function buy(openid: string, what: { kind: 'item'; productId: string; quantity?: number } | { kind: 'coins'; quantity: number }): Promise<string> {
  const signed = await call(cloud(), 'signPayment', what, { openid });
  if (!signed.ok) throw new Error(`signPayment: ${signed.error.code}`);
  const d = signed.data as { signData: string; paySig: string; signature: string; outTradeNo: string };
  const method = what.kind === 'item' ? 'requestMidasPaymentGameItem' : 'requestMidasPayment';
  expect(cloud().wechat.pay(method, openid, d)).toMatchObject({ errCode: 0 });
  return d.outTradeNo;
}

async function order(outTradeNo: string): Promise<ClientOrder | undefined> {
  return ((await cloud().database.all('midas_client_orders')) as unknown as ClientOrder[]).find((o) => o._id === outTradeNo);
}

async function inventory(openid: string, env = 'sandbox'): Promise<Record<string, number>> {
  const doc = ((await cloud().database.all('midas_inventory')) as { _id: string; counters?: Record<string, number> }[]).find((d) => d._id === `${env}:${openid}`);
  return doc?.counters ?? {};
}

async function delivered(outTradeNo: string): Promise<void> {
  await waitFor(`order ${outTradeNo} delivered`, async () => (await order(outTradeNo))?.state === 'DELIVERED');
}

/** Sends an envelope to paymentNotify on the message-push route. */
async function push(envelope: unknown, player: Record<string, string> = PUSH) {
  const r = await cloud().invoke('paymentNotify', envelope, player);
  if (r.error) throw new Error(`paymentNotify: ${r.error.message}`);
  return r.result as { ErrCode: number; ErrMsg: string };
}

function itemPayload(openid: string, outTradeNo: string, productId = 'sword_basic', quantity = 1, priceFen = 600) {
  return { OpenId: openid, Env: 1, OutTradeNo: outTradeNo, GoodsInfo: { ProductId: productId, Quantity: quantity, ZoneId: '1', OrigPrice: priceFen * quantity, ActualPrice: priceFen * quantity, Attach: '', OrderSource: 1 } };
}

describe('a purchase is delivered once, and the game sees it', () => {
  test('item: sheet → push → DELIVERED, the catalogue’s grants in the inventory, myOrders shows both', async () => {
    const openid = newOpenid();
    await login(openid);
    const otn = await buy(openid, { kind: 'item', productId: 'gems_60', quantity: 2 });
    await delivered(otn);
    expect(await inventory(openid)).toEqual({ gems: 120 });
    const mine = await call(cloud(), 'myOrders', { outTradeNo: otn }, { openid });
    expect(mine).toMatchObject({ ok: true, data: { orders: [{ outTradeNo: otn, state: 'DELIVERED', productId: 'gems_60', quantity: 2 }], inventory: { gems: 120 } } });
    expect((await order(otn))!.history!.map((h) => h.state)).toEqual(['PAID', 'DELIVERED']);
    // Another player sees none of it.
    expect(await call(cloud(), 'myOrders', { outTradeNo: otn }, { openid: newOpenid() })).toMatchObject({ ok: true, data: { orders: [], inventory: {} } });
  });

  test('coins: the coin event (ActualPrice, or TotalPrice as the doc example has it) delivers the order; Midas holds the coins', async () => {
    const openid = newOpenid();
    await login(openid);
    const otn = await buy(openid, { kind: 'coins', quantity: 60 });
    await delivered(otn);
    expect(cloud().wxa.balance('sandbox', openid)).toBe(60);
    // The documented example's shape (TotalPrice) is read as well.
    const otn2 = await buy(openid, { kind: 'coins', quantity: 60 });
    await delivered(otn2);
    const raw = { OpenId: openid, OutTradeNo: otn2, Env: 1, CoinInfo: { ZoneId: '1', TotalPrice: 600, BuyQuantity: 60, OrigPrice: 600 } };
    expect(await push(cloud().pushes.envelope('minigame_coin_deliver_completed', raw))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
  });

  test('a repeated push, two copies at once and a replay after delivery grant once and answer the same success', async () => {
    const openid = newOpenid();
    await login(openid);
    cloud().pushes.injectFault({ kind: 'duplicate' });
    const otn = await buy(openid, { kind: 'item', productId: 'sword_basic' });
    await delivered(otn);
    const rec = cloud().pushes.pushes.find((p) => p.outTradeNo === otn)!;
    const replies = await Promise.all([cloud().pushes.replay(rec.id), cloud().pushes.replay(rec.id), push(rec.envelope)]);
    expect(replies).toEqual([{ ErrCode: 0, ErrMsg: 'Success' }, { ErrCode: 0, ErrMsg: 'Success' }, { ErrCode: 0, ErrMsg: 'Success' }]);
    expect(await inventory(openid)).toEqual({ sword_basic: 1 });
  });

  test('a crash between PAID and DELIVERED (granted or not) ends delivered once', async () => {
    const openid = newOpenid();
    await login(openid);
    cloud().pushes.injectFault({ kind: 'drop' }, 2);
    const a = await buy(openid, { kind: 'item', productId: 'gems_60' });
    const b = await buy(openid, { kind: 'item', productId: 'gems_60' });
    const mark = (id: string, $set: Record<string, unknown>) =>
      cloud().database.handle('database.modifyDocument', { collectionName: 'midas_client_orders', query: JSON.stringify({ _id: id }), multi: false, merge: true, data: JSON.stringify({ $set }) });
    // a: crashed after PAID, before the grant. b: crashed after the grant, before DELIVERED.
    await mark(a, { state: 'PAID' });
    await mark(b, { state: 'PAID' });
    await cloud().database.handle('database.insertDocument', { collectionName: 'midas_inventory', data: [JSON.stringify({ _id: `sandbox:${openid}`, openid, env: 'sandbox', counters: { gems: 60 }, applied: { [b]: 1 }, revoked: {} })] }).catch(() => undefined);
    for (const otn of [a, b]) {
      const rec = cloud().pushes.pushes.find((p) => p.outTradeNo === otn)!;
      expect(await push(rec.envelope)).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
      await delivered(otn);
    }
    expect(await inventory(openid)).toEqual({ gems: 120 });
  });
});

describe('pushes that are not what they claim', () => {
  test('a forged push (wrong PayEventSig) is refused, logged, and delivers nothing', async () => {
    const openid = newOpenid();
    await login(openid);
    cloud().pushes.injectFault({ kind: 'drop' });
    const otn = await buy(openid, { kind: 'item', productId: 'gems_60' });
    const env = cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', itemPayload(openid, otn, 'gems_60'));
    (env.MiniGame as Record<string, unknown>).PayEventSig = payEventSig('minigame_game_pay_goods_deliver_notify', (env.MiniGame as { Payload: string }).Payload, 'not-the-appkey');
    expect(await push(env)).toMatchObject({ ErrCode: 99999 });
    expect((await order(otn))!.state).toBe('PENDING');
    expect(await inventory(openid)).toEqual({});
    expect(cloud().runner.logs).toContain('"event":"push_forged"');
  });

  test('a correctly signed push naming another player (or another product) is flagged for an operator, not delivered', async () => {
    const alice = newOpenid();
    await login(alice);
    cloud().pushes.injectFault({ kind: 'drop' });
    const otn = await buy(alice, { kind: 'item', productId: 'sword_basic' });
    const mallory = newOpenid();
    expect(await push(cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', itemPayload(mallory, otn)))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    const o = (await order(otn))!;
    expect(o.state).toBe('PENDING');
    expect(o.flags).toEqual([expect.objectContaining({ reason: 'push_mismatch', detail: expect.stringContaining('"player":true') })]);
    expect(await inventory(mallory)).toEqual({});
    expect(await inventory(alice)).toEqual({});
  });

  test('a push before the client order is recorded is not delivered now, and is once the order exists', async () => {
    const openid = newOpenid();
    const otn = `mtEarly${Date.now()}`;
    const env = cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', itemPayload(openid, otn));
    expect(await push(env)).toMatchObject({ ErrCode: 99999 });
    await cloud().database.handle('database.insertDocument', {
      collectionName: 'midas_client_orders',
      data: [JSON.stringify({ _id: otn, openid, kind: 'item', productId: 'sword_basic', quantity: 1, unitPriceFen: 600, totalFen: 600, env: 'sandbox', offerId: cloud().functionEnv.MIDAS_OFFER_ID, zoneId: '1', state: 'PENDING', createdAt: Date.now(), updatedAt: Date.now() })],
    });
    expect(await push(env)).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    expect(await inventory(openid)).toEqual({ sword_basic: 1 });
  });

  test('mock pushes are shape-checked and acknowledged, and deliver nothing', async () => {
    const openid = newOpenid();
    const mock = cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', itemPayload(openid, 'mockOutTradeNo1'), true);
    expect(await push(mock)).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    expect(await order('mockOutTradeNo1')).toBeUndefined();
    // WeChat's configuration check: only the fields' types are checked, not PayEventSig.
    const unsigned = cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', itemPayload(openid, 'mockOutTradeNo2'), true);
    (unsigned.MiniGame as Record<string, unknown>).PayEventSig = 'not-a-signature';
    expect(await push(unsigned)).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    expect(await order('mockOutTradeNo2')).toBeUndefined();
    const malformed = cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', { OpenId: openid, Env: 1 }, true);
    expect(await push(malformed)).toMatchObject({ ErrCode: 99999, ErrMsg: 'malformed payload: OutTradeNo' });
  });

  test('the flattened (unsigned) form is delivered only once queryorderinfo says paid; a player calling the function is refused', async () => {
    const openid = newOpenid();
    await login(openid);
    cloud().pushes.injectFault({ kind: 'drop' });
    const paidOtn = await buy(openid, { kind: 'item', productId: 'sword_basic' });
    const flat = (otn: string) => ({ ToUserName: 'gh', FromUserName: openid, CreateTime: 1, MsgType: 'event', Event: 'minigame_game_pay_goods_deliver_notify', ...itemPayload(openid, otn) });
    // From a player (wx.cloud.callFunction): refused before anything is read.
    expect(await push(flat(paidOtn), { openid, source: 'wx_client' })).toMatchObject({ ErrCode: 99999 });
    expect((await order(paidOtn))!.state).toBe('PENDING');
    // A signed order that was never paid: not delivered on an unsigned word.
    const unpaid = await call(cloud(), 'signPayment', { kind: 'item', productId: 'sword_basic' }, { openid });
    const unpaidOtn = (unpaid as unknown as { data: { outTradeNo: string } }).data.outTradeNo;
    expect(await push(flat(unpaidOtn))).toMatchObject({ ErrCode: 99999 });
    expect((await order(unpaidOtn))!.state).toBe('PENDING');
    // The paid one, confirmed with queryorderinfo.
    expect(await push(flat(paidOtn))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    expect((await order(paidOtn))!.state).toBe('DELIVERED');
    expect(await inventory(openid)).toEqual({ sword_basic: 1 });
  });
});

describe('other events', () => {
  test('a mall item (under both of its documented names) with no client order is recorded and delivered', async () => {
    for (const event of ['minigame_h5_goods_deliver_notify', 'minigame_deliver_h5_pay_products']) {
      const openid = newOpenid();
      const otn = `_mall${Math.floor(Math.random() * 1e9)}`;
      const payload = itemPayload(openid, otn, 'gems_60');
      payload.GoodsInfo.OrderSource = 2;
      expect(await push(cloud().pushes.envelope(event, payload))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
      expect(await order(otn)).toMatchObject({ state: 'DELIVERED', source: 'mall' });
      expect(await inventory(openid)).toEqual({ gems: 60 });
    }
  });

  test('pushes of the other environment: a sandbox one at a production deployment is acknowledged and records nothing; a production one at a sandbox deployment is never acknowledged away', async () => {
    // One push URL serves a mini-game's sandbox and production.
    const openid = newOpenid();
    const atProduction = async (envelope: unknown) => {
      const r = await cloud().invoke('paymentNotify', envelope, PUSH, { MIDAS_ENV: 'production' });
      return r.result as { ErrCode: number; ErrMsg: string };
    };
    const otn = `mtTest${Math.floor(Math.random() * 1e9)}`;
    expect(await atProduction(cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', itemPayload(openid, otn)))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    const mallOtn = `_mallTest${Math.floor(Math.random() * 1e9)}`;
    const mall = itemPayload(openid, mallOtn, 'gems_60');
    mall.GoodsInfo.OrderSource = 2;
    expect(await atProduction(cloud().pushes.envelope('minigame_h5_goods_deliver_notify', mall))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    expect(await order(otn)).toBeUndefined();
    expect(await order(mallOtn)).toBeUndefined();
    expect(await inventory(openid, 'production')).toEqual({});
    // Production's push at this sandbox deployment: sent again by WeChat, never dropped.
    const prodOtn = `mtProd${Math.floor(Math.random() * 1e9)}`;
    expect(await push(cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', { ...itemPayload(openid, prodOtn), Env: 0 }))).toMatchObject({ ErrCode: 99999 });
  });

  test('recharge-center coins are acknowledged', async () => {
    const raw = { OpenId: newOpenid(), OutTradeNo: '_rc1', Env: 1, CoinInfo: { ActualPrice: 600, BuyQuantity: 60, OrigPrice: 600 } };
    expect(await push(cloud().pushes.envelope('minigame_recharge_center_coin_deliver_completed', raw))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
  });

  test('a refund: REFUNDED; revocable grants are taken back, others flagged for an operator; a repeat changes nothing', async () => {
    const openid = newOpenid();
    await login(openid);
    const gems = await buy(openid, { kind: 'item', productId: 'gems_60' });
    const sword = await buy(openid, { kind: 'item', productId: 'sword_basic' });
    await delivered(gems);
    await delivered(sword);
    for (const otn of [gems, sword]) {
      const rec = cloud().refundClientOrder(otn);
      await waitFor('the refund push acknowledged', () => rec.state === 'acknowledged');
      await cloud().pushes.replay(rec.id);
    }
    expect(await order(gems)).toMatchObject({ state: 'REFUNDED' });
    expect(await order(sword)).toMatchObject({ state: 'REFUNDED', flags: [expect.objectContaining({ reason: 'refund_not_revocable' })] });
    expect(await inventory(openid)).toEqual({ gems: 0, sword_basic: 1 });
  });
});

describe('lost pushes and the reconciler', () => {
  const reconcile = async (extra: Record<string, string> = {}) => {
    const r = await call(cloud(), 'deliveryReconcile', {}, { source: 'wx_trigger' }, { MIDAS_DELIVERY_RECONCILE_MIN_AGE_MS: '0', ...extra });
    if (!r.ok) throw new Error(`deliveryReconcile: ${r.error.code}`);
    return r.data as { delivered: string[]; expired: string[]; waiting: string[] };
  };

  test('a paid order whose push was lost is found with queryorderinfo and delivered; one never paid ends EXPIRED', async () => {
    const openid = newOpenid();
    await login(openid);
    cloud().pushes.injectFault({ kind: 'drop' });
    const lost = await buy(openid, { kind: 'item', productId: 'vip_month' });
    const unpaid = ((await call(cloud(), 'signPayment', { kind: 'item', productId: 'sword_basic' }, { openid })) as unknown as { data: { outTradeNo: string } }).data.outTradeNo;
    const first = await reconcile();
    expect(first.delivered).toContain(lost);
    expect(first.waiting).toContain(unpaid);
    expect(await inventory(openid)).toEqual({ vipDays: 30 });
    const later = await reconcile({ MIDAS_CLIENT_ORDER_TTL_MS: '60000', EMULATOR_CLOCK_OFFSET_MS: '120000' });
    expect(later.expired).toContain(unpaid);
    expect(await order(unpaid)).toMatchObject({ state: 'EXPIRED' });
  });

  test('a flagged order whose real push is lost is still confirmed and delivered (a flag never stops it)', async () => {
    const openid = newOpenid();
    await login(openid);
    cloud().pushes.injectFault({ kind: 'drop' });
    const otn = await buy(openid, { kind: 'item', productId: 'gems_60' });
    // A signed push naming another product: flagged, not delivered.
    expect(await push(cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', itemPayload(openid, otn, 'sword_basic')))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    expect(await order(otn)).toMatchObject({ state: 'PENDING', flags: [expect.objectContaining({ reason: 'push_mismatch' })] });
    const r = await reconcile();
    expect(r.delivered).toContain(otn);
    expect(await order(otn)).toMatchObject({ state: 'DELIVERED', flags: [expect.objectContaining({ reason: 'push_mismatch' })] });
    expect(await inventory(openid)).toEqual({ gems: 60 });
  });

  test('client orders carry their deployment: another offer’s or app’s orders are never examined, expired or touched by a push', async () => {
    const openid = newOpenid();
    await login(openid);
    cloud().pushes.injectFault({ kind: 'drop' });
    const lost = await buy(openid, { kind: 'item', productId: 'sword_basic' });
    const own = await order(lost);
    expect(own).toMatchObject({ offerId: cloud().functionEnv.MIDAS_OFFER_ID, appid: cloud().functionEnv.MIDAS_APPID });
    // 51 older orders of another offer and 51 of another app, same environment, same collection.
    const old = Date.now() - 3 * 3600_000;
    const base = { openid: 'oSomeoneElse01', kind: 'item', productId: 'sword_basic', quantity: 1, unitPriceFen: 600, totalFen: 600, env: 'sandbox', zoneId: '1', state: 'PENDING', createdAt: old, updatedAt: old };
    const others = [
      ...Array.from({ length: 51 }, (_, i) => ({ ...base, _id: `otheroffer${i}`, offerId: '9999999999', appid: cloud().functionEnv.MIDAS_APPID })),
      ...Array.from({ length: 51 }, (_, i) => ({ ...base, _id: `otherapp${i}`, offerId: cloud().functionEnv.MIDAS_OFFER_ID, appid: 'wxanotherapp0001' })),
    ];
    await cloud().database.handle('database.insertDocument', { collectionName: 'midas_client_orders', data: others.map((d) => JSON.stringify(d)) });
    const r = await reconcile({ MIDAS_CLIENT_ORDER_TTL_MS: '60000' });
    expect(r.delivered).toEqual([lost]);
    expect(r.expired).toEqual([]);
    expect(await inventory(openid)).toEqual({ sword_basic: 1 });
    // A push signed with this deployment's key naming another app's order changes nothing.
    expect(await push(cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', itemPayload('oSomeoneElse01', 'otherapp0')))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    expect(await push(cloud().pushes.envelope('minigame_pay_refund_succ_notify', { OpenId: 'oSomeoneElse01', Env: 1, OutTradeNo: 'otheroffer0', RefundId: 'r1', RefundAmount: 600 }))).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    const after = (await cloud().database.all('midas_client_orders')) as unknown as ClientOrder[];
    for (const o of after.filter((d) => d._id.startsWith('other'))) expect(o).toEqual(expect.objectContaining({ state: 'PENDING', updatedAt: old }));
    expect(after.filter((d) => d._id.startsWith('other') && (d.flags !== undefined || d.history !== undefined))).toEqual([]);
  });

  test('players cannot run it', async () => {
    expect(await call(cloud(), 'deliveryReconcile', {}, { openid: newOpenid() })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  test('randomized: purchases whose pushes are lost, repeated, delayed or reordered all end delivered exactly once', async () => {
    let seed = Number(process.env.RANDOM_SEED ?? 11);
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const players = Array.from({ length: 4 }, () => newOpenid());
    for (const p of players) await login(p);
    const bought = new Map<string, number>(); // openid → gems bought
    const otns: string[] = [];
    for (let i = 0; i < 40; i++) {
      const roll = rand();
      if (roll < 0.2) cloud().pushes.injectFault({ kind: 'drop' });
      else if (roll < 0.35) cloud().pushes.injectFault({ kind: 'duplicate' });
      else if (roll < 0.5) cloud().pushes.injectFault({ kind: 'delay', ms: Math.floor(rand() * 200) });
      else if (roll < 0.65) cloud().pushes.injectFault({ kind: 'reorder' });
      const openid = players[Math.floor(rand() * players.length)]!;
      const quantity = 1 + Math.floor(rand() * 3);
      otns.push(await buy(openid, { kind: 'item', productId: 'gems_60', quantity }));
      bought.set(openid, (bought.get(openid) ?? 0) + 60 * quantity);
      if (rand() < 0.2) {
        const rec = cloud().pushes.pushes[Math.floor(rand() * cloud().pushes.pushes.length)]!;
        await cloud().pushes.replay(rec.id);
      }
    }
    // A last push releases any held back by a reorder, then the reconciler finds the lost ones.
    await buy(players[0]!, { kind: 'item', productId: 'gems_60' });
    bought.set(players[0]!, (bought.get(players[0]!) ?? 0) + 60);
    await cloud().pushes.settle();
    await reconcile();
    for (const otn of otns) expect({ otn, state: (await order(otn))!.state }).toEqual({ otn, state: 'DELIVERED' });
    for (const p of players) expect({ p, inv: await inventory(p) }).toEqual({ p, inv: bought.has(p) ? { gems: bought.get(p) } : {} });
  }, 60_000);
});

describe('the HTTP access route', () => {
  const token = () => cloud().functionEnv.WX_PUSH_TOKEN!;
  const aesKey = () => cloud().functionEnv.WX_PUSH_AES_KEY!;
  const url = (q: Record<string, string>) => `${cloud().url}/http/paymentNotify?${new URLSearchParams(q)}`;
  const nowTs = (offsetS = 0) => String(Math.floor(Date.now() / 1000) + offsetS);

  test('the URL check echoes echostr for the right Token and refuses another', async () => {
    const q = { timestamp: nowTs(), nonce: 'n0nce', echostr: 'hello-echo' };
    const ok = await fetch(url({ ...q, signature: sha1Sorted([token(), q.timestamp, q.nonce]) }));
    expect([ok.status, await ok.text()]).toEqual([200, 'hello-echo']);
    const bad = await fetch(url({ ...q, signature: sha1Sorted(['not-the-token', q.timestamp, q.nonce]) }));
    expect(bad.status).toBe(403);
  });

  async function bought(): Promise<{ openid: string; otn: string; envelope: Record<string, unknown> }> {
    const openid = newOpenid();
    await login(openid);
    cloud().pushes.injectFault({ kind: 'drop' });
    const otn = await buy(openid, { kind: 'item', productId: 'gems_60' });
    return { openid, otn, envelope: cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', itemPayload(openid, otn, 'gems_60')) };
  }

  test('a captured signature replayed later (a timestamp outside ±5 min) is refused, and the log says why', async () => {
    const { otn, envelope } = await bought();
    for (const offset of [-301, 301]) {
      const q = { timestamp: nowTs(offset), nonce: 'old' };
      const res = await fetch(url({ ...q, signature: sha1Sorted([token(), q.timestamp, q.nonce]) }), { method: 'POST', body: JSON.stringify(envelope) });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { ErrMsg: string }).ErrMsg).toMatch(/timestamp .* outside ±300 s/);
    }
    expect((await order(otn))!.state).toBe('PENDING');
    expect(cloud().runner.logs).toMatch(/"event":"push_refused","route":"http","why":"timestamp is -?\d+ s from now/);
  });

  test('junk from a player (an HTTP-shaped event with an object body) is refused cleanly, never INTERNAL', async () => {
    const openid = newOpenid();
    const r = await cloud().invoke('paymentNotify', { httpMethod: 'POST', body: { a: 1 }, isBase64Encoded: true }, { openid });
    expect(r.error).toBeUndefined();
    expect(r.result).toEqual({ ErrCode: 99999, ErrMsg: 'pushes come from WeChat, not from a client' });
    // The same junk on the HTTP route (not a client): a clean 400.
    const http = await cloud().invoke('paymentNotify', { httpMethod: 'POST', body: { a: 1 }, isBase64Encoded: true, queryStringParameters: { timestamp: nowTs(), nonce: 'n', signature: 'x' } }, { source: 'tcb_http' });
    expect(http.result).toMatchObject({ statusCode: 400 });
  });

  test('a plain POST with the Token’s signature is delivered', async () => {
    const { openid, otn, envelope } = await bought();
    const q = { timestamp: nowTs(), nonce: 'abc' };
    const res = await fetch(url({ ...q, signature: sha1Sorted([token(), q.timestamp, q.nonce]) }), { method: 'POST', body: JSON.stringify(envelope) });
    expect(await res.json()).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    expect((await order(otn))!.state).toBe('DELIVERED');
    expect(await inventory(openid)).toEqual({ gems: 60 });
  });

  test('safe mode: AES with 32-byte PKCS#7 padding longer than 16 bytes is decrypted and delivered; a wrong msg_signature is refused', async () => {
    const { openid, otn, envelope } = await bought();
    let message = JSON.stringify(envelope);
    const appid = cloud().app.appid;
    // Pad the JSON with spaces so that WeChat's padding (to 32 bytes) is longer than 16.
    while (32 - ((20 + Buffer.byteLength(message) + appid.length) % 32) <= 16) message += ' ';
    const pad = 32 - ((20 + Buffer.byteLength(message) + appid.length) % 32);
    expect(pad).toBeGreaterThan(16);
    const Encrypt = encrypt(aesKey(), message, appid);
    const q = { timestamp: nowTs(), nonce: 'xyz', encrypt_type: 'aes' };
    const signature = sha1Sorted([token(), q.timestamp, q.nonce]);
    const wrong = await fetch(url({ ...q, signature, msg_signature: sha1Sorted([token(), q.timestamp, q.nonce, `${Encrypt}x`]) }), { method: 'POST', body: JSON.stringify({ ToUserName: 'gh', Encrypt }) });
    expect(wrong.status).toBe(403);
    expect((await order(otn))!.state).toBe('PENDING');
    const res = await fetch(url({ ...q, signature, msg_signature: sha1Sorted([token(), q.timestamp, q.nonce, Encrypt]) }), { method: 'POST', body: JSON.stringify({ ToUserName: 'gh', Encrypt }) });
    expect(await res.json()).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
    expect(await inventory(openid)).toEqual({ gems: 60 });
  });
});
