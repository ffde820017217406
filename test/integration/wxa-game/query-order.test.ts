/**
 * `queryOrderInfo` from the core, through the real wx-server-sdk in this process (the session
 * store is in the cloud database) against the local cloud's 2.0 backend.
 */
import type { WxCloud } from '../../../shared/edge/wx-server-sdk';
import { loadConfig } from '../../../shared/midas-v1/settings';
import { queryOrderInfo } from '../../../shared/wxa-game/query-order';
import { LocalCloud } from '../../emulator/local-cloud';
import { call, newOpenid } from '../helpers';

let local: LocalCloud;
let cloud: WxCloud;

beforeAll(async () => {
  local = await LocalCloud.start({ midasApi: 'v2' });
  Object.assign(process.env, local.runner['platformEnv']('getBalance', {}));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cloud = require('wx-server-sdk') as WxCloud;
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
});

afterAll(() => local.close());

test('a paid item is reported paid and not delivered; an unknown or another player’s order is OUT_TRADE_NO_NOT_FOUND', async () => {
  const openid = newOpenid();
  expect((await call(local, 'login', { code: local.wechat.wxLogin(openid) }, { openid })).ok).toBe(true);
  const signed = await call(local, 'signPayment', { kind: 'item', productId: 'sword_basic' }, { openid });
  const { signData, paySig, signature, outTradeNo } = (signed as unknown as { data: { signData: string; paySig: string; signature: string; outTradeNo: string } }).data;
  const deps = { cloud, config: loadConfig(local.functionEnv) };

  // Signed but not paid yet: WeChat knows no such order.
  await expect(queryOrderInfo(deps, { openid, appid: local.app.appid, outTradeNo, kind: 'item' })).rejects.toMatchObject({ code: 'OUT_TRADE_NO_NOT_FOUND' });
  expect(local.wechat.pay('requestMidasPaymentGameItem', openid, { signData, paySig, signature })).toMatchObject({ errCode: 0 });
  const info = await queryOrderInfo(deps, { openid, appid: local.app.appid, outTradeNo, kind: 'item' });
  expect(info).toMatchObject({ outTradeNo, paid: true, delivered: false, productId: 'sword_basic' });
  expect(typeof info.payFinishTime).toBe('number');
  // As coins (biz_id 1) it is not an order, and another player cannot see it.
  await expect(queryOrderInfo(deps, { openid, appid: local.app.appid, outTradeNo, kind: 'coins' })).rejects.toMatchObject({ code: 'OUT_TRADE_NO_NOT_FOUND' });
  const other = newOpenid();
  await call(local, 'login', { code: local.wechat.wxLogin(other) }, { openid: other });
  await expect(queryOrderInfo(deps, { openid: other, appid: local.app.appid, outTradeNo, kind: 'item' })).rejects.toMatchObject({ code: 'OUT_TRADE_NO_NOT_FOUND' });
  local.wxa.delivered.add(outTradeNo);
  expect(await queryOrderInfo(deps, { openid, appid: local.app.appid, outTradeNo, kind: 'item' })).toMatchObject({ delivered: true });
});
