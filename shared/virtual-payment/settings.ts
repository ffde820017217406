/** The settings of the Virtual Payment 2.0 functions (beyond the common Midas ones). */
import { collectionName } from '../edge/collections';
import { fail, millis, read, readSecret, type Env } from '../edge/settings';
import { loadCommonConfig } from '../midas-v1/settings';

export interface V2Config {
  env: 'production' | 'sandbox';
  offerId: string;
  /** The Virtual Payment 2.0 AppKey of `env` (paySig). */
  appKey?: string;
  /** The mini-game's AppSecret (jscode2session). */
  appSecret?: string;
  appId?: string;
  apiBaseUrl: string;
  defaultZoneId: string;
  sessionMaxAgeMs: number;
  sessionsCollection: string;
  ordersCollection: string;
  timeoutMs: number;
}

/** Variables read here, beyond MIDAS_ENV, MIDAS_OFFER_ID, MIDAS_ZONE_ID and MIDAS_APPID. */
export const V2_CONFIG_VARIABLES = {
  MIDAS_APPKEY: 'the production Virtual Payment 2.0 AppKey (paySig); required by signPayment when MIDAS_ENV=production',
  MIDAS_SANDBOX_APPKEY: 'the sandbox Virtual Payment 2.0 AppKey; required by signPayment when MIDAS_ENV=sandbox',
  WX_APP_SECRET: 'the mini-game AppSecret, for jscode2session; required by login',
  WX_API_BASE_URL: 'the WeChat API host (default https://api.weixin.qq.com)',
  WX_SESSION_MAX_AGE_MS: 'a session_key older than this asks the player to log in again (default 172800000: 2 days)',
  MIDAS_SESSIONS_COLLECTION: 'where session keys are kept (default `midas_sessions`; admin-only permissions)',
  MIDAS_CLIENT_ORDERS_COLLECTION: 'where signed client orders are recorded (default `midas_client_orders`)',
} as const;

export function loadV2Config(env: Env = process.env): V2Config {
  const common = loadCommonConfig(env);
  const keyVar = common.env === 'production' ? 'MIDAS_APPKEY' : 'MIDAS_SANDBOX_APPKEY';
  // Each is required only by the function that uses it (signPayment, login), checked there.
  const appKey = read(env, keyVar) === undefined ? undefined : readSecret(env, keyVar);
  const appSecret = read(env, 'WX_APP_SECRET') === undefined ? undefined : readSecret(env, 'WX_APP_SECRET');
  const apiBaseUrl = (read(env, 'WX_API_BASE_URL') ?? 'https://api.weixin.qq.com').replace(/\/$/, '');
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(apiBaseUrl)) fail('WX_API_BASE_URL', 'must be an http(s) URL without query');
  const sessionsCollection = collectionName(env, 'sessions');
  const ordersCollection = collectionName(env, 'clientOrders');
  return {
    ...common,
    ...(appKey !== undefined && { appKey }),
    ...(appSecret !== undefined && { appSecret }),
    apiBaseUrl,
    sessionMaxAgeMs: millis(env, 'WX_SESSION_MAX_AGE_MS', 2 * 86_400_000, 60_000, 30 * 86_400_000),
    sessionsCollection,
    ordersCollection,
    timeoutMs: millis(env, 'MIDAS_CALL_TIMEOUT_MS', 1000, 100, 60_000),
  };
}

/** `login`'s settings: it cannot exchange a wx.login code without the AppSecret. */
export function loadLoginConfig(env: Env = process.env): V2Config {
  const config = loadV2Config(env);
  readSecret(env, 'WX_APP_SECRET', 'needed by login: it exchanges wx.login codes for session keys (jscode2session)');
  return config;
}

/** `signPayment`'s settings: it cannot sign without the AppKey of MIDAS_ENV. */
export function loadSignPaymentConfig(env: Env = process.env): V2Config {
  const config = loadV2Config(env);
  const keyVar = config.env === 'production' ? 'MIDAS_APPKEY' : 'MIDAS_SANDBOX_APPKEY';
  readSecret(env, keyVar, `needed by signPayment: it signs payments of MIDAS_ENV=${config.env} (paySig)`);
  return config;
}
