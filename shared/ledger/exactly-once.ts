/**
 * Exactly-once pay, present and cancel on top of the ledger (see ledger.ts for the states).
 *
 * - The order (with its bill number) is written before Midas is called; the bill number never
 *   changes, so a repeat can never charge twice (Midas answers 90012 to a bill it applied). Bill
 *   numbers are random and stored in the order, never derived from the request, so a 90012 can
 *   only ever answer this order's own earlier attempt (not one of an emptied or other ledger).
 * - An order belongs to one deployment (environment, offer id, appid): its id is scoped by them,
 *   and no path sends its bill from a deployment of another.
 * - Nothing is sent for an order past its 47-hour deadline, by any path.
 * - An order held by another invocation is taken over only when its lease ran out by more than
 *   MIDAS_MAX_CLOCK_SKEW_MS by the taker's clock: clocks of instances need not agree.
 * - -1, timeouts, network failures and 90016 are retried with the same bill number, with
 *   jittered exponential backoff, inside the invocation's time budget. When the budget is spent
 *   the order is UNKNOWN and the caller is told it is being resolved, not that it failed.
 * - Definite failures (too low balance, bad params, a wrong secret) are final: FAILED.
 * - The same idempotency key from the same player maps to the same order, so a repeat (or a
 *   concurrent duplicate) returns the first outcome; another player's key is another order.
 */
import type { OrderView } from '../contract/answers';
import { createHash } from 'crypto';
import { MidasCloudError, fromCloudCallError, isMidasCloudError, type ErrorCode } from '../edge/errors';
import { randomBase64url } from '../edge/random';
import { FINAL_STATES, Ledger, withinSendDeadline, type GrantState, type Order, type OrderState } from './order-store';
import { newBillNo, playerValues, type CallDeps, type CallValues } from '../midas-v1/call-params';
import { IDEMPOTENCY_KEY_FIELD, REASON_FIELD, RECIPIENT_FIELD, validateEvent, validateRefundEvent } from '../midas-v1/event-validation';
import type { CoinApi, CoinOp } from './coin-api';
import type { Caller } from '../edge/caller';
import type { WxCloud } from '../edge/wx-server-sdk';
import type { MidasConfig } from '../midas-v1/settings';

/** A lease outlives the budget by this much (the last write after the budget), by the holder's clock. */
const LEASE_GRACE_MS = 1000;
/** Time kept back at the end of the budget for the last ledger write. */
const FINAL_WRITE_RESERVE_MS = 250;
/** An attempt with less time than this is not started. */
const MIN_ATTEMPT_MS = 100;
const BACKOFF_BASE_MS = 80;
const BACKOFF_CAP_MS = 800;
/** How often a duplicate request looks at an order another invocation is working on. */
const POLL_MS = 100;

export interface PaymentDeps extends CallDeps {
  ledger: Ledger;
  /** The Midas generation the deployment uses (MIDAS_API). */
  api: CoinApi;
  caller: Caller;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  log?: (entry: Record<string, unknown>) => void;
  /**
   * Coin purchases: what makes their grant match their pay (grant a kept pay, take back a
   * cancelled one). Every function that may resolve or cancel an order is given it.
   */
  purchases?: PurchaseSettler;
}

export interface PurchaseSettler {
  /** Brings a coin purchase's grant in line with its pay, as far as it can now; returns the order as it is then. */
  settle(s: Session, order: Order): Promise<Order>;
}

/** What a client learns about an order (the contract's type). Grant an item only when `state` is `COMPLETED`. */
export type { OrderView };

export function viewOf(o: Order): OrderView {
  const v: OrderView = {
    orderId: o._id,
    billNo: o.billNo,
    kind: o.kind,
    state: o.state,
    resolving: !FINAL_STATES.has(o.state),
    amount: o.amount,
    createdAt: o.createdAt,
  };
  if (o.item !== undefined) v.item = o.item;
  if (o.reason !== undefined) v.reason = o.reason;
  // The balance Midas gave with the pay: stale once the pay is being (or was) cancelled.
  if (o.result?.balance !== undefined && o.state !== 'CANCELLING' && o.state !== 'CANCELLED') v.balance = o.result.balance;
  if (o.result?.usedGenAmt !== undefined) v.usedGenAmt = o.result.usedGenAmt;
  if (o.kind === 'refund' && o.call.payBillNo !== undefined) v.refundOf = String(o.call.payBillNo);
  if (o.refundReserved) v.refunded = o.refundReserved;
  return v;
}

/**
 * The error a FAILED order failed with: as Midas' answer said it for the invocation that sent
 * the order, and as "failed earlier" for a repeat of the same request.
 */
function failureOf(o: Order, earlier: boolean): MidasCloudError {
  const code = (o.lastError?.code ?? 'INTERNAL') as ErrorCode;
  const said = o.lastError?.message ?? code;
  const e = new MidasCloudError(code, earlier ? `the order failed earlier: ${said}` : said, {
    outcome: 'not_applied',
    ...(o.lastError?.upstreamCode !== undefined && { upstreamCode: o.lastError.upstreamCode }),
  });
  e.billNo = o.billNo;
  return e;
}

