/**
 * WeChat's virtual-payment pushes (SPEC §5), as they reach a cloud function on either route:
 * - the cloud's message-push route: the event is the push, nested
 *   (`{Event, MiniGame: {Payload, PayEventSig, IsMock}}`) or flattened (`{Event, OpenId, OutTradeNo, Env, …}`);
 * - the HTTP access route: an API-gateway event; GET is the URL check (Token), POST a JSON push,
 *   plain or in safe mode (AES, WeChat's message encryption through @wecom/crypto, whose 32-byte
 *   PKCS#7 unpadding handles what Node's own 16-byte unpadding refuses).
 * PayEventSig is checked with the AppKey of `Payload.Env`, in constant time.
 */
import { decrypt } from '@wecom/crypto';
import { createHash } from 'crypto';
import { signaturesEqual, hmacSha256Hex } from '../edge/hmac';

/** Every event this project handles, with the two names of the mall item event. */
export const PUSH_EVENTS = {
  item: ['minigame_game_pay_goods_deliver_notify', 'minigame_h5_goods_deliver_notify', 'minigame_deliver_h5_pay_products'],
  coins: ['minigame_coin_deliver_completed'],
  refund: ['minigame_pay_refund_succ_notify'],
  rechargeCenter: ['minigame_recharge_center_coin_deliver_completed'],
} as const;

export type PushKind = keyof typeof PUSH_EVENTS;

export function pushKind(event: string): PushKind | undefined {
  return (Object.keys(PUSH_EVENTS) as PushKind[]).find((k) => (PUSH_EVENTS[k] as readonly string[]).includes(event));
}

/** A push as this project reads it, whatever route and form it came by. */
export interface Push {
  event: string;
  /** The Payload exactly as received (PayEventSig is over these bytes); absent for the flattened form. */
  rawPayload?: string;
  payload: Record<string, unknown>;
  payEventSig?: string;
  isMock: boolean;
  /** Whether the push came in a form that carries PayEventSig (nested) or not (flattened). */
  signed: boolean;
}

export class PushRejected extends Error {
  override readonly name = 'PushRejected';
  constructor(
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
  }
}

/** PayEventSig = hex(HMAC-SHA256(AppKey of Payload.Env, Event + "&" + Payload)). */
export function payEventSig(event: string, rawPayload: string, appKey: string): string {
  return hmacSha256Hex(appKey, `${event}&${rawPayload}`);
}

export function payEventSigValid(push: Push, appKey: string): boolean {
  if (push.rawPayload === undefined || push.payEventSig === undefined) return false;
  return signaturesEqual(payEventSig(push.event, push.rawPayload, appKey), push.payEventSig);
}

