/**
 * The refund race, through the real wx-server-sdk in this process against the local cloud: the
 * goods push's inventory write is slow, and the signed refund push is handled while it is being
 * written. Whichever write lands first, the refunded order ends with its revocable grants taken
 * back, or flagged.
 */
import { handlePush, inventoryFulfilment, type ClientOrder, type Fulfilment } from '../../../shared/delivery/fulfilment';
import { pushFromObject } from '../../../shared/delivery/push';
import { loadDeliveryConfig } from '../../../shared/delivery/settings';
import type { WxCloud } from '../../../shared/edge/wx-server-sdk';
import type { LocalCloud } from '../../emulator/local-cloud';
import { call, newOpenid, useInProcessSdk } from '../helpers';

const sdk = useInProcessSdk({ midasApi: 'v2' }, 'paymentNotify');
let local: LocalCloud;
let cloud: WxCloud;
beforeAll(() => ({ local, cloud } = sdk()));

async function bought(productId: string): Promise<{ openid: string; otn: string; priceFen: number }> {
  const openid = newOpenid();
  await call(local, 'login', { code: local.wechat.wxLogin(openid) }, { openid });
  const signed = await call(local, 'signPayment', { kind: 'item', productId }, { openid });
  const d = (signed as unknown as { data: { signData: string; paySig: string; signature: string; outTradeNo: string; totalFen: number } }).data;
  expect(local.wechat.pay('requestMidasPaymentGameItem', openid, d)).toMatchObject({ errCode: 0 });
  return { openid, otn: d.outTradeNo, priceFen: d.totalFen };
}

const goods = (openid: string, otn: string, productId: string, fen: number) =>
  local.pushes.envelope('minigame_game_pay_goods_deliver_notify', { OpenId: openid, Env: 1, OutTradeNo: otn, GoodsInfo: { ProductId: productId, Quantity: 1, ZoneId: '1', OrigPrice: fen, ActualPrice: fen, Attach: '', OrderSource: 1 } });
const refund = (openid: string, otn: string, fen: number) => local.pushes.envelope('minigame_pay_refund_succ_notify', { OpenId: openid, Env: 1, OutTradeNo: otn, RefundId: `r${otn}`, RefundAmount: fen, RefundSource: 2 });

async function stateOf(otn: string): Promise<ClientOrder> {
  return ((await local.database.all('midas_client_orders')) as unknown as ClientOrder[]).find((o) => o._id === otn)!;
}
async function counters(openid: string): Promise<Record<string, number>> {
  return ((await local.database.all('midas_inventory')) as { _id: string; counters?: Record<string, number> }[]).find((d) => d._id === `sandbox:${openid}`)?.counters ?? {};
}

test.each([
  ['gems_60', { gems: 0 }, undefined],
  ['sword_basic', { sword_basic: 1 }, 'refund_not_revocable'],
] as const)('%s: the refund is answered while the grant is being written: REFUNDED, then taken back (or flagged)', async (productId, after, flagged) => {
  const { openid, otn, priceFen } = await bought(productId);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let granting!: () => void;
  const started = new Promise<void>((r) => (granting = r));
  const slow: Fulfilment = {
    async grant(order, ctx) {
      granting();
      await gate; // the inventory write is slow
      return inventoryFulfilment.grant(order, ctx);
    },
    revoke: inventoryFulfilment.revoke,
  };
  const deps = { cloud, config: loadDeliveryConfig(local.functionEnv), fulfilment: slow };
  const delivering = handlePush(pushFromObject(goods(openid, otn, productId, priceFen)), deps);
  await started;
  expect(await handlePush(pushFromObject(refund(openid, otn, priceFen)), deps)).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
  expect((await stateOf(otn)).state).toBe('REFUNDED');
  release();
  await delivering;
  const o = await stateOf(otn);
  expect(o.state).toBe('REFUNDED');
  expect(await counters(openid)).toEqual(after);
  if (flagged) expect(o.flags).toEqual([expect.objectContaining({ reason: flagged })]);
  else expect(o.flags ?? []).toEqual([]);
});