/** The deployment an order belongs to. */
export interface OrderScope {
  api: 'v1' | 'v2';
  env: string;
  offerId: string;
  appid: string;
}

/**
 * The order id of an idempotency key: one per (environment, offer, app, kind, player, key), so
 * neither another player nor a deployment of another environment, offer or app can meet it.
 */
export function orderIdForKey(scope: OrderScope, kind: string, openid: string, key: string): string {
  // v1 ids keep their form (no generation part), so orders written before 2.0 existed keep theirs.
  const parts = [...(scope.api === 'v2' ? ['v2'] : []), scope.env, scope.offerId, scope.appid, kind, openid, key].join('\u0000');
  return `k_${createHash('sha256').update(parts).digest('base64url').slice(0, 40)}`;
}

/** Whether `order` belongs to the deployment `scope`: only then may its bills be sent from here. */
export function belongsTo(order: Order, scope: Omit<OrderScope, 'appid'> & { appid?: string }): 'yes' | 'other_api' | 'other_env' | 'other_offer' | 'other_app' {
  if ((order.api ?? 'v1') !== scope.api) return 'other_api';
  if (order.env !== scope.env) return 'other_env';
  if (order.offerId !== scope.offerId) return 'other_offer';
  if (scope.appid !== undefined && order.appid !== scope.appid) return 'other_app';
  return 'yes';
}

/** One invocation's hold on orders: its lease id and the end of its time budget. */
export interface Session {
  deps: PaymentDeps;
  now: () => number;
  leaseId: string;
  deadline: number;
}

export function startSession(deps: PaymentDeps, budgetMs = deps.config.timeBudgetMs): Session {
  const now = deps.now ?? Date.now;
  return { deps, now, leaseId: randomBase64url(9), deadline: now() + budgetMs };
}

const leaseUntil = (s: Session) => s.deadline + LEASE_GRACE_MS;

/** The bookkeeping of an order this session writes and sends at once (the first attempt is counted). */
function newOrderFields(s: Session, t: number) {
  return {
    attempts: 1,
    cancelAttempts: 0,
    leaseId: s.leaseId,
    leaseUntil: leaseUntil(s),
    lastError: null,
    result: null,
    createdAt: t,
    updatedAt: t,
    resolvedAt: null,
  };
}

/** Whether `order`'s lease ran out long enough ago, by this session's clock, that its holder cannot be alive. */
export function leaseLapsed(s: Session, order: Order): boolean {
  return order.leaseUntil < s.now() - s.deps.config.maxClockSkewMs;
}
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type AttemptOutcome =
  | { kind: 'done'; data: Record<string, unknown> | null }
  | { kind: 'definite'; error: MidasCloudError }
  | { kind: 'exhausted'; error: MidasCloudError }
  | { kind: 'lostLease' };

/**
 * Calls `op` with the same values until a definite answer or the end of the budget. Each
 * attempt is counted in the ledger before it is sent. `alreadyDone` is the error that means
 * an earlier attempt went through (90012 for pay/present, 90015 for a cancel).
 */
async function attempts(s: Session, order: Order, op: CoinOp, values: CallValues, alreadyDone: ErrorCode, firstCounted: boolean): Promise<AttemptOutcome> {
  const { deps, now } = s;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const counter = op === 'cancelPay' ? 'cancelAttempts' : 'attempts';
  // Attempts of this bill before this session's first one (that one is counted when `firstCounted`).
  const before = order[counter] - (firstCounted ? 1 : 0);
  for (let n = 0; ; n++) {
    // The write that made the order ours (insert or claim) counted the first attempt already.
    if (n > 0 || !firstCounted) {
      const owned = await deps.ledger.update(order._id, { leaseId: s.leaseId }, { updatedAt: now() }, { [counter]: 1 });
      if (!owned) return { kind: 'lostLease' };
    }
    const remaining = s.deadline - now() - FINAL_WRITE_RESERVE_MS;
    let error: MidasCloudError;
    try {
      const data = await deps.api.send(op, values as Record<string, string | number>, Math.max(MIN_ATTEMPT_MS, Math.min(deps.config.callTimeoutMs, remaining)));
      return { kind: 'done', data };
    } catch (e) {
      error = isMidasCloudError(e) ? e : fromCloudCallError(e, true);
    }
    if (error.code === alreadyDone) return { kind: 'done', data: null };
    // 2.0 checks the player's session before it looks at the bill: a refusal for the session says
    // nothing of an earlier attempt of the same bill, which may have gone through. Unknown, then.
    if (error.code === 'SESSION_EXPIRED' && before + n > 0) return { kind: 'exhausted', error };
    if (!error.retryable) return { kind: 'definite', error };
    const backoff = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** n) * (0.5 + random() / 2);
    if (now() + backoff + MIN_ATTEMPT_MS + FINAL_WRITE_RESERVE_MS > s.deadline) return { kind: 'exhausted', error };
    deps.log?.({ event: 'retry', orderId: order._id, op, code: error.code, attempt: n + 1, backoffMs: Math.round(backoff) });
    await sleep(backoff);
  }
}

