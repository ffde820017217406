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
