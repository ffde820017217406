/**
 * One call of a 2.0 server API (SPEC §5): the body is serialised once, and `pay_sig` (AppKey of
 * the body's env) and `signature` (the player's session_key) are computed over exactly the bytes
 * that are sent. A refused access_token (40001/42001) is fetched again and the same bytes are sent
 * once more.
 */
import { MidasCloudError, type ErrorCode } from '../edge/errors';
import { httpPost, type HttpPost } from '../edge/http';
import { userSignature, v2PaySig } from '../virtual-payment/signing';
import { accessToken, type TokenConfig } from './access-token';
import { WXA_GAME, wxaPath, type WxaGameOp } from './operation-table';

export interface WxaCallConfig extends TokenConfig {
  /** The Virtual Payment 2.0 AppKey of the body's env. */
  appKey: string;
}

export interface WxaCallOptions {
  post?: HttpPost;
  now?: () => number;
  timeoutMs?: number;
}

/** 2.0 errcodes (SPEC §5) and what they mean to us. -1 is handled with the transport faults. */
const WXA_ERRCODES: Record<number, { code: ErrorCode; message: string }> = {
  90000: { code: 'BILL_NOT_FOUND', message: 'no such order for this player' },
  90010: { code: 'SESSION_EXPIRED', message: 'the player’s login is no longer valid: log in again (wx.login, then the login function) and retry' },
  90011: { code: 'MIDAS_SIGNATURE_REJECTED', message: 'Midas rejected pay_sig (90011): check the AppKey of this environment' },
  90012: { code: 'BILL_ALREADY_EXISTS', message: 'this bill number was used before' },
  90013: { code: 'INSUFFICIENT_BALANCE', message: 'the balance is too low' },
  90016: { code: 'SESSION_EXPIRED', message: 'the player’s session expired: log in again (wx.login, then the login function) and retry' },
  90017: { code: 'MIDAS_PERMISSION_DENIED', message: 'Midas denied the call (90017): check the offer id and the app' },
  90018: { code: 'MIDAS_BAD_PARAMS', message: 'Midas rejected the parameters (90018)' },
  90019: { code: 'OUT_TRADE_NO_NOT_FOUND', message: 'WeChat knows no order with this out_trade_no' },
};

const TOKEN_REFUSED = new Set([40001, 42001]);

/** An errcode of a 2.0 answer as our error; coin-moving calls mark transient ones `unknown`. */
export function fromWxaErrcode(errcode: number, movesCoins: boolean): MidasCloudError {
  const known = WXA_ERRCODES[errcode];
  if (known) return new MidasCloudError(known.code, known.message, { upstreamCode: errcode, outcome: 'not_applied' });
  const outcome = movesCoins ? ('unknown' as const) : undefined;
  if (errcode === -1) return new MidasCloudError('MIDAS_BUSY', 'Midas is busy; retry with the same bill number', { upstreamCode: errcode, ...(outcome && { outcome }) });
  return new MidasCloudError('UPSTREAM_UNAVAILABLE', `Midas answered ${errcode}; retry with the same bill number`, { upstreamCode: errcode, ...(outcome && { outcome }) });
}

/**
 * Sends `body` to `op` as the player whose `sessionKey` is given; returns the answer's fields.
 * Throws MidasCloudError (with `upstreamCode` for errcodes).
 */
export async function callWxaGame(op: WxaGameOp, body: Record<string, string | number>, sessionKey: string, cfg: WxaCallConfig, opts: WxaCallOptions = {}): Promise<Record<string, unknown>> {
  const spec = WXA_GAME[op];
  const unknown = spec.movesCoins ? { outcome: 'unknown' as const } : {};
  const raw = JSON.stringify(body);
  const uri = wxaPath(op);
  const query = `signature=${userSignature(raw, sessionKey)}&sig_method=hmac_sha256&pay_sig=${v2PaySig(uri, raw, cfg.appKey)}`;
  const post = opts.post ?? httpPost;
  const timeoutMs = opts.timeoutMs ?? cfg.timeoutMs;

  let token = await accessToken(cfg, { post, ...(opts.now && { now: opts.now }) });
  for (let attempt = 0; ; attempt++) {
    let res: { status: number; body: string };
    try {
      // The URL carries the token: it is never logged, and a failure keeps only its kind.
      res = await post(`${cfg.apiBaseUrl}${uri}?access_token=${encodeURIComponent(token)}&${query}`, { 'content-type': 'application/json' }, raw, timeoutMs);
    } catch (e) {
      const timedOut = e instanceof Error && e.message === 'timeout';
      throw new MidasCloudError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', 'the call to Midas failed; retry with the same bill number', unknown);
    }
    if (res.status !== 200) throw new MidasCloudError('UPSTREAM_UNAVAILABLE', `Midas answered HTTP ${res.status}; retry with the same bill number`, unknown);
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(res.body) as Record<string, unknown>;
      if (answer === null || typeof answer !== 'object') throw new Error('not an object');
    } catch {
      // An empty or garbled 200: the call may have been applied.
      throw new MidasCloudError('UPSTREAM_BAD_RESPONSE', 'the answer of Midas is not JSON; retry with the same bill number', unknown);
    }
    const errcode = Number(answer.errcode ?? 0);
    if (TOKEN_REFUSED.has(errcode)) {
      if (attempt > 0) throw new MidasCloudError('UPSTREAM_UNAVAILABLE', 'the access_token was refused twice; try again', { upstreamCode: errcode, outcome: 'not_applied' });
      token = await accessToken(cfg, { stale: token, post, ...(opts.now && { now: opts.now }) });
      continue;
    }
    if (errcode !== 0) throw fromWxaErrcode(errcode, spec.movesCoins);
    for (const f of spec.response) {
      if (answer[f] === undefined || answer[f] === null) {
        throw new MidasCloudError('UPSTREAM_BAD_RESPONSE', `the answer of Midas lacks ${f}; retry with the same bill number`, unknown);
      }
    }
    return answer;
  }
}
