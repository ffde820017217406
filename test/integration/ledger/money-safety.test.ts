/**
 * The ways a ledger can lose or double coins that a payment engineer tries first: deployments
 * of two environments sharing one collection, a ledger emptied or moved, a repeat past the bill's
 * validity, instances whose clocks disagree, and an instance that dies as it is reused. Every
 * case runs the built bundles against the local cloud.
 */
import type { Order } from '../../../shared/ledger/order-store';
import type { MidasEnv } from '../../../shared/midas-v1/operation-table';
import { balanceOf, billOf, call, newOpenid, useLocalCloud, waitFor } from '../helpers';

const cloud = useLocalCloud();
afterEach(() => cloud().backend.clearFaults());

const SANDBOX = { MIDAS_ENV: 'sandbox' };
const PRODUCTION = { MIDAS_ENV: 'production' };
const TIMER = { source: 'wx_trigger' };
const HOUR = 3600 * 1000;

async function orders(collection = 'midas_orders'): Promise<Order[]> {
  return (await cloud().database.all(collection)) as unknown as Order[];
}

async function ordersOf(openid: string, collection?: string): Promise<Order[]> {
  return (await orders(collection)).filter((o) => o.openid === openid);
}

/** Rewrites fields of an order in the database, as time passing would. */
async function patchOrder(id: string, fields: Partial<Order>): Promise<void> {
  await cloud().database.handle('database.modifyDocument', {
    collectionName: 'midas_orders',
    query: JSON.stringify({ _id: id }),
    multi: false,
    merge: true,
    data: JSON.stringify({ $set: fields }),
  });
}

function fund(openid: string, coins: number, env: MidasEnv = 'sandbox'): void {
  cloud().backend.topUp({ env, openid }, coins);
}

function sentWithBill(billNo: string) {
  return cloud().backend.journal.filter((j) => j.params.bill_no === billNo);
}

async function reconcile(extraEnv: Record<string, string>, event: Record<string, unknown> = {}) {
  const r = await call(cloud(), 'reconcile', event, TIMER, { MIDAS_RECONCILE_MIN_AGE_MS: '0', ...extraEnv });
  if (!r.ok) throw new Error(`reconcile failed: ${r.error.code}`);
  return r.data as { resolved: { orderId: string; from: string; to: string }[]; skipped: { orderId: string; why: string }[] };
}

