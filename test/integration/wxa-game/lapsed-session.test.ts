/**
 * 2.0 signs every call with the player's session_key, and WeChat may expire it at any moment
 * (90016). A call refused for the session proves nothing about an earlier attempt of the same
 * bill that may have gone through: through the real wx-server-sdk in this process, the session
 * expires right after an attempt that was applied and answered with an error.
 */
import type { CoinApi } from '../../../shared/ledger/coin-api';
import type { WxCloud } from '../../../shared/edge/wx-server-sdk';
import { paymentDeps, placeOrder } from '../../../shared/ledger/exactly-once';
import type { Order } from '../../../shared/ledger/order-store';
import { loadConfig } from '../../../shared/midas-v1/settings';
import { coinApiFor } from '../../../shared/wiring/coin-api';
import type { LocalCloud } from '../../emulator/local-cloud';
import { call, newOpenid, useInProcessSdk } from '../helpers';

const sdk = useInProcessSdk({ midasApi: 'v2' }, 'pay');
let local: LocalCloud;
let cloud: WxCloud;
beforeAll(() => ({ local, cloud } = sdk()));
afterEach(() => local.clearFaults());

const login = (openid: string) => call(local, 'login', { code: local.wechat.wxLogin(openid) }, { openid });
const orders = async () => (await local.database.all('midas_orders')) as unknown as Order[];
const NOW = { MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_MAX_CLOCK_SKEW_MS: '0' };

test.each([
  ['pay', { amt: 30, idempotencyKey: 'lapse-pay' }, 70],
  ['present', { presentCounts: 30, idempotencyKey: 'lapse-gift' }, 130],
] as const)('%s: applied, its answer lost, then the session expires: UNKNOWN, never FAILED; completed once after the next login', async (kind, request, after) => {
  const openid = newOpenid();
  await login(openid);
  local.wxa.topUp('sandbox', openid, 100);
  const settings = loadConfig({ ...local.functionEnv, MIDAS_TIME_BUDGET_MS: '1500' });
  const caller = kind === 'pay' ? { openid, appid: local.functionEnv.MIDAS_APPID, source: ['wx_client'] } : { source: ['scf'] };
  const ctx = { cloud, caller, settings, log: () => undefined };
  const api = coinApiFor(ctx);
  let sends = 0;
  const expiring: CoinApi = {
    ...api,
    // The first attempt goes through at Midas and its answer is lost; then WeChat expires the session.
    send: async (op, c, timeoutMs) => {
      try {
        return await api.send(op, c, timeoutMs);
      } finally {
        if (++sends === 1) local.wxa.expireSession(openid);
      }
    },
  };
  local.injectFault({ op: kind, fault: { kind: 'applyThenBusy' } });
  const event = kind === 'present' ? { ...request, toOpenid: openid } : request;
  const told = (await placeOrder(kind, event, paymentDeps(ctx, expiring)).catch((e: unknown) => e)) as { state?: string; code?: string };
  expect(sends).toBeGreaterThan(1);
  expect(told).toMatchObject({ state: 'UNKNOWN' });
  expect(local.wxa.balance('sandbox', openid)).toBe(after);
  const order = (await orders()).find((o) => o.idempotencyKey === request.idempotencyKey && o.openid === openid)!;
  expect(order.state).toBe('UNKNOWN');

  // No login yet: the reconciler cannot finish it, and says nothing final.
  await call(local, 'reconcile', {}, { source: 'wx_trigger' }, NOW);
  expect((await orders()).find((o) => o._id === order._id)!.state).toBe('UNKNOWN');
  await login(openid);
  await call(local, 'reconcile', {}, { source: 'wx_trigger' }, NOW);
  expect((await orders()).find((o) => o._id === order._id)!.state).toBe('COMPLETED');
  expect(local.wxa.balance('sandbox', openid)).toBe(after);
  expect(local.wxa.journal.filter((j) => j.body.bill_no === order.billNo && j.applied)).toHaveLength(1);
});
