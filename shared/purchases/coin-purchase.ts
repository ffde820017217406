/**
 * Spending coins on items the server grants (`buyWithCoins`): the coin half of the purchase loop,
 * with the guarantees of delivery from WeChat's pushes.
 *
 * - The price is the server's (`coinPrice` in the catalogue); a client names a product and a
 *   quantity, never an amount.
 * - The pay is a ledger order (write-ahead, the same bill on every retry, UNKNOWN resolved by the
 *   reconciler), kept under idempotency keys of its own, never a raw `pay`'s.
 * - The grant goes through the game's {@link Fulfilment}, exactly once per order (its marker), and
 *   only while this invocation holds the order's lease: a cancel (which takes the lease too) and a
 *   grant never run at once, so whoever comes second sees what the first did.
 * - The order says where its grant stands (`grant`), and `grantOpen` marks one whose grant does not
 *   match its pay yet. The reconciler finishes those: a crash between the pay and the grant is
 *   granted later, never twice; a cancelled purchase has its revocable grants taken back or is
 *   flagged for an operator; a grant the fulfilment refuses cancels the pay.
 */
import type { BuyWithCoinsResponse, CoinOrderState, CoinOrderView } from '../contract/answers';
import { MidasCloudError, isMidasCloudError } from '../edge/errors';
import { requestFields } from '../edge/request';
import { GrantRefused, type ClientOrder, type Fulfilment, type FulfilmentConfig, type RevokeOutcome } from '../delivery/fulfilment';
import { answerFor, claim, driveCancel, openOrder, release, retryLapsedRefunds, startRefund, type PaymentDeps, type PurchaseSettler, type Session } from '../ledger/exactly-once';
import { FINAL_STATES, type GrantState, type Order } from '../ledger/order-store';
import { ZONE_ID_PATTERN } from '../midas-v1/api-limits';
import { IDEMPOTENCY_KEY_FIELD, IDEMPOTENCY_KEY_PATTERN } from '../midas-v1/event-validation';
import { MAX_ITEM_QUANTITY, PRODUCT_ID_PATTERN, catalogue as shippedCatalogue, type Catalogue } from '../virtual-payment/catalogue';
import type { WxCloud } from '../edge/wx-server-sdk';

export type { BuyWithCoinsResponse, CoinOrderView };

/** What `buyWithCoins` accepts. */
export interface BuyWithCoinsRequest {
  productId: string;
  quantity: number;
  idempotencyKey: string;
  zoneId?: string;
}

/** The fields of a `buyWithCoins` request. */
export const BUY_WITH_COINS_FIELDS = ['productId', 'quantity', IDEMPOTENCY_KEY_FIELD, 'zoneId'] as const;
const IDENTITY_KEYS = new Set(['openid', 'openId', 'OPENID', 'appid', 'appId', 'APPID', 'userIp', 'clientIp']);
const bad = (field: string, message: string) => new MidasCloudError('VALIDATION_FAILED', message, { field });

/** Checks a `buyWithCoins` event; throws VALIDATION_FAILED naming the field. */
export function validateBuyEvent(event: unknown): BuyWithCoinsRequest {
  const f = requestFields(event);
  for (const key of Object.keys(f)) {
    if ((BUY_WITH_COINS_FIELDS as readonly string[]).includes(key)) continue;
    if (key === 'price' || key === 'amt' || key === 'amount' || key === 'coinPrice') throw bad(key, `${key} is not accepted: prices come from the server's catalogue`);
    if (IDENTITY_KEYS.has(key)) throw bad(key, `${key} is not accepted: the player and app come from the platform context, never from the request`);
    throw bad(key, `${key} is not a field of this request`);
  }
  if (typeof f.productId !== 'string' || !PRODUCT_ID_PATTERN.test(f.productId)) throw bad('productId', 'productId is required: a product id of the catalogue');
  const quantity = f.quantity ?? 1;
  if (!Number.isSafeInteger(quantity) || (quantity as number) < 1 || (quantity as number) > MAX_ITEM_QUANTITY) {
    throw bad('quantity', `quantity must be a whole number from 1 to ${MAX_ITEM_QUANTITY}`);
  }
  const key = f[IDEMPOTENCY_KEY_FIELD];
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw bad(IDEMPOTENCY_KEY_FIELD, `${IDEMPOTENCY_KEY_FIELD} is required: 1 to 64 characters of 0-9 A-Z a-z _ . : -, one per purchase, the same when it is repeated`);
  }
  if (f.zoneId !== undefined && (typeof f.zoneId !== 'string' || !ZONE_ID_PATTERN.test(f.zoneId))) throw bad('zoneId', 'zoneId must be a zone like "1" or "1_<role>"');
  return { productId: f.productId, quantity: quantity as number, idempotencyKey: key, ...(f.zoneId !== undefined && { zoneId: f.zoneId as string }) };
}