describe('1. environments, offers and apps never meet in one ledger', () => {
  test('the same key in production after sandbox is a production order, charged in production', async () => {
    const openid = newOpenid();
    fund(openid, 1000, 'sandbox');
    fund(openid, 1000, 'production');
    const sandbox = await call(cloud(), 'pay', { amt: 600, idempotencyKey: 'vip-2026' }, { openid }, SANDBOX);
    const production = await call(cloud(), 'pay', { amt: 600, idempotencyKey: 'vip-2026' }, { openid }, PRODUCTION);
    expect(sandbox).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(production).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(billOf(production)).not.toBe(billOf(sandbox));
    expect([balanceOf(cloud(), openid, 'sandbox'), balanceOf(cloud(), openid, 'production')]).toEqual([400, 400]);
    const mine = await ordersOf(openid);
    expect(mine.map((o) => o.env).sort()).toEqual(['production', 'sandbox']);
  });

  test('an UNKNOWN sandbox order repeated by a production deployment never sends its bill to production', async () => {
    const openid = newOpenid();
    fund(openid, 1000, 'sandbox');
    fund(openid, 1000, 'production');
    cloud().injectFault({ op: 'pay', env: 'sandbox', fault: { kind: 'busy' }, times: 1000 });
    const first = await call(cloud(), 'pay', { amt: 50, idempotencyKey: 'unknown-1' }, { openid }, { ...SANDBOX, MIDAS_TIME_BUDGET_MS: '400' });
    expect(first).toMatchObject({ ok: true, data: { state: 'UNKNOWN' } });
    cloud().backend.clearFaults();
    const [sandboxOrder] = await ordersOf(openid);
    await patchOrder(sandboxOrder!._id, { leaseUntil: 0 });

    const again = await call(cloud(), 'pay', { amt: 50, idempotencyKey: 'unknown-1' }, { openid }, PRODUCTION);
    expect(again).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(billOf(again)).not.toBe(sandboxOrder!.billNo);
    // The sandbox bill went to the sandbox only; production was charged for its own order once.
    expect(new Set(sentWithBill(sandboxOrder!.billNo).map((j) => j.env))).toEqual(new Set(['sandbox']));
    expect(balanceOf(cloud(), openid, 'production')).toBe(950);
    expect((await ordersOf(openid)).find((o) => o._id === sandboxOrder!._id)).toMatchObject({ env: 'sandbox', state: 'UNKNOWN' });
    // And the production reconciler leaves the sandbox order to the sandbox deployment, in a
    // run over everything open and when asked for that order by name.
    expect((await reconcile(PRODUCTION)).resolved.map((r) => r.orderId)).not.toContain(sandboxOrder!._id);
    const report = await reconcile(PRODUCTION, { orderIds: [sandboxOrder!._id] });
    expect(report.skipped).toContainEqual({ orderId: sandboxOrder!._id, why: 'other_env' });
    expect(new Set(sentWithBill(sandboxOrder!.billNo).map((j) => j.env))).toEqual(new Set(['sandbox']));
  });

  test('a deployment with another offer id neither answers from nor re-sends the orders of this one', async () => {
    const openid = newOpenid();
    fund(openid, 100);
    cloud().injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 1000 });
    const first = await call(cloud(), 'pay', { amt: 5, idempotencyKey: 'offer-1' }, { openid }, { MIDAS_TIME_BUDGET_MS: '400' });
    expect(first).toMatchObject({ ok: true, data: { state: 'UNKNOWN' } });
    cloud().backend.clearFaults();
    const [order] = await ordersOf(openid);
    await patchOrder(order!._id, { leaseUntil: 0 });
    const sent = sentWithBill(order!.billNo).length;
    const OTHER_OFFER = { MIDAS_OFFER_ID: '1450099998' };
    expect((await reconcile(OTHER_OFFER)).resolved.map((r) => r.orderId)).not.toContain(order!._id);
    const report = await reconcile(OTHER_OFFER, { orderIds: [order!._id] });
    expect(report.skipped).toContainEqual({ orderId: order!._id, why: 'other_offer' });
    // The other offer's repeat of the key is its own order (Midas refuses that offer: FAILED), not this one.
    const other = await call(cloud(), 'pay', { amt: 5, idempotencyKey: 'offer-1' }, { openid }, { MIDAS_OFFER_ID: '1450099998' });
    expect(other).toMatchObject({ ok: false });
    expect(sentWithBill(order!.billNo)).toHaveLength(sent);
    expect((await ordersOf(openid)).find((o) => o._id === order!._id)).toMatchObject({ state: 'UNKNOWN' });
  });
});

describe('2. a bill number is unique to its order for all time', () => {
  test('after the ledger moved, the same key is a new bill: charged, never answered by 90012 of the old one', async () => {
    const openid = newOpenid();
    fund(openid, 6000);
    const small = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'buy-1' }, { openid });
    const big = await call(cloud(), 'pay', { amt: 5000, idempotencyKey: 'buy-1' }, { openid }, { MIDAS_LEDGER_COLLECTION: 'midas_orders_moved' });
    expect(small).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(big).toMatchObject({ ok: true, data: { state: 'COMPLETED', amount: 5000 } });
    expect(billOf(big)).not.toBe(billOf(small));
    expect(balanceOf(cloud(), openid)).toBe(990);
    expect(sentWithBill(billOf(big)).map((j) => j.errcode)).toEqual([0]);
  });

  test('two orders with the same key in different ledgers never share a bill', async () => {
    const openid = newOpenid();
    fund(openid, 100);
    const a = await call(cloud(), 'pay', { amt: 1, idempotencyKey: 'k' }, { openid });
    const b = await call(cloud(), 'pay', { amt: 1, idempotencyKey: 'k' }, { openid }, { MIDAS_LEDGER_COLLECTION: 'midas_orders_other' });
    expect(billOf(a)).not.toBe(billOf(b));
    // Within one ledger the key still answers the same order and bill.
    const a2 = await call(cloud(), 'pay', { amt: 1, idempotencyKey: 'k' }, { openid });
    expect(billOf(a2)).toBe(billOf(a));
    expect(balanceOf(cloud(), openid)).toBe(98);
  });
});

