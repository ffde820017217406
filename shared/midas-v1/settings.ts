/**
 * The settings of a Midas deployment: the common ones (environment, offer, zone, appid) that
 * v1 and 2.0 share, and those of the v1 coin functions and their ledger.
 */
import { collectionName } from '../edge/collections';
import { fail, millis, read, readSecret, type Env } from '../edge/settings';
import { APPID_PATTERN, OFFER_ID_PATTERN, OPENID_PATTERN, ZONE_ID_PATTERN } from './api-limits';
import type { MidasEnv } from './operation-table';

/** The settings every Midas function shares, v1 and 2.0 alike. */
export interface CommonConfig {
  env: MidasEnv;
  offerId: string;
  defaultZoneId: string;
  appId?: string;
}

/** Reads MIDAS_ENV, MIDAS_OFFER_ID, MIDAS_ZONE_ID and MIDAS_APPID. */
export function loadCommonConfig(env: Env = process.env): CommonConfig {
  const rawEnv = read(env, 'MIDAS_ENV') ?? 'sandbox';
  if (rawEnv !== 'sandbox' && rawEnv !== 'production') fail('MIDAS_ENV', 'must be `sandbox` or `production`');

  const offerId = read(env, 'MIDAS_OFFER_ID');
  if (!offerId) fail('MIDAS_OFFER_ID', 'is not set');
  if (!OFFER_ID_PATTERN.test(offerId)) fail('MIDAS_OFFER_ID', 'must be digits');

  const defaultZoneId = read(env, 'MIDAS_ZONE_ID') ?? '1';
  if (!ZONE_ID_PATTERN.test(defaultZoneId)) fail('MIDAS_ZONE_ID', 'must look like `1` or `1_<role>`');

  const appId = read(env, 'MIDAS_APPID');
  if (appId !== undefined && !APPID_PATTERN.test(appId)) fail('MIDAS_APPID', 'is not a mini-game appid');
  return { env: rawEnv, offerId, defaultZoneId, ...(appId !== undefined && { appId }) };
}

/** What the coin functions need to call the 2.0 server APIs (MIDAS_API=v2). */
export interface V2ServerConfig {
  /** The Virtual Payment 2.0 AppKey of `env` (pay_sig). */
  appKey: string;
  /** The mini-game AppSecret (stable_token). */
  appSecret: string;
  apiBaseUrl: string;
  /** Where `login` keeps session_keys. */
  sessions: { collection: string; maxAgeMs: number };
}

export interface MidasConfig {
  env: MidasEnv;
  /** Which Midas generation the coin functions use: v1 cloud calls or the 2.0 server APIs. */
  api: 'v1' | 'v2';
  offerId: string;
  /** v1: the Midas secret of `env` only (the other environment's secret is never loaded). */
  secret?: string;
  /** 2.0: AppKey, AppSecret, API host and the session store. */
  v2?: V2ServerConfig;
  defaultZoneId: string;
  /** Used when the platform context has no APPID (timer triggers). */
  appId?: string;
  /** openids allowed to call trusted-only functions from a client (an operator's own account). */
  operatorOpenids: ReadonlySet<string>;
  /** How long one call to Midas may take before its outcome is treated as unknown. */
  callTimeoutMs: number;
  /** How long one invocation may spend on a payment, retries included; under the function timeout. */
  timeBudgetMs: number;
  /** The cloud database collection of the order ledger. */
  ledgerCollection: string;
  /** Orders untouched for this long are the reconciler's (younger ones may still be in flight). */
  reconcileMinAgeMs: number;
  /** What the reconciler does with a pay whose outcome it establishes as applied: keep it or refund it. */
  reconcilePayPolicy: 'complete' | 'refund';
  /**
   * How far the clocks of two instances may disagree. An order is taken over only when its lease
   * ran out this long ago by the taker's clock, so a live invocation is never taken over.
   */
  maxClockSkewMs: number;
}

