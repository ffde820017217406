/**
 * The local cloud keeps its database and Midas accounts across restarts (as `npm start` does).
 */
import { mkdtempSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import { LocalCloud } from '../../emulator/local-cloud';
import { balanceOf, call, newOpenid } from '../helpers';

test('orders and balances survive a restart; a repeated key after the restart does not charge again', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'midas-local-'));
  const openid = newOpenid();
  try {
    const first = await LocalCloud.start({ dataDir: dir });
    first.backend.topUp({ env: 'sandbox', openid }, 100);
    const paid = await call(first, 'pay', { amt: 30, idempotencyKey: 'before-restart' }, { openid });
    expect(paid).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    await first.close();

    const second = await LocalCloud.start({ dataDir: dir });
    try {
      expect(balanceOf(second, openid)).toBe(70);
      const orders = await second.database.all('midas_orders');
      expect(orders).toEqual([expect.objectContaining({ openid, amount: 30, state: 'COMPLETED', idempotencyKey: 'before-restart' })]);
      const again = await call(second, 'pay', { amt: 30, idempotencyKey: 'before-restart' }, { openid });
      expect(again).toEqual(paid);
      expect(balanceOf(second, openid)).toBe(70);
      expect(second.backend.journal).toEqual([]); // answered from the ledger: nothing sent
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
