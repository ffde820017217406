/**
 * Reconciliation: every open order (PENDING, UNKNOWN, CANCELLING) older than
 * MIDAS_RECONCILE_MIN_AGE_MS whose lease has run out is resolved. Policy:
 *
 * - PENDING / UNKNOWN pay or present: send the same bill again. Midas applies a bill once, so
 *   this either applies it now or answers 90012 (it was applied before): COMPLETED either way;
 *   a definite refusal makes it FAILED. With MIDAS_RECONCILE_PAY_POLICY=refund, a pay found
 *   COMPLETED this way is then cancelled (the player gets the coins back, no item).
 * - CANCELLING: send the same cancel again; 90015 means it was done: CANCELLED.
 * - Still open 47 h after creation (1 h inside the 48 h bill validity): EXPIRED, logged for
 *   an operator. So nothing stays unresolved past the bill's validity.
 * - Orders of another deployment (environment, offer id, appid) are left alone: their bills are
 *   sent only by a deployment of their own.
 * - An order is taken only when its lease ran out more than MIDAS_MAX_CLOCK_SKEW_MS ago by this
 *   instance's clock, so a pay whose first invocation may still be running is never refunded.
 */
import type { ReconcileRequest, ReconcileResponse as ReconcileReport } from '../contract/answers';
import { MidasCloudError, isMidasCloudError } from '../edge/errors';
import { requestFields } from '../edge/request';
import { BILL_NO_PATTERN } from '../midas-v1/api-limits';
import { belongsTo, claim, driveCancel, drivePayment, finishExpired, finishRefunds, leaseLapsed, refundIdOf, settledPurchase, startSession, type PaymentDeps, type Session } from './exactly-once';
import { FINAL_STATES, withinSendDeadline, type Order, type OrderState } from './order-store';

export type { ReconcileRequest, ReconcileResponse as ReconcileReport } from '../contract/answers';

/** The fields of a `reconcile` request (besides the timer's own keys, which are ignored). */
export const RECONCILE_FIELDS = ['orderIds'] as const;

const MAX_PER_RUN = 100;
/** Keys of a timer trigger's event (the platform's: `{Type: 'timer', TriggerName, Time, Message}`), which carry nothing for us. */
const TIMER_KEYS = new Set(['Type', 'TriggerName', 'Time', 'Message']);

export function parseReconcileEvent(event: unknown): ReconcileRequest {
  const out: ReconcileRequest = {};
  for (const [k, v] of Object.entries(requestFields(event))) {
    if (TIMER_KEYS.has(k)) continue;
    if (!(RECONCILE_FIELDS as readonly string[]).includes(k)) throw new MidasCloudError('VALIDATION_FAILED', `${k} is not a field of this request`, { field: k });
    if (!Array.isArray(v) || v.length === 0 || v.length > MAX_PER_RUN || !v.every((x) => typeof x === 'string' && BILL_NO_PATTERN.test(x))) {
      throw new MidasCloudError('VALIDATION_FAILED', `orderIds must be 1 to ${MAX_PER_RUN} order ids`, { field: 'orderIds' });
    }
    out.orderIds = v as string[];
  }
  return out;
}