function errorRecord(e: MidasCloudError): Order['lastError'] {
  return { code: e.code, ...(e.upstreamCode !== undefined && { upstreamCode: e.upstreamCode }), ...(e.expose && { message: e.message }) };
}

/** Moves the order to `state` if this session still holds it; returns the order as it is now. */
async function settle(s: Session, order: Order, state: OrderState, patch: Partial<Order>): Promise<Order> {
  const t = s.now();
  // Only what changes is written: the attempt counters were incremented in the ledger itself.
  const change: Partial<Order> = { ...patch, state, leaseId: '', leaseUntil: 0, updatedAt: t, resolvedAt: FINAL_STATES.has(state) ? t : null };
  const next: Order = { ...order, ...change };
  try {
    if (await s.deps.ledger.update(order._id, { leaseId: s.leaseId }, change)) return next;
    return (await s.deps.ledger.get(order._id)) ?? order;
  } catch (e) {
    // The ledger failed after Midas answered. The caller is told only what the ledger holds (the
    // order as it was, still open: "resolving"), never an outcome the ledger may not keep: the
    // reconciler re-sends the same bill and finds the same answer, by its policy, and a repeat of
    // the request then sees the final state.
    s.deps.log?.({ event: 'ledger_write_failed', orderId: order._id, billNo: order.billNo, state, code: isMidasCloudError(e) ? e.code : 'INTERNAL' });
    return (await s.deps.ledger.get(order._id).catch(() => undefined)) ?? order;
  }
}

/**
 * Drives a PENDING order (held by this session) to COMPLETED, FAILED or UNKNOWN.
 * `firstCounted`: the write that took the order already counted the first attempt. A 2.0 refund
 * Midas definitely refused gives its share of the pay back (a lapsed login keeps it: the refund
 * is sent again after the player logs in).
 */
export async function drivePayment(s: Session, order: Order, firstCounted = false, giveBack = false): Promise<Order> {
  const done = await drivePaymentOnce(s, order, firstCounted, giveBack);
  if (done.kind === 'refund' && done.state === 'FAILED' && done.lastError?.code !== 'SESSION_EXPIRED' && done.refundOf) {
    await s.deps.ledger.releaseRefund(done.refundOf, done._id, done.amount).catch(() => false);
  }
  return done;
}

async function drivePaymentOnce(s: Session, order: Order, firstCounted: boolean, giveBack: boolean): Promise<Order> {
  const r = await attempts(s, order, order.kind, order.call, 'BILL_ALREADY_EXISTS', firstCounted);
  switch (r.kind) {
    case 'done': {
      const result: NonNullable<Order['result']> = {};
      if (typeof r.data?.balance === 'number') result.balance = r.data.balance;
      if (typeof r.data?.usedGenAmt === 'number') result.usedGenAmt = r.data.usedGenAmt;
      if (giveBack) return giveBackApplied(s, order, result);
      return settle(s, order, 'COMPLETED', { result, lastError: null });
    }
    case 'definite':
      return settle(s, order, 'FAILED', { lastError: errorRecord(r.error) });
    case 'exhausted':
      return settle(s, order, 'UNKNOWN', { lastError: errorRecord(r.error) });
    case 'lostLease':
      return (await s.deps.ledger.get(order._id)) ?? order;
  }
}

/**
 * The reconciler's policy `refund`: a pay found applied is given back without ever being shown as
 * kept, to a repeat of it or to anyone. v1 moves it straight to CANCELLING (still held: the same
 * write counts the cancel's first attempt) and cancels its bill; 2.0 completes it with the whole
 * pay reserved for its refund in the same write (a repeat is told the coins are being refunded),
 * then refunds it. A refund cut short after that write is finished by the reconciler (`grantOpen`).
 */
async function giveBackApplied(s: Session, order: Order, result: NonNullable<Order['result']>): Promise<Order> {
  if (s.deps.api.api === 'v1') {
    const patch: Partial<Order> = { state: 'CANCELLING', result, lastError: null, updatedAt: s.now(), leaseUntil: leaseUntil(s) };
    let held = false;
    try {
      held = await s.deps.ledger.update(order._id, { leaseId: s.leaseId }, patch, { cancelAttempts: 1 });
    } catch (e) {
      s.deps.log?.({ event: 'ledger_write_failed', orderId: order._id, billNo: order.billNo, state: 'CANCELLING', code: isMidasCloudError(e) ? e.code : 'INTERNAL' });
    }
    if (!held) return (await s.deps.ledger.get(order._id).catch(() => undefined)) ?? order;
    return (await driveCancel(s, { ...order, ...patch, cancelAttempts: order.cancelAttempts + 1 }, true)).order;
  }
  const id = refundIdOf(order);
  const completed = await settle(s, order, 'COMPLETED', { result, lastError: null, refundReserved: order.amount, refunds: { [id]: order.amount }, grantOpen: true });
  if (completed.state !== 'COMPLETED' || !completed.refunds?.[id]) return completed;
  return finishRefunds(s, completed);
}

