/**
 * The collections the functions use and the indexes their queries need, declared once: the deploy
 * creates them (admin-only, with these indexes) and the local cloud refuses any query of a function
 * that no index declared here serves, so a new query cannot ship without its index.
 *
 * Collections are also made on first use, so a local run needs no setup step before its first
 * order. TCB answers -502005 for a collection that does not exist.
 */
import { fail, read, type Env } from './settings';
import type { WxDatabase } from './wx-server-sdk';

export interface IndexDeclaration {
  /** The index's name in the cloud database. */
  name: string;
  /** Its fields, in order; 1 ascending, -1 descending. */
  keys: readonly (readonly [field: string, direction: 1 | -1])[];
}

export interface CollectionDeclaration {
  /** The variable that renames it, and its default name. */
  setting: string;
  defaultName: string;
  /** What it holds. */
  holds: string;
  /** Every query of the functions (and of `npm run orders`) on it is served by one of these or by `_id`. */
  indexes: readonly IndexDeclaration[];
}

export const COLLECTIONS = {
  ledger: {
    setting: 'MIDAS_LEDGER_COLLECTION',
    defaultName: 'midas_orders',
    holds: 'the order ledger: every pay, present and cancel, and coin purchases with their grants',
    indexes: [
      // The reconciler: open orders of one deployment, oldest first.
      { name: 'state_updatedAt', keys: [['state', 1], ['updatedAt', 1]] },
      // The reconciler: coin purchases whose grant is not final yet.
      { name: 'grantOpen_updatedAt', keys: [['grantOpen', 1], ['updatedAt', 1]] },
      // An order by its bill number (operators, Midas's answers).
      { name: 'billNo', keys: [['billNo', 1]] },
      // myOrders: a player's coin purchases, newest first.
      { name: 'openid_createdAt', keys: [['openid', 1], ['createdAt', -1]] },
      // npm run orders -- flagged.
      { name: 'flags', keys: [['flags', 1]] },
    ],
  },
  clientOrders: {
    setting: 'MIDAS_CLIENT_ORDERS_COLLECTION',
    defaultName: 'midas_client_orders',
    holds: 'orders signed for the payment sheet (signPayment) and their delivery',
    indexes: [
      // deliveryReconcile: orders of one deployment not yet delivered, oldest first.
      { name: 'state_updatedAt', keys: [['state', 1], ['updatedAt', 1]] },
      // myOrders: a player's orders, newest first.
      { name: 'openid_createdAt', keys: [['openid', 1], ['createdAt', -1]] },
      // npm run orders -- flagged (flags, and the single flag earlier versions wrote).
      { name: 'flags', keys: [['flags', 1]] },
      { name: 'flag', keys: [['flag', 1]] },
    ],
  },
  sessions: {
    setting: 'MIDAS_SESSIONS_COLLECTION',
    defaultName: 'midas_sessions',
    holds: 'players’ session keys (2.0): for the server alone',
    indexes: [],
  },
  inventory: {
    setting: 'MIDAS_INVENTORY_COLLECTION',
    defaultName: 'midas_inventory',
    holds: 'what the default fulfilment granted, one document per player and environment',
    indexes: [],
  },
} as const satisfies Record<string, CollectionDeclaration>;

export type CollectionRole = keyof typeof COLLECTIONS;

const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A collection's name as this deployment calls it (its variable, or the default). */
export function collectionName(env: Env, role: CollectionRole): string {
  const { setting, defaultName } = COLLECTIONS[role];
  const name = read(env, setting) ?? defaultName;
  if (!COLLECTION_NAME.test(name)) fail(setting, 'must be 1 to 64 characters of A-Z a-z 0-9 _ -');
  return name;
}

export function isMissingCollection(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { errCode?: unknown }).errCode === -502005;
}

/** Runs `op` on a collection, making the collection first (once) if this deployment has none yet. */
export async function inCollection<T>(db: WxDatabase, name: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (!isMissingCollection(e)) throw e;
    // Another invocation may make it at the same moment: "already exists" is fine.
    await db.createCollection(name).catch(() => undefined);
    return op();
  }
}