/** Where coin purchases grant: the game's fulfilment and what it reads. */
export interface GrantDeps {
  cloud: WxCloud;
  fulfilment: Fulfilment;
  config: FulfilmentConfig;
  catalogue?: Catalogue;
  now?: () => number;
  log?: (entry: Record<string, unknown>) => void;
}

/** A coin purchase in the shape a {@link Fulfilment} takes (its `_id` is the ledger order's). */
export function asFulfilmentOrder(o: Order): ClientOrder {
  const p = o.purchase!;
  return {
    _id: o._id,
    openid: o.openid,
    kind: 'item',
    productId: p.productId,
    quantity: p.quantity,
    unitPriceFen: 0,
    totalFen: 0,
    env: o.env,
    offerId: o.offerId,
    ...(o.appid && { appid: o.appid }),
    zoneId: String(o.call.zoneId ?? '1'),
    state: 'PAID',
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    source: 'coins',
  };
}

type RefundStanding = 'none' | 'open' | 'unwritten' | 'expired' | 'refunded';

/**
 * 2.0: whether the pay's refunds (a coin purchase is refunded whole) are none, still open, done,
 * or `unwritten`: a share was reserved on the pay and its refund order never written (the cancel
 * was cut short between the two writes).
 */
async function refundStanding(s: Session, pay: Order): Promise<RefundStanding> {
  if (!pay.refundReserved) return 'none';
  let done = 0;
  let expired = false;
  for (const [id, share] of Object.entries(pay.refunds ?? {})) {
    if (!share) continue;
    const r = await s.deps.ledger.get(id);
    if (!r) return 'unwritten';
    if (r.state === 'EXPIRED') expired = true; // never confirmed within its bill's validity
    else if (r.state !== 'COMPLETED') return 'open'; // in flight, or refused for a lapsed login (kept for a retry)
    else done += share;
  }
  if (expired) return 'expired';
  return done >= pay.amount ? 'refunded' : 'open';
}

/**
 * The settler the ledger is handed: brings a coin purchase's grant in line with its pay, as far
 * as it can in this invocation. Safe to call any number of times, from anywhere, at once.
 */
