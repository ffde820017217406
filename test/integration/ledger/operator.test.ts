/**
 * The operator script, run as an operator runs it (a separate process with @cloudbase/node-sdk
 * and API keys), against the local cloud's gateway.
 */
import { execFile } from 'child_process';
import path from 'path';
import { promisify } from 'util';
import { ROOT } from '../../emulator/paths';
import { balanceOf, billOf, call, newOpenid, useLocalCloud } from '../helpers';

const cloud = useLocalCloud();

async function orders(...args: string[]): Promise<Record<string, unknown>[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'scripts', 'run.mjs'), 'scripts/orders.ts', ...args, '--json'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      TCB_ENV: cloud().envId,
      TENCENTCLOUD_SECRETID: 'operator-key-id',
      TENCENTCLOUD_SECRETKEY: 'operator-key',
      TCB_SERVICE_URL: `${cloud().url}/admin`,
    },
  });
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('lists stuck orders and resolves them through the reconcile function', async () => {
  const openid = newOpenid();
  cloud().backend.topUp({ env: 'sandbox', openid }, 100);
  cloud().injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 1000 });
  const stuck = await call(cloud(), 'pay', { amt: 10 }, { openid }, { MIDAS_TIME_BUDGET_MS: '400' });
  cloud().backend.clearFaults();
  const billNo = billOf(stuck);

  const listed = await orders('list');
  expect(listed).toContainEqual(expect.objectContaining({ orderId: billNo, kind: 'pay', state: 'UNKNOWN', openid, amount: 10, lastError: 'MIDAS_BUSY' }));

  const resolved = await orders('resolve', billNo);
  expect(resolved).toEqual([{ orderId: billNo, from: 'UNKNOWN', to: 'COMPLETED' }]);
  expect(balanceOf(cloud(), openid)).toBe(90);
  expect(await orders('list')).not.toContainEqual(expect.objectContaining({ orderId: billNo }));
  expect(await orders('list', '--state', 'COMPLETED')).toContainEqual(expect.objectContaining({ orderId: billNo, state: 'COMPLETED' }));
}, 60_000);

test('flagged: lists every flag of coin purchases (a cancelled sword that cannot be taken back), with its reason', async () => {
  const openid = newOpenid();
  cloud().backend.topUp({ env: 'sandbox', openid }, 100);
  const bought = await call(cloud(), 'buyWithCoins', { productId: 'sword_basic', idempotencyKey: 'flag-me' }, { openid });
  expect((await call(cloud(), 'cancelPay', { billNo: billOf(bought) }, { source: 'scf' })).ok).toBe(true);
  const flags = await orders('flagged');
  expect(flags).toContainEqual(expect.objectContaining({ what: 'coin purchase', openid, reason: 'cancel_not_revocable', state: 'CANCELLED' }));
}, 60_000);
