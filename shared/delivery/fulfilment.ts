/**
 * Delivery of client orders (the ones `signPayment` records), exactly once:
 *
 *   PENDING ──paid (a verified push, or queryorderinfo)──▶ PAID ──grant──▶ DELIVERED
 *      │                                                    │
 *      └── unpaid past MIDAS_CLIENT_ORDER_TTL_MS ──▶ EXPIRED └── refund push ──▶ REFUNDED
 *
 * Each step is a conditional update on the order's state. The grant itself is one conditional
 * write to the player's inventory that carries its own marker (`applied.<outTradeNo>`), so a
 * repeated push, two copies at once or a crash between PAID and DELIVERED never grants twice and
 * never zero times: whoever comes next finds PAID, grants (a no-op if it was applied) and moves on.
 *
 * A game with its own inventory passes its own {@link Fulfilment}; the rules it must keep are on
 * the interface.
 */
import type { DeliveryReconcileResponse, MyOrdersResponse } from '../contract/answers';
import { inCollection, isMissingCollection } from '../edge/collections';
import { MidasCloudError, isMidasCloudError } from '../edge/errors';
import type { WxCloud } from '../edge/wx-server-sdk';
import type { MidasEnv } from '../midas-v1/operation-table';
import { catalogue as shippedCatalogue, type Catalogue } from '../virtual-payment/catalogue';
import type { V2Deps } from '../wxa-game/coin-api';
import { queryOrderInfo, type ClientOrderInfo } from '../wxa-game/query-order';
import { payEventSigValid, pushKind, type Push } from './push';
import type { DeliveryConfig } from './settings';

export const CLIENT_ORDER_STATES = ['PENDING', 'PAID', 'DELIVERED', 'REFUNDED', 'EXPIRED'] as const;
export type ClientOrderState = (typeof CLIENT_ORDER_STATES)[number];

export interface ClientOrder {
  /** The outTradeNo. */
  _id: string;
  openid: string;
  kind: 'item' | 'coins';
  productId?: string;
  quantity: number;
  unitPriceFen: number;
  totalFen: number;
  env: MidasEnv;
  /** The deployment that signed it (orders of another offer or app are never touched). */
  offerId: string;
  /** The mini-game's appid, when the deployment knew it (platform context or MIDAS_APPID). */
  appid?: string;
  zoneId: string;
  state: ClientOrderState;
  createdAt: number;
  updatedAt: number;
  /** Every state change: when, and what told us (push, query, reconciler). */
  history?: { state: ClientOrderState; at: number; via: string }[];
  /**
   * Everything that did not add up, oldest first; an operator looks at flagged orders. A flag
   * never stops the order from being confirmed, delivered or expiring. `detail` is a bounded
   * JSON summary (a push's values are data, never document keys).
   */
  flags?: { reason: string; at: number; detail?: string }[];
  /** Written by earlier versions: one flag only. */
  flag?: { reason: string; at: number; details?: Record<string, unknown> };
  /**
   * `mall` and `recharge_center` orders are made outside the game and recorded from their push;
   * `coins`: a coin purchase (`buyWithCoins`), handed to the fulfilment in this shape, its `_id`
   * being the ledger order's id.
   */
  source?: 'game' | 'mall' | 'recharge_center' | 'coins';
}

/** What a fulfilment may read of the settings: where the default one keeps inventories. */
export interface FulfilmentConfig {
  inventoryCollection: string;
}

export interface FulfilmentContext {
  cloud: WxCloud;
  config: FulfilmentConfig;
  catalogue: Catalogue;
  now: () => number;
}

/**
 * Thrown by {@link Fulfilment.grant} when the grant definitely cannot be made (the player may not
 * own the item, say). For a coin purchase the pay is then cancelled, so the player gets the coins
 * back and nothing else. Any other error means "not now": the grant is tried again later.
 */
export class GrantRefused extends Error {
  override readonly name = 'GrantRefused';
}

/** What a revoke did: took the grant back (now or before), found nothing granted, or cannot take it back. */
export type RevokeOutcome = 'revoked' | 'not_granted' | 'not_revocable';

/**
 * What a paid order grants, and takes back after a refund. Both must be idempotent per order
 * (`order._id`, the outTradeNo): make the change and its marker in one conditional write, so
 * that doing it twice changes nothing and a crash leaves it done or not done, never half.
 * `grant` returns only when the grant is in place (made now or before); it throws otherwise.
 */