export function purchaseSettler(g: GrantDeps): PurchaseSettler {
  const ctx = () => ({ cloud: g.cloud, config: g.config, catalogue: g.catalogue ?? shippedCatalogue(), now: g.now ?? Date.now });
  const log = (entry: Record<string, unknown>) => g.log?.(entry);

  /** Clears `grantOpen` once the grant matches the pay, unless anything changed since `o` was read. */
  async function close(s: Session, o: Order): Promise<Order> {
    const v2 = o.api === 'v2';
    const ok = await s.deps.ledger.update(o._id, { states: [o.state], grants: [o.grant!], leaseId: '', ...(v2 && { refundReserved: o.refundReserved ?? 0 }) }, { grantOpen: false });
    return ok ? { ...o, grantOpen: false } : ((await s.deps.ledger.get(o._id)) ?? o);
  }

  async function grant(s: Session, o: Order): Promise<Order | 'stop'> {
    const mine = await claim(s, o, o.state, false, { grants: ['PENDING'] });
    if (!mine) return 'stop'; // another invocation is granting or cancelling it right now
    try {
      await g.fulfilment.grant(asFulfilmentOrder(mine), ctx());
    } catch (e) {
      if (e instanceof GrantRefused) {
        log({ event: 'grant_refused', orderId: o._id, billNo: o.billNo, productId: o.purchase!.productId });
        return cancelRefused(s, mine);
      }
      // Not now: the lease goes, the order stays PENDING-granted, a repeat or the reconciler tries again.
      log({ event: 'grant_failed', orderId: o._id, billNo: o.billNo, code: isMidasCloudError(e) ? e.code : 'INTERNAL' });
      await release(s, mine).catch(() => false);
      return 'stop';
    }
    await release(s, mine, { grant: 'DELIVERED' });
    log({ event: 'delivered', orderId: o._id, billNo: o.billNo, productId: o.purchase!.productId, quantity: o.purchase!.quantity, via: 'coins' });
    return (await s.deps.ledger.get(o._id)) ?? { ...mine, grant: 'DELIVERED' };
  }

  /** The fulfilment refused: the pay is cancelled (v1) or refunded whole (2.0); nothing is granted. */
  async function cancelRefused(s: Session, held: Order): Promise<Order | 'stop'> {
    if (held.api === 'v2') {
      await release(s, held, { grant: 'REFUSED' });
      const pay = (await s.deps.ledger.get(held._id)) ?? held;
      try {
        await startRefund(s, pay);
      } catch (e) {
        log({ event: 'refund_not_made', orderId: held._id, billNo: held.billNo, code: isMidasCloudError(e) ? e.code : 'INTERNAL' });
        return 'stop';
      }
      return (await s.deps.ledger.get(held._id)) ?? pay;
    }
    const t = s.now();
    const ok = await s.deps.ledger.update(held._id, { leaseId: s.leaseId }, { grant: 'REFUSED', state: 'CANCELLING', updatedAt: t }, { cancelAttempts: 1 });
    if (!ok) return 'stop';
    const r = await driveCancel(s, { ...held, grant: 'REFUSED', state: 'CANCELLING', cancelAttempts: held.cancelAttempts + 1 }, true);
    return r.order;
  }

  /** The pay did not stay (cancelled, refunded, failed): take back what was granted, or flag it. */
  async function takeBack(s: Session, o: Order): Promise<Order | 'stop'> {
    const mine = await claim(s, o, o.state, false, { grants: [o.grant!] });
    if (!mine) return 'stop';
    let outcome: RevokeOutcome;
    try {
      outcome = await g.fulfilment.revoke(asFulfilmentOrder(mine), ctx());
    } catch (e) {
      log({ event: 'revoke_failed', orderId: o._id, billNo: o.billNo, code: isMidasCloudError(e) ? e.code : 'INTERNAL' });
      await release(s, mine).catch(() => false);
      return 'stop';
    }
    const next: GrantState = outcome === 'revoked' ? 'REVOKED' : outcome === 'not_revocable' ? 'FLAGGED' : 'NONE';
    if (outcome === 'not_revocable') {
      const flag = { reason: 'cancel_not_revocable', at: s.now(), details: { productId: o.purchase!.productId, quantity: o.purchase!.quantity, coins: o.amount } };
      await s.deps.ledger.update(o._id, { leaseId: s.leaseId }, { leaseId: '', leaseUntil: 0, grant: next, updatedAt: s.now() }, {}, { flags: flag });
      log({ event: 'purchase_flagged', orderId: o._id, billNo: o.billNo, reason: flag.reason, productId: o.purchase!.productId });
    } else {
      await release(s, mine, { grant: next });
      if (outcome === 'revoked') log({ event: 'revoked', orderId: o._id, billNo: o.billNo, productId: o.purchase!.productId, via: 'coins' });
    }
    return (await s.deps.ledger.get(o._id)) ?? { ...mine, grant: next };
  }

  return {
    async settle(s, order) {
      let o = order;
      for (let round = 0; round < 6 && o.purchase; round++) {
        if (!FINAL_STATES.has(o.state)) return o; // the pay (or its cancel) is still being resolved
        if (o.state === 'EXPIRED') {
          // Never confirmed within the bill's validity: charged or not is unknown. An operator decides.
          if (!o.grantOpen) return o;
          const flag = { reason: 'purchase_expired', at: s.now(), details: { productId: o.purchase.productId, coins: o.amount } };
          await s.deps.ledger.update(o._id, { states: ['EXPIRED'], leaseId: '' }, { grantOpen: false }, {}, { flags: flag });
          return (await s.deps.ledger.get(o._id)) ?? o;
        }
        const standing = o.api === 'v2' && o.state === 'COMPLETED' ? await refundStanding(s, o) : 'none';
        if (standing === 'expired') {
          // Whether the coins came back is not known: the grant stays as it is, an operator decides.
          if (!o.grantOpen) return o; // flagged already
          const flag = { reason: 'refund_expired', at: s.now(), details: { productId: o.purchase.productId, quantity: o.purchase.quantity, coins: o.amount } };
          await s.deps.ledger.update(o._id, { states: ['COMPLETED'], refundReserved: o.refundReserved ?? 0, grants: [o.grant!] }, { grantOpen: false }, {}, { flags: flag });
          log({ event: 'purchase_flagged', orderId: o._id, billNo: o.billNo, reason: flag.reason, productId: o.purchase.productId });
          return (await s.deps.ledger.get(o._id)) ?? o;
        }
        if (standing === 'open') {
          // A refund in flight settles the grant when it ends; one refused for a lapsed login is
          // sent again once the player has logged in (or given up when too old to send).
          if ((await retryLapsedRefunds(s, o)) !== 'changed') return o;
          o = (await s.deps.ledger.get(o._id)) ?? o;
          continue;
        }
        if (standing === 'unwritten') {
          // A cancel asked for and cut short: finish it. Its refund's id comes from the pay (a
          // purchase is refunded whole), so this is the same refund, written once whoever writes it.
          try {
            await startRefund(s, o);
          } catch (e) {
            if (isMidasCloudError(e) && e.code === 'BILL_ALREADY_CONFIRMED') {
              // Too old to refund: the cancel can no longer happen. Its share goes back, the grant
              // stands, and an operator is told (the coins were never given back).
              await giveUpUnwritten(s, o);
              log({ event: 'purchase_flagged', orderId: o._id, billNo: o.billNo, reason: 'cancel_expired', productId: o.purchase.productId });
              o = (await s.deps.ledger.get(o._id)) ?? o;
              continue;
            }
            log({ event: 'refund_not_made', orderId: o._id, billNo: o.billNo, code: isMidasCloudError(e) ? e.code : 'INTERNAL' });
            return (await s.deps.ledger.get(o._id)) ?? o;
          }
          o = (await s.deps.ledger.get(o._id)) ?? o;
          continue;
        }
        const kept = o.state === 'COMPLETED' && standing === 'none';
        let next: Order | 'stop';
        if (kept && o.grant === 'PENDING') next = await grant(s, o);
        else if (kept && o.grant === 'REFUSED') {
          const mine = await claim(s, o, o.state, false, { grants: ['REFUSED'] });
          next = mine ? await cancelRefused(s, mine) : 'stop';
        } else if (!kept && (o.grant === 'PENDING' || o.grant === 'DELIVERED')) {
          // (REFUSED with the pay given back is in line: a refused grant never happened.)
          next = o.state === 'FAILED' ? await markNone(s, o) : await takeBack(s, o);
        } else {
          // In line: granted and kept, or nothing owed. Nothing more to do.
          return o.grantOpen ? close(s, o) : o;
        }
        if (next === 'stop') return (await s.deps.ledger.get(o._id)) ?? o;
        o = next;
      }
      return o;
    },
  };
}

