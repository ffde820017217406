/**
 * `queryorderinfo` (SPEC §5): what WeChat knows of a client order (`wx.requestMidasPayment` coins
 * or `wx.requestMidasPaymentGameItem` items) by its out_trade_no: paid or not, delivered or not.
 * Used to confirm an order before granting anything, and to find paid orders whose push was lost.
 */
import { sendAs, type V2Deps } from './coin-api';

export interface ClientOrderInfo {
  outTradeNo: string;
  paid: boolean;
  delivered: boolean;
  productId?: string;
  /** Unix seconds. */
  payFinishTime?: number;
  transactionId?: string;
}

/**
 * @example
 * await queryOrderInfo(deps, { openid, appid, outTradeNo, kind: 'item' }) // → { paid: true, delivered: false, … }
 */
export async function queryOrderInfo(deps: V2Deps, q: { openid: string; appid: string; outTradeNo: string; kind: 'coins' | 'item' }): Promise<ClientOrderInfo> {
  const a = await sendAs(deps, 'queryorderinfo', q.openid, q.appid, { out_trade_no: q.outTradeNo, biz_id: q.kind === 'coins' ? 1 : 2 });
  return {
    outTradeNo: String(a.out_trade_no),
    paid: Number(a.pay_state) === 2,
    delivered: Number(a.deliver_state) === 2,
    ...(typeof a.product_id === 'string' && a.product_id !== '' && { productId: a.product_id }),
    ...(typeof a.pay_finish_time === 'number' && { payFinishTime: a.pay_finish_time }),
    ...(typeof a.transaction_id === 'string' && { transactionId: a.transaction_id }),
  };
}
