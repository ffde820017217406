/**
 * The order ledger in the cloud database. Every pay, present and cancel is written here before
 * Midas is called, and every change is a conditional update, so two invocations can never both
 * act on one order.
 *
 * States (final ones in capitals of their own line):
 *
 *   PENDING ──success / 90012──▶ COMPLETED ──cancel──▶ CANCELLING ──▶ CANCELLED
 *      │   ──definite failure──▶ FAILED                     │ ──90014/90000──▶ COMPLETED
 *      │   ──budget spent on -1 / timeouts──▶ UNKNOWN ──(same bill again)──▶ COMPLETED | FAILED
 *      └── PENDING / UNKNOWN still unresolved 47 h after creation ──▶ EXPIRED
 *   CANCELLING still unresolved 47 h after creation ──▶ COMPLETED (a cancel can no longer be sent)
 *
 * - PENDING: written before the first call; an invocation holds its lease.
 * - UNKNOWN: the call may have gone through; retried with the same bill number by the next
 *   caller with the same idempotency key or by the reconciler.
 * - COMPLETED: Midas applied the bill. FAILED: Midas definitely did not (too low balance, …).
 * - CANCELLING: a cancel is written and in flight. CANCELLED: coins given back.
 * - EXPIRED: never confirmed within the bill's validity; needs an operator (see README).
 */
import type { GrantState, OrderState as ContractOrderState } from '../contract/answers';
import { inCollection, isMissingCollection } from '../edge/collections';
import { MidasCloudError } from '../edge/errors';
import type { MidasEnv } from '../midas-v1/operation-table';
import type { WxCloud, WxDatabase } from '../edge/wx-server-sdk';

export type OrderState = ContractOrderState;
export const ORDER_STATES = ['PENDING', 'UNKNOWN', 'COMPLETED', 'FAILED', 'CANCELLING', 'CANCELLED', 'EXPIRED'] as const satisfies readonly OrderState[];
/** Every state of the contract is in the list (a compile error otherwise). */
const everyState: Exclude<OrderState, (typeof ORDER_STATES)[number]> extends never ? true : never = true;
void everyState;

/** States in which nothing more will happen by itself. COMPLETED can still be cancelled on request. */
export const FINAL_STATES: ReadonlySet<OrderState> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED']);
/** States the reconciler resolves. */
export const OPEN_STATES: readonly OrderState[] = ['PENDING', 'UNKNOWN', 'CANCELLING'];

/**
 * Nothing is sent for an order this long after its creation, by any path (a repeated request,
 * a cancel, the reconciler): 1 h inside Midas' 48 h validity, which also absorbs any disagreement
 * between the clock that wrote `createdAt` and the one that reads it.
 */
export const RESOLVE_DEADLINE_MS = 47 * 3600 * 1000;

/** Whether bills of `order` may still be sent at `now` (ms). */
export function withinSendDeadline(order: Pick<Order, 'createdAt'>, now: number): boolean {
  return now - order.createdAt <= RESOLVE_DEADLINE_MS;
}

export interface Order {
  /**
   * The order id: from the idempotency key, scoped by environment, offer, app, kind and player;
   * the bill number itself when the request had no key.
   */
  _id: string;
  /** A 2.0 refund is an order of its own (its own bill) naming the pay it refunds. */
  kind: 'pay' | 'present' | 'refund';
  /** The Midas generation whose bill this is: only a deployment of the same sends it. */
  api?: 'v1' | 'v2';
  /** The deployment the order belongs to: only a deployment of the same env, offer and app sends its bills. */
  env: MidasEnv;
  offerId: string;
  appid: string;
  state: OrderState;
  /** Random, made once per order and kept through every retry: 90012 can only mean our own earlier attempt. */
  billNo: string;
  openid: string;
  amount: number;
  item?: string;
  reason?: string;
  idempotencyKey?: string;
  /** Everything of the Midas call but ts/offer/pf, sent the same on every attempt (camelCase wire names). */
  call: Record<string, string | number>;
  attempts: number;
  cancelAttempts: number;
  /** The invocation working on the order, and until when (ms). 0 when free. */
  leaseId: string;
  leaseUntil: number;
  /** 2.0 refund: the `_id` of the pay it refunds. */
  refundOf?: string;
  /** 2.0 pay: coins refunded or being refunded, and each refund order's share (0 once released). */
  refundReserved?: number;
  refunds?: Record<string, number>;
  /**
   * A coin purchase (`buyWithCoins`): a pay whose product the server grants. `grant` says where
   * the grant stands; `grantOpen` is true while the grant does not match the pay yet (not granted
   * for a kept pay, or not taken back for a cancelled one): the reconciler finishes those. On
   * any 2.0 pay, reserving a refund sets it too, so that a refund whose order was never written
   * (the cancel cut short) is written and sent by the reconciler.
   */
  purchase?: { productId: string; quantity: number; coinPrice: number };
  grant?: GrantState;
  grantOpen?: boolean;
  /** Everything an operator should look at, oldest first (never overwritten). */
  flags?: OrderFlag[];
  /** The last failure: its code, and the message a client may see (exposed errors only). */
  lastError: { code: string; upstreamCode?: number; message?: string } | null;
  result: { balance?: number; usedGenAmt?: number } | null;
  createdAt: number;
  updatedAt: number;
  resolvedAt: number | null;
}

