/**
 * A local YSDK get_balance_m endpoint (seed ysdk-get_balance_m.txt): it checks the cookies, the
 * params and the OpenAPI V3.0 signature with the AppKey of its environment, and the login
 * token, and answers as the real one does (1001 bad parameters, 1018 login check failed).
 */
import { randomBytes } from 'crypto';
import type { MidasEnv } from '../../shared/midas-v1/operation-table';
import { signaturesEqual } from '../../shared/edge/hmac';
import { YSDK_BALANCE_PATH, YSDK_BALANCE_SIGNED_PATH, YSDK_SESSIONS, type YsdkLogin, type YsdkSubscription } from '../../shared/ysdk/balance';
import { v3Sig } from '../../shared/ysdk/openapi-v3-signing';

export interface YsdkApp {
  offerId: string;
  appKeys: Record<MidasEnv, string>;
}

interface YsdkAccount {
  paid: number;
  gen: number;
  saveAmt: number;
  tssList: YsdkSubscription[];
  /** Top-ups that show up later (the channel's delay): at a time, or after some balance reads. */
  arriving: { coins: number; at: number; afterReads?: number }[];
}

/** The path prefix of each environment on the local server (the host stands in for it). */
export const YSDK_PREFIX: Record<MidasEnv, string> = { production: '/ysdk', sandbox: '/ysdktest' };

const REQUIRED = ['openid', 'openkey', 'appid', 'ts', 'sig', 'pf', 'pfkey', 'zoneid'];

export class YsdkEmulator {
  private tokens = new Map<string, { openid: string; login: YsdkLogin }>();
  private accounts = new Map<string, YsdkAccount>();
  /** Every request's outcome (ret), for tests. */
  readonly journal: { env: MidasEnv; ret: number; why?: string }[] = [];

  constructor(readonly app: YsdkApp) {}

  /** What survives a restart: accounts and the openkeys players logged in with. */
  snapshot(): { tokens: [string, { openid: string; login: YsdkLogin }][]; accounts: [string, YsdkAccount][] } {
    return { tokens: [...this.tokens], accounts: [...this.accounts] };
  }

  restore(s: ReturnType<YsdkEmulator['snapshot']>): void {
    this.tokens.clear();
    this.accounts.clear();
    for (const [k, v] of s.tokens) this.tokens.set(k, v);
    for (const [k, v] of s.accounts) this.accounts.set(k, v);
  }

  /** A YSDK login: issues the openkey (paytoken or access_token) of `openid`. */
  login(openid: string, login: YsdkLogin): string {
    const openkey = randomBytes(16).toString('hex').toUpperCase();
    this.tokens.set(openkey, { openid, login });
    return openkey;
  }

  account(env: MidasEnv, openid: string): YsdkAccount {
    const key = `${env}|${openid}`;
    let a = this.accounts.get(key);
    if (!a) {
      a = { paid: 0, gen: 0, saveAmt: 0, tssList: [], arriving: [] };
      this.accounts.set(key, a);
    }
    const now = Date.now();
    const due = (x: { at: number; afterReads?: number }) => x.at <= now && (x.afterReads ?? 0) <= 0;
    for (const t of a.arriving.filter(due)) {
      a.paid += t.coins;
      a.saveAmt += t.coins;
    }
    a.arriving = a.arriving.filter((x) => !due(x));
    return a;
  }

  /**
   * A top-up that shows up only after the balance has been read `reads` more times: a delay
   * counted in the caller's polls rather than in time, so a test does not depend on how fast
   * the machine is.
   */
  topUpAfterReads(env: MidasEnv, openid: string, coins: number, reads: number): void {
    this.account(env, openid).arriving.push({ coins, at: 0, afterReads: reads });
  }

  /** A top-up through the app's pay flow; with `delayMs` it shows up late, as the seed warns. */
  topUp(env: MidasEnv, openid: string, coins: number, delayMs = 0): void {
    this.account(env, openid).arriving.push({ coins, at: Date.now() + delayMs });
  }

  /** Answers GET <prefix>/mpay/get_balance_m; undefined for any other path. */
  handle(path: string, query: string, cookieHeader: string | undefined): { status: number; body: string } | undefined {
    const env = (Object.keys(YSDK_PREFIX) as MidasEnv[]).find((e) => path === `${YSDK_PREFIX[e]}${YSDK_BALANCE_PATH}`);
    if (!env) return undefined;
    const answer = (ret: number, fields: Record<string, unknown>, why?: string) => {
      this.journal.push({ env, ret, ...(why && { why }) });
      return { status: 200, body: JSON.stringify({ ret, ...fields }) };
    };
    const params: Record<string, string> = {};
    for (const part of query.split('&').filter(Boolean)) {
      const i = part.indexOf('=');
      try {
        params[decodeURIComponent(i === -1 ? part : part.slice(0, i))] = decodeURIComponent(i === -1 ? '' : part.slice(i + 1));
      } catch {
        return answer(1001, { msg: '参数错误' }, 'encoding');
      }
    }
    const cookies: Record<string, string> = {};
    for (const c of (cookieHeader ?? '').split(';')) {
      const i = c.indexOf('=');
      if (i > 0) cookies[c.slice(0, i).trim()] = decodeURIComponent(c.slice(i + 1).trim());
    }
    const login = (Object.keys(YSDK_SESSIONS) as YsdkLogin[]).find(
      (l) => YSDK_SESSIONS[l].session_id === cookies.session_id && YSDK_SESSIONS[l].session_type === cookies.session_type,
    );
    if (!login || cookies.org_loc !== YSDK_BALANCE_PATH) return answer(1001, { msg: '参数错误' }, 'cookie');
    for (const k of REQUIRED) if (!params[k]) return answer(1001, { msg: '参数错误' }, `missing ${k}`);
    if (params.appid !== this.app.offerId) return answer(1001, { msg: '参数错误' }, 'appid');
    const { sig, ...signed } = params;
    if (!signaturesEqual(v3Sig('GET', YSDK_BALANCE_SIGNED_PATH, signed, this.app.appKeys[env]), sig)) return answer(1001, { msg: '参数错误' }, 'sig');
    const token = this.tokens.get(params.openkey!);
    if (!token || token.openid !== params.openid || token.login !== login) return answer(1018, { msg: '请先登录' }, 'login');
    for (const t of this.account(env, params.openid!).arriving) if (t.afterReads !== undefined) t.afterReads -= 1;
    const a = this.account(env, params.openid!);
    return answer(0, {
      balance: a.paid + a.gen,
      gen_balance: a.gen,
      first_save: a.saveAmt === 0 ? 1 : 0,
      save_amt: a.saveAmt,
      gen_expire: 0,
      tss_list: a.tssList,
    });
  }
}