describe('3. one 47-hour deadline for every path that sends a bill', () => {
  test.each([47.5, 49])('an UNKNOWN pay %s h old, repeated with its key, is not sent again: EXPIRED', async (hours) => {
    const openid = newOpenid();
    fund(openid, 100);
    cloud().injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 1000 });
    const first = await call(cloud(), 'pay', { amt: 10, idempotencyKey: `late-${hours}` }, { openid }, { MIDAS_TIME_BUDGET_MS: '400' });
    expect(first).toMatchObject({ ok: true, data: { state: 'UNKNOWN' } });
    cloud().backend.clearFaults();
    const [order] = await ordersOf(openid);
    await patchOrder(order!._id, { createdAt: Date.now() - hours * HOUR, leaseUntil: 0 });
    const sent = sentWithBill(order!.billNo).length;

    const again = await call(cloud(), 'pay', { amt: 10, idempotencyKey: `late-${hours}` }, { openid });
    expect(again).toMatchObject({ ok: true, data: { state: 'EXPIRED', resolving: false } });
    expect(sentWithBill(order!.billNo)).toHaveLength(sent);
    expect(balanceOf(cloud(), openid)).toBe(100);
  });

  test('a completed pay 47.5 h old can no longer be cancelled, and nothing is sent', async () => {
    const openid = newOpenid();
    fund(openid, 100);
    const paid = await call(cloud(), 'pay', { amt: 10 }, { openid });
    const [order] = await ordersOf(openid);
    await patchOrder(order!._id, { createdAt: Date.now() - 47.5 * HOUR });
    const c = await call(cloud(), 'cancelPay', { billNo: billOf(paid) }, { source: 'scf' });
    expect(c).toMatchObject({ ok: false, error: { code: 'BILL_ALREADY_CONFIRMED' } });
    expect(cloud().backend.journal.filter((j) => j.op === 'cancelPay' && j.params.bill_no === billOf(paid))).toHaveLength(0);
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('a CANCELLING order 47.5 h old is not re-sent by the reconciler: the pay stands', async () => {
    const openid = newOpenid();
    fund(openid, 100);
    const paid = await call(cloud(), 'pay', { amt: 10 }, { openid });
    cloud().injectFault({ op: 'cancelPay', fault: { kind: 'busy' }, times: 1000 });
    const c = await call(cloud(), 'cancelPay', { billNo: billOf(paid) }, { source: 'scf' }, { MIDAS_TIME_BUDGET_MS: '400' });
    expect(c).toMatchObject({ ok: true, data: { state: 'CANCELLING' } });
    cloud().backend.clearFaults();
    const [order] = await ordersOf(openid);
    await patchOrder(order!._id, { createdAt: Date.now() - 47.5 * HOUR });
    const sent = cloud().backend.journal.filter((j) => j.op === 'cancelPay' && j.params.bill_no === billOf(paid)).length;
    const report = await reconcile({});
    expect(report.resolved).toContainEqual({ orderId: order!._id, from: 'CANCELLING', to: 'COMPLETED' });
    expect(cloud().backend.journal.filter((j) => j.op === 'cancelPay' && j.params.bill_no === billOf(paid))).toHaveLength(sent);
  });
});

describe('4. leases hold with instances whose clocks disagree', () => {
  test.each([5_000, 25_000])('a reconciler %i ms ahead does not take over (or refund) a pay whose call is slow', async (skewMs) => {
    const openid = newOpenid();
    fund(openid, 100);
    const skewed = { EMULATOR_CLOCK_OFFSET_MS: String(skewMs), MIDAS_RECONCILE_PAY_POLICY: 'refund' };
    await reconcile(skewed); // a warm reconciler instance, so it runs while the pay is in flight
    cloud().injectFault({ op: 'pay', fault: { kind: 'delay', ms: 700 } });
    const key = `slow-${skewMs}`;
    const paying = call(cloud(), 'pay', { amt: 10, idempotencyKey: key }, { openid });
    await waitFor('the pay to reach Midas', async () => (await ordersOf(openid)).some((o) => sentWithBill(o.billNo).length > 0 || cloud().gateway.calls.some((c) => c.billNo === o.billNo)));
    const report = await reconcile(skewed);
    const [order] = await ordersOf(openid);
    expect(report.skipped).toContainEqual({ orderId: order!._id, why: 'busy' });
    expect(await paying).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect((await ordersOf(openid))[0]).toMatchObject({ state: 'COMPLETED' });
    expect(cloud().backend.journal.filter((j) => j.op === 'cancelPay' && j.params.bill_no === order!.billNo)).toHaveLength(0);
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('a duplicate request from an instance 25 s ahead waits for the first instead of sending again', async () => {
    const openid = newOpenid();
    fund(openid, 100);
    const ahead = { EMULATOR_CLOCK_OFFSET_MS: '25000' };
    // A warm instance with the skewed clock, so the duplicate arrives while the first is in flight.
    await call(cloud(), 'pay', { amt: 1 }, { openid: newOpenid() }, ahead);
    cloud().injectFault({ op: 'pay', fault: { kind: 'delay', ms: 700 } });
    const first = call(cloud(), 'pay', { amt: 10, idempotencyKey: 'dup-skew' }, { openid });
    await waitFor('the pay to reach Midas', async () => (await ordersOf(openid)).some((o) => cloud().gateway.calls.some((c) => c.billNo === o.billNo)));
    const second = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'dup-skew' }, { openid }, ahead);
    expect(await first).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(second).toMatchObject({ ok: true });
    const [order] = await ordersOf(openid);
    expect(sentWithBill(order!.billNo)).toHaveLength(1);
    expect(balanceOf(cloud(), openid)).toBe(90);
  });
});