/**
 * 2.0, a pay that is not a coin purchase (a purchase's grant settles it, shared/purchases): writes
 * and sends every refund whose share was reserved and whose order was not written (a cancel cut
 * short between the two writes, or a policy `refund`), sends again one refused for a lapsed login
 * once the player has logged in, and clears `grantOpen` once every refund it read is COMPLETED or
 * EXPIRED (unless another was reserved meanwhile). `write` false: only that last step. Returns the pay.
 */
export async function finishRefunds(s: Session, pay: Order, write = true): Promise<Order> {
  for (let round = 0; round < 3; round++) {
    let waiting = false;
    let changed = false;
    for (const [id, share] of Object.entries(pay.refunds ?? {})) {
      if (!share) continue;
      const refund = await s.deps.ledger.get(id);
      // Done, or EXPIRED (never confirmed within its bill's validity: logged for an operator).
      if (refund?.state === 'COMPLETED' || refund?.state === 'EXPIRED') continue;
      // In flight: its end decides; the mark stays until every refund is done.
      if (refund && refund.state !== 'FAILED') return (await s.deps.ledger.get(pay._id)) ?? pay;
      if (!write) return pay; // (`write` false: only clear the mark when nothing is left to do)
      if (refund?.lastError?.code === 'SESSION_EXPIRED') {
        if ((await retryLapsedRefund(s, pay, id, share, refund)) === 'waiting') waiting = true;
        else changed = true;
      } else if (refund) {
        // Refused for good, and its share not given back yet (that write failed): give it back now.
        await s.deps.ledger.releaseRefund(pay._id, id, share);
        changed = true;
      } else {
        try {
          await writeRefund(s, pay, id, share);
        } catch (e) {
          // Not now (the ledger failed, the login lapsed, or Midas refused it): the reconciler comes back.
          s.deps.log?.({ event: 'refund_not_made', orderId: pay._id, billNo: pay.billNo, code: isMidasCloudError(e) ? e.code : 'INTERNAL' });
        }
        changed = true;
      }
    }
    if (waiting) return (await s.deps.ledger.get(pay._id)) ?? pay;
    if (!changed) {
      // Every refund reserved when `pay` was read is done; a later one changes refundReserved.
      await s.deps.ledger.update(pay._id, { states: ['COMPLETED'], refundReserved: pay.refundReserved ?? 0 }, { grantOpen: false });
      return (await s.deps.ledger.get(pay._id)) ?? pay;
    }
    pay = (await s.deps.ledger.get(pay._id)) ?? pay; // something changed: look again before clearing the mark
  }
  return pay;
}

/**
 * 2.0: the refunds of `pay` that Midas refused only because the player's login had lapsed
 * (SESSION_EXPIRED keeps their share) are sent again once the player has logged in (nothing is
 * sent before); one too old to send is given up, its share given back (logged for an operator).
 * `waiting`: one still waits for a login; `changed`: one was sent or given up; else `none`.
 */
export async function retryLapsedRefunds(s: Session, pay: Order): Promise<'none' | 'changed' | 'waiting'> {
  let outcome: 'none' | 'changed' | 'waiting' = 'none';
  for (const [id, share] of Object.entries(pay.refunds ?? {})) {
    if (!share) continue;
    const refund = await s.deps.ledger.get(id);
    if (refund?.state !== 'FAILED' || refund.lastError?.code !== 'SESSION_EXPIRED') continue;
    const r = await retryLapsedRefund(s, pay, id, share, refund);
    if (r === 'waiting') outcome = 'waiting';
    else if (outcome === 'none') outcome = 'changed';
  }
  return outcome;
}

async function retryLapsedRefund(s: Session, pay: Order, id: string, share: number, refund: Order): Promise<'changed' | 'waiting'> {
  if (!withinSendDeadline(refund, s.now())) {
    await s.deps.ledger.releaseRefund(pay._id, id, share);
    s.deps.log?.({ event: 'refund_expired', orderId: pay._id, billNo: pay.billNo, refundBillNo: refund.billNo, coins: share });
    return 'changed';
  }
  try {
    await s.deps.api.prepare?.('refund', refund.openid);
  } catch (e) {
    if (!isMidasCloudError(e) || e.code !== 'SESSION_EXPIRED') throw e;
    return 'waiting'; // still no login: nothing sent
  }
  const again = await followExisting(s, refund);
  return again.state === 'FAILED' && again.lastError?.code === 'SESSION_EXPIRED' ? 'waiting' : 'changed';
}

/** The id of a 2.0 refund of `pay`: from the pay and the request's key (none: "the rest of the pay"). */
export function refundIdOf(pay: Order, key?: string): string {
  return orderIdForKey({ api: 'v2', env: pay.env, offerId: pay.offerId, appid: pay.appid }, 'refund', pay.openid, `${pay.billNo}|${key ?? 'rest'}`);
}

