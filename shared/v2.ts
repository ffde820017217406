/**
 * Virtual Payment 2.0 for the game client: `wx.requestMidasPaymentGameItem` (an item) and
 * `wx.requestMidasPayment` (coins) need `signData`, `paySig` and `signature` made by the server
 * (SPEC §3). The user-state `signature` needs the player's session_key, which a cloud function
 * cannot read (SPEC §4): the `login` function gets it from jscode2session and keeps the newest
 * per openid, server-side only.
 */
import { randomBytes } from 'crypto';
import { fail, loadCommonConfig, millis, read, readSecret, type Env } from './config';
import { MAX_ITEM_QUANTITY, PRODUCT_ID_PATTERN, catalogue, validCoinQuantities, type Catalogue } from './catalogue';
import { inCollection, isMissingCollection } from './collections';
import { MidasCloudError } from './errors';
import { httpGet, type HttpGet } from './http';
import { FREE_TEXT_PATTERN, MAX_COINS_PER_CALL, ZONE_ID_PATTERN } from './limits';
import { clientPaySig, userSignature } from './signing';
import { requestFields } from './validation';
import type { Caller, WxCloud } from './wxcloud';

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

const COLLECTION = /^[A-Za-z0-9_-]{1,64}$/;

export function loadV2Config(env: Env = process.env): V2Config {
  const common = loadCommonConfig(env);
  const keyVar = common.env === 'production' ? 'MIDAS_APPKEY' : 'MIDAS_SANDBOX_APPKEY';
  // Each is required only by the function that uses it (signPayment, login), checked there.
  const appKey = read(env, keyVar) === undefined ? undefined : readSecret(env, keyVar);
  const appSecret = read(env, 'WX_APP_SECRET') === undefined ? undefined : readSecret(env, 'WX_APP_SECRET');
  const apiBaseUrl = (read(env, 'WX_API_BASE_URL') ?? 'https://api.weixin.qq.com').replace(/\/$/, '');
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(apiBaseUrl)) fail('WX_API_BASE_URL', 'must be an http(s) URL without query');
  const sessionsCollection = read(env, 'MIDAS_SESSIONS_COLLECTION') ?? 'midas_sessions';
  if (!COLLECTION.test(sessionsCollection)) fail('MIDAS_SESSIONS_COLLECTION', 'must be 1 to 64 characters of A-Z a-z 0-9 _ -');
  const ordersCollection = read(env, 'MIDAS_CLIENT_ORDERS_COLLECTION') ?? 'midas_client_orders';
  if (!COLLECTION.test(ordersCollection)) fail('MIDAS_CLIENT_ORDERS_COLLECTION', 'must be 1 to 64 characters of A-Z a-z 0-9 _ -');
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

export interface V2Deps {
  cloud: WxCloud;
  config: V2Config;
  caller: Caller;
  now?: () => number;
  get?: HttpGet;
  catalogue?: Catalogue;
}

function bad(field: string, message: string): MidasCloudError {
  return new MidasCloudError('VALIDATION_FAILED', message, { field });
}

/** Checks an event's own fields against `allowed`. */
function fieldsOf(event: unknown, allowed: readonly string[]): Record<string, unknown> {
  const rest = requestFields(event);
  for (const k of Object.keys(rest)) {
    if (!allowed.includes(k)) {
      const price = /price|amount|fen|total/i.test(k);
      throw bad(k, price ? `${k} is not accepted: prices come from the server's catalogue` : `${k} is not a field of this request`);
    }
  }
  return rest;
}

function storeError(e: unknown): MidasCloudError {
  return new MidasCloudError('LEDGER_UNAVAILABLE', 'the cloud database is not available', { cause: e });
}

/** jscode2session errcodes that mean the code itself is no good. */
const BAD_CODE = new Set([40029, 40163, 40226]);

/**
 * `login`: exchanges a `wx.login` code for the session_key and keeps the newest one per openid.
 * The answer says only that the player is logged in.
 */
