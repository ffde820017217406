/**
 * The settings of delivery (`paymentNotify`, `deliveryReconcile`, `myOrders`): the AppKeys that
 * check PayEventSig (one per environment, as pushes say which), the Token and EncodingAESKey of
 * the HTTP access route, the collections, and what `queryorderinfo` needs (the 2.0 server
 * settings of MIDAS_ENV).
 */
import { collectionName } from '../edge/collections';
import { fail, millis, read, readSecret, type Env } from '../edge/settings';
import type { MidasEnv } from '../midas-v1/operation-table';
import { loadConfig, type MidasConfig } from '../midas-v1/settings';

export interface DeliveryConfig {
  /** The deployment's Midas settings, 2.0 (queryorderinfo, the session store). */
  midas: MidasConfig;
  /** The AppKey of each environment that is configured (PayEventSig of its pushes). */
  appKeys: Partial<Record<MidasEnv, string>>;
  /** The Token of the HTTP access route (URL check and signatures). */
  pushToken?: string;
  /** The EncodingAESKey of safe mode. */
  pushAesKey?: string;
  /** How far the `timestamp` of an HTTP push may be from now (either way). */
  pushTimestampWindowMs: number;
  ordersCollection: string;
  inventoryCollection: string;
  /** A client order still unpaid this long after it was signed is EXPIRED. */
  clientOrderTtlMs: number;
  /** The reconciler asks WeChat about client orders untouched this long (a push may still come). */
  reconcileMinAgeMs: number;
}

export const DELIVERY_CONFIG_VARIABLES = {
  WX_PUSH_TOKEN: 'the Token of the message push URL (HTTP access route); required there',
  WX_PUSH_AES_KEY: 'the EncodingAESKey of the message push (safe mode; 43 characters); needs MIDAS_APPID, which safe mode checks inside every message',
  WX_PUSH_TIMESTAMP_WINDOW_MS: 'how far the `timestamp` of a push on the HTTP route may be from now, either way (default 300000: ±5 min); older ones are refused as replays',
  MIDAS_INVENTORY_COLLECTION: 'where the default fulfilment keeps players’ inventories (default `midas_inventory`)',
  MIDAS_CLIENT_ORDER_TTL_MS: 'a client order still unpaid this long after signing is EXPIRED (default 7200000: 2 h)',
  MIDAS_DELIVERY_RECONCILE_MIN_AGE_MS: 'client orders untouched this long are checked with queryorderinfo (default 60000)',
} as const;

export function loadDeliveryConfig(env: Env = process.env): DeliveryConfig {
  // queryorderinfo is a 2.0 server API whatever generation the coin functions use.
  const midas = loadConfig(env, { api: 'v2', why: 'delivery confirms orders with WeChat (queryorderinfo, a 2.0 server API whatever MIDAS_API is)' });
  const appKeys: Partial<Record<MidasEnv, string>> = {};
  if (read(env, 'MIDAS_APPKEY') !== undefined) appKeys.production = readSecret(env, 'MIDAS_APPKEY');
  if (read(env, 'MIDAS_SANDBOX_APPKEY') !== undefined) appKeys.sandbox = readSecret(env, 'MIDAS_SANDBOX_APPKEY');
  const pushToken = read(env, 'WX_PUSH_TOKEN');
  if (pushToken !== undefined && !/^[A-Za-z0-9]{3,32}$/.test(pushToken)) fail('WX_PUSH_TOKEN', 'must be 3 to 32 letters or digits');
  const pushAesKey = read(env, 'WX_PUSH_AES_KEY');
  if (pushAesKey !== undefined && !/^[A-Za-z0-9+/]{43}$/.test(pushAesKey)) fail('WX_PUSH_AES_KEY', 'must be the 43-character EncodingAESKey');
  if (pushAesKey !== undefined && midas.appId === undefined) fail('MIDAS_APPID', 'is not set: safe mode (WX_PUSH_AES_KEY) checks the appid inside every message against it');
  const ordersCollection = collectionName(env, 'clientOrders');
  const inventoryCollection = collectionName(env, 'inventory');
  return {
    midas,
    appKeys,
    ...(pushToken !== undefined && { pushToken }),
    ...(pushAesKey !== undefined && { pushAesKey }),
    ordersCollection,
    inventoryCollection,
    pushTimestampWindowMs: millis(env, 'WX_PUSH_TIMESTAMP_WINDOW_MS', 300_000, 10_000, 3_600_000),
    clientOrderTtlMs: millis(env, 'MIDAS_CLIENT_ORDER_TTL_MS', 2 * 3600_000, 60_000, 7 * 86_400_000),
    reconcileMinAgeMs: millis(env, 'MIDAS_DELIVERY_RECONCILE_MIN_AGE_MS', 60_000, 0, 86_400_000),
  };
}

/** What `myOrders` reads: no secrets, only where orders, coin purchases and inventories are, and which environment. */
export function loadOrdersViewConfig(env: Env = process.env): { env: MidasEnv; ordersCollection: string; inventoryCollection: string; ledgerCollection: string } {
  const midasEnv = read(env, 'MIDAS_ENV') ?? 'sandbox';
  if (midasEnv !== 'sandbox' && midasEnv !== 'production') fail('MIDAS_ENV', 'must be `sandbox` or `production`');
  const ordersCollection = collectionName(env, 'clientOrders');
  const inventoryCollection = collectionName(env, 'inventory');
  const ledgerCollection = collectionName(env, 'ledger');
  return { env: midasEnv, ordersCollection, inventoryCollection, ledgerCollection };
}
