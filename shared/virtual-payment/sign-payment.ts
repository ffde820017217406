/**
 * `signPayment`: `wx.requestMidasPaymentGameItem` (an item) and `wx.requestMidasPayment` (coins)
 * need `signData`, `paySig` and `signature` made by the server (SPEC §3). The order is recorded
 * before the client can pay.
 */
import { inCollection } from '../edge/collections';
import { MidasCloudError } from '../edge/errors';
import { randomBase64url } from '../edge/random';
import { fail } from '../edge/settings';
import { FREE_TEXT_PATTERN, MAX_COINS_PER_CALL, ZONE_ID_PATTERN } from '../midas-v1/api-limits';
import { MAX_ITEM_QUANTITY, PRODUCT_ID_PATTERN, catalogue, validCoinQuantities } from './catalogue';
import { bad, fieldsOf, storeError } from './fields';
import { sessionKeyOf, type V2Deps } from './login';
import type { SignPaymentResponse } from '../contract/answers';
import { clientPaySig, userSignature } from './signing';

export type { SignPaymentRequest, SignPaymentResponse } from '../contract/answers';

/** The fields of a `signPayment` request. */
export const SIGN_PAYMENT_FIELDS = ['kind', 'productId', 'quantity', 'zoneId', 'attach'] as const;

/** outTradeNo: ≤ 32 characters, not starting with `_` (the platform's own ones do). */
export function newOutTradeNo(): string {
  return `mt${randomBase64url(15)}`;
}

/**
 * `signPayment`: signs one purchase for the calling player and records it as a pending order.
 *
 * @example
 * await signPayment({ kind: 'item', productId: 'sword_basic', quantity: 1 }, deps)
 */
export async function signPayment(event: unknown, deps: V2Deps): Promise<SignPaymentResponse> {
  const f = fieldsOf(event, SIGN_PAYMENT_FIELDS);
  if (f.kind !== 'item' && f.kind !== 'coins') throw bad('kind', 'kind must be "item" or "coins"');
  const cat = deps.catalogue ?? catalogue();
  const quantity = f.quantity ?? (f.kind === 'item' ? 1 : undefined);
  if (quantity === undefined) throw bad('quantity', 'quantity is required');
  const maxQuantity = f.kind === 'item' ? MAX_ITEM_QUANTITY : MAX_COINS_PER_CALL;
  if (!Number.isSafeInteger(quantity) || (quantity as number) < 1 || (quantity as number) > maxQuantity) {
    throw bad('quantity', `quantity must be a whole number from 1 to ${maxQuantity}`);
  }
  const zoneId = f.zoneId ?? deps.config.defaultZoneId;
  if (typeof zoneId !== 'string' || !ZONE_ID_PATTERN.test(zoneId)) throw bad('zoneId', 'zoneId must be a zone like "1" or "1_<role>"');
  if (f.attach !== undefined && (typeof f.attach !== 'string' || f.attach.length > 128 || !FREE_TEXT_PATTERN.test(f.attach))) {
    throw bad('attach', 'attach must be 1 to 128 characters without control characters, & or =');
  }

  let unitPriceFen: number;
  let productId: string | undefined;
  if (f.kind === 'item') {
    if (typeof f.productId !== 'string' || !PRODUCT_ID_PATTERN.test(f.productId)) throw bad('productId', 'productId is required');
    const product = cat.products.get(f.productId);
    if (!product) throw new MidasCloudError('PRODUCT_NOT_FOUND', `no product ${f.productId} in the catalogue`, { field: 'productId' });
    if (product.priceFen === undefined) throw new MidasCloudError('PRODUCT_NOT_FOUND', `${f.productId} is sold for coins only (buyWithCoins)`, { field: 'productId' });
    productId = product.productId;
    unitPriceFen = product.priceFen;
  } else {
    if (f.productId !== undefined) throw bad('productId', 'productId is not a field of a coin top-up');
    const valid = validCoinQuantities(cat.coinPriceFen);
    if (!valid.includes(quantity as number)) {
      // Only these totals exist as price tiers (SPEC §3): say which quantities do.
      throw bad('quantity', `quantity × ${cat.coinPriceFen} fen must be a price tier; valid quantities: ${valid.join(', ')}`);
    }
    unitPriceFen = cat.coinPriceFen;
  }

  const openid = deps.caller.openid;
  if (!openid) throw new MidasCloudError('NOT_LOGGED_IN', 'no player in the platform context: call this from the mini-game');
  const keyVar = deps.config.env === 'production' ? 'MIDAS_APPKEY' : 'MIDAS_SANDBOX_APPKEY';
  if (!deps.config.appKey) fail(keyVar, 'is not set (needed by signPayment)');
  const sessionKey = await sessionKeyOf(deps, openid);

  const outTradeNo = newOutTradeNo();
  const env: 0 | 1 = deps.config.env === 'production' ? 0 : 1;
  const mode = f.kind === 'item' ? 'goods' : 'game';
  // The field order of the official example; the string is what gets signed and sent.
  const data: Record<string, unknown> = { mode, offerId: deps.config.offerId, buyQuantity: quantity, env, currencyType: 'CNY', platform: 'android', zoneId };
  if (productId !== undefined) Object.assign(data, { productId, goodsPrice: unitPriceFen });
  data.outTradeNo = outTradeNo;
  if (f.attach !== undefined) data.attach = f.attach;
  const signData = JSON.stringify(data);
  const method = f.kind === 'item' ? 'requestMidasPaymentGameItem' : 'requestMidasPayment';
  const totalFen = unitPriceFen * (quantity as number);

  // Recorded before the client can pay: the order exists before the money moves. It carries its
  // deployment (environment, offer, app), so deployments sharing a collection never meet.
  const appid = deps.caller.appid ?? deps.config.appId;
  const db = deps.cloud.database();
  const now = (deps.now ?? Date.now)();
  try {
    await inCollection(db, deps.config.ordersCollection, () =>
      db.collection(deps.config.ordersCollection).add({
        data: { _id: outTradeNo, openid, kind: f.kind, ...(productId && { productId }), quantity, unitPriceFen, totalFen, env: deps.config.env, offerId: deps.config.offerId, ...(appid !== undefined && { appid }), zoneId, state: 'PENDING', signData, createdAt: now, updatedAt: now },
      }),
    );
  } catch (e) {
    throw storeError(e);
  }

  return {
    signData,
    paySig: clientPaySig(method, signData, deps.config.appKey),
    signature: userSignature(signData, sessionKey),
    outTradeNo,
    mode,
    env,
    offerId: deps.config.offerId,
    buyQuantity: quantity as number,
    zoneId,
    currencyType: 'CNY',
    platform: 'android',
    totalFen,
  };
}