/**
 * Gives back the shares of refunds that were reserved and never written, once the pay is too old
 * to refund (nobody can write them any more), and flags the purchase for an operator.
 */
async function giveUpUnwritten(s: Session, o: Order): Promise<void> {
  let coins = 0;
  for (const [id, share] of Object.entries(o.refunds ?? {})) {
    if (!share || (await s.deps.ledger.get(id))) continue;
    if (await s.deps.ledger.releaseRefund(o._id, id, share)) coins += share;
  }
  if (coins === 0) return;
  const flag = { reason: 'cancel_expired', at: s.now(), details: { productId: o.purchase!.productId, quantity: o.purchase!.quantity, coins } };
  await s.deps.ledger.update(o._id, { states: ['COMPLETED'] }, {}, {}, { flags: flag });
}

/** A pay that definitely failed: nothing was granted, nothing is owed. */
async function markNone(s: Session, o: Order): Promise<Order | 'stop'> {
  const ok = await s.deps.ledger.update(o._id, { states: ['FAILED'], grants: [o.grant!], leaseId: '' }, { grant: 'NONE' });
  return ok ? { ...o, grant: 'NONE' } : ((await s.deps.ledger.get(o._id)) ?? 'stop');
}

/** What a player sees of a coin purchase. */
export function coinStateOf(o: Order): CoinOrderState {
  if (o.state === 'FAILED') return 'FAILED';
  if (o.state === 'EXPIRED') return 'EXPIRED';
  if (o.state === 'CANCELLED' || (o.state === 'COMPLETED' && (o.grant === 'REVOKED' || o.grant === 'FLAGGED' || o.grant === 'NONE' || o.grant === 'REFUSED') && (o.refundReserved ?? 0) > 0)) return 'CANCELLED';
  if (o.state === 'COMPLETED' && o.grant === 'DELIVERED' && !(o.refundReserved ?? 0)) return 'DELIVERED';
  return 'RESOLVING';
}