test('a refund push of the other environment (signed with its own AppKey) does not touch the order; another player’s is flagged', async () => {
  const { openid, otn, priceFen } = await bought('gems_60');
  const deps = { cloud, config: loadDeliveryConfig(local.functionEnv), fulfilment: inventoryFulfilment };
  await handlePush(pushFromObject(goods(openid, otn, 'gems_60', priceFen)), deps);
  expect((await stateOf(otn)).state).toBe('DELIVERED');
  const production = local.pushes.envelope('minigame_pay_refund_succ_notify', { OpenId: openid, Env: 0, OutTradeNo: otn, RefundId: 'rx', RefundAmount: priceFen });
  expect(await handlePush(pushFromObject(production), deps)).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
  expect((await stateOf(otn)).state).toBe('DELIVERED');
  expect(await counters(openid)).toEqual({ gems: 60 });
  const other = refund(newOpenid(), otn, priceFen);
  expect(await handlePush(pushFromObject(other), deps)).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
  const o = await stateOf(otn);
  expect(o.state).toBe('DELIVERED');
  expect(o.flags).toEqual([expect.objectContaining({ reason: 'refund_mismatch' })]);
  expect(await counters(openid)).toEqual({ gems: 60 });
});

test('every flag is kept: a refund of a sword flagged earlier (push_mismatch) records refund_not_revocable too', async () => {
  const { openid, otn, priceFen } = await bought('sword_basic');
  const deps = { cloud, config: loadDeliveryConfig(local.functionEnv), fulfilment: inventoryFulfilment };
  // A signed push naming another quantity: flagged, not delivered; then the real one delivers.
  const wrong = local.pushes.envelope('minigame_game_pay_goods_deliver_notify', { OpenId: openid, Env: 1, OutTradeNo: otn, GoodsInfo: { ProductId: 'sword_basic', Quantity: 2, ZoneId: '1', OrigPrice: priceFen, ActualPrice: priceFen } });
  await handlePush(pushFromObject(wrong), deps);
  await handlePush(pushFromObject(goods(openid, otn, 'sword_basic', priceFen)), deps);
  await handlePush(pushFromObject(refund(openid, otn, priceFen)), deps);
  expect((await stateOf(otn)).flags!.map((f) => f.reason)).toEqual(['push_mismatch', 'refund_not_revocable']);
});

test('push values are data: a mismatching field holding {"$ne": null} or deep nesting is flagged as a bounded summary, not INTERNAL', async () => {
  const { openid, otn, priceFen } = await bought('gems_60');
  const deps = { cloud, config: loadDeliveryConfig(local.functionEnv), fulfilment: inventoryFulfilment };
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = { [`$k${i}`]: deep };
  const hostile = local.pushes.envelope('minigame_game_pay_goods_deliver_notify', { OpenId: openid, Env: 1, OutTradeNo: otn, GoodsInfo: { ProductId: { $ne: null }, Quantity: deep, ZoneId: '1', OrigPrice: priceFen } });
  expect(await handlePush(pushFromObject(hostile), deps)).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
  const o = await stateOf(otn);
  expect(o.state).toBe('PENDING');
  expect(o.flags).toEqual([expect.objectContaining({ reason: 'push_mismatch', detail: expect.stringContaining('$ne') })]);
  expect(o.flags![0]!.detail!.length).toBeLessThanOrEqual(501);
});

test('a grant that does not land (the new player’s inventory insert and the update fail) is never DELIVERED; the next push delivers it once', async () => {
  const { openid, otn, priceFen } = await bought('gems_60');
  const deps = { cloud, config: loadDeliveryConfig(local.functionEnv), fulfilment: inventoryFulfilment };
  await local.database.createCollection('midas_inventory');
  local.database.injectFault({ kind: 'refuse', collection: 'midas_inventory', action: 'database.insertDocument' });
  await expect(handlePush(pushFromObject(goods(openid, otn, 'gems_60', priceFen)), deps)).rejects.toThrow(/did not land/);
  expect((await stateOf(otn)).state).toBe('PAID');
  expect(await counters(openid)).toEqual({});
  expect(await handlePush(pushFromObject(goods(openid, otn, 'gems_60', priceFen)), deps)).toEqual({ ErrCode: 0, ErrMsg: 'Success' });
  expect((await stateOf(otn)).state).toBe('DELIVERED');
  expect(await counters(openid)).toEqual({ gems: 60 });
});