/** sha1 of the sorted strings joined: the URL check's `signature` and safe mode's `msg_signature`. */
export function sha1Sorted(parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex');
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** A push from an object: the nested form (signed), or the flattened form (unsigned). */
export function pushFromObject(o: Record<string, unknown>): Push {
  const event = o.Event;
  if (typeof event !== 'string' || event === '') throw new PushRejected('the push has no Event');
  const mini = record(o.MiniGame);
  if (mini) {
    if (typeof mini.Payload !== 'string') throw new PushRejected('MiniGame.Payload must be the payload as a JSON string');
    let payload: Record<string, unknown> | undefined;
    try {
      payload = record(JSON.parse(mini.Payload));
    } catch {
      payload = undefined;
    }
    if (!payload) throw new PushRejected('MiniGame.Payload is not a JSON object');
    return {
      event,
      rawPayload: mini.Payload,
      payload,
      ...(typeof mini.PayEventSig === 'string' && { payEventSig: mini.PayEventSig }),
      isMock: mini.IsMock === true || mini.IsMock === 'true',
      signed: true,
    };
  }
  // Flattened: the payload's fields at the top level, no signature.
  const { ToUserName: _t, FromUserName: _f, CreateTime: _c, MsgType: _m, Event: _e, IsMock, userInfo: _u, ...payload } = o;
  return { event, payload, isMock: IsMock === true || IsMock === 'true', signed: false };
}

export interface HttpEvent {
  httpMethod?: string;
  headers?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

export function isHttpEvent(event: unknown): event is HttpEvent {
  const o = record(event);
  return o !== undefined && typeof o.httpMethod === 'string';
}

export interface HttpSecrets {
  token?: string;
  aesKey?: string;
  appId?: string;
  /** Now (ms) and how far a request's `timestamp` may be from it: a captured signature is not replayed later. */
  now?: number;
  timestampWindowMs?: number;
}

/**
 * The HTTP access route: `{echo}` for a valid GET URL check, `{push}` for a POST whose
 * signature (and in safe mode msg_signature and AppID) check out. Throws PushRejected otherwise.
 */
export function pushFromHttp(e: HttpEvent, secrets: HttpSecrets): { echo: string } | { push: Push } {
  const q: Record<string, unknown> = e.queryStringParameters !== null && typeof e.queryStringParameters === 'object' ? e.queryStringParameters : {};
  const method = String(e.httpMethod).toUpperCase();
  if (!secrets.token) throw new PushRejected('WX_PUSH_TOKEN is not configured', 500);
  const timestamp = typeof q.timestamp === 'string' ? q.timestamp : '';
  const nonce = typeof q.nonce === 'string' ? q.nonce : '';
  if (secrets.now !== undefined && secrets.timestampWindowMs !== undefined) {
    // The signatures cover the timestamp, so an old one can only be replayed with its old timestamp.
    const ts = /^[0-9]{1,12}$/.test(timestamp) ? Number(timestamp) * 1000 : NaN;
    if (!Number.isFinite(ts)) throw new PushRejected('timestamp is missing or not a number of seconds', 403);
    if (Math.abs(secrets.now - ts) > secrets.timestampWindowMs) {
      throw new PushRejected(`timestamp is ${Math.round((secrets.now - ts) / 1000)} s from now, outside ±${secrets.timestampWindowMs / 1000} s (WX_PUSH_TIMESTAMP_WINDOW_MS): a replayed or delayed request`, 403);
    }
  }
  const urlSigOk = typeof q.signature === 'string' && signaturesEqual(sha1Sorted([secrets.token, timestamp, nonce]), q.signature);
  if (method === 'GET') {
    if (!urlSigOk) throw new PushRejected('the URL check signature does not match the Token', 403);
    return { echo: typeof q.echostr === 'string' ? q.echostr : '' };
  }
  if (method !== 'POST') throw new PushRejected(`${method} is not served`, 405);
  if (e.body !== undefined && typeof e.body !== 'string') throw new PushRejected('the body must be a string');
  const text = e.isBase64Encoded ? Buffer.from(e.body ?? '', 'base64').toString('utf8') : (e.body ?? '');
  let body: Record<string, unknown> | undefined;
  try {
    body = record(JSON.parse(text));
  } catch {
    body = undefined;
  }
  if (!body) throw new PushRejected('the body is not a JSON object');
  if (q.encrypt_type === 'aes') {
    if (!secrets.aesKey) throw new PushRejected('WX_PUSH_AES_KEY is not configured (safe mode)', 500);
    const encrypted = body.Encrypt;
    if (typeof encrypted !== 'string') throw new PushRejected('safe mode: the body has no Encrypt');
    if (typeof q.msg_signature !== 'string' || !signaturesEqual(sha1Sorted([secrets.token, timestamp, nonce, encrypted]), q.msg_signature)) {
      throw new PushRejected('safe mode: msg_signature does not match', 403);
    }
    let message: string;
    let id: string;
    try {
      ({ message, id } = decrypt(secrets.aesKey, encrypted));
    } catch {
      throw new PushRejected('safe mode: the message does not decrypt with WX_PUSH_AES_KEY', 403);
    }
    // The appid inside the ciphertext is always checked (the settings require MIDAS_APPID with safe mode).
    if (secrets.appId === undefined) throw new PushRejected('safe mode needs MIDAS_APPID to check the appid inside each message', 500);
    if (id !== secrets.appId) throw new PushRejected('safe mode: the message is for another app', 403);
    let inner: Record<string, unknown> | undefined;
    try {
      inner = record(JSON.parse(message));
    } catch {
      inner = undefined;
    }
    if (!inner) throw new PushRejected('safe mode: the decrypted message is not a JSON object');
    return { push: pushFromObject(inner) };
  }
  if (!urlSigOk) throw new PushRejected('the signature does not match the Token', 403);
  return { push: pushFromObject(body) };
}
