/**
 * The README's worked example of a game's own fulfilment (shared/delivery/vip-days-example.ts):
 * handlePush with that fulfilment, through the real wx-server-sdk in this process, against the
 * local cloud's database. Repeats and concurrent copies extend the VIP date once per order.
 */
import { handlePush } from '../../../shared/delivery/fulfilment';
import { pushFromObject } from '../../../shared/delivery/push';
import { loadDeliveryConfig } from '../../../shared/delivery/settings';
import { vipDaysFulfilment } from '../../../shared/delivery/vip-days-example';
import type { WxCloud } from '../../../shared/edge/wx-server-sdk';
import type { LocalCloud } from '../../emulator/local-cloud';
import { call, newOpenid, useInProcessSdk } from '../helpers';

const sdk = useInProcessSdk({ midasApi: 'v2' }, 'paymentNotify');
let local: LocalCloud;
let cloud: WxCloud;
beforeAll(() => ({ local, cloud } = sdk()));

test('two VIP cards bought, each pushed three times (two at once): the date moves 30 days per card, once', async () => {
  const openid = newOpenid();
  await call(local, 'login', { code: local.wechat.wxLogin(openid) }, { openid });
  const otns: string[] = [];
  for (let i = 0; i < 2; i++) {
    const signed = await call(local, 'signPayment', { kind: 'item', productId: 'vip_month' }, { openid });
    const d = (signed as unknown as { data: { signData: string; paySig: string; signature: string; outTradeNo: string } }).data;
    expect(local.wechat.pay('requestMidasPaymentGameItem', openid, d)).toMatchObject({ errCode: 0 });
    otns.push(d.outTradeNo);
  }
  const now = Date.UTC(2026, 10, 23);
  const deps = { cloud, config: loadDeliveryConfig(local.functionEnv), fulfilment: vipDaysFulfilment, now: () => now };
  for (const otn of otns) {
    const envelope = local.pushes.envelope('minigame_game_pay_goods_deliver_notify', {
      OpenId: openid,
      Env: 1,
      OutTradeNo: otn,
      GoodsInfo: { ProductId: 'vip_month', Quantity: 1, ZoneId: '1', OrigPrice: 3000, ActualPrice: 3000, Attach: '', OrderSource: 1 },
    });
    const replies = await Promise.all([handlePush(pushFromObject(envelope), deps), handlePush(pushFromObject(envelope), deps)]);
    replies.push(await handlePush(pushFromObject(envelope), deps));
    expect(replies.every((r) => r.ErrCode === 0)).toBe(true);
  }
  const doc = ((await local.database.all('game_players')) as { _id: string; vipUntil: number; orders: Record<string, number> }[]).find((d) => d._id === `sandbox:${openid}`)!;
  expect(doc.vipUntil).toBe(now + 60 * 86_400_000);
  expect(Object.keys(doc.orders).sort()).toEqual([...otns].sort());
  // The default inventory was not used.
  expect((await local.database.all('midas_inventory')).filter((d) => d._id === `sandbox:${openid}`)).toEqual([]);
});
