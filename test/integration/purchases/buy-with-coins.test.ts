/**
 * Spending coins through the built bundles: `buyWithCoins` charges the server's coin price once
 * and grants the product once, under faults, in v1 and with MIDAS_API=v2; `cancelPay` is for
 * trusted callers only, and a cancelled purchase loses its revocable grants or is flagged.
 */
import type { Order } from '../../../shared/ledger/order-store';
import type { MidasEnv } from '../../../shared/midas-v1/operation-table';
import { call, newOpenid, useLocalCloud } from '../helpers';

const SCF = { source: 'scf' };
const RECONCILE_NOW = { MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0' };

describe.each(['v1', 'v2'] as const)('with MIDAS_API=%s', (api) => {
  const cloud = useLocalCloud({ midasApi: api });
  afterEach(() => {
    cloud().clearFaults();
    cloud().database.clearFaults();
  });

  async function player(coins: number, env: MidasEnv = 'sandbox'): Promise<string> {
    const openid = newOpenid();
    if (api === 'v2') {
      const r = await call(cloud(), 'login', { code: cloud().wechat.wxLogin(openid) }, { openid });
      if (!r.ok) throw new Error(`login: ${r.error.code}`);
      if (coins > 0) cloud().wxa.topUp(env, openid, coins);
    } else if (coins > 0) {
      cloud().backend.topUp({ env, openid }, coins);
    }
    return openid;
  }
  const balance = (openid: string) => (api === 'v2' ? cloud().wxa.balance('sandbox', openid) : cloud().backend.balance({ env: 'sandbox', openid, zoneId: '1' }));
  const paysSent = (billNo: string) =>
    api === 'v2' ? cloud().wxa.journal.filter((j) => j.op === 'pay' && j.body.bill_no === billNo && j.applied).length : cloud().backend.journal.filter((j) => j.op === 'pay' && j.params.bill_no === billNo && j.applied).length;
  async function inventory(openid: string): Promise<Record<string, number>> {
    const doc = ((await cloud().database.all('midas_inventory')) as { _id: string; counters?: Record<string, number> }[]).find((d) => d._id === `sandbox:${openid}`);
    return doc?.counters ?? {};
  }
  async function order(id: string): Promise<Order> {
    return ((await cloud().database.all('midas_orders')) as unknown as Order[]).find((o) => o._id === id)!;
  }
  const buy = (openid: string, data: Record<string, unknown>) => call(cloud(), 'buyWithCoins', data, { openid });
  const dataOf = (r: unknown) => (r as { data: Record<string, unknown> & { orderId: string; billNo: string } }).data;

  test('the sword for 60 coins: charged the catalogue price once, granted once, DELIVERED; a repeat answers the same', async () => {
    const openid = await player(100);
    const r = await buy(openid, { productId: 'sword_basic', idempotencyKey: 'sword-1' });
    expect(r).toMatchObject({ ok: true, data: { state: 'DELIVERED', resolving: false, grant: 'DELIVERED', productId: 'sword_basic', quantity: 1, coins: 60, balance: 40 } });
    expect(balance(openid)).toBe(40);
    expect(await inventory(openid)).toEqual({ sword_basic: 1 });
    const again = await buy(openid, { productId: 'sword_basic', idempotencyKey: 'sword-1' });
    expect(dataOf(again)).toMatchObject({ orderId: dataOf(r).orderId, billNo: dataOf(r).billNo, state: 'DELIVERED' });
    expect(balance(openid)).toBe(40);
    expect(await inventory(openid)).toEqual({ sword_basic: 1 });
    expect(paysSent(dataOf(r).billNo)).toBe(1);
    // The same key for another product is another request: refused, nothing charged.
    expect(await buy(openid, { productId: 'gems_60', idempotencyKey: 'sword-1' })).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    // A raw pay with the same key is another order (keys of coin purchases are their own).
    const raw = await call(cloud(), 'pay', { amt: 1, idempotencyKey: 'sword-1' }, { openid });
    expect(raw).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(dataOf(raw).orderId).not.toBe(dataOf(r).orderId);
    // myOrders lists the coin purchase beside the money orders.
    const mine = await call(cloud(), 'myOrders', {}, { openid });
    expect(mine).toMatchObject({ ok: true, data: { orders: [], coinOrders: [{ orderId: dataOf(r).orderId, productId: 'sword_basic', state: 'DELIVERED', coins: 60 }], inventory: { sword_basic: 1 } } });
  });

  test('quantity multiplies the price and the grants; concurrent copies charge and grant once', async () => {
    const openid = await player(500);
    const rs = await Promise.all([0, 1, 2].map(() => buy(openid, { productId: 'gems_60', quantity: 3, idempotencyKey: 'gems-x3' })));
    for (const r of rs) expect(r.ok).toBe(true);
    const ids = new Set(rs.map((r) => dataOf(r).orderId));
    expect(ids.size).toBe(1);
    // Every copy ends DELIVERED, or resolving while another copy grants; a later repeat is final.
    const final = await buy(openid, { productId: 'gems_60', quantity: 3, idempotencyKey: 'gems-x3' });
    expect(final).toMatchObject({ ok: true, data: { state: 'DELIVERED', coins: 150 } });
    expect(balance(openid)).toBe(350);
    expect(await inventory(openid)).toEqual({ gems: 180 });
  });

  test('too few coins: INSUFFICIENT_BALANCE, nothing charged, nothing granted, the order says so', async () => {
    const openid = await player(10);
    const r = await buy(openid, { productId: 'sword_basic', idempotencyKey: 'poor-1' });
    expect(r).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_BALANCE' } });
    expect(balance(openid)).toBe(10);
    expect(await inventory(openid)).toEqual({});
    const o = ((await cloud().database.all('midas_orders')) as unknown as Order[]).find((x) => x.openid === openid)!;
    expect(o).toMatchObject({ state: 'FAILED', grant: 'NONE', grantOpen: false });
  });

  test('bad requests name the field and change nothing; prices never come from the client', async () => {
    const openid = await player(100);
    const cases: [Record<string, unknown>, string, string][] = [
      [{ productId: 'sword_basic' }, 'VALIDATION_FAILED', 'idempotencyKey'],
      [{ productId: 'sword_basic', idempotencyKey: 'k1', amt: 1 }, 'VALIDATION_FAILED', 'amt'],
      [{ productId: 'sword_basic', idempotencyKey: 'k1', coinPrice: 1 }, 'VALIDATION_FAILED', 'coinPrice'],
      [{ productId: 'sword_basic', idempotencyKey: 'k1', openid: 'oSomeoneElse1' }, 'VALIDATION_FAILED', 'openid'],
      [{ productId: 'sword_basic', idempotencyKey: 'k1', quantity: 0 }, 'VALIDATION_FAILED', 'quantity'],
      [{ productId: 'sword_basic', idempotencyKey: 'k1', constructor: 1 }, 'VALIDATION_FAILED', 'constructor'],
      [{ productId: 'no_such_thing', idempotencyKey: 'k1' }, 'PRODUCT_NOT_FOUND', 'productId'],
      [{ productId: 'vip_month', idempotencyKey: 'k1' }, 'PRODUCT_NOT_FOUND', 'productId'],
    ];
    for (const [data, code, field] of cases) expect(await buy(openid, data)).toMatchObject({ ok: false, error: { code, field } });
    expect(balance(openid)).toBe(100);
    expect(((await cloud().database.all('midas_orders')) as unknown as Order[]).filter((o) => o.openid === openid)).toEqual([]);
  });

  test('players never cancel: cancelPay from a client is FORBIDDEN and sends nothing, even for their own pay', async () => {
    const openid = await player(100);
    const r = await buy(openid, { productId: 'sword_basic', idempotencyKey: 'keep-1' });
    const paid = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'raw-1' }, { openid });
    for (const billNo of [dataOf(r).billNo, dataOf(paid).billNo]) {
      expect(await call(cloud(), 'cancelPay', { billNo }, { openid })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      // A function called by the client is still the client's call when SOURCE ends with the client.
      expect(await call(cloud(), 'cancelPay', { billNo }, { openid, source: 'scf,wx_client' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    expect(balance(openid)).toBe(30);
    expect(await inventory(openid)).toEqual({ sword_basic: 1 });
  });

  test('a trusted cancel of a granted revocable purchase gives the coins back and takes the gems back', async () => {
    const openid = await player(100);
    const r = await buy(openid, { productId: 'gems_60', idempotencyKey: 'gems-c' });
    expect(await inventory(openid)).toEqual({ gems: 60 });
    const c = await call(cloud(), 'cancelPay', { billNo: dataOf(r).billNo }, SCF);
    expect(c.ok).toBe(true);
    expect(balance(openid)).toBe(100);
    expect(await inventory(openid)).toEqual({ gems: 0 });
    expect(await order(dataOf(r).orderId)).toMatchObject({ grant: 'REVOKED', grantOpen: false });
    expect(await call(cloud(), 'myOrders', {}, { openid })).toMatchObject({ ok: true, data: { coinOrders: [{ state: 'CANCELLED', grant: 'REVOKED' }] } });
    // Cancelling again takes nothing more.
    await call(cloud(), 'cancelPay', { billNo: dataOf(r).billNo }, SCF);
    expect(balance(openid)).toBe(100);
    expect(await inventory(openid)).toEqual({ gems: 0 });
  });

  test('a trusted cancel of a non-revocable item gives the coins back and flags the order for an operator', async () => {
    const openid = await player(100);
    const r = await buy(openid, { productId: 'sword_basic', idempotencyKey: 'sword-c' });
    expect((await call(cloud(), 'cancelPay', { billNo: dataOf(r).billNo }, SCF)).ok).toBe(true);
    expect(balance(openid)).toBe(100);
    expect(await inventory(openid)).toEqual({ sword_basic: 1 });
    const o = await order(dataOf(r).orderId);
    expect(o).toMatchObject({ grant: 'FLAGGED', grantOpen: false });
    expect(o.flags).toEqual([expect.objectContaining({ reason: 'cancel_not_revocable', details: expect.objectContaining({ productId: 'sword_basic', coins: 60 }) })]);
  });

  if (api === 'v2') {
    test('2.0: a coin purchase is refunded whole, never in part', async () => {
      const openid = await player(100);
      const r = await buy(openid, { productId: 'gems_60', idempotencyKey: 'gems-p' });
      const part = await call(cloud(), 'cancelPay', { billNo: dataOf(r).billNo, amount: 10, idempotencyKey: 'part' }, SCF);
      expect(part).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field: 'amount' } });
      expect(balance(openid)).toBe(50);
      expect(await inventory(openid)).toEqual({ gems: 60 });
    });
  }

  if (api === 'v2') {
    test('2.0: a cancel cut short after its refund was reserved (the refund order not written) is finished by the reconciler: coins back, gems taken back', async () => {
      const openid = await player(100);
      const r = await buy(openid, { productId: 'gems_60', idempotencyKey: 'cut-1' });
      expect(await inventory(openid)).toEqual({ gems: 60 });
      cloud().database.injectFault({ kind: 'refuse', collection: 'midas_orders', action: 'database.insertDocument' });
      const c = await call(cloud(), 'cancelPay', { billNo: dataOf(r).billNo }, SCF);
      expect(c).toMatchObject({ ok: false, error: { code: 'LEDGER_UNAVAILABLE' } });
      expect(balance(openid)).toBe(50);
      // The share is reserved on the pay, and no refund order exists yet.
      expect(await order(dataOf(r).orderId)).toMatchObject({ refundReserved: 50, grantOpen: true, grant: 'DELIVERED' });
      cloud().database.clearFaults();
      const rec = await call(cloud(), 'reconcile', {}, SCF, RECONCILE_NOW);
      expect(rec).toMatchObject({ ok: true, data: { granted: expect.arrayContaining([{ orderId: dataOf(r).orderId, grant: 'REVOKED' }]) } });
      expect(balance(openid)).toBe(100);
      expect(await inventory(openid)).toEqual({ gems: 0 });
      expect(await order(dataOf(r).orderId)).toMatchObject({ grant: 'REVOKED', grantOpen: false });
      // The same cancel again is the same refund: nothing more moves.
      await call(cloud(), 'cancelPay', { billNo: dataOf(r).billNo }, SCF);
      expect(balance(openid)).toBe(100);
      expect(cloud().wxa.journal.filter((j) => j.op === 'cancelpay' && j.applied && j.body.pay_bill_no === dataOf(r).billNo)).toHaveLength(1);
    });
  }

  if (api === 'v2') {
    test('2.0: a cut-short cancel found only after the refund window closed is given up: the share goes back, the item stays, an operator is told', async () => {
      const openid = await player(100);
      const r = await buy(openid, { productId: 'gems_60', idempotencyKey: 'late-1' });
      cloud().database.injectFault({ kind: 'refuse', collection: 'midas_orders', action: 'database.insertDocument' });
      expect(await call(cloud(), 'cancelPay', { billNo: dataOf(r).billNo }, SCF)).toMatchObject({ ok: false, error: { code: 'LEDGER_UNAVAILABLE' } });
      cloud().database.clearFaults();
      // The reconciler runs 48 h later (its clock): the pay can no longer be refunded.
      const late = { ...RECONCILE_NOW, EMULATOR_CLOCK_OFFSET_MS: String(48 * 3600_000) };
      await call(cloud(), 'reconcile', {}, SCF, late);
      const o = await order(dataOf(r).orderId);
      expect(o).toMatchObject({ state: 'COMPLETED', grant: 'DELIVERED', grantOpen: false, refundReserved: 0 });
      expect(o.flags).toEqual([expect.objectContaining({ reason: 'cancel_expired', details: expect.objectContaining({ coins: 50 }) })]);
      expect(balance(openid)).toBe(50);
      expect(await inventory(openid)).toEqual({ gems: 60 });
      expect(cloud().wxa.journal.filter((j) => j.op === 'cancelpay' && j.body.pay_bill_no === dataOf(r).billNo)).toEqual([]);
    });
  }

  if (api === 'v2') {
    test('2.0: a cancel whose refund is still unknown after 47 h is flagged for an operator, and the purchase no longer waits for it', async () => {
      const openid = await player(100);
      const r = await buy(openid, { productId: 'gems_60', idempotencyKey: 'unknown-refund' });
      cloud().injectFault({ op: 'cancelPay', fault: { kind: 'busy' }, times: 1000 });
      await call(cloud(), 'cancelPay', { billNo: dataOf(r).billNo }, SCF, { MIDAS_TIME_BUDGET_MS: '400' });
      await call(cloud(), 'reconcile', {}, SCF, { ...RECONCILE_NOW, EMULATOR_CLOCK_OFFSET_MS: String(48 * 3600_000) });
      const o = await order(dataOf(r).orderId);
      expect(o).toMatchObject({ state: 'COMPLETED', grantOpen: false });
      expect(o.flags).toEqual([expect.objectContaining({ reason: 'refund_expired', details: expect.objectContaining({ coins: 50 }) })]);
      expect(await inventory(openid)).toEqual({ gems: 60 });
      // Looked at again (a repeat of the purchase, another run): flagged once.
      await buy(openid, { productId: 'gems_60', idempotencyKey: 'unknown-refund' });
      await call(cloud(), 'reconcile', {}, SCF, { ...RECONCILE_NOW, EMULATOR_CLOCK_OFFSET_MS: String(48 * 3600_000) });
      expect((await order(dataOf(r).orderId)).flags).toHaveLength(1);
    });
  }

  if (api === 'v2') {
    test('2.0: a purchase refused for a lapsed login, repeated after the next login, is charged and granted once', async () => {
      const openid = await player(100);
      cloud().wxa.expireSession(openid);
      expect(await buy(openid, { productId: 'gems_60', idempotencyKey: 'relog-1' })).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
      expect(balance(openid)).toBe(100);
      await call(cloud(), 'login', { code: cloud().wechat.wxLogin(openid) }, { openid });
      const again = await buy(openid, { productId: 'gems_60', idempotencyKey: 'relog-1' });
      expect(again).toMatchObject({ ok: true, data: { state: 'DELIVERED', grant: 'DELIVERED' } });
      expect(balance(openid)).toBe(50);
      expect(await inventory(openid)).toEqual({ gems: 60 });
      expect(await order(dataOf(again).orderId)).toMatchObject({ state: 'COMPLETED', grant: 'DELIVERED', grantOpen: false });
    });
  }

  if (api === 'v2') {
    test('2.0: a cancel refused because the player’s login lapsed is finished by the reconciler after the next login: coins back, gems taken back', async () => {
      const openid = await player(100);
      const r = await buy(openid, { productId: 'gems_60', idempotencyKey: 'lapsed-1' });
      cloud().wxa.expireSession(openid);
      expect(await call(cloud(), 'cancelPay', { billNo: dataOf(r).billNo }, SCF)).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
      expect(await inventory(openid)).toEqual({ gems: 60 });
      await call(cloud(), 'reconcile', {}, SCF, RECONCILE_NOW);
      expect(balance(openid)).toBe(50);
      expect(await order(dataOf(r).orderId)).toMatchObject({ grant: 'DELIVERED', grantOpen: true });
      await call(cloud(), 'login', { code: cloud().wechat.wxLogin(openid) }, { openid });
      await call(cloud(), 'reconcile', {}, SCF, RECONCILE_NOW);
      expect(balance(openid)).toBe(100);
      expect(await inventory(openid)).toEqual({ gems: 0 });
      expect(await order(dataOf(r).orderId)).toMatchObject({ grant: 'REVOKED', grantOpen: false });
    });
  }

  test('the grant fails after the pay (the inventory write is refused): resolving, then the reconciler grants it once', async () => {
    const openid = await player(100);
    cloud().database.injectFault({ kind: 'refuse', collection: 'midas_inventory', action: 'database.modifyDocument', times: 10 });
    const r = await buy(openid, { productId: 'gems_60', idempotencyKey: 'slow-1' });
    expect(r).toMatchObject({ ok: true, data: { state: 'RESOLVING', resolving: true, grant: 'PENDING' } });
    expect(balance(openid)).toBe(50);
    expect(await inventory(openid)).toEqual({});
    expect(await order(dataOf(r).orderId)).toMatchObject({ state: 'COMPLETED', grant: 'PENDING', grantOpen: true });
    cloud().database.clearFaults();
    const rec = await call(cloud(), 'reconcile', {}, SCF, RECONCILE_NOW);
    expect(rec).toMatchObject({ ok: true, data: { granted: expect.arrayContaining([{ orderId: dataOf(r).orderId, grant: 'DELIVERED' }]) } });
    expect(await inventory(openid)).toEqual({ gems: 60 });
    await call(cloud(), 'reconcile', {}, SCF, RECONCILE_NOW);
    expect(await buy(openid, { productId: 'gems_60', idempotencyKey: 'slow-1' })).toMatchObject({ ok: true, data: { state: 'DELIVERED' } });
    expect(await inventory(openid)).toEqual({ gems: 60 });
    expect(balance(openid)).toBe(50);
  });

  test('the grant lands but its answer is lost: DELIVERED at once, granted once', async () => {
    const openid = await player(100);
    cloud().database.injectFault({ kind: 'lostAnswer', collection: 'midas_inventory', action: 'database.modifyDocument' });
    const r = await buy(openid, { productId: 'gems_60', idempotencyKey: 'lost-1' });
    expect(r).toMatchObject({ ok: true, data: { state: 'DELIVERED' } });
    expect(await inventory(openid)).toEqual({ gems: 60 });
  });

  test('the pay’s outcome is unknown (Midas busy to the end): resolving, nothing granted; the reconciler pays and grants once', async () => {
    const openid = await player(100);
    cloud().injectFault({ op: 'pay', fault: { kind: 'applyThenBusy' } });
    cloud().injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 100 });
    const r = await call(cloud(), 'buyWithCoins', { productId: 'gems_60', idempotencyKey: 'unk-1' }, { openid }, { MIDAS_TIME_BUDGET_MS: '400' });
    expect(r).toMatchObject({ ok: true, data: { state: 'RESOLVING', resolving: true } });
    expect(await inventory(openid)).toEqual({});
    cloud().clearFaults();
    await call(cloud(), 'reconcile', {}, SCF, RECONCILE_NOW);
    expect(await order(dataOf(r).orderId)).toMatchObject({ state: 'COMPLETED', grant: 'DELIVERED', grantOpen: false });
    expect(await inventory(openid)).toEqual({ gems: 60 });
    expect(balance(openid)).toBe(50);
    expect(paysSent(dataOf(r).billNo)).toBe(1);
  });
});