/** Drives a CANCELLING order (held by this session) to CANCELLED, back to COMPLETED, or leaves it CANCELLING. */
export async function driveCancel(s: Session, order: Order, firstCounted = false): Promise<{ order: Order; error?: MidasCloudError }> {
  const { openid, appid, zoneId, userIp, billNo, payItem } = order.call;
  const values: CallValues = { openid, appid, zoneId, userIp, billNo, payItem };
  const r = await attempts(s, order, 'cancelPay', values, 'BILL_ALREADY_CANCELLED', firstCounted);
  switch (r.kind) {
    case 'done':
      return { order: await settle(s, order, 'CANCELLED', { lastError: null }) };
    case 'definite':
      // Midas kept the payment (confirmed, or it does not know the bill): the order stays paid.
      return { order: await settle(s, order, 'COMPLETED', { lastError: errorRecord(r.error) }), error: r.error };
    case 'exhausted':
      return { order: await settle(s, order, 'CANCELLING', { lastError: errorRecord(r.error) }) };
    case 'lostLease':
      return { order: (await s.deps.ledger.get(order._id)) ?? order };
  }
}

/**
 * Takes an order whose lease ran out (a crashed or finished invocation) more than the clock skew
 * ago, counting the first attempt of what this session will send in the same write.
 */
export async function claim(s: Session, order: Order, to: OrderState = order.state, willSend = true, more: { grants?: readonly GrantState[]; patch?: Partial<Order> } = {}): Promise<Order | undefined> {
  const t = s.now();
  const patch = { ...more.patch, state: to, leaseId: s.leaseId, leaseUntil: leaseUntil(s), updatedAt: t };
  const counter = to === 'CANCELLING' ? 'cancelAttempts' : 'attempts';
  const expect = { states: [order.state], leaseExpiredBy: t - s.deps.config.maxClockSkewMs, ...(more.grants && { grants: more.grants }) };
  const ok = await s.deps.ledger.update(order._id, expect, patch, willSend ? { [counter]: 1 } : {});
  return ok ? { ...order, ...patch, [counter]: order[counter] + (willSend ? 1 : 0) } : undefined;
}

/** Gives up this session's hold on an order without changing anything else (false: it was not held). */
export async function release(s: Session, order: Order, patch: Partial<Order> = {}): Promise<boolean> {
  return s.deps.ledger.update(order._id, { leaseId: s.leaseId }, { ...patch, leaseId: '', leaseUntil: 0, updatedAt: s.now() });
}

function sameRequest(a: Order, b: Order): boolean {
  // A coin purchase is the same request when it buys the same: its price may have changed since.
  const sameWhat = a.purchase || b.purchase ? a.purchase?.productId === b.purchase?.productId && a.purchase?.quantity === b.purchase?.quantity : a.amount === b.amount;
  return (
    sameWhat &&
    (a.api ?? 'v1') === (b.api ?? 'v1') &&
    a.refundOf === b.refundOf &&
    a.env === b.env &&
    a.offerId === b.offerId &&
    a.appid === b.appid &&
    a.kind === b.kind &&
    a.openid === b.openid &&
    a.item === b.item &&
    a.reason === b.reason &&
    a.call.zoneId === b.call.zoneId
  );
}

/** The answer for an order: its view, or the error it failed with (`earlier`: for a repeat). */
function outcome(o: Order, earlier: boolean): OrderView {
  if (o.state === 'FAILED') throw failureOf(o, earlier);
  return viewOf(o);
}

/**
 * An order past its send deadline, held by this session: a cancel can no longer be sent (the pay
 * stays), a bill is no longer re-sent (EXPIRED, for an operator).
 */
export async function finishExpired(s: Session, order: Order): Promise<Order> {
  const t = s.now();
  const state: OrderState = order.state === 'CANCELLING' ? 'COMPLETED' : 'EXPIRED';
  const lastError = { code: order.state === 'CANCELLING' ? 'BILL_ALREADY_CONFIRMED' : 'EXPIRED' };
  const patch = { state, lastError, leaseId: '', leaseUntil: 0, updatedAt: t, resolvedAt: t };
  const done = (await s.deps.ledger.update(order._id, { leaseId: s.leaseId }, patch)) ? { ...order, ...patch } : order;
  s.deps.log?.({ event: 'order_expired', orderId: order._id, billNo: order.billNo, kind: order.kind, amount: order.amount, state: done.state });
  return done;
}

/**
 * `pay` (the caller's coins) or `present` (a recipient's, trusted callers only: checked by the caller).
 *
 * @example
 * await placeOrder('pay', { amt: 30, payItem: 'sword', idempotencyKey: 'buy-42' }, deps) // → OrderView
 */
export async function placeOrder(kind: 'pay' | 'present', event: unknown, deps: PaymentDeps): Promise<OrderView> {
  const fields = validateEvent(kind, event);
  const { order, own } = await openOrder(kind, fields, deps);
  return outcome(order, !own);
}

/** A coin purchase's part of a new pay: what it buys, at the price the server's catalogue says. */
export interface PurchaseRequest {
  productId: string;
  quantity: number;
  coinPrice: number;
}

