/**
 * The Midas balance of a native Android game through YSDK (seed ysdk-get_balance_m.txt, SPEC §6):
 * GET /mpay/get_balance_m with the OpenAPI V3.0 signature and the login cookies.
 *
 * The player's tokens come from the app (YSDK login with QQ or WeChat), so every one is
 * validated, and the openkey never appears in a log line, an error or an answer.
 */
import type { YsdkBalanceResponse, YsdkSubscription } from '../contract/answers';
import { MidasCloudError, type ErrorCode } from '../edge/errors';
import { requestFields } from '../edge/request';
import { httpGet, type HttpGet } from '../edge/http';
import { fail, millis, read, readSecret, type Env } from '../edge/settings';
import { IP_PATTERN, OFFER_ID_PATTERN } from '../midas-v1/api-limits';
import { v3Encode, v3Sig } from './openapi-v3-signing';

/** The path that is called, and the path that is signed (OpenAPI V3.0 prefixes /v3/r). */
export const YSDK_BALANCE_PATH = '/mpay/get_balance_m';
export const YSDK_BALANCE_SIGNED_PATH = '/v3/r/mpay/get_balance_m';

export const YSDK_HOSTS = { production: 'https://ysdk.qq.com', sandbox: 'https://ysdktest.qq.com' } as const;

export type YsdkLogin = 'qq' | 'wx';

/** Cookie session fields per login type (seed: 手Q openid/kp_actoken, 微信 hy_gameid/wc_actoken). */
export const YSDK_SESSIONS: Record<YsdkLogin, { session_id: string; session_type: string }> = {
  qq: { session_id: 'openid', session_type: 'kp_actoken' },
  wx: { session_id: 'hy_gameid', session_type: 'wc_actoken' },
};

export interface YsdkConfig {
  env: 'production' | 'sandbox';
  /** The offer id, sent as `appid`. */
  offerId: string;
  /** The Midas AppKey of `env`. */
  appKey: string;
  baseUrl: string;
  timeoutMs: number;
  pollIntervalMs: number;
  pollMaxMs: number;
}

/** ysdkBalance's function timeout: above its 2-minute poll after a top-up (the deploy sets it). */
export const YSDK_FUNCTION_TIMEOUT_SECONDS = 150;
/** What the poll leaves of the timeout for the answer and the instance's own work (ms). */
const TIMEOUT_MARGIN_MS = 5_000;

export const YSDK_CONFIG_VARIABLES = {
  YSDK_ENV: '`sandbox` (default) or `production`',
  YSDK_OFFER_ID: 'the offer id of the Android app (sent as `appid`); required',
  YSDK_APPKEY: 'the production Midas AppKey; required when YSDK_ENV=production',
  YSDK_SANDBOX_APPKEY: 'the sandbox Midas AppKey; required when YSDK_ENV=sandbox',
  YSDK_BASE_URL: 'the YSDK host (default https://ysdk.qq.com, or https://ysdktest.qq.com in the sandbox)',
  YSDK_TIMEOUT_MS: 'how long one request may take, in ms (default 2000)',
  YSDK_POLL_INTERVAL_MS: 'after a top-up, how often to ask (default 15000)',
  YSDK_POLL_MAX_MS: 'after a top-up, how long to keep asking (default 120000; with one request, YSDK_TIMEOUT_MS, it must end 5 s before the function timeout of 150 s)',
} as const;

export function loadYsdkConfig(env: Env = process.env): YsdkConfig {
  const ysdkEnv = read(env, 'YSDK_ENV') ?? 'sandbox';
  if (ysdkEnv !== 'sandbox' && ysdkEnv !== 'production') fail('YSDK_ENV', 'must be `sandbox` or `production`');
  const offerId = read(env, 'YSDK_OFFER_ID');
  if (!offerId) fail('YSDK_OFFER_ID', 'is not set');
  if (!OFFER_ID_PATTERN.test(offerId)) fail('YSDK_OFFER_ID', 'must be digits');
  const keyVar = ysdkEnv === 'production' ? 'YSDK_APPKEY' : 'YSDK_SANDBOX_APPKEY';
  const appKey = readSecret(env, keyVar, `needed because YSDK_ENV=${ysdkEnv}`);
  const baseUrl = read(env, 'YSDK_BASE_URL') ?? YSDK_HOSTS[ysdkEnv];
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(baseUrl)) fail('YSDK_BASE_URL', 'must be an http(s) URL without query');
  const timeoutMs = millis(env, 'YSDK_TIMEOUT_MS', 2000, 100, 60_000);
  // The last request may start just before the poll ends: all of it ends inside the function timeout.
  const pollMaxMs = millis(env, 'YSDK_POLL_MAX_MS', 120_000, 0, YSDK_FUNCTION_TIMEOUT_SECONDS * 1000 - TIMEOUT_MARGIN_MS - timeoutMs);
  return {
    env: ysdkEnv,
    offerId,
    appKey,
    baseUrl: baseUrl.replace(/\/$/, ''),
    timeoutMs,
    pollIntervalMs: millis(env, 'YSDK_POLL_INTERVAL_MS', 15_000, 10, 600_000),
    pollMaxMs,
  };
}