/** Every variable this module reads, with what it means; the README's table follows this list. */
export const CONFIG_VARIABLES = {
  MIDAS_ENV: '`sandbox` (default) or `production`: which Midas environment every call goes to',
  MIDAS_API: '`v1` (default): Midas v1 cloud calls; `v2`: the Virtual Payment 2.0 server APIs (/wxa/game/*)',
  MIDAS_OFFER_ID: 'the offer id Midas assigned to the game (digits; the 2.0 offer id with MIDAS_API=v2); required',
  MIDAS_SECRET: 'the production Midas secret (AppKey of the live environment); required when MIDAS_ENV=production and MIDAS_API=v1',
  MIDAS_SANDBOX_SECRET: 'the sandbox Midas secret; required when MIDAS_ENV=sandbox and MIDAS_API=v1',
  MIDAS_ZONE_ID: 'zone used when a request names none (default `1`)',
  MIDAS_APPID: 'the mini-game appid, used only when the platform context has none (timer triggers)',
  MIDAS_OPERATOR_OPENIDS: 'comma-separated openids allowed to call `present` from a client',
  MIDAS_CALL_TIMEOUT_MS: 'how long one Midas call may take, in ms (default 1000)',
  MIDAS_TIME_BUDGET_MS: 'how long one invocation may spend on a payment, retries included, in ms (default 2500; keep it under the function timeout, 3 s by default)',
  MIDAS_LEDGER_COLLECTION: 'the cloud database collection of the order ledger (default `midas_orders`)',
  MIDAS_RECONCILE_MIN_AGE_MS: 'orders untouched this long are reconciled (default 60000)',
  MIDAS_RECONCILE_PAY_POLICY: '`complete` (default): a pay found applied stays paid; `refund`: the reconciler cancels it',
  MIDAS_MAX_CLOCK_SKEW_MS: 'how far the clocks of two function instances may disagree, in ms (default 30000): an order is taken over only this long after its lease ran out',
} as const;

/**
 * Reads and checks the configuration.
 *
 * @example
 * const config = loadConfig(process.env); // throws CONFIG_INVALID naming e.g. MIDAS_OFFER_ID
 */
export function loadConfig(env: Env = process.env, fixed?: { api: 'v1' | 'v2'; why: string }): MidasConfig {
  const common = loadCommonConfig(env);
  const api = fixed?.api ?? read(env, 'MIDAS_API') ?? 'v1';
  if (api !== 'v1' && api !== 'v2') fail('MIDAS_API', 'must be `v1` or `v2`');
  let generation: { secret: string } | { v2: V2ServerConfig };
  if (api === 'v1') {
    const secretVar = common.env === 'production' ? 'MIDAS_SECRET' : 'MIDAS_SANDBOX_SECRET';
    generation = { secret: readSecret(env, secretVar, `needed because MIDAS_API=v1 and MIDAS_ENV=${common.env}`) };
  } else {
    const keyVar = common.env === 'production' ? 'MIDAS_APPKEY' : 'MIDAS_SANDBOX_APPKEY';
    generation = { v2: loadV2ServerConfig(env, keyVar, common.env, fixed?.why ?? 'MIDAS_API=v2') };
  }

  const operators = (read(env, 'MIDAS_OPERATOR_OPENIDS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const o of operators) {
    if (!OPENID_PATTERN.test(o)) fail('MIDAS_OPERATOR_OPENIDS', 'has an entry that is not an openid');
  }

  const callTimeoutMs = millis(env, 'MIDAS_CALL_TIMEOUT_MS', 1000, 100, 60_000);
  const timeBudgetMs = millis(env, 'MIDAS_TIME_BUDGET_MS', 2500, 200, 900_000);
  const reconcileMinAgeMs = millis(env, 'MIDAS_RECONCILE_MIN_AGE_MS', 60_000, 0, 86_400_000);
  const maxClockSkewMs = millis(env, 'MIDAS_MAX_CLOCK_SKEW_MS', 30_000, 0, 3_600_000);

  const ledgerCollection = collectionName(env, 'ledger');

  const policy = read(env, 'MIDAS_RECONCILE_PAY_POLICY') ?? 'complete';
  if (policy !== 'complete' && policy !== 'refund') fail('MIDAS_RECONCILE_PAY_POLICY', 'must be `complete` or `refund`');

  return {
    ...common,
    api,
    ...generation,
    operatorOpenids: new Set(operators),
    callTimeoutMs,
    timeBudgetMs,
    ledgerCollection,
    reconcileMinAgeMs,
    reconcilePayPolicy: policy,
    maxClockSkewMs,
  };
}

/** The 2.0 server settings; WX_API_BASE_URL, MIDAS_SESSIONS_COLLECTION and WX_SESSION_MAX_AGE_MS are shared with login. */
function loadV2ServerConfig(env: Env, keyVar: string, midasEnv: MidasEnv, why: string): V2ServerConfig {
  const appKey = readSecret(env, keyVar, `needed because ${why} and MIDAS_ENV=${midasEnv}`);
  const appSecret = readSecret(env, 'WX_APP_SECRET', `needed because ${why} (the access_token)`);
  const apiBaseUrl = (read(env, 'WX_API_BASE_URL') ?? 'https://api.weixin.qq.com').replace(/\/$/, '');
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(apiBaseUrl)) fail('WX_API_BASE_URL', 'must be an http(s) URL without query');
  const collection = collectionName(env, 'sessions');
  const maxAgeMs = millis(env, 'WX_SESSION_MAX_AGE_MS', 2 * 86_400_000, 60_000, 30 * 86_400_000);
  return { appKey, appSecret, apiBaseUrl, sessions: { collection, maxAgeMs } };
}