/**
 * Writes (or finds) the order of a validated pay or present and drives it as far as it goes in
 * this invocation. `purchase`: a coin purchase (kept under keys of its own, never a raw pay's).
 * Returns the order and whether it was this request's own (false: a repeat of an earlier one).
 */
export async function openOrder(kind: 'pay' | 'present', fields: Record<string, string | number>, deps: PaymentDeps, purchase?: PurchaseRequest): Promise<{ order: Order; session: Session; own: boolean }> {
  const s = startSession(deps);
  const player = playerValues(deps.caller, deps.config, kind === 'present' ? String(fields[RECIPIENT_FIELD]) : deps.caller.openid);
  const key = fields[IDEMPOTENCY_KEY_FIELD] as string | undefined;
  const scope: OrderScope = { api: deps.api.api, env: deps.config.env, offerId: deps.config.offerId, appid: player.appid };
  const billNo = newBillNo();
  const id = key !== undefined ? orderIdForKey(scope, purchase ? 'buy' : kind, player.openid, key) : billNo;
  const amount = purchase ? purchase.coinPrice * purchase.quantity : Number(kind === 'pay' ? fields.amt : fields.presentCounts);
  const call = deps.api.callOf(kind, {
    ...player,
    zoneId: (fields.zoneId as string | undefined) ?? deps.config.defaultZoneId,
    billNo,
    amount,
    ...(fields.payItem !== undefined && { payItem: String(fields.payItem) }),
    ...(fields.appRemark !== undefined && { appRemark: String(fields.appRemark) }),
  });
  if (deps.api.prepare) {
    // 2.0: a player (or recipient) who cannot sign gets SESSION_EXPIRED before anything is
    // written, unless the key names an order that exists already (its answer stands).
    const existing = key !== undefined ? await deps.ledger.get(id) : undefined;
    if (!existing) await deps.api.prepare(kind, player.openid);
  }
  const t = s.now();
  const order: Order = {
    _id: id,
    kind,
    ...(deps.api.api === 'v2' && { api: 'v2' as const }),
    ...(deps.api.api === 'v2' && kind === 'pay' && { refundReserved: 0, refunds: {} }),
    env: deps.config.env,
    offerId: deps.config.offerId,
    appid: player.appid,
    state: 'PENDING',
    billNo,
    openid: player.openid,
    amount,
    ...(fields.payItem !== undefined && { item: String(fields.payItem) }),
    ...((fields.appRemark ?? fields[REASON_FIELD]) !== undefined && { reason: String(fields.appRemark ?? fields[REASON_FIELD]) }),
    ...(key !== undefined && { idempotencyKey: key }),
    ...(purchase && { purchase: { ...purchase }, grant: 'PENDING' as const, grantOpen: true, flags: [] }),
    call,
    ...newOrderFields(s, t), // the first attempt follows this insert at once
  };

  const { inserted, order: current } = await deps.ledger.insertOnce(order);
  if (inserted) return { order: await drivePayment(s, current, true), session: s, own: true };
  if (!sameRequest(current, order)) {
    throw new MidasCloudError('IDEMPOTENCY_KEY_REUSED', `${IDEMPOTENCY_KEY_FIELD} was used before for a different request`, { field: IDEMPOTENCY_KEY_FIELD });
  }
  return { order: await followExisting(s, current), session: s, own: false };
}

/** The answer for an order of this request (`own`) or a repeat of it. */
export function answerFor(o: Order, own: boolean): OrderView {
  return outcome(o, !own);
}

/**
 * A repeat of a known order: its outcome if final; otherwise wait for the invocation working
 * on it, or take it over when that one's lease ran out (it crashed or gave up).
 */
async function followExisting(s: Session, order: Order): Promise<Order> {
  const sleep = s.deps.sleep ?? defaultSleep;
  let current: Order | undefined = order;
  // Refused only because the login had lapsed: once the player logged in again, the same bill is
  // sent again (it was never applied, and a bill is applied once in any case).
  if (current.state === 'FAILED' && current.lastError?.code === 'SESSION_EXPIRED' && withinSendDeadline(current, s.now()) && leaseLapsed(s, current)) {
    // A coin purchase owes its grant again once its pay may go through (it was marked NONE).
    const mine = await claim(s, current, 'PENDING', true, current.purchase ? { patch: { grant: 'PENDING', grantOpen: true } } : {});
    if (mine) return drivePayment(s, mine, true);
  }
  while (current && !FINAL_STATES.has(current.state) && current.state !== 'CANCELLING') {
    if (leaseLapsed(s, current)) {
      if (!withinSendDeadline(current, s.now())) {
        // Too old to send its bill again: nothing is sent, the order is EXPIRED for an operator.
        const mine = await claim(s, current, current.state, false);
        if (mine) return finishExpired(s, mine);
      } else {
        const mine = await claim(s, current, 'PENDING');
        if (mine) return drivePayment(s, mine, true);
      }
    }
    if (s.now() + POLL_MS > s.deadline) break;
    await sleep(POLL_MS);
    current = await s.deps.ledger.get(order._id);
  }
  return current ?? order;
}