export interface Fulfilment {
  grant(order: ClientOrder, ctx: FulfilmentContext): Promise<void>;
  /**
   * `not_granted`: there was nothing to take back (say nothing changed); `not_revocable` leaves
   * the grant in place and the order is flagged for an operator. Throws when it cannot tell.
   */
  revoke(order: ClientOrder, ctx: FulfilmentContext): Promise<RevokeOutcome>;
}

/** What one order grants by the catalogue: its product's counters × quantity; coins grant nothing here (Midas holds them). */
export function grantsOf(order: ClientOrder, cat: Catalogue): Record<string, number> {
  if (order.kind !== 'item' || order.productId === undefined) return {};
  const product = cat.products.get(order.productId);
  if (!product) throw new MidasCloudError('PRODUCT_NOT_FOUND', `no product ${order.productId} in the catalogue`);
  return Object.fromEntries(Object.entries(product.grants).map(([k, n]) => [k, n * order.quantity]));
}

export function inventoryId(env: MidasEnv, openid: string): string {
  return `${env}:${openid}`;
}

interface InventoryDoc {
  counters?: Record<string, number>;
  applied?: Record<string, number>;
  revoked?: Record<string, number>;
}

async function inventoryDoc(ctx: FulfilmentContext, id: string): Promise<InventoryDoc | undefined> {
  try {
    return (await ctx.cloud.database().collection(ctx.config.inventoryCollection).where({ _id: id }).limit(1).get()).data[0] as InventoryDoc | undefined;
  } catch (e) {
    if (isMissingCollection(e)) return undefined;
    throw e;
  }
}

/**
 * The default fulfilment: counters in `midas_inventory`, one document per player and environment.
 * Every conditional write is checked: when it changed nothing, the document is read to tell
 * "done before" from "not done", and "not done" is an error, never a delivery.
 */
export const inventoryFulfilment: Fulfilment = {
  async grant(order, ctx) {
    const db = ctx.cloud.database();
    const _ = db.command;
    const name = ctx.config.inventoryCollection;
    const id = inventoryId(order.env, order.openid);
    const grants = grantsOf(order, ctx.catalogue);
    // The player's document once (a duplicate _id is fine; any other failure shows below).
    await inCollection(db, name, () => db.collection(name).add({ data: { _id: id, openid: order.openid, env: order.env, counters: {}, applied: {}, revoked: {} } })).catch(() => undefined);
    const data: Record<string, unknown> = { [`applied.${order._id}`]: ctx.now() };
    for (const [k, n] of Object.entries(grants)) data[`counters.${k}`] = _.inc(n);
    // The grant and its marker in one conditional write: applied once, whoever comes.
    let updated = 0;
    try {
      updated = (await db.collection(name).where({ _id: id, [`applied.${order._id}`]: _.exists(false) }).update({ data })).stats.updated;
    } catch {
      updated = 0; // applied with its answer lost, or not applied: the document tells
    }
    if (updated === 1) return;
    const doc = await inventoryDoc(ctx, id);
    if (doc?.applied?.[order._id] === undefined) throw new Error(`the grant of ${order._id} did not land in ${name}`);
  },
  async revoke(order, ctx) {
    const db = ctx.cloud.database();
    const _ = db.command;
    const id = inventoryId(order.env, order.openid);
    const seen = async (): Promise<RevokeOutcome | undefined> => {
      const doc = await inventoryDoc(ctx, id);
      if (doc?.applied?.[order._id] === undefined) return 'not_granted';
      if (doc.revoked?.[order._id] !== undefined) return 'revoked';
      return undefined;
    };
    const before = await seen();
    if (before) return before;
    const product = order.productId === undefined ? undefined : ctx.catalogue.products.get(order.productId);
    if (!product?.revocable) return 'not_revocable';
    const data: Record<string, unknown> = { [`revoked.${order._id}`]: ctx.now() };
    for (const [k, n] of Object.entries(grantsOf(order, ctx.catalogue))) data[`counters.${k}`] = _.inc(-n);
    try {
      const r = await db
        .collection(ctx.config.inventoryCollection)
        .where({ _id: id, [`applied.${order._id}`]: _.exists(true), [`revoked.${order._id}`]: _.exists(false) })
        .update({ data });
      if (r.stats.updated === 1) return 'revoked';
    } catch {
      // applied with its answer lost, or not applied: the document tells
    }
    const after = await seen();
    if (after) return after;
    throw new Error(`the revoke of ${order._id} did not land in ${ctx.config.inventoryCollection}`);
  },
};