/** What the app sends: the tokens of its YSDK login. */
export interface YsdkPlayer {
  login: YsdkLogin;
  openid: string;
  openkey: string;
  pf: string;
  pfkey: string;
  zoneId: string;
  userIp?: string;
  accountType?: 'common' | 'security';
}

const RULES: Record<string, { pattern: RegExp; expect: string }> = {
  openid: { pattern: /^[0-9A-Za-z_-]{1,64}$/, expect: '1 to 64 characters of 0-9 A-Z a-z _ -' },
  // Described without its value, ever: it is the player's access token.
  openkey: { pattern: /^[\x21-\x7e]{8,512}$/, expect: '8 to 512 printable characters' },
  pf: { pattern: /^[0-9A-Za-z_.-]{1,128}$/, expect: 'the pf of the login (1 to 128 characters of 0-9 A-Z a-z _ . -)' },
  pfkey: { pattern: /^[0-9A-Za-z_-]{1,128}$/, expect: 'the pfkey of the login (1 to 128 characters of 0-9 A-Z a-z _ -)' },
  // A role id may be any text: it is urlencoded on the wire (seed).
  zoneId: { pattern: /^[0-9]{1,10}(_[^\u0000-\u001f\u007f]{1,64})?$/, expect: 'a zone like "1" or "1_<role>"' },
  userIp: { pattern: IP_PATTERN, expect: 'an IP address' },
};

/** The fields of a `ysdkBalance` request: the login's tokens, and `afterTopUp`. */
export const YSDK_BALANCE_FIELDS = ['login', 'openid', 'openkey', 'pf', 'pfkey', 'zoneId', 'userIp', 'accountType', 'afterTopUp'] as const;
const PLAYER_FIELDS = new Set<string>(YSDK_BALANCE_FIELDS.filter((f) => f !== 'afterTopUp'));

function invalid(field: string, message: string): MidasCloudError {
  return new MidasCloudError('VALIDATION_FAILED', message, { field });
}

/** Validates the app's tokens; errors name the field, never echo a value. */
export function validateYsdkPlayer(input: Record<string, unknown>): YsdkPlayer {
  for (const k of Object.keys(input)) if (!PLAYER_FIELDS.has(k)) throw invalid(k, `${k} is not a field of this request`);
  const login = input.login;
  if (login !== 'qq' && login !== 'wx') throw invalid('login', 'login must be "qq" or "wx"');
  const out: Record<string, string> = {};
  for (const [field, rule] of Object.entries(RULES)) {
    const v = input[field] ?? (field === 'zoneId' ? '1' : undefined);
    if (v === undefined) {
      if (field === 'userIp') continue;
      throw invalid(field, `${field} is required`);
    }
    if (typeof v !== 'string' || !rule.pattern.test(v)) throw invalid(field, `${field} must be ${rule.expect}`);
    out[field] = v;
  }
  const accountType = input.accountType;
  if (accountType !== undefined && accountType !== 'common' && accountType !== 'security') {
    throw invalid('accountType', 'accountType must be "common" or "security"');
  }
  return { ...(out as unknown as Omit<YsdkPlayer, 'login' | 'accountType'>), login, ...(accountType !== undefined && { accountType }) };
}

export type { YsdkSubscription };

/** One look at the balance (the contract's answer without the polling fields). */
export type YsdkBalance = Omit<YsdkBalanceResponse, 'arrived' | 'progress'>;

/** `ret` codes of the seed: 1001 bad parameters, 1018 login check failed. */
const RET_CODES: Record<number, { code: ErrorCode; message: string }> = {
  1001: { code: 'YSDK_BAD_PARAMS', message: 'YSDK rejected the parameters (1001)' },
  1018: { code: 'YSDK_LOGIN_INVALID', message: 'the YSDK login is not valid any more: log in again' },
};

/** The query and cookies of one get_balance_m request, signed. */
export function balanceRequest(player: YsdkPlayer, config: YsdkConfig, nowSeconds: number): { query: string; cookie: string } {
  const params: Record<string, string> = {
    openid: player.openid,
    openkey: player.openkey,
    appid: config.offerId,
    ts: String(nowSeconds),
    pf: player.pf,
    pfkey: player.pfkey,
    zoneid: player.zoneId,
    format: 'json',
  };
  if (player.userIp) params.userip = player.userIp;
  if (player.accountType) params.accounttype = player.accountType;
  params.sig = v3Sig('GET', YSDK_BALANCE_SIGNED_PATH, params, config.appKey);
  const query = Object.entries(params)
    .map(([k, v]) => `${k}=${v3Encode(v)}`)
    .join('&');
  const session = YSDK_SESSIONS[player.login];
  const cookie = [
    `session_id=${v3Encode(session.session_id)}`,
    `session_type=${v3Encode(session.session_type)}`,
    `org_loc=${v3Encode(YSDK_BALANCE_PATH)}`,
  ].join('; ');
  return { query, cookie };
}

