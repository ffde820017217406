/**
 * `login` and the session store. The user-state `signature` of 2.0 needs the player's
 * session_key, which a cloud function cannot read (SPEC §4): `login` gets it from jscode2session
 * and keeps the newest per openid, server-side only; the other 2.0 functions read it here.
 */
import type { Caller } from '../edge/caller';
import { inCollection } from '../edge/collections';
import { MidasCloudError } from '../edge/errors';
import { httpGet, type HttpGet } from '../edge/http';
import { fail } from '../edge/settings';
import type { WxCloud } from '../edge/wx-server-sdk';
import type { Catalogue } from './catalogue';
import { bad, fieldsOf, storeError } from './fields';
import { readSessionKey } from './session-store';
import type { V2Config } from './settings';

export interface V2Deps {
  cloud: WxCloud;
  config: V2Config;
  caller: Caller;
  now?: () => number;
  get?: HttpGet;
  catalogue?: Catalogue;
}

/** The fields of a `login` request. */
export const LOGIN_FIELDS = ['code'] as const;

/** jscode2session errcodes that mean the code itself is no good. */
const BAD_CODE = new Set([40029, 40163, 40226]);

/**
 * `login`: exchanges a `wx.login` code for the session_key and keeps the newest one per openid.
 * The answer says only that the player is logged in.
 */
export async function login(event: unknown, deps: V2Deps): Promise<{ loggedIn: true }> {
  const { code } = fieldsOf(event, LOGIN_FIELDS);
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

/** The player's newest session_key; SESSION_EXPIRED (asking for a login) when there is none or it is too old. */
export function sessionKeyOf(deps: V2Deps, openid: string): Promise<string> {
  const store = { collection: deps.config.sessionsCollection, maxAgeMs: deps.config.sessionMaxAgeMs };
  return readSessionKey(deps.cloud, store, openid, (deps.now ?? Date.now)());
}