export interface DeliveryDeps {
  cloud: WxCloud;
  config: DeliveryConfig;
  fulfilment?: Fulfilment;
  catalogue?: Catalogue;
  now?: () => number;
  log?: (entry: Record<string, unknown>) => void;
  /** For queryorderinfo (tests may replace it). */
  query?: (q: { openid: string; appid: string; outTradeNo: string; kind: 'coins' | 'item' }) => Promise<ClientOrderInfo>;
  appid?: string;
}

function ctxOf(deps: DeliveryDeps): FulfilmentContext {
  return { cloud: deps.cloud, config: deps.config, catalogue: deps.catalogue ?? shippedCatalogue(), now: deps.now ?? Date.now };
}

/** The deployment this function serves: environment, offer and (when known) app. */
function deploymentOf(deps: DeliveryDeps): { env: MidasEnv; offerId: string; appid?: string } {
  const appid = deps.appid ?? deps.config.midas.appId;
  return { env: deps.config.midas.env, offerId: deps.config.midas.offerId, ...(appid !== undefined && { appid }) };
}

/** The offer and app a new order records. */
function deploymentOfOrder(deps: DeliveryDeps): { offerId: string; appid?: string } {
  const { offerId, appid } = deploymentOf(deps);
  return { offerId, ...(appid !== undefined && { appid }) };
}

/** Whether an order was signed by this deployment's offer and app (the environment is checked against each push). */
function isOwnOrder(deps: DeliveryDeps, order: ClientOrder): boolean {
  const d = deploymentOf(deps);
  return order.offerId === d.offerId && (order.appid === undefined || d.appid === undefined || order.appid === d.appid);
}

function orders(deps: DeliveryDeps) {
  return deps.cloud.database().collection(deps.config.ordersCollection);
}

function storeError(e: unknown): MidasCloudError {
  return new MidasCloudError('LEDGER_UNAVAILABLE', 'the cloud database is not available', { cause: e });
}

export async function getClientOrder(deps: DeliveryDeps, outTradeNo: string): Promise<ClientOrder | undefined> {
  try {
    const r = await orders(deps).where({ _id: outTradeNo }).limit(1).get();
    return r.data[0] as ClientOrder | undefined;
  } catch (e) {
    if (isMissingCollection(e)) return undefined;
    throw storeError(e);
  }
}

/** Moves an order from one of `from` to `to`; true when this call made the change. */
async function transition(deps: DeliveryDeps, id: string, from: readonly ClientOrderState[], to: ClientOrderState, via: string): Promise<boolean> {
  const _ = deps.cloud.database().command;
  const at = (deps.now ?? Date.now)();
  const r = await orders(deps)
    .where({ _id: id, state: _.in([...from]) })
    .update({ data: { state: to, updatedAt: at, history: _.push([{ state: to, at, via }]) } });
  return r.stats.updated === 1;
}

/** The most characters of a flag's summary. */
const MAX_DETAIL = 500;

/**
 * A bounded summary of values that may come from a push: JSON text, at most MAX_DETAIL
 * characters, so no key of it is ever read by the database (no `$ne`, no nesting).
 */
