/**
 * A grant the game's fulfilment refuses (GrantRefused): `buyWithCoins` through the real
 * wx-server-sdk in this process, with a fulfilment that refuses, against the local cloud. The
 * pay is cancelled (v1) or refunded whole (2.0): the player gets the coins back and nothing else.
 */
import { GrantRefused, inventoryFulfilment, type Fulfilment } from '../../../shared/delivery/fulfilment';
import type { WxCloud } from '../../../shared/edge/wx-server-sdk';
import { paymentDeps } from '../../../shared/ledger/exactly-once';
import type { Order } from '../../../shared/ledger/order-store';
import { buyWithCoins, purchaseSettler } from '../../../shared/purchases/coin-purchase';
import { loadCoinConfig } from '../../../shared/purchases/settings';
import { coinApiFor } from '../../../shared/wiring/coin-api';
import type { LocalCloud } from '../../emulator/local-cloud';
import { call, newOpenid, useInProcessSdk } from '../helpers';

export function refusedGrantSuite(api: 'v1' | 'v2'): void {
  const sdk = useInProcessSdk({ midasApi: api }, 'buyWithCoins');
  let local: LocalCloud;
  let cloud: WxCloud;
  beforeAll(() => ({ local, cloud } = sdk()));

  /** Refuses the sword (say the player owns one already), grants anything else as the default does. */
  const refusing: Fulfilment = {
    async grant(order, ctx) {
      if (order.productId === 'sword_basic') throw new GrantRefused('one sword per player');
      return inventoryFulfilment.grant(order, ctx);
    },
    revoke: inventoryFulfilment.revoke,
  };

  async function depsFor(openid: string) {
    const settings = loadCoinConfig(local.functionEnv);
    const ctx = { cloud, caller: { openid, appid: local.functionEnv.MIDAS_APPID, source: ['wx_client'] }, settings, log: () => undefined };
    const purchases = purchaseSettler({ cloud, fulfilment: refusing, config: settings });
    return { ...paymentDeps(ctx, coinApiFor(ctx), purchases), purchases };
  }

  test(`${api}: the fulfilment refuses: GRANT_REFUSED, the coins are back, nothing granted; a repeat says the same`, async () => {
    const openid = newOpenid();
    if (api === 'v2') {
      await call(local, 'login', { code: local.wechat.wxLogin(openid) }, { openid });
      local.wxa.topUp('sandbox', openid, 100);
    } else {
      local.backend.topUp({ env: 'sandbox', openid }, 100);
    }
    const balance = () => (api === 'v2' ? local.wxa.balance('sandbox', openid) : local.backend.balance({ env: 'sandbox', openid, zoneId: '1' }));
    const deps = await depsFor(openid);
    await expect(buyWithCoins({ productId: 'sword_basic', idempotencyKey: 'refused-1' }, deps)).rejects.toMatchObject({ code: 'GRANT_REFUSED', outcome: 'not_applied' });
    expect(balance()).toBe(100);
    const o = ((await local.database.all('midas_orders')) as unknown as Order[]).find((x) => x.openid === openid && x.kind === 'pay')!;
    expect(o).toMatchObject({ grant: 'REFUSED', grantOpen: false, state: api === 'v2' ? 'COMPLETED' : 'CANCELLED' });
    if (api === 'v2') expect(o.refundReserved).toBe(60);
    const inv = ((await local.database.all('midas_inventory')) as { _id: string }[]).find((d) => d._id === `sandbox:${openid}`);
    expect(inv).toBeUndefined();
    await expect(buyWithCoins({ productId: 'sword_basic', idempotencyKey: 'refused-1' }, await depsFor(openid))).rejects.toMatchObject({ code: 'GRANT_REFUSED' });
    expect(balance()).toBe(100);
    // Anything else is still granted.
    await expect(buyWithCoins({ productId: 'gems_60', idempotencyKey: 'fine-1' }, await depsFor(openid))).resolves.toMatchObject({ state: 'DELIVERED' });
    expect(balance()).toBe(50);
  });
}