/**
 * The pay with this bill number, of this deployment (any player's: only trusted callers cancel).
 * One of another deployment does not exist here: BILL_NOT_FOUND.
 */
async function payOfDeployment(deps: PaymentDeps, billNo: string): Promise<Order> {
  const order = await deps.ledger.findByBill(billNo);
  const scope = { api: deps.api.api, env: deps.config.env, offerId: deps.config.offerId, appid: deps.caller.appid ?? deps.config.appId };
  if (!order || order.kind !== 'pay' || belongsTo(order, scope) !== 'yes') {
    throw Object.assign(new MidasCloudError('BILL_NOT_FOUND', 'no such payment in this deployment'), { billNo });
  }
  return order;
}

/**
 * Cancels a COMPLETED pay within its validity (trusted callers only: the function's wiring
 * checks). A coin purchase's grants are then taken back, or the order flagged.
 *
 * @example
 * await cancelOrder({ billNo }, deps) // → OrderView in state CANCELLED
 */
export async function cancelOrder(event: unknown, deps: PaymentDeps): Promise<OrderView> {
  if (deps.api.api === 'v2') return refundPayment(event, deps);
  const fields = validateEvent('cancelPay', event);
  const s = startSession(deps);
  const billNo = String(fields.billNo);
  const order = await payOfDeployment(deps, billNo);
  const err = (code: ErrorCode, message: string) => Object.assign(new MidasCloudError(code, message, { outcome: 'not_applied' }), { billNo });
  if (order.state === 'CANCELLED') throw err('BILL_ALREADY_CANCELLED', 'the payment was already cancelled');
  if (order.state !== 'COMPLETED' && order.state !== 'CANCELLING') {
    throw err('ORDER_NOT_CANCELLABLE', `only a completed payment can be cancelled; this one is ${order.state}`);
  }
  if (!withinSendDeadline(order, s.now())) throw err('BILL_ALREADY_CONFIRMED', 'the payment is older than 47 hours and can no longer be cancelled');
  // A coin purchase: its grant no longer matches once the cancel is sent (the reconciler looks).
  const mine = await claim(s, order, 'CANCELLING', true, order.purchase ? { patch: { grantOpen: true } } : {});
  if (!mine) {
    // Another invocation is cancelling (or granting) it right now: report where it stands.
    return viewOf((await deps.ledger.get(order._id)) ?? order);
  }
  const r = await driveCancel(s, mine, true);
  if (r.error) throw Object.assign(r.error, { billNo });
  return viewOf(await settledPurchase(s, r.order));
}

/** A coin purchase brought in line with its pay, when the function was given how (else as it is). */
export async function settledPurchase(s: Session, order: Order): Promise<Order> {
  if (!order.purchase || !s.deps.purchases) return order;
  return s.deps.purchases.settle(s, order);
}

/** One ledger per SDK instance and collection, kept for the life of the instance. */
const ledgers = new WeakMap<object, Map<string, Ledger>>();

/**
 * What pay, present, cancel and the reconciler need, from a function's context, its settings and
 * the Midas generation its wiring picked (shared/wiring/coin-api.ts).
 */
export function paymentDeps(ctx: { cloud: WxCloud; caller: Caller; settings: MidasConfig; log: (entry: Record<string, unknown>) => void }, api: CoinApi, purchases?: PurchaseSettler): PaymentDeps {
  let byName = ledgers.get(ctx.cloud);
  if (!byName) ledgers.set(ctx.cloud, (byName = new Map()));
  let ledger = byName.get(ctx.settings.ledgerCollection);
  if (!ledger) byName.set(ctx.settings.ledgerCollection, (ledger = new Ledger(ctx.cloud, ctx.settings.ledgerCollection)));
  return { cloud: ctx.cloud, config: ctx.settings, caller: ctx.caller, ledger, api, log: ctx.log, ...(purchases && { purchases }) };
}

/**
 * A 2.0 `cancelPay`: a refund of a COMPLETED pay (trusted callers only), as an order of its own.
 * A coin purchase is refunded whole, and its grants are then taken back (or the order flagged).
 *
 * @example
 * await refundPayment({ billNo, amount: 5, idempotencyKey: 'refund-1' }, deps) // → the refund's OrderView
 */
export async function refundPayment(event: unknown, deps: PaymentDeps): Promise<OrderView> {
  const f = validateRefundEvent(event);
  const s = startSession(deps);
  const pay = await payOfDeployment(deps, f.billNo);
  if (pay.purchase && f.amount !== undefined && f.amount !== pay.amount) {
    throw Object.assign(new MidasCloudError('VALIDATION_FAILED', `a coin purchase is refunded whole: leave amount out (it is ${pay.amount})`, { field: 'amount' }), { billNo: pay.billNo });
  }
  const refund = pay.purchase ? await startRefund(s, pay) : await startRefund(s, pay, f.amount, f.idempotencyKey);
  if (pay.purchase) await settledPurchase(s, (await deps.ledger.get(pay._id)) ?? pay);
  return viewOf(refund);
}

