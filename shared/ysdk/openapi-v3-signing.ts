/** The OpenAPI V3.0 signature YSDK uses (SPEC §6): pure, pinned by the official example. */
import { createHmac } from 'crypto';

/**
 * OpenAPI V3.0 urlencode: UTF-8 bytes, everything but `A-Z a-z 0-9 - _ .` as %XX in uppercase
 * hex. (encodeURIComponent leaves `! ' ( ) * ~` alone, which breaks signatures.)
 */
export function v3Encode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The V3.0 source string: `METHOD&enc(path)&enc(k=v&… sorted by key)`. Contains tokens: never log it. */
export function v3SigSource(method: string, path: string, params: Readonly<Record<string, string>>): string {
  const joined = Object.keys(params)
    .filter((k) => k !== 'sig')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return `${method.toUpperCase()}&${v3Encode(path)}&${v3Encode(joined)}`;
}

/**
 * OpenAPI V3.0 `sig`: base64 of HMAC-SHA1 keyed with `appkey&`.
 *
 * @example
 * v3Sig('GET', '/v3/r/mpay/get_balance_m', { openid, openkey, appid, ts, pf, pfkey, zoneid, format: 'json' }, appkey)
 */
export function v3Sig(method: string, path: string, params: Readonly<Record<string, string>>, appkey: string): string {
  return createHmac('sha1', `${appkey}&`).update(v3SigSource(method, path, params), 'utf8').digest('base64');
}