/**
 * Where the grant of a coin purchase stands:
 * - PENDING: not granted yet (the pay is open, or it applied and the grant is being made);
 * - DELIVERED: granted (exactly once: the fulfilment keeps a marker per order);
 * - REFUSED: the game's fulfilment refused it, so the pay is (being) cancelled;
 * - REVOKED: the pay was cancelled and the revocable grants were taken back;
 * - FLAGGED: the pay was cancelled, the grants are not revocable: an operator decides;
 * - NONE: nothing was granted and nothing is owed (the pay failed, or was cancelled before the grant).
 */
export const GRANT_STATES = ['PENDING', 'DELIVERED', 'REFUSED', 'REVOKED', 'FLAGGED', 'NONE'] as const satisfies readonly GrantState[];
export type { GrantState };

export interface OrderFlag {
  reason: string;
  at: number;
  details?: Record<string, unknown>;
}

/** The conditions of a conditional update. */
export interface Expect {
  states?: readonly OrderState[];
  grants?: readonly GrantState[];
  /** 2.0 pay: only if this much of it is reserved for refunds. */
  refundReserved?: number;
  leaseId?: string;
  /** Only if the current lease ran out before this time (ms). */
  leaseExpiredBy?: number;
}

export class Ledger {
  private readonly db: WxDatabase;

  constructor(
    cloud: WxCloud,
    private readonly collection: string,
  ) {
    this.db = cloud.database();
  }

  private coll() {
    return this.db.collection(this.collection);
  }

  /** Wraps a database failure; nothing is known to have been written. */
  private static fail(e: unknown): MidasCloudError {
    return new MidasCloudError('LEDGER_UNAVAILABLE', 'the order ledger is not available; nothing was charged', { cause: e });
  }

  /**
   * Writes a new order unless one with its id exists: the insert-once lock of a bill.
   * Returns the order that is in the ledger now (the new one or the existing one).
   */
  async insertOnce(order: Order): Promise<{ inserted: boolean; order: Order }> {
    try {
      await inCollection(this.db, this.collection, () => this.coll().add({ data: { ...order } }));
      return { inserted: true, order };
    } catch (e) {
      // A duplicate _id, or our own write applied with its answer lost: the ledger has the truth,
      // and the lease id (unique to the invocation) tells which.
      const existing = await this.get(order._id).catch(() => undefined);
      if (existing) return { inserted: existing.leaseId === order.leaseId && existing.leaseId !== '', order: existing };
      throw Ledger.fail(e);
    }
  }

  async get(id: string): Promise<Order | undefined> {
    try {
      const r = await this.coll().where({ _id: id }).limit(1).get();
      return r.data[0] as Order | undefined;
    } catch (e) {
      if (isMissingCollection(e)) return undefined;
      throw Ledger.fail(e);
    }
  }