/**
 * Refunds `amount` of `pay` (the rest of it when left out) as a refund order of its own. The id of
 * the refund comes from (pay, key); without a key it is "the rest of the pay", so repeating a full
 * refund is the same refund. Its share is reserved on the pay before the refund order is written,
 * so the refunds of a pay never add up to more than the pay.
 */
export async function startRefund(s: Session, pay: Order, amount?: number, key?: string): Promise<Order> {
  const { deps } = s;
  const err = (code: ErrorCode, message: string, field?: string) =>
    Object.assign(new MidasCloudError(code, message, { outcome: 'not_applied', ...(field && { field }) }), { billNo: pay.billNo });
  const id = refundIdOf(pay, key);
  const existing = await deps.ledger.get(id);
  if (existing) {
    if (key !== undefined && existing.amount !== amount) throw err('IDEMPOTENCY_KEY_REUSED', `${IDEMPOTENCY_KEY_FIELD} was used before for a different refund`, IDEMPOTENCY_KEY_FIELD);
    const followed = await followExisting(s, existing);
    if (followed.state === 'FAILED') throw failureOf(followed, true);
    return followed;
  }
  if (pay.state !== 'COMPLETED') throw err('ORDER_NOT_CANCELLABLE', `only a completed payment can be refunded; this one is ${pay.state}`);
  if (!withinSendDeadline(pay, s.now())) throw err('BILL_ALREADY_CONFIRMED', 'the payment is older than 47 hours and can no longer be refunded');

  // Reserve the share (optimistic; a concurrent refund of the same pay makes us read again).
  let share = amount ?? 0;
  for (let tries = 0; ; tries++) {
    const cur = await deps.ledger.get(pay._id);
    if (!cur || cur.state !== 'COMPLETED') throw err('ORDER_NOT_CANCELLABLE', 'only a completed payment can be refunded');
    if (cur.refunds?.[id] !== undefined) {
      share = cur.refunds[id]!; // reserved by an earlier attempt of this same refund
      break;
    }
    const reserved = cur.refundReserved ?? 0;
    const left = cur.amount - reserved;
    if (amount === undefined) share = left;
    if (left <= 0) throw err('BILL_ALREADY_CANCELLED', 'the payment was refunded in full already');
    if (share > left) throw err('REFUND_EXCEEDS_PAYMENT', `only ${left} of the ${cur.amount} coins of this payment are left to refund`, 'amount');
    await deps.api.prepare?.('refund', pay.openid);
    // The reservation sets `grantOpen` in the same write: the reconciler looks at the pay until its
    // refunds are done (a coin purchase's grant no longer matches once a refund may be sent).
    if (await deps.ledger.reserveRefund(pay._id, reserved, id, share)) break;
    if (tries >= 5) throw new MidasCloudError('LEDGER_UNAVAILABLE', 'the payment is being refunded by another request; try again', { outcome: 'not_applied' });
  }
  const refund = await writeRefund(s, pay, id, share, key);
  // Written: unless another refund of it is in flight, the pay needs no look from the reconciler.
  if (!pay.purchase) await finishRefunds(s, (await deps.ledger.get(pay._id).catch(() => undefined)) ?? pay, false).catch(() => undefined);
  return refund;
}

/**
 * Writes the refund order of a share reserved on `pay` (id and share as reserved) and sends it;
 * whoever writes it first, there is one. Throws the refund's failure if Midas refused it.
 */
async function writeRefund(s: Session, pay: Order, id: string, share: number, key?: string): Promise<Order> {
  const { deps } = s;
  const t = s.now();
  const { openid, appid, zoneId, userIp } = pay.call;
  const billNo = newBillNo();
  const order: Order = {
    _id: id,
    kind: 'refund',
    api: 'v2',
    env: pay.env,
    offerId: pay.offerId,
    appid: pay.appid,
    state: 'PENDING',
    billNo,
    openid: pay.openid,
    amount: share,
    ...(key !== undefined && { idempotencyKey: key }),
    refundOf: pay._id,
    call: { openid: openid!, appid: appid!, zoneId: zoneId!, ...(userIp !== undefined && { userIp }), billNo, payBillNo: pay.billNo, amount: share },
    ...newOrderFields(s, t),
  };
  let written: { inserted: boolean; order: Order };
  try {
    written = await deps.ledger.insertOnce(order);
  } catch (e) {
    // The share stays reserved for this refund: the reconciler writes and sends it, and a repeat
    // of the request is the same refund.
    if (isMidasCloudError(e) && e.code === 'LEDGER_UNAVAILABLE') {
      throw Object.assign(new MidasCloudError('LEDGER_UNAVAILABLE', 'the order ledger is not available: nothing was refunded yet; the refund stays reserved and is sent by the reconciler (repeat this request for its outcome)', { outcome: 'unknown' }), { billNo: pay.billNo });
    }
    throw e;
  }
  const { inserted, order: current } = written;
  const done = inserted ? await drivePayment(s, current, true) : await followExisting(s, current);
  if (done.state === 'FAILED') throw failureOf(done, !inserted);
  return done;
}