export function summary(details: Record<string, unknown>): string {
  let text: string;
  try {
    text = JSON.stringify(details, (_k, v: unknown) => (typeof v === 'string' && v.length > 100 ? `${v.slice(0, 100)}…` : v));
  } catch {
    text = '"(not representable)"';
  }
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

/** Adds a flag (every flag is kept, with its reason and time). */
async function flag(deps: DeliveryDeps, order: ClientOrder, reason: string, details: Record<string, unknown>): Promise<void> {
  const _ = deps.cloud.database().command;
  const at = (deps.now ?? Date.now)();
  const detail = summary(details);
  const r = await orders(deps).where({ _id: order._id }).update({ data: { flags: _.push([{ reason, at, detail }]), updatedAt: at } });
  if (r.stats.updated !== 1) throw storeError(new Error(`the flag of ${order._id} was not written`));
  deps.log?.({ event: 'delivery_flagged', outTradeNo: order._id, reason, detail });
}

export function isFlagged(o: Pick<ClientOrder, 'flag' | 'flags'>): boolean {
  return (o.flags?.length ?? 0) > 0 || o.flag !== undefined;
}

/**
 * Takes a paid order to DELIVERED (from PENDING, PAID, or an EXPIRED order that was paid after
 * all): mark it paid, grant, mark it delivered. Safe to repeat and to run twice at once.
 */
export async function deliverPaid(deps: DeliveryDeps, order: ClientOrder, via: string): Promise<ClientOrder> {
  if (order.state === 'PENDING' || order.state === 'EXPIRED') await transition(deps, order._id, ['PENDING', 'EXPIRED'], 'PAID', via);
  let cur = (await getClientOrder(deps, order._id)) ?? order;
  if (cur.state === 'PAID') {
    await (deps.fulfilment ?? inventoryFulfilment).grant(cur, ctxOf(deps));
    await transition(deps, cur._id, ['PAID'], 'DELIVERED', via);
    cur = (await getClientOrder(deps, order._id)) ?? cur;
    if (cur.state === 'DELIVERED') deps.log?.({ event: 'delivered', outTradeNo: cur._id, productId: cur.productId, quantity: cur.quantity, via });
    // Refunded while the grant was being written: the refund's own take-back may have found
    // nothing yet, so the grant is taken back here (or flagged), whichever write landed first.
    if (cur.state === 'REFUNDED') await takeBackRefunded(deps, cur, {});
  }
  return cur;
}

/** A refunded order's grants: taken back when revocable; flagged when granted and not revocable. */
async function takeBackRefunded(deps: DeliveryDeps, order: ClientOrder, details: Record<string, unknown>): Promise<void> {
  const r = await (deps.fulfilment ?? inventoryFulfilment).revoke(order, ctxOf(deps));
  if (r === 'not_revocable') {
    const already = (order.flags ?? []).some((f) => f.reason === 'refund_not_revocable');
    if (!already) await flag(deps, order, 'refund_not_revocable', details);
  } else if (r === 'revoked') deps.log?.({ event: 'revoked', outTradeNo: order._id });
}

/** What a push says was bought, against the recorded order: the fields that differ. */
export function mismatches(order: ClientOrder, kind: 'item' | 'coins', p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const env: MidasEnv | undefined = p.Env === 0 ? 'production' : p.Env === 1 ? 'sandbox' : undefined;
  if (p.OpenId !== order.openid) out.player = true;
  if (env !== order.env) out.env = { push: p.Env, order: order.env };
  if (kind !== order.kind) out.kind = { push: kind, order: order.kind };
  const info = (kind === 'item' ? p.GoodsInfo : p.CoinInfo) as Record<string, unknown> | undefined;
  if (!info || typeof info !== 'object') return { ...out, info: 'missing' };
  if (kind === 'item') {
    if (info.ProductId !== order.productId) out.productId = { push: info.ProductId, order: order.productId };
    if (info.Quantity !== order.quantity) out.quantity = { push: info.Quantity, order: order.quantity };
  } else if (info.BuyQuantity !== order.quantity) {
    out.quantity = { push: info.BuyQuantity, order: order.quantity };
  }
  const zone = info.ZoneId;
  if (zone !== undefined && !((typeof zone === 'string' || typeof zone === 'number') && String(zone) === order.zoneId)) out.zoneId = { push: zone, order: order.zoneId };
  // OrigPrice is the price before any discount: the order's total (or, read per unit, its unit price).
  if (info.OrigPrice !== order.totalFen && info.OrigPrice !== order.unitPriceFen) out.price = { push: info.OrigPrice, order: order.totalFen };
  return out;
}

export type PushReply = { ErrCode: number; ErrMsg: string };
export const SUCCESS: PushReply = { ErrCode: 0, ErrMsg: 'Success' };
/** Anything but success makes WeChat send the push again later. */
const RETRY = (why: string): PushReply => ({ ErrCode: 99999, ErrMsg: why });

/** The fields each event's payload must have (checked for mock pushes too). */
function shapeProblem(kind: string, p: Record<string, unknown>): string | undefined {
  if (p.Env !== 0 && p.Env !== 1) return 'Env';
  if (kind === 'refund') return typeof p.RefundId === 'string' || typeof p.RefundId === 'number' ? undefined : 'RefundId';
  if (typeof p.OpenId !== 'string' || p.OpenId === '') return 'OpenId';
  if (typeof p.OutTradeNo !== 'string' || p.OutTradeNo === '') return 'OutTradeNo';
  if (kind === 'item' && (typeof p.GoodsInfo !== 'object' || p.GoodsInfo === null)) return 'GoodsInfo';
  if ((kind === 'coins' || kind === 'rechargeCenter') && (typeof p.CoinInfo !== 'object' || p.CoinInfo === null)) return 'CoinInfo';
  if (kind === 'coins') {
    const c = p.CoinInfo as Record<string, unknown>;
    if (typeof (c.ActualPrice ?? c.TotalPrice) !== 'number') return 'CoinInfo.ActualPrice';
  }
  return undefined;
}

/**
 * Handles one push. `confirmUnsigned`: a push without PayEventSig is believed only once
 * queryorderinfo says the order is paid. Answers SUCCESS for everything handled (a repeat is
 * answered like the first) and RETRY when it should come again (e.g. before the order is recorded).
 */
export async function handlePush(push: Push, deps: DeliveryDeps): Promise<PushReply> {
  const kind = pushKind(push.event);
  const log = deps.log ?? (() => undefined);
  if (!kind) {
    log({ event: 'push_ignored', pushEvent: push.event });
    return SUCCESS;
  }
  const p = push.payload;
  const problem = shapeProblem(kind, p);
  if (problem) {
    log({ event: 'push_malformed', pushEvent: push.event, field: problem });
    return { ErrCode: 99999, ErrMsg: `malformed payload: ${problem}` };
  }
  const env: MidasEnv = p.Env === 0 ? 'production' : 'sandbox';
  if (push.isMock) {
    // WeChat's configuration check: fields are only type-checked, the signature need not verify.
    // Acknowledged, and nothing is delivered, granted or changed.
    log({ event: 'push_mock', pushEvent: push.event });
    return SUCCESS;
  }
  if (push.signed) {
    const appKey = deps.config.appKeys[env];
    if (!appKey) {
      log({ event: 'push_unverifiable', pushEvent: push.event, env, why: `no AppKey configured for ${env}` });
      return RETRY('not configured');
    }
    if (!payEventSigValid(push, appKey)) {
      log({ event: 'push_forged', pushEvent: push.event, outTradeNo: typeof p.OutTradeNo === 'string' ? p.OutTradeNo : undefined });
      return { ErrCode: 99999, ErrMsg: 'PayEventSig does not match' };
    }
  }
  if (kind === 'refund') return handleRefund(deps, p, env);
  if (kind === 'rechargeCenter') {
    // Coins bought in the recharge center are credited by Midas; there is nothing of ours to grant.
    log({ event: 'recharge_center_coins', outTradeNo: p.OutTradeNo, env });
    return SUCCESS;
  }
  const outTradeNo = String(p.OutTradeNo);
  let order = await getClientOrder(deps, outTradeNo);
  if (!order && env !== deps.config.midas.env) {
    // One push URL serves the mini-game's sandbox and production. A sandbox push at a production
    // deployment is another deployment's test: acknowledged, nothing recorded (environments never
    // meet). A production push at a sandbox deployment is real money sent to the wrong place: it
    // is never acknowledged away (below: retried, or a mall order flagged), and the log says why.
    log({ event: 'push_other_environment', pushEvent: push.event, env, outTradeNo, ...(env === 'production' && { why: 'a production push reached a sandbox deployment: route the message push to the production environment' }) });
    if (env === 'sandbox') return SUCCESS;
  }
  if (!order) {
    const goods = p.GoodsInfo as Record<string, unknown> | undefined;
    const fromMall = kind === 'item' && (outTradeNo.startsWith('_') || goods?.OrderSource === 2 || goods?.OrderSource === 3);
    if (!fromMall) {
      // Before signPayment's record exists (it is written before the sheet opens, so this is a
      // race or a lost write): not now; WeChat sends it again.
      log({ event: 'push_before_order', outTradeNo });
      return RETRY('order not recorded yet');
    }
    order = await recordMallOrder(deps, outTradeNo, env, p);
  }
  if (!isOwnOrder(deps, order)) {
    // Another offer's or app's order in a shared collection: never ours to flag or deliver.
    log({ event: 'push_other_deployment', outTradeNo });
    return SUCCESS;
  }
  const diff = mismatches(order, kind, p);
  if (Object.keys(diff).length > 0) {
    await flag(deps, order, 'push_mismatch', diff);
    return SUCCESS; // sending it again would not change it: an operator decides
  }
  if (!push.signed) {
    // Never trusted on its own: WeChat must say the order is paid.
    const info = await confirmPaid(deps, order);
    if (!info) return RETRY('not confirmed paid yet');
  }
  await deliverPaid(deps, order, push.signed ? 'push' : 'push+query');
  return SUCCESS;
}

async function confirmPaid(deps: DeliveryDeps, order: ClientOrder): Promise<ClientOrderInfo | undefined> {
  const appid = deps.appid ?? deps.config.midas.appId;
  if (!appid) throw new MidasCloudError('CONFIG_INVALID', 'configuration: MIDAS_APPID is not set and the platform context has no APPID', { field: 'MIDAS_APPID' });
  const query = deps.query ?? ((q) => queryOrderInfo({ cloud: deps.cloud, config: deps.config.midas, ...(deps.now && { now: deps.now }) } satisfies V2Deps, q));
  try {
    const info = await query({ openid: order.openid, appid, outTradeNo: order._id, kind: order.kind });
    return info.paid ? info : undefined;
  } catch (e) {
    if (isMidasCloudError(e) && ['OUT_TRADE_NO_NOT_FOUND', 'SESSION_EXPIRED'].includes(e.code)) return undefined;
    throw e;
  }
}

async function recordMallOrder(deps: DeliveryDeps, outTradeNo: string, env: MidasEnv, p: Record<string, unknown>): Promise<ClientOrder> {
  const g = p.GoodsInfo as Record<string, unknown>;
  const product = ctxOf(deps).catalogue.products.get(String(g.ProductId));
  const now = (deps.now ?? Date.now)();
  const quantity = Number(g.Quantity);
  const order: ClientOrder = {
    _id: outTradeNo,
    openid: String(p.OpenId),
    kind: 'item',
    productId: String(g.ProductId),
    quantity,
    unitPriceFen: product?.priceFen ?? 0,
    totalFen: (product?.priceFen ?? 0) * quantity,
    env,
    ...deploymentOfOrder(deps),
    zoneId: String(g.ZoneId ?? '1'),
    state: 'PENDING',
    createdAt: now,
    updatedAt: now,
    history: [{ state: 'PENDING', at: now, via: 'mall push' }],
    source: 'mall',
  };
  const db = deps.cloud.database();
  await inCollection(db, deps.config.ordersCollection, () => orders(deps).add({ data: { ...order } })).catch(() => undefined);
  const stored = (await getClientOrder(deps, outTradeNo)) ?? order;
  if (!product) await flag(deps, stored, 'unknown_product', { productId: g.ProductId });
  return stored;
}

async function handleRefund(deps: DeliveryDeps, p: Record<string, unknown>, env: MidasEnv): Promise<PushReply> {
  const outTradeNo = typeof p.OutTradeNo === 'string' ? p.OutTradeNo : undefined;
  const order = outTradeNo ? await getClientOrder(deps, outTradeNo) : undefined;
  const refundId = String(p.RefundId).slice(0, 64);
  if (!order) {
    deps.log?.({ event: 'refund_unmatched', refundId, ...(outTradeNo && { outTradeNo: outTradeNo.slice(0, 64) }) });
    return SUCCESS;
  }
  if (!isOwnOrder(deps, order)) {
    deps.log?.({ event: 'refund_mismatch', outTradeNo: order._id, refundId, why: 'another offer or app' });
    return SUCCESS;
  }
  // Environments never meet: a refund of the other environment does not touch this order.
  if (env !== order.env) {
    deps.log?.({ event: 'refund_mismatch', outTradeNo: order._id, refundId, why: 'env' });
    return SUCCESS;
  }
  if (p.OpenId !== undefined && p.OpenId !== order.openid) {
    await flag(deps, order, 'refund_mismatch', { refundId, player: true });
    return SUCCESS; // an operator decides
  }
  await transition(deps, order._id, ['PENDING', 'PAID', 'DELIVERED', 'EXPIRED'], 'REFUNDED', 'refund push');
  const now = (await getClientOrder(deps, order._id)) ?? order;
  // Whatever is granted now is taken back; a grant still being written is taken back by its writer.
  if (now.state === 'REFUNDED') await takeBackRefunded(deps, now, { refundId, refundAmountFen: typeof p.RefundAmount === 'number' ? p.RefundAmount : undefined });
  return SUCCESS;
}

export type DeliveryReconcileReport = DeliveryReconcileResponse;

/**
 * Lost pushes: client orders still PENDING (or PAID, after a crash) that are old enough are
 * checked with queryorderinfo; paid ones are delivered, and ones never paid within
 * MIDAS_CLIENT_ORDER_TTL_MS end EXPIRED.
 */
export async function reconcileDeliveries(deps: DeliveryDeps, limit = 50): Promise<DeliveryReconcileReport> {
  const _ = deps.cloud.database().command;
  const now = (deps.now ?? Date.now)();
  const report: DeliveryReconcileReport = { examined: 0, delivered: [], expired: [], waiting: [] };
  let open: ClientOrder[];
  try {
    // Only this deployment's orders: a page is never spent on orders it would skip.
    const r = await orders(deps)
      .where({ ...deploymentOf(deps), state: _.in(['PENDING', 'PAID']), updatedAt: _.lt(now - deps.config.reconcileMinAgeMs) })
      .orderBy('updatedAt', 'asc')
      .limit(limit)
      .get();
    open = r.data as unknown as ClientOrder[];
  } catch (e) {
    if (isMissingCollection(e)) return report;
    throw storeError(e);
  }
  for (const order of open) {
    report.examined += 1;
    // A flag asks for an operator's attention; it never stops confirming, delivering or expiring.
    if (order.state === 'PAID') {
      await deliverPaid(deps, order, 'reconciler');
      report.delivered.push(order._id);
      continue;
    }
    const info = await confirmPaid(deps, order);
    if (info) {
      await deliverPaid(deps, order, 'reconciler+query');
      report.delivered.push(order._id);
    } else if (now - order.createdAt > deps.config.clientOrderTtlMs) {
      if (await transition(deps, order._id, ['PENDING'], 'EXPIRED', 'reconciler')) report.expired.push(order._id);
    } else {
      report.waiting.push(order._id);
    }
  }
  return report;
}

/** The fields of a `myOrders` request. */
export const MY_ORDERS_FIELDS = ['outTradeNo'] as const;

/**
 * A player's client orders, coin purchases and inventory, for the game (`myOrders`). `coinOrders`
 * reads coin purchases from the ledger in the shape the caller gives (`coinView`).
 */
export async function ordersAndInventory(
  cloud: WxCloud,
  where: { ordersCollection: string; inventoryCollection: string; ledgerCollection: string },
  openid: string,
  env: MidasEnv,
  coinView: (doc: Record<string, unknown>) => MyOrdersResponse['coinOrders'][number],
  outTradeNo?: string,
): Promise<MyOrdersResponse> {
  const db = cloud.database();
  let list: ClientOrder[] = [];
  try {
    const query: Record<string, unknown> = { openid, env, ...(outTradeNo !== undefined && { _id: outTradeNo }) };
    list = (await db.collection(where.ordersCollection).where(query).orderBy('createdAt', 'desc').limit(50).get()).data as unknown as ClientOrder[];
  } catch (e) {
    if (!isMissingCollection(e)) throw storeError(e);
  }
  let coinOrders: MyOrdersResponse['coinOrders'] = [];
  if (outTradeNo === undefined) {
    try {
      const _ = db.command;
      const docs = (await db.collection(where.ledgerCollection).where({ openid, env, kind: 'pay', purchase: _.exists(true) }).orderBy('createdAt', 'desc').limit(50).get()).data;
      coinOrders = docs.map(coinView);
    } catch (e) {
      if (!isMissingCollection(e)) throw storeError(e);
    }
  }
  let counters: Record<string, number> = {};
  try {
    const inv = (await db.collection(where.inventoryCollection).where({ _id: inventoryId(env, openid) }).limit(1).get()).data[0] as { counters?: Record<string, number> } | undefined;
    counters = inv?.counters ?? {};
  } catch (e) {
    if (!isMissingCollection(e)) throw storeError(e);
  }
  return {
    orders: list.map((o) => ({
      outTradeNo: o._id,
      kind: o.kind,
      ...(o.productId !== undefined && { productId: o.productId }),
      quantity: o.quantity,
      totalFen: o.totalFen,
      state: o.state,
      ...(isFlagged(o) && { flagged: true as const }),
      createdAt: o.createdAt,
      updatedAt: o.updatedAt,
    })),
    coinOrders,
    inventory: counters,
  };
}
