/**
 * `MIDAS_RECONCILE_PAY_POLICY=refund`, through the real wx-server-sdk in this process against the
 * local cloud: a pay whose outcome was unknown is found applied by the reconciler and given back.
 * A repeat of that pay, arriving at the moment the reconciler writes what Midas said, must never
 * be told the pay was kept: a game that grants on `COMPLETED` would grant an item whose coins are
 * then given back.
 */
import type { WxCloud } from '../../../shared/edge/wx-server-sdk';
import { paymentDeps, placeOrder } from '../../../shared/ledger/exactly-once';
import type { Order } from '../../../shared/ledger/order-store';
import { reconcile } from '../../../shared/ledger/reconciler';
import { loadConfig } from '../../../shared/midas-v1/settings';
import { loadCoinConfig } from '../../../shared/purchases/settings';
import { coinApiFor, coinPaymentDeps } from '../../../shared/wiring/coin-api';
import type { LocalCloud } from '../../emulator/local-cloud';
import { call, newOpenid, useInProcessSdk } from '../helpers';

describe.each(['v1', 'v2'] as const)('with MIDAS_API=%s', (api) => {
  const sdk = useInProcessSdk({ midasApi: api }, 'reconcile');
  let local: LocalCloud;
  let cloud: WxCloud;
  beforeAll(() => ({ local, cloud } = sdk()));

  const balance = (openid: string) => (api === 'v2' ? local.wxa.balance('sandbox', openid) : local.backend.balance({ env: 'sandbox', openid }));
  const orders = async () => (await local.database.all('midas_orders')) as unknown as Order[];

  test('a repeat of the pay while the reconciler gives it back is never told it was kept; the coins come back once', async () => {
    const openid = newOpenid();
    if (api === 'v2') await call(local, 'login', { code: local.wechat.wxLogin(openid) }, { openid });
    if (api === 'v2') local.wxa.topUp('sandbox', openid, 100);
    else local.backend.topUp({ env: 'sandbox', openid }, 100);

    // Applied at Midas, every answer lost: the player is told it is resolving.
    local.injectFault({ op: 'pay', fault: { kind: 'applyThenBusy' } });
    local.injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 1000 });
    const first = await call(local, 'pay', { amt: 30, idempotencyKey: 'policy-1' }, { openid }, { MIDAS_TIME_BUDGET_MS: '400' });
    expect(first).toMatchObject({ ok: true, data: { state: 'UNKNOWN' } });
    local.clearFaults();
    const orderId = (first as unknown as { data: { orderId: string } }).data.orderId;

    const player = loadConfig(local.functionEnv);
    const playerCtx = { cloud, caller: { openid, appid: local.functionEnv.MIDAS_APPID, source: ['wx_client'] }, settings: player, log: () => undefined };
    const playerDeps = paymentDeps(playerCtx, coinApiFor(playerCtx));

    const settings = loadCoinConfig({ ...local.functionEnv, MIDAS_RECONCILE_PAY_POLICY: 'refund', MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0' });
    const deps = coinPaymentDeps({ cloud, caller: { source: ['wx_trigger'] }, settings, log: () => undefined });
    // The moment the reconciler writes the pay's outcome, the player repeats the pay.
    const repeats: unknown[] = [];
    const ledger = Object.assign(Object.create(deps.ledger) as typeof deps.ledger, {
      async update(...args: Parameters<typeof deps.ledger.update>) {
        const ok = await deps.ledger.update(...args);
        const [id, , patch] = args;
        if (ok && id === orderId && patch.state !== undefined && patch.state !== 'PENDING' && repeats.length === 0) {
          repeats.push(await placeOrder('pay', { amt: 30, idempotencyKey: 'policy-1' }, playerDeps).catch((e: unknown) => e));
        }
        return ok;
      },
    });
    await reconcile({ orderIds: [orderId] }, { ...deps, ledger });

    expect(repeats).toHaveLength(1);
    const told = repeats[0] as { state?: string; refunded?: number };
    // Told it is being given back (v1: CANCELLING; 2.0: COMPLETED with the refunded coins), never kept.
    expect(told.state === 'COMPLETED' && !told.refunded).toBe(false);
    expect(balance(openid)).toBe(100);
    const pay = (await orders()).find((o) => o._id === orderId)!;
    if (api === 'v1') expect(pay.state).toBe('CANCELLED');
    else expect((await orders()).filter((o) => o.refundOf === orderId && o.state === 'COMPLETED').map((o) => o.amount)).toEqual([30]);
    // The repeat now says it was given back.
    const after = (await placeOrder('pay', { amt: 30, idempotencyKey: 'policy-1' }, playerDeps)) as { state: string; refunded?: number };
    expect(api === 'v1' ? after.state : after.refunded).toBe(api === 'v1' ? 'CANCELLED' : 30);
  });

  if (api === 'v2') {
    test('2.0: a give-back cut short after the pay was completed with its refund reserved is finished by the next run', async () => {
      const openid = newOpenid();
      await call(local, 'login', { code: local.wechat.wxLogin(openid) }, { openid });
      local.wxa.topUp('sandbox', openid, 100);
      local.injectFault({ op: 'pay', fault: { kind: 'applyThenBusy' } });
      local.injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 1000 });
      const first = await call(local, 'pay', { amt: 30, idempotencyKey: 'policy-2' }, { openid }, { MIDAS_TIME_BUDGET_MS: '400' });
      const orderId = (first as unknown as { data: { orderId: string } }).data.orderId;
      local.clearFaults();
      const policy = { MIDAS_RECONCILE_PAY_POLICY: 'refund', MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0' };
      // The refund order's inserts are refused: the pay is COMPLETED with the refund reserved, nothing refunded yet.
      local.database.injectFault({ kind: 'refuse', collection: 'midas_orders', action: 'database.insertDocument', times: 10 });
      expect(await call(local, 'reconcile', { orderIds: [orderId] }, { source: 'wx_trigger' }, policy)).toMatchObject({ ok: true });
      expect((await orders()).find((o) => o._id === orderId)).toMatchObject({ state: 'COMPLETED', refundReserved: 30, grantOpen: true });
      expect(balance(openid)).toBe(70);
      expect(await call(local, 'pay', { amt: 30, idempotencyKey: 'policy-2' }, { openid })).toMatchObject({ ok: true, data: { state: 'COMPLETED', refunded: 30 } });
      local.database.clearFaults();
      expect(await call(local, 'reconcile', {}, { source: 'wx_trigger' }, policy)).toMatchObject({ ok: true });
      expect(balance(openid)).toBe(100);
      expect((await orders()).find((o) => o._id === orderId)).toMatchObject({ state: 'COMPLETED', refundReserved: 30, grantOpen: false });
      expect((await orders()).filter((o) => o.refundOf === orderId).map((o) => [o.state, o.amount])).toEqual([['COMPLETED', 30]]);
      // Another run changes nothing.
      await call(local, 'reconcile', {}, { source: 'wx_trigger' }, policy);
      expect(balance(openid)).toBe(100);
    });
  }
});