/** Resolves open orders within the invocation's time budget. */
export async function reconcile(req: ReconcileRequest, deps: PaymentDeps): Promise<ReconcileReport> {
  const s = startSession(deps);
  const report: ReconcileReport = { examined: 0, resolved: [], skipped: [], granted: [] };
  const appid = deps.caller.appid ?? deps.config.appId;
  const scope = { api: deps.api.api, env: deps.config.env, offerId: deps.config.offerId, ...(appid !== undefined && { appid }) };
  let orders: (Order | undefined)[];
  let grantOpen: Order[] = [];
  if (req.orderIds) {
    orders = await Promise.all(req.orderIds.map((id) => deps.ledger.get(id)));
    req.orderIds.forEach((id, i) => {
      if (!orders[i]) report.skipped.push({ orderId: id, why: 'not_found' });
    });
  } else {
    const before = s.now() - deps.config.reconcileMinAgeMs;
    orders = await deps.ledger.listOpen(scope, before, MAX_PER_RUN);
    grantOpen = await deps.ledger.listGrantOpen(scope, before, MAX_PER_RUN);
  }

  for (const order of orders) {
    if (!order) continue;
    report.examined += 1;
    const from = order.state;
    if (from !== 'PENDING' && from !== 'UNKNOWN' && from !== 'CANCELLING') {
      if (order.grantOpen) grantOpen.push(order);
      else report.skipped.push({ orderId: order._id, why: 'not_open' });
      continue;
    }
    const belongs = belongsTo(order, scope);
    if (belongs !== 'yes') {
      // Its bill is sent only by a deployment of its own environment, offer and app.
      report.skipped.push({ orderId: order._id, why: belongs });
      continue;
    }
    if (s.deadline - s.now() < 500) {
      report.skipped.push({ orderId: order._id, why: 'out_of_time' });
      continue;
    }
    try {
      const expired = !withinSendDeadline(order, s.now());
      const mine = leaseLapsed(s, order) ? await claim(s, order, from === 'UNKNOWN' ? 'PENDING' : from, !expired) : undefined;
      if (!mine) {
        report.skipped.push({ orderId: order._id, why: 'busy' });
        continue;
      }
      let to: Order;
      if (expired) {
        to = await finishExpired(s, mine);
      } else if (from === 'CANCELLING') {
        to = (await driveCancel(s, mine, true)).order;
      } else {
        // Policy `refund` gives a raw pay found applied back (never shown as kept in between). A
        // coin purchase is always completed: the player asked for the item, and the server grants it.
        const giveBack = mine.kind === 'pay' && !mine.purchase && deps.config.reconcilePayPolicy === 'refund';
        to = await drivePayment(s, mine, true, giveBack);
        // 2.0 keeps the pay COMPLETED beside its refund: reported as given back once the refund is.
        if (giveBack && to.api === 'v2' && to.state === 'COMPLETED' && (await deps.ledger.get(refundIdOf(to)))?.state === 'COMPLETED') to = { ...to, state: 'CANCELLED' };
      }
      report.resolved.push({ orderId: order._id, from, to: to.state });
      // The grant of a coin purchase follows its pay (or the pay a refund gave back).
      const purchase = to.purchase ? to : to.refundOf && FINAL_STATES.has(to.state) ? await deps.ledger.get(to.refundOf) : undefined;
      if (purchase?.purchase) await settleReported(s, purchase, report);
    } catch (e) {
      // One failed ledger write leaves that order (it is still open, its bill unchanged) for the
      // next run; the rest of this run goes on.
      if (!isMidasCloudError(e) || e.code !== 'LEDGER_UNAVAILABLE') throw e;
      report.skipped.push({ orderId: order._id, why: 'ledger_unavailable' });
    }
  }

  // Coin purchases whose pay is settled and whose grant is not yet in line (a crash between the
  // pay and the grant, a grant that failed for a while, a cancel whose take-back was cut short).
  const seen = new Set(report.granted.map((g) => g.orderId));
  for (const order of grantOpen) {
    if (seen.has(order._id) || FINAL_STATES.has(order.state) === false) continue;
    seen.add(order._id);
    if (belongsTo(order, scope) !== 'yes') continue;
    if (s.deadline - s.now() < 500) {
      report.skipped.push({ orderId: order._id, why: 'out_of_time' });
      continue;
    }
    report.examined += 1;
    try {
      if (!order.purchase) await finishRefunds(s, order); // a pay with a refund reserved and not written
      else await settleReported(s, order, report);
    } catch (e) {
      if (!isMidasCloudError(e) || e.code !== 'LEDGER_UNAVAILABLE') throw e;
      report.skipped.push({ orderId: order._id, why: 'ledger_unavailable' });
    }
  }
  return report;
}

async function settleReported(s: Session, order: Order, report: ReconcileReport): Promise<void> {
  const before = order.grant;
  const after = await settledPurchase(s, order);
  if (after.grant !== before || !after.grantOpen) report.granted.push({ orderId: order._id, grant: String(after.grant) });
}