  /**
   * Applies `patch` (and increments `inc`) if the order still matches `expect`; true when it did.
   * This is the only way an order changes, so concurrent invocations serialise on it.
   */
  async update(id: string, expect: Expect, patch: Partial<Order>, inc: Partial<Record<'attempts' | 'cancelAttempts', number>> = {}, push?: { flags: OrderFlag }): Promise<boolean> {
    const _ = this.db.command;
    const query: Record<string, unknown> = { _id: id };
    if (expect.states) query.state = _.in([...expect.states]);
    if (expect.grants) query.grant = _.in([...expect.grants]);
    if (expect.refundReserved !== undefined) query.refundReserved = expect.refundReserved;
    if (expect.leaseId !== undefined) query.leaseId = expect.leaseId;
    if (expect.leaseExpiredBy !== undefined) query.leaseUntil = _.lt(expect.leaseExpiredBy);
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch)) {
      // An object is merged key by key by an update ("result.balance"), which fails on a null
      // field; orders replace their object fields whole.
      data[k] = v !== null && typeof v === 'object' ? _.set(v) : v;
    }
    for (const [k, n] of Object.entries(inc)) data[k] = _.inc(n);
    if (push) data.flags = _.push([push.flags]);
    try {
      const r = await this.coll().where(query).update({ data });
      return r.stats.updated === 1;
    } catch (e) {
      throw Ledger.fail(e);
    }
  }

  /**
   * Reserves `amount` of a COMPLETED pay for refund order `refundId`, if the pay still has
   * `expectReserved` reserved (optimistic: a concurrent refund makes this fail, and the caller
   * reads again). The refunds of a pay can never add up to more than the pay. Sets `grantOpen`
   * in the same write: the reconciler looks at the pay until the refund's order is written.
   */
  async reserveRefund(payId: string, expectReserved: number, refundId: string, amount: number): Promise<boolean> {
    const _ = this.db.command;
    try {
      const r = await this.coll()
        .where({ _id: payId, state: 'COMPLETED', refundReserved: expectReserved })
        .update({ data: { refundReserved: _.inc(amount), [`refunds.${refundId}`]: amount, grantOpen: true } });
      return r.stats.updated === 1;
    } catch (e) {
      throw Ledger.fail(e);
    }
  }

  /** Gives back the share of a refund Midas definitely refused (once: the share is then 0). */
  async releaseRefund(payId: string, refundId: string, amount: number): Promise<boolean> {
    const _ = this.db.command;
    try {
      const r = await this.coll()
        .where({ _id: payId, [`refunds.${refundId}`]: amount })
        .update({ data: { refundReserved: _.inc(-amount), [`refunds.${refundId}`]: 0 } });
      return r.stats.updated === 1;
    } catch (e) {
      throw Ledger.fail(e);
    }
  }

  /** The order of a bill number (bill numbers are unique to their orders). */
  async findByBill(billNo: string): Promise<Order | undefined> {
    try {
      const r = await this.coll().where({ billNo }).limit(1).get();
      return r.data[0] as Order | undefined;
    } catch (e) {
      if (isMissingCollection(e)) return undefined;
      throw Ledger.fail(e);
    }
  }

  /**
   * Orders of one deployment (generation, environment, offer and, when known, app) not touched
   * since `before` (ms), oldest first, that match `which`: only the deployment's own orders are
   * read, so orders of another deployment sharing the collection never take a run's page.
   */
  private async listOwn(scope: LedgerScope, which: Record<string, unknown>, before: number, limit: number): Promise<Order[]> {
    const _ = this.db.command;
    // v1 orders carry no `api` field (they were written before 2.0 existed): "not v2".
    const query: Record<string, unknown> = { api: scope.api === 'v2' ? 'v2' : _.neq('v2'), env: scope.env, offerId: scope.offerId, ...which, updatedAt: _.lt(before) };
    if (scope.appid !== undefined) query.appid = scope.appid;
    try {
      const r = await this.coll().where(query).orderBy('updatedAt', 'asc').limit(limit).get();
      return r.data as unknown as Order[];
    } catch (e) {
      if (isMissingCollection(e)) return [];
      throw Ledger.fail(e);
    }
  }

  /** Open orders (PENDING, UNKNOWN, CANCELLING) of one deployment, oldest first. */
  listOpen(scope: LedgerScope, before: number, limit: number): Promise<Order[]> {
    return this.listOwn(scope, { state: this.db.command.in([...OPEN_STATES]) }, before, limit);
  }

  /** Coin purchases of one deployment whose grant does not match their pay yet, oldest first. */
  listGrantOpen(scope: LedgerScope, before: number, limit: number): Promise<Order[]> {
    return this.listOwn(scope, { grantOpen: true }, before, limit);
  }
}

/** The deployment whose orders a query reads. */
export interface LedgerScope {
  api: 'v1' | 'v2';
  env: MidasEnv;
  offerId: string;
  appid?: string;
}