export async function login(event: unknown, deps: V2Deps): Promise<{ loggedIn: true }> {
  const { code } = fieldsOf(event, ['code']);
  if (code === undefined) throw bad('code', 'code is required (from wx.login)');
  if (typeof code !== 'string' || !/^[0-9A-Za-z_-]{8,128}$/.test(code)) throw bad('code', 'code must be the code wx.login gave');
  const openid = deps.caller.openid;
  if (!openid) throw new MidasCloudError('NOT_LOGGED_IN', 'no player in the platform context: call this from the mini-game');
  const appid = deps.caller.appid ?? deps.config.appId;
  if (!appid) fail('MIDAS_APPID', 'is not set and the platform context has no APPID');
  if (!deps.config.appSecret) fail('WX_APP_SECRET', 'is not set (needed by login)');

  const q = new URLSearchParams({ appid, secret: deps.config.appSecret, js_code: code, grant_type: 'authorization_code' });
  let res: { status: number; body: string };
  try {
    // The URL holds the AppSecret: it is never logged, and a failure keeps only its kind.
    res = await (deps.get ?? httpGet)(`${deps.config.apiBaseUrl}/sns/jscode2session?${q.toString()}`, {}, deps.config.timeoutMs);
  } catch {
    throw new MidasCloudError('UPSTREAM_UNAVAILABLE', 'WeChat could not be reached; try again');
  }
  let body: { openid?: unknown; session_key?: unknown; errcode?: unknown };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    throw new MidasCloudError('UPSTREAM_BAD_RESPONSE', `jscode2session answered HTTP ${res.status} without JSON`);
  }
  const errcode = Number(body.errcode ?? 0);
  if (errcode !== 0) {
    if (BAD_CODE.has(errcode)) throw new MidasCloudError('LOGIN_CODE_INVALID', 'the login code is invalid or used: call wx.login again', { upstreamCode: errcode });
    if (errcode === -1 || errcode === 45011) throw new MidasCloudError('UPSTREAM_UNAVAILABLE', 'WeChat is busy; try again', { upstreamCode: errcode });
    throw new MidasCloudError('WECHAT_CONFIG_REJECTED', `jscode2session refused the app (${errcode}): check the appid and WX_APP_SECRET`, { upstreamCode: errcode });
  }
  if (typeof body.session_key !== 'string' || typeof body.openid !== 'string') {
    throw new MidasCloudError('UPSTREAM_BAD_RESPONSE', 'jscode2session answered without openid or session_key');
  }
  // A code is the caller's own only if WeChat says so: never store a key under someone else.
  if (body.openid !== openid) throw new MidasCloudError('FORBIDDEN', 'this login code belongs to another player');

  const db = deps.cloud.database();
  const now = (deps.now ?? Date.now)();
  try {
    await inCollection(db, deps.config.sessionsCollection, () =>
      db.collection(deps.config.sessionsCollection).doc(openid).set({ data: { sessionKey: body.session_key as string, updatedAt: now } }),
    );
  } catch (e) {
    throw storeError(e);
  }
  return { loggedIn: true };
}

async function sessionKeyOf(deps: V2Deps, openid: string): Promise<string> {
  const db = deps.cloud.database();
  let doc: { sessionKey?: unknown; updatedAt?: unknown } | undefined;
  try {
    const r = await db.collection(deps.config.sessionsCollection).where({ _id: openid }).limit(1).get();
    doc = r.data[0];
  } catch (e) {
    if (!isMissingCollection(e)) throw storeError(e);
  }
  const relogin = 'log in again (wx.login, then the login function) and retry';
  if (!doc || typeof doc.sessionKey !== 'string') throw new MidasCloudError('SESSION_EXPIRED', `no login on record for this player: ${relogin}`);
  if ((deps.now ?? Date.now)() - Number(doc.updatedAt) > deps.config.sessionMaxAgeMs) throw new MidasCloudError('SESSION_EXPIRED', `the login is too old: ${relogin}`);
  return doc.sessionKey;
}

/** What the client asks to sign. Prices never: they come from the catalogue. */
export type SignPaymentRequest =
  | { kind: 'item'; productId: string; quantity?: number; zoneId?: string; attach?: string }
  | { kind: 'coins'; quantity: number; zoneId?: string; attach?: string };

/** Everything `wx.requestMidasPaymentGameItem` / `wx.requestMidasPayment` need, signed. */
export interface SignPaymentResponse {
  /** The exact string that was signed: pass it on unchanged, byte for byte. */
  signData: string;
  paySig: string;
  signature: string;
  outTradeNo: string;
  mode: 'goods' | 'game';
  env: 0 | 1;
  offerId: string;
  buyQuantity: number;
  zoneId: string;
  currencyType: 'CNY';
  platform: 'android';
  /** What the order costs in total, in fen (informative). */
  totalFen: number;
}

/** outTradeNo: ≤ 32 characters, not starting with `_` (the platform's own ones do). */
export function newOutTradeNo(): string {
  return `mt${randomBytes(15).toString('base64url')}`;
}

/**
 * `signPayment`: signs one purchase for the calling player and records it as a pending order.
 *
 * @example
 * await signPayment({ kind: 'item', productId: 'sword_basic', quantity: 1 }, deps)
 */
