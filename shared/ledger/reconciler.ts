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
 */
import { MidasCloudError } from '../edge/errors';
import { BILL_VALIDITY_SECONDS, BILL_NO_PATTERN } from '../midas-v1/api-limits';
import { RESOLVE_DEADLINE_MS, type Order, type OrderState } from './order-store';
import { requestFields } from '../edge/request';
import { claim, driveCancel, drivePayment, startSession, type PaymentDeps, type Session } from './exactly-once';

export interface ReconcileRequest {
  /** Resolve just these orders (any age); otherwise every open order old enough. */
  orderIds?: string[];
}

export interface ReconcileReport {
  examined: number;
  resolved: { orderId: string; from: OrderState; to: OrderState }[];
  /** Orders left for a later run: held by a live invocation, of the other environment, or out of time. */
  skipped: { orderId: string; why: 'busy' | 'other_env' | 'out_of_time' | 'not_open' | 'not_found' }[];
}

const MAX_PER_RUN = 100;
/** Keys of a timer trigger's event (the platform's), which carry nothing for us. */
const TIMER_KEYS = new Set(['Type', 'TriggerName', 'Time']);

export function parseReconcileEvent(event: unknown): ReconcileRequest {
  const out: ReconcileRequest = {};
  for (const [k, v] of Object.entries(requestFields(event))) {
    if (TIMER_KEYS.has(k)) continue;
    if (k !== 'orderIds') throw new MidasCloudError('VALIDATION_FAILED', `${k} is not a field of this request`, { field: k });
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
  const report: ReconcileReport = { examined: 0, resolved: [], skipped: [] };
  let orders: (Order | undefined)[];
  if (req.orderIds) {
    orders = await Promise.all(req.orderIds.map((id) => deps.ledger.get(id)));
    req.orderIds.forEach((id, i) => {
      if (!orders[i]) report.skipped.push({ orderId: id, why: 'not_found' });
    });
  } else {
    orders = await deps.ledger.listOpen(deps.config.env, s.now() - deps.config.reconcileMinAgeMs, MAX_PER_RUN);
  }

  for (const order of orders) {
    if (!order) continue;
    report.examined += 1;
    const from = order.state;
    if (from !== 'PENDING' && from !== 'UNKNOWN' && from !== 'CANCELLING') {
      report.skipped.push({ orderId: order._id, why: 'not_open' });
      continue;
    }
    if (order.env !== deps.config.env) {
      // Its bill can only be re-sent with its own environment's secret, which this deployment lacks.
      report.skipped.push({ orderId: order._id, why: 'other_env' });
      continue;
    }
    if (s.deadline - s.now() < 500) {
      report.skipped.push({ orderId: order._id, why: 'out_of_time' });
      continue;
    }
    const age = s.now() - order.createdAt;
    const expired = from === 'CANCELLING' ? age > BILL_VALIDITY_SECONDS * 1000 : age > RESOLVE_DEADLINE_MS;
    const mine = await claim(s, order, from === 'UNKNOWN' ? 'PENDING' : from, !expired);
    if (!mine) {
      report.skipped.push({ orderId: order._id, why: 'busy' });
      continue;
    }
    let to: Order;
    if (expired) {
      to = await finishExpired(s, mine);
      deps.log?.({ event: 'order_expired', orderId: order._id, kind: order.kind, openid: order.openid, amount: order.amount, state: to.state });
    } else if (from === 'CANCELLING') {
      to = (await driveCancel(s, mine, true)).order;
    } else {
      to = await drivePayment(s, mine, true);
      if (to.state === 'COMPLETED' && to.kind === 'pay' && deps.config.reconcilePayPolicy === 'refund') {
        const again = await claim(s, to, 'CANCELLING');
        if (again) to = (await driveCancel(s, again, true)).order;
      }
    }
    report.resolved.push({ orderId: order._id, from, to: to.state });
  }
  return report;
}

/** An order past its deadline: a cancel can no longer be sent (the pay stays), a bill no longer re-sent. */
async function finishExpired(s: Session, order: Order): Promise<Order> {
  const t = s.now();
  const state: OrderState = order.state === 'CANCELLING' ? 'COMPLETED' : 'EXPIRED';
  const lastError = { code: order.state === 'CANCELLING' ? 'BILL_ALREADY_CONFIRMED' : 'EXPIRED' };
  const patch = { state, lastError, leaseId: '', leaseUntil: 0, updatedAt: t, resolvedAt: t };
  return (await s.deps.ledger.update(order._id, { leaseId: s.leaseId }, patch)) ? { ...order, ...patch } : order;
}
