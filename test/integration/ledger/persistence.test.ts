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

test('with 2.0 coins everything survives a restart together: balances, the player’s login, paid client orders, pushes, the seed given once', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'midas-local-v2-'));
  const openid = newOpenid();
  try {
    const first = await LocalCloud.start({ dataDir: dir, midasApi: 'v2' });
    expect(first.seedOnce(openid, 1000)).toBe(true);
    expect((await call(first, 'login', { code: first.wechat.wxLogin(openid) }, { openid })).ok).toBe(true);
    const spent = await call(first, 'pay', { amt: 1000, idempotencyKey: 'all-of-it' }, { openid });
    expect(spent).toMatchObject({ ok: true, data: { state: 'COMPLETED', balance: 0 } });
    const pushesBefore = first.pushes.pushes.length;
    await first.close();

    const second = await LocalCloud.start({ dataDir: dir, midasApi: 'v2' });
    try {
      // Spent to 0 and not seeded again; the session_key the server keeps still works with WeChat.
      expect(second.seedOnce(openid, 1000)).toBe(false);
      expect(second.wxa.balance('sandbox', openid)).toBe(0);
      expect(await call(second, 'getBalance', {}, { openid })).toMatchObject({ ok: true, data: { balance: 0 } });
      expect(second.pushes.pushes.length).toBe(pushesBefore);
      // The console's history of each order too.
      const orderId = (spent as unknown as { data: { orderId: string } }).data.orderId;
      expect(second.database.stateHistory('midas_orders', orderId).map((h) => h.state)).toEqual(['PENDING', 'COMPLETED']);
      expect(second.knownPlayers.has(openid)).toBe(true);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second local cloud on a data folder in use is refused, naming the process; once closed, the folder is free', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'midas-local-lock-'));
  try {
    const first = await LocalCloud.start({ dataDir: dir });
    await expect(LocalCloud.start({ dataDir: dir })).rejects.toThrow(new RegExp(`data folder .* is in use by process ${process.pid} \\(${first.url.replace(/[.]/g, '\\.')}\\)`));
    await first.close();
    const again = await LocalCloud.start({ dataDir: dir });
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