export function coinOrderView(o: Order): CoinOrderView {
  const p = o.purchase!;
  const state = coinStateOf(o);
  return {
    orderId: o._id,
    billNo: o.billNo,
    productId: p.productId,
    quantity: p.quantity,
    coins: o.amount,
    state,
    resolving: state === 'RESOLVING',
    grant: o.grant ?? 'PENDING',
    ...((o.flags?.length ?? 0) > 0 && { flagged: true as const }),
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `buyWithCoins`: the calling player buys a product at its coin price. Answers `DELIVERED` once
 * the grant is recorded, `resolving` while the outcome is not known yet (the same idempotencyKey
 * later gives the final answer), INSUFFICIENT_BALANCE (nothing charged, nothing granted), or
 * GRANT_REFUSED once a refused grant's coins are back.
 *
 * @example
 * await buyWithCoins({ productId: 'sword_basic', idempotencyKey: 'buy-42' }, deps) // → { state: 'DELIVERED', … }
 */
export async function buyWithCoins(event: unknown, deps: PaymentDeps & { purchases: PurchaseSettler; catalogue?: Catalogue }): Promise<BuyWithCoinsResponse> {
  const req = validateBuyEvent(event);
  const cat = deps.catalogue ?? shippedCatalogue();
  const product = cat.products.get(req.productId);
  if (!product) throw new MidasCloudError('PRODUCT_NOT_FOUND', `no product ${req.productId} in the catalogue`, { field: 'productId' });
  if (product.coinPrice === undefined) throw new MidasCloudError('PRODUCT_NOT_FOUND', `${req.productId} is not sold for coins (it has no coinPrice)`, { field: 'productId' });
  const fields: Record<string, string | number> = { [IDEMPOTENCY_KEY_FIELD]: req.idempotencyKey, payItem: `${product.productId}*${req.quantity}`, ...(req.zoneId && { zoneId: req.zoneId }) };
  const { order, session: s, own } = await openOrder('pay', fields, deps, { productId: product.productId, quantity: req.quantity, coinPrice: product.coinPrice });
  if (order.state === 'FAILED') {
    await deps.purchases.settle(s, order).catch(() => order); // grant NONE: nothing owed
    answerFor(order, own); // throws the pay's failure (INSUFFICIENT_BALANCE, …)
  }
  let o = await deps.purchases.settle(s, order);
  // Another invocation holds it (a concurrent duplicate granting): wait for it within the budget.
  const sleep = deps.sleep ?? defaultSleep;
  while (coinStateOf(o) === 'RESOLVING' && FINAL_STATES.has(o.state) && o.leaseId !== '' && s.now() + 100 < s.deadline) {
    await sleep(100);
    o = (await deps.ledger.get(o._id)) ?? o;
    if (o.leaseId === '') o = await deps.purchases.settle(s, o);
  }
  if (o.grant === 'REFUSED' && coinStateOf(o) === 'CANCELLED') {
    throw Object.assign(new MidasCloudError('GRANT_REFUSED', `${product.productId} cannot be granted to this player; the ${o.amount} coins were given back`, { outcome: 'not_applied' }), { billNo: o.billNo });
  }
  const view = coinOrderView(o);
  return { ...view, ...(o.result?.balance !== undefined && o.state === 'COMPLETED' && { balance: o.result.balance }) };
}
