/**
 * Pure Virtual Payment 2.0 signatures (SPEC §3, §5): the server API's `pay_sig`, a client
 * payment's `paySig` and the user-state `signature`. The official vectors pin them down.
 */
import { hmacSha256Hex } from '../edge/hmac';

/**
 * Virtual Payment 2.0 `pay_sig` of a server API call: HMAC-SHA256(AppKey, uri + "&" + body),
 * over the body exactly as sent (SPEC §5).
 */
export function v2PaySig(uri: string, body: string, appKey: string): string {
  return hmacSha256Hex(appKey, `${uri}&${body}`);
}

/**
 * `paySig` of a client payment: HMAC-SHA256(AppKey, method + "&" + signData), where method is
 * `requestMidasPaymentGameItem` or `requestMidasPayment` (SPEC §3).
 */
export function clientPaySig(method: 'requestMidasPaymentGameItem' | 'requestMidasPayment', signData: string, appKey: string): string {
  return hmacSha256Hex(appKey, `${method}&${signData}`);
}

/** The user-state `signature`: HMAC-SHA256(session_key, data), the key used as the string it is. */
export function userSignature(data: string, sessionKey: string): string {
  return hmacSha256Hex(sessionKey, data);
}