describe('5. an instance may die at any moment; the local cloud keeps serving', () => {
  test('an instance killed just as it is reused fails that call, and the next one is served', async () => {
    const openid = newOpenid();
    fund(openid, 10);
    expect(await call(cloud(), 'getBalance', {}, { openid })).toMatchObject({ ok: true });
    expect(cloud().runner.killIdle('getBalance')).toBeGreaterThan(0);
    const dying = await cloud().invoke('getBalance', {}, { openid });
    expect(dying.error?.kind).toBe('crash');
    await new Promise((r) => setTimeout(r, 50));
    expect(await call(cloud(), 'getBalance', {}, { openid })).toMatchObject({ ok: true, data: { balance: 10 } });
  });
});

describe('what a player is told', () => {
  test('a first pay refused for a low balance says so, not "failed earlier"; its repeat says it failed earlier', async () => {
    const openid = newOpenid();
    fund(openid, 5);
    const r = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'low-1' }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_BALANCE' } });
    expect(!r.ok && r.error.message).not.toMatch(/earlier/);
    expect(!r.ok && r.error.message).toMatch(/balance is too low/);
    const again = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'low-1' }, { openid });
    expect(again).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_BALANCE' } });
    expect(!again.ok && again.error.message).toMatch(/earlier/);
  });

  test('a CANCELLED order does not show the balance from before the cancel', async () => {
    const openid = newOpenid();
    fund(openid, 100);
    const paid = await call(cloud(), 'pay', { amt: 10 }, { openid });
    expect(paid).toMatchObject({ ok: true, data: { balance: 90 } });
    const c = await call(cloud(), 'cancelPay', { billNo: billOf(paid) }, { source: 'scf' });
    expect(c).toMatchObject({ ok: true, data: { state: 'CANCELLED' } });
    expect((c as { data: Record<string, unknown> }).data.balance).toBeUndefined();
    expect(balanceOf(cloud(), openid)).toBe(100);
  });
});

describe('the cloud database fails', () => {
  const INSERT = 'database.insertDocument' as const;
  const MODIFY = 'database.modifyDocument' as const;
  afterEach(() => cloud().database.clearFaults());

  test('an insert refused: nothing is sent, nothing charged, the player may retry', async () => {
    const openid = newOpenid();
    fund(openid, 100);
    cloud().database.injectFault({ kind: 'refuse', collection: 'midas_orders', action: INSERT });
    const calls = cloud().gateway.calls.length;
    const r = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'db-1' }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'LEDGER_UNAVAILABLE', retryable: true } });
    expect(cloud().gateway.calls.length).toBe(calls);
    expect(await ordersOf(openid)).toHaveLength(0);
    expect(await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'db-1' }, { openid })).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('an insert applied whose answer is lost is recognised as our own: paid at once, charged once', async () => {
    const openid = newOpenid();
    fund(openid, 100);
    cloud().database.injectFault({ kind: 'lostAnswer', collection: 'midas_orders', action: INSERT });
    const r = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'db-2' }, { openid });
    expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED', resolving: false } });
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('a final write refused: the player is told it is resolving, never a state the ledger does not hold', async () => {
    const openid = newOpenid();
    fund(openid, 100);
    cloud().database.injectFault({ kind: 'refuse', collection: 'midas_orders', action: MODIFY });
    const r = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'db-3' }, { openid });
    expect(r).toMatchObject({ ok: true, data: { resolving: true } });
    const [order] = await ordersOf(openid);
    expect((r as unknown as { data: { state: string } }).data.state).toBe(order!.state);
    // Under the refund policy the reconciler may now refund it, and the player's repeat sees that.
    await patchOrder(order!._id, { leaseUntil: 0 });
    await reconcile({ MIDAS_RECONCILE_PAY_POLICY: 'refund' });
    const again = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'db-3' }, { openid });
    expect(again).toMatchObject({ ok: true, data: { state: 'CANCELLED' } });
    expect(balanceOf(cloud(), openid)).toBe(100);
  });
});