export async function signPayment(event: unknown, deps: V2Deps): Promise<SignPaymentResponse> {
  const f = fieldsOf(event, ['kind', 'productId', 'quantity', 'zoneId', 'attach']);
  if (f.kind !== 'item' && f.kind !== 'coins') throw bad('kind', 'kind must be "item" or "coins"');
  const cat = deps.catalogue ?? catalogue();
  const quantity = f.quantity ?? (f.kind === 'item' ? 1 : undefined);
  if (quantity === undefined) throw bad('quantity', 'quantity is required');
  const maxQuantity = f.kind === 'item' ? MAX_ITEM_QUANTITY : MAX_COINS_PER_CALL;
  if (!Number.isSafeInteger(quantity) || (quantity as number) < 1 || (quantity as number) > maxQuantity) {
    throw bad('quantity', `quantity must be a whole number from 1 to ${maxQuantity}`);
  }
  const zoneId = f.zoneId ?? deps.config.defaultZoneId;
  if (typeof zoneId !== 'string' || !ZONE_ID_PATTERN.test(zoneId)) throw bad('zoneId', 'zoneId must be a zone like "1" or "1_<role>"');
  if (f.attach !== undefined && (typeof f.attach !== 'string' || f.attach.length > 128 || !FREE_TEXT_PATTERN.test(f.attach))) {
    throw bad('attach', 'attach must be 1 to 128 characters without control characters, & or =');
  }

  let unitPriceFen: number;
  let productId: string | undefined;
  if (f.kind === 'item') {
    if (typeof f.productId !== 'string' || !PRODUCT_ID_PATTERN.test(f.productId)) throw bad('productId', 'productId is required');
    const product = cat.products.get(f.productId);
    if (!product) throw new MidasCloudError('PRODUCT_NOT_FOUND', `no product ${f.productId} in the catalogue`, { field: 'productId' });
    productId = product.productId;
    unitPriceFen = product.priceFen;
  } else {
    if (f.productId !== undefined) throw bad('productId', 'productId is not a field of a coin top-up');
    const valid = validCoinQuantities(cat.coinPriceFen);
    if (!valid.includes(quantity as number)) {
      // Only these totals exist as price tiers (SPEC §3): say which quantities do.
      throw bad('quantity', `quantity × ${cat.coinPriceFen} fen must be a price tier; valid quantities: ${valid.join(', ')}`);
    }
    unitPriceFen = cat.coinPriceFen;
  }

  const openid = deps.caller.openid;
  if (!openid) throw new MidasCloudError('NOT_LOGGED_IN', 'no player in the platform context: call this from the mini-game');
  const keyVar = deps.config.env === 'production' ? 'MIDAS_APPKEY' : 'MIDAS_SANDBOX_APPKEY';
  if (!deps.config.appKey) fail(keyVar, 'is not set (needed by signPayment)');
  const sessionKey = await sessionKeyOf(deps, openid);

  const outTradeNo = newOutTradeNo();
  const env: 0 | 1 = deps.config.env === 'production' ? 0 : 1;
  const mode = f.kind === 'item' ? 'goods' : 'game';
  // The field order of the official example; the string is what gets signed and sent.
  const data: Record<string, unknown> = { mode, offerId: deps.config.offerId, buyQuantity: quantity, env, currencyType: 'CNY', platform: 'android', zoneId };
  if (productId !== undefined) Object.assign(data, { productId, goodsPrice: unitPriceFen });
  data.outTradeNo = outTradeNo;
  if (f.attach !== undefined) data.attach = f.attach;
  const signData = JSON.stringify(data);
  const method = f.kind === 'item' ? 'requestMidasPaymentGameItem' : 'requestMidasPayment';
  const totalFen = unitPriceFen * (quantity as number);

  // Recorded before the client can pay: the order exists before the money moves.
  const db = deps.cloud.database();
  const now = (deps.now ?? Date.now)();
  try {
    await inCollection(db, deps.config.ordersCollection, () =>
      db.collection(deps.config.ordersCollection).add({
        data: { _id: outTradeNo, openid, kind: f.kind, ...(productId && { productId }), quantity, unitPriceFen, totalFen, env: deps.config.env, zoneId, state: 'PENDING', signData, createdAt: now, updatedAt: now },
      }),
    );
  } catch (e) {
    throw storeError(e);
  }

  return {
    signData,
    paySig: clientPaySig(method, signData, deps.config.appKey),
    signature: userSignature(signData, sessionKey),
    outTradeNo,
    mode,
    env,
    offerId: deps.config.offerId,
    buyQuantity: quantity as number,
    zoneId,
    currencyType: 'CNY',
    platform: 'android',
    totalFen,
  };
}

/** `catalogue`: what a game's shop shows, and the coin quantities that make a price tier. */
export function describeCatalogue(cat: Catalogue = catalogue()) {
  return {
    products: [...cat.products.values()].map(({ productId, name, priceFen, grants }) => ({ productId, name, priceFen, grants })),
    coinPriceFen: cat.coinPriceFen,
    coinQuantities: validCoinQuantities(cat.coinPriceFen),
  };
}

export type CatalogueResponse = ReturnType<typeof describeCatalogue>;
