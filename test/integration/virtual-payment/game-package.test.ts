/**
 * A plain JavaScript mini-game's view: the built package (build/midas-client/index.js), a `wx`
 * from createLocalWx reaching the local cloud over HTTP, one call to buy an item, delivered.
 */
import path from 'path';
import { CLIENT_PACKAGE_DIR } from '../../../scripts/build-lib';
import { newOpenid, useLocalCloud } from '../helpers';

const cloud = useLocalCloud({ midasApi: 'v2' });

// eslint-disable-next-line @typescript-eslint/no-require-imports
const game = require(path.join(CLIENT_PACKAGE_DIR, 'index.js')) as typeof import('../../../client/index');

test('buyItem through createLocalWx: logs in, signs, pays on the sheet, resolves delivered with the inventory', async () => {
  const openid = newOpenid();
  const midas = game.createMidasClient(game.createLocalWx({ url: cloud().url, openid }), { deliveryPollMs: 50 });
  const r = await midas.buyItem('gems_60', 2);
  expect(r).toMatchObject({ totalFen: 1200, delivered: true, status: 'delivered', inventory: { gems: 120 } });
  const coins = await midas.buyCoins(60);
  expect(coins).toMatchObject({ arrived: true });
  expect(cloud().wxa.balance('sandbox', openid)).toBe(60);
});

test('a player who closes the sheet gets PAYMENT_CANCELLED, and nothing is paid', async () => {
  const openid = newOpenid();
  const midas = game.createMidasClient(game.createLocalWx({ url: cloud().url, openid, cancelPayments: true }));
  await expect(midas.buyItem('sword_basic')).rejects.toMatchObject({ code: 'PAYMENT_CANCELLED', errCode: -2 });
  expect([...cloud().wechat.paid.values()].filter((p) => p.openid === openid)).toHaveLength(0);
});

test('with 2.0 coins, a player who never logged in can read the balance and buy coins first: the helper logs in once', async () => {
  const openid = newOpenid();
  const midas = game.createMidasClient(game.createLocalWx({ url: cloud().url, openid }), { pollIntervalMs: 50, pollMaxMs: 2000 });
  expect(await midas.getBalance()).toMatchObject({ balance: 0 });
  const fresh = game.createMidasClient(game.createLocalWx({ url: cloud().url, openid: newOpenid() }), { pollIntervalMs: 50, pollMaxMs: 2000 });
  const coins = await fresh.buyCoins(60);
  expect(coins).toMatchObject({ arrived: true, balance: { balance: 60 } });
});

test('buyWithCoins through the package: coins bought on the sheet, then spent on the sword, granted once on the server', async () => {
  const openid = newOpenid();
  const midas = game.createMidasClient(game.createLocalWx({ url: cloud().url, openid }), { pollIntervalMs: 50, pollMaxMs: 2000, coinPollMs: 50 });
  await expect(midas.buyWithCoins('sword_basic')).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
  expect(await midas.buyCoins(80)).toMatchObject({ arrived: true });
  const sword = await midas.buyWithCoins('sword_basic', 1, { idempotencyKey: 'sword-pkg-1' });
  expect(sword).toMatchObject({ state: 'DELIVERED', productId: 'sword_basic', coins: 60, balance: 20 });
  // The same key again: the same order, nothing charged twice.
  expect(await midas.buyWithCoins('sword_basic', 1, { idempotencyKey: 'sword-pkg-1' })).toMatchObject({ orderId: sword.orderId, state: 'DELIVERED' });
  const mine = await midas.myOrders();
  expect(mine.inventory).toEqual({ sword_basic: 1 });
  // Latest first: the sword, and the attempt refused for too few coins before it.
  expect(mine.coinOrders.map((o) => [o.productId, o.state])).toEqual([['sword_basic', 'DELIVERED'], ['sword_basic', 'FAILED']]);
  expect(cloud().wxa.balance('sandbox', openid)).toBe(20);
});
