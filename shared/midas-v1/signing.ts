/**
 * Pure Midas v1 signatures (SPEC §2). No I/O, no configuration: the same code signs in a
 * function and verifies in the emulator, and the official vector pins it down.
 */
import { hmacSha256Hex } from '../edge/hmac';

export type SignableValue = string | number;
export type SignableParams = Readonly<Record<string, SignableValue>>;

/** Params that are never part of `sig`. */
const EXCLUDED_FROM_SIG = new Set(['sig', 'mp_sig', 'access_token']);
/** Params that are never part of `mp_sig`. */
const EXCLUDED_FROM_MP_SIG = new Set(['mp_sig']);

/** `k=v` pairs sorted by name (ASCII), raw values, joined by `&`. */
function joinSorted(params: SignableParams, excluded: ReadonlySet<string>): string {
  return Object.keys(params)
    .filter((k) => !excluded.has(k))
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
}

/**
 * The string `sig` is computed over. Exposed for tests only: it contains the secret and must
 * never be logged or returned.
 */
export function sigSource(params: SignableParams, uri: string, secret: string, method = 'POST'): string {
  return `${joinSorted(params, EXCLUDED_FROM_SIG)}&org_loc=${uri}&method=${method}&secret=${secret}`;
}

/**
 * Midas v1 `sig`: HMAC-SHA256 keyed with the Midas secret, lowercase hex.
 *
 * @example
 * midasSig({ openid, appid, offer_id, ts, zone_id: '1', pf: 'android' }, '/cgi-bin/midas/getbalance', secret)
 */
export function midasSig(params: SignableParams, uri: string, secret: string, method = 'POST'): string {
  return hmacSha256Hex(secret, sigSource(params, uri, secret, method));
}

/**
 * Midas v1 `mp_sig` (HTTPS calls only): every param sent including `access_token` and `sig`,
 * keyed with the session_key string as is (not base64-decoded).
 */
export function midasMpSig(params: SignableParams, uri: string, sessionKey: string, method = 'POST'): string {
  const source = `${joinSorted(params, EXCLUDED_FROM_MP_SIG)}&org_loc=${uri}&method=${method}&session_key=${sessionKey}`;
  return hmacSha256Hex(sessionKey, source);
}