export interface YsdkDeps {
  config: YsdkConfig;
  now?: () => number;
  get?: HttpGet;
}

/** One get_balance_m call. Throws MidasCloudError; never puts the openkey in it. */
export async function ysdkGetBalance(player: YsdkPlayer, deps: YsdkDeps): Promise<YsdkBalance> {
  const now = deps.now ?? Date.now;
  const { query, cookie } = balanceRequest(player, deps.config, Math.floor(now() / 1000));
  let res: { status: number; body: string };
  try {
    res = await (deps.get ?? httpGet)(`${deps.config.baseUrl}${YSDK_BALANCE_PATH}?${query}`, { cookie }, deps.config.timeoutMs);
  } catch (e) {
    // The error of a failed request may carry the URL, tokens included: keep only its kind.
    const timedOut = e instanceof Error && e.message === 'timeout';
    throw new MidasCloudError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', timedOut ? 'YSDK did not answer in time' : 'YSDK could not be reached');
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    throw new MidasCloudError('UPSTREAM_BAD_RESPONSE', `YSDK answered HTTP ${res.status} without JSON`);
  }
  const ret = Number(body.ret);
  if (ret !== 0) {
    const known = RET_CODES[ret];
    throw new MidasCloudError(known?.code ?? 'UPSTREAM_UNAVAILABLE', known?.message ?? `YSDK failed (ret ${ret})`, { upstreamCode: ret });
  }
  const num = (k: string) => {
    const v = body[k];
    if (typeof v !== 'number') throw new MidasCloudError('UPSTREAM_BAD_RESPONSE', `the answer of YSDK lacks ${k}`);
    return v;
  };
  return {
    balance: num('balance'),
    genBalance: num('gen_balance'),
    firstSave: num('first_save'),
    saveAmt: num('save_amt'),
    tssList: Array.isArray(body.tss_list) ? (body.tss_list as YsdkSubscription[]) : [],
  };
}

export interface PollProgress {
  poll: number;
  elapsedMs: number;
  saveAmt: number;
}

/**
 * The seed's delay rule: after a top-up the coins can arrive late. Ask every
 * `pollIntervalMs` until save_amt has grown past `saveAmtBefore`, for at most `pollMaxMs`.
 */
export async function pollAfterTopUp(
  player: YsdkPlayer,
  saveAmtBefore: number,
  deps: YsdkDeps & { sleep?: (ms: number) => Promise<void>; onProgress?: (p: PollProgress) => void },
): Promise<{ arrived: boolean; balance: YsdkBalance; progress: PollProgress[] }> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const start = now();
  const progress: PollProgress[] = [];
  for (let poll = 1; ; poll++) {
    const balance = await ysdkGetBalance(player, deps);
    const p = { poll, elapsedMs: now() - start, saveAmt: balance.saveAmt };
    progress.push(p);
    deps.onProgress?.(p);
    if (balance.saveAmt > saveAmtBefore) return { arrived: true, balance, progress };
    if (now() - start + deps.config.pollIntervalMs > deps.config.pollMaxMs) return { arrived: false, balance, progress };
    await sleep(deps.config.pollIntervalMs);
  }
}

/**
 * `ysdkBalance`: the balance of a native Android player from the tokens of its YSDK login; with
 * `afterTopUp: {saveAmt}` it polls until the top-up has arrived (the seed's delay rule).
 */
export async function ysdkBalanceRequest(event: unknown, deps: YsdkDeps & { log: (entry: Record<string, unknown>) => void }) {
  const { afterTopUp, ...tokens } = requestFields(event);
  const player = validateYsdkPlayer(tokens);
  if (afterTopUp === undefined) return ysdkGetBalance(player, deps);
  const before = (afterTopUp as { saveAmt?: unknown } | null)?.saveAmt;
  if (typeof afterTopUp !== 'object' || afterTopUp === null || Object.keys(afterTopUp).length !== 1 || !Number.isSafeInteger(before) || (before as number) < 0) {
    throw new MidasCloudError('VALIDATION_FAILED', 'afterTopUp must be {saveAmt: the save_amt read before the top-up}', { field: 'afterTopUp' });
  }
  // Progress goes to the log (poll count, time, save_amt only) as it happens, and to the answer.
  const r = await pollAfterTopUp(player, before as number, { ...deps, onProgress: (p) => deps.log({ event: 'ysdk_poll', ...p }) });
  return { ...r.balance, arrived: r.arrived, progress: r.progress };
}
