/**
 * The access_token of the 2.0 server APIs, from `POST /cgi-bin/stable_token` (SPEC §5). Kept per
 * instance; in normal mode WeChat returns the same token while it is valid, so instances need not
 * coordinate. A call answered 40001/42001 asks for it again, once. The AppSecret is in the body,
 * never in a URL or a log line.
 */
import { MidasCloudError } from '../edge/errors';
import { httpPost, type HttpPost } from '../edge/http';

export interface TokenConfig {
  appId: string;
  appSecret: string;
  apiBaseUrl: string;
  timeoutMs: number;
}

/** Tokens are renewed this long before WeChat says they expire. */
const EARLY_MS = 5 * 60 * 1000;

const cache = new Map<string, { token: string; expiresAt: number }>();

/** For tests: forget every token this instance holds. */
export function forgetAccessTokens(): void {
  cache.clear();
}

/**
 * The instance's token for the app; `stale` (a token a call was refused with) makes it ask again
 * unless another call already did.
 */
export async function accessToken(cfg: TokenConfig, opts: { stale?: string; now?: () => number; post?: HttpPost } = {}): Promise<string> {
  const now = opts.now ?? Date.now;
  const key = `${cfg.apiBaseUrl}|${cfg.appId}`;
  const held = cache.get(key);
  if (held && held.expiresAt > now() && held.token !== opts.stale) return held.token;

  const body = JSON.stringify({ grant_type: 'client_credential', appid: cfg.appId, secret: cfg.appSecret, force_refresh: false });
  let res: { status: number; body: string };
  try {
    res = await (opts.post ?? httpPost)(`${cfg.apiBaseUrl}/cgi-bin/stable_token`, { 'content-type': 'application/json' }, body, cfg.timeoutMs);
  } catch {
    throw new MidasCloudError('UPSTREAM_UNAVAILABLE', 'WeChat could not be reached for an access_token; try again', { outcome: 'not_applied' });
  }
  let answer: { access_token?: unknown; expires_in?: unknown; errcode?: unknown };
  try {
    answer = JSON.parse(res.body) as typeof answer;
  } catch {
    throw new MidasCloudError('UPSTREAM_BAD_RESPONSE', `stable_token answered HTTP ${res.status} without JSON`, { outcome: 'not_applied' });
  }
  const errcode = Number(answer.errcode ?? 0);
  if (errcode !== 0 || typeof answer.access_token !== 'string') {
    if (errcode === -1 || errcode === 45009) throw new MidasCloudError('UPSTREAM_UNAVAILABLE', 'WeChat is busy issuing access_tokens; try again', { upstreamCode: errcode, outcome: 'not_applied' });
    throw new MidasCloudError('WECHAT_CONFIG_REJECTED', `stable_token refused the app (${errcode}): check the appid and WX_APP_SECRET`, { upstreamCode: errcode, outcome: 'not_applied' });
  }
  const lifeMs = Math.max(60_000, Number(answer.expires_in ?? 7200) * 1000 - EARLY_MS);
  cache.set(key, { token: answer.access_token, expiresAt: now() + lifeMs });
  return answer.access_token;
}
