/**
 * WeChat's Virtual Payment 2.0 server side, for local runs (SPEC §5):
 * - `POST /cgi-bin/stable_token`: appid and AppSecret checked; the same token while it is valid,
 *   a new one after it expires; `force_refresh` issues a new one and invalidates the old;
 * - `POST /wxa/game/getbalance|pay|cancelpay|present|queryorderinfo`: the access_token (40001,
 *   42001), `pay_sig` with the AppKey of the body's env over the exact bytes received (90011),
 *   `signature` with the player's current session_key (an older key: 90010; a key WeChat expired:
 *   90016), every field (90018 naming it), then accounts and bills: 90012 for a used bill_no,
 *   90013, 90000, 90019, partial refunds up to the pay, and the scripted faults v1 has;
 * - `GET /wxa/checksession`: 0, or 87009 for a session_key that is not the player's current one.
 * Sessions and paid client orders are the WeChat client emulator's (one WeChat).
 */
import { randomBytes } from 'crypto';
import { signaturesEqual } from '../../shared/edge/hmac';
import type { MidasEnv, OperationName } from '../../shared/midas-v1/operation-table';
import { userSignature, v2PaySig } from '../../shared/virtual-payment/signing';
import { V2_BILL_NO_PATTERN, WXA_GAME, WXA_GAME_OPS, wxaPath, type WxaGameOp } from '../../shared/wxa-game/operation-table';
import { ScriptedMidas, type Fault } from './midas-backend';
import type { WechatClientEmulator } from './wechat-client';

export interface WxaAccount {
  /** Coins bought (or bought coins given back by a refund). */
  paid: number;
  /** Gifted coins. */
  present: number;
  sumSave: number;
  sumPresent: number;
  sumCost: number;
}

interface WxaBill {
  kind: 'pay' | 'present' | 'refund';
  openid: string;
  zoneId: string;
  amount: number;
  /** pay: gifted coins it used (given back first by refunds, as gifted coins). */
  usedPresent: number;
  /** pay: coins refunded so far. */
  refunded: number;
  payBillNo?: string;
}

export interface WxaJournalEntry {
  op: WxaGameOp;
  env: MidasEnv;
  body: Record<string, unknown>;
  errcode: number;
  applied: boolean;
  fault?: Fault['kind'];
  /** For 90018: the field named. */
  field?: string;
}

export type WxaAnswer = { status: number; body: string };

const TOKEN_LIFE_S = 7200;
const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  42001: 'access_token expired',
  90000: 'order not exist',
  90010: 'signature error',
  90011: 'pay_sig error',
  90012: 'bill_no already exist',
  90013: 'balance not enough',
  90016: 'session_key expired',
  90018: 'invalid param',
  90019: 'out_trade_no not exist',
};
/** Faults are named by v1 operation; the 2.0 path each stands for (queryorderinfo has none). */
const V1_NAME: Partial<Record<WxaGameOp, OperationName>> = { getbalance: 'getBalance', pay: 'pay', cancelpay: 'cancelPay', present: 'present' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class WxaGameBackend extends ScriptedMidas {
  readonly accounts = new Map<string, WxaAccount>();
  private bills = new Map<string, WxaBill>();
  readonly journal: WxaJournalEntry[] = [];
  /** Every pay_sig and signature received, for leak checks. */
  readonly signatures: string[] = [];
  private tokens = new Map<string, { appid: string; expiresAt: number; valid: boolean }>();
  private current = new Map<string, string>();
  /** The session_key WeChat expired, per openid (90016); a later login's key is good again. */
  private expired = new Map<string, string | undefined>();
  /** Client orders marked delivered (out_trade_no). */
  readonly delivered = new Set<string>();
  stableTokenCalls = 0;

  constructor(
    private readonly app: { appid: string; appSecret: string; offerId: string; appKeys: Record<MidasEnv, string> },
    private readonly wechat: WechatClientEmulator,
  ) {
    super();
  }

  /** What survives a restart: accounts, bills and delivered orders (tokens are fetched anew). */
  snapshot(): { accounts: [string, WxaAccount][]; bills: [string, WxaBill][]; delivered: string[] } {
    return { accounts: [...this.accounts], bills: [...this.bills], delivered: [...this.delivered] };
  }

  restore(s: ReturnType<WxaGameBackend['snapshot']>): void {
    this.accounts.clear();
    this.bills.clear();
    this.delivered.clear();
    for (const [k, v] of s.accounts) this.accounts.set(k, v);
    for (const [k, v] of s.bills) this.bills.set(k, v);
    for (const d of s.delivered) this.delivered.add(d);
  }

  /** WeChat expires the player's current session_key: calls signed with it answer 90016 (until a new login). */
  expireSession(openid: string): void {
    this.expired.set(openid, this.wechat.currentSessionKey(openid));
  }

  private isExpired(openid: string, key: string | undefined): boolean {
    return this.expired.has(openid) && this.expired.get(openid) === key;
  }

  private accountId(env: MidasEnv, zoneId: string, openid: string): string {
    return [env, this.app.appid, this.app.offerId, zoneId, openid].join('|');
  }

  account(env: MidasEnv, openid: string, zoneId = '1'): WxaAccount {
    const id = this.accountId(env, zoneId, openid);
    let a = this.accounts.get(id);
    if (!a) {
      a = { paid: 0, present: 0, sumSave: 0, sumPresent: 0, sumCost: 0 };
      this.accounts.set(id, a);
    }
    return a;
  }

  balance(env: MidasEnv, openid: string, zoneId = '1'): number {
    const a = this.account(env, openid, zoneId);
    return a.paid + a.present;
  }

  /** Coins bought on the payment sheet (wx.requestMidasPayment). */
  topUp(env: MidasEnv, openid: string, coins: number, zoneId = '1'): void {
    const a = this.account(env, openid, zoneId);
    a.paid += coins;
    a.sumSave += coins;
  }

  /** `POST /cgi-bin/stable_token`. */
  stableToken(raw: string): WxaAnswer {
    this.stableTokenCalls += 1;
    let req: { grant_type?: unknown; appid?: unknown; secret?: unknown; force_refresh?: unknown };
    try {
      req = JSON.parse(raw) as typeof req;
    } catch {
      return json({ errcode: 47001, errmsg: 'data format error' });
    }
    if (req.grant_type !== 'client_credential') return json({ errcode: 40002, errmsg: 'invalid grant_type' });
    if (req.appid !== this.app.appid) return json({ errcode: 40013, errmsg: 'invalid appid' });
    if (typeof req.secret !== 'string' || !signaturesEqual(this.app.appSecret, req.secret)) return json({ errcode: 40125, errmsg: 'invalid appsecret' });
    const held = this.current.get(this.app.appid);
    const t = held ? this.tokens.get(held) : undefined;
    if (req.force_refresh !== true && t && t.valid && t.expiresAt > this.now()) {
      return json({ access_token: held, expires_in: t.expiresAt - this.now() });
    }
    if (t) t.valid = false; // force_refresh (or expiry): the old one stops working
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { appid: this.app.appid, expiresAt: this.now() + TOKEN_LIFE_S, valid: true });
    this.current.set(this.app.appid, token);
    return json({ access_token: token, expires_in: TOKEN_LIFE_S });
  }

  private tokenError(token: string | null): number {
    const t = token ? this.tokens.get(token) : undefined;
    if (!t || !t.valid) return 40001;
    if (t.expiresAt <= this.now()) return 42001;
    return 0;
  }

  /** `GET /wxa/checksession`. */
  checkSession(query: URLSearchParams): WxaAnswer {
    const tokenError = this.tokenError(query.get('access_token'));
    if (tokenError) return json({ errcode: tokenError, errmsg: ERRMSG[tokenError] });
    const openid = query.get('openid') ?? '';
    const key = this.wechat.currentSessionKey(openid);
    const ok = key !== undefined && !this.isExpired(openid, key) && signaturesEqual(userSignature('', key), query.get('signature') ?? '') && query.get('sig_method') === 'hmac_sha256';
    return json(ok ? { errcode: 0, errmsg: 'ok' } : { errcode: 87009, errmsg: 'invalid signature' });
  }

  /** Whether `path` is one of the five ops; its answer otherwise. */
  async handle(path: string, query: URLSearchParams, raw: string): Promise<WxaAnswer | undefined> {
    const op = WXA_GAME_OPS.find((o) => wxaPath(o) === path);
    if (!op) return undefined;
    const tokenError = this.tokenError(query.get('access_token'));
    if (tokenError) return json({ errcode: tokenError, errmsg: ERRMSG[tokenError] });

    let body: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(raw);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      body = v as Record<string, unknown>;
    } catch {
      return json({ errcode: 90018, errmsg: 'invalid param: body is not a JSON object' });
    }
    const env: MidasEnv | undefined = body.env === 0 ? 'production' : body.env === 1 ? 'sandbox' : undefined;
    const record = (errcode: number, applied: boolean, extra: Partial<WxaJournalEntry> = {}) => {
      this.journal.push({ op, env: env ?? 'sandbox', body, errcode, applied, ...extra });
    };
    const fail = (errcode: number, field?: string): WxaAnswer => {
      record(errcode, false, field !== undefined ? { field } : {});
      return json({ errcode, errmsg: field ? `${ERRMSG[errcode]}: ${field}` : ERRMSG[errcode] });
    };
    if (!env) return fail(90018, 'env');

    // pay_sig over the bytes as received, with the AppKey of the body's env.
    const paySig = query.get('pay_sig') ?? '';
    this.signatures.push(paySig, query.get('signature') ?? '');
    if (!signaturesEqual(v2PaySig(path, raw, this.app.appKeys[env]), paySig)) return fail(90011);
    if (query.get('sig_method') !== 'hmac_sha256') return fail(90018, 'sig_method');

    // Every field: required, typed, known; the offer and the bill number's form.
    const spec = WXA_GAME[op];
    for (const f of spec.fields) {
      const v = body[f.name];
      if (v === undefined) {
        if (f.required) return fail(90018, f.name);
        continue;
      }
      if (f.type === 'number' ? typeof v !== 'number' || !Number.isFinite(v) : typeof v !== 'string' || v === '') return fail(90018, f.name);
    }
    for (const k of Object.keys(body)) if (!spec.fields.some((f) => f.name === k)) return fail(90018, k);
    if (body.offer_id !== this.app.offerId) return fail(90018, 'offer_id');
    for (const k of ['bill_no', 'pay_bill_no']) {
      if (body[k] !== undefined && !V2_BILL_NO_PATTERN.test(String(body[k]))) return fail(90018, k);
    }
    if (body.amount !== undefined && (!Number.isSafeInteger(body.amount) || (body.amount as number) <= 0)) return fail(90018, 'amount');
    if (body.biz_id !== undefined && body.biz_id !== 1 && body.biz_id !== 2) return fail(90018, 'biz_id');

    // signature with the player's current session_key.
    const openid = String(body.openid);
    const current = this.wechat.currentSessionKey(openid);
    const signature = query.get('signature') ?? '';
    if (!current || !signaturesEqual(userSignature(raw, current), signature)) return fail(90010);
    if (this.isExpired(openid, current)) return fail(90016);

    const faultRule = this.takeFault(V1_NAME[op], env);
    if (faultRule?.kind === 'busy' || faultRule?.kind === 'inProgress') {
      record(-1, false, { fault: faultRule.kind });
      return json({ errcode: -1, errmsg: ERRMSG[-1] });
    }
    if (faultRule?.kind === 'gatewayError') {
      record(-1, false, { fault: faultRule.kind });
      return { status: 502, body: '<html>502 Bad Gateway</html>' };
    }
    if (faultRule?.kind === 'delay') await sleep(faultRule.ms);

    const answer = this.apply(op, env, body);
    const errcode = Number(answer.errcode ?? 0);
    const applied = errcode === 0 && spec.movesCoins;
    const fault = faultRule?.kind;
    if (fault === 'applyThenBusy') {
      record(-1, applied, { fault });
      return json({ errcode: -1, errmsg: ERRMSG[-1] });
    }
    record(errcode, applied, { ...(fault && { fault }), ...(typeof answer.field === 'string' && { field: answer.field }) });
    if (fault === 'empty') return { status: 200, body: '' };
    delete answer.field;
    return json(answer);
  }


  private apply(op: WxaGameOp, env: MidasEnv, body: Record<string, unknown>): Record<string, unknown> {
    const openid = String(body.openid);
    const ok = (fields: Record<string, unknown>) => ({ errcode: 0, errmsg: 'ok', ...fields });
    const failed = (errcode: number, field?: string) => ({ errcode, errmsg: field ? `${ERRMSG[errcode]}: ${field}` : ERRMSG[errcode], ...(field && { field }) });
    if (op === 'queryorderinfo') {
      const order = this.wechat.paid.get(String(body.out_trade_no));
      const mode = body.biz_id === 1 ? 'game' : 'goods';
      if (!order || order.openid !== openid || order.env !== env || order.mode !== mode) return failed(90019);
      return ok({
        out_trade_no: order.outTradeNo,
        product_id: order.productId ?? '',
        pay_state: 2,
        deliver_state: this.delivered.has(order.outTradeNo) ? 2 : 1,
        pay_finish_time: Math.floor(order.paidAt / 1000),
        transaction_id: `local${order.outTradeNo}`,
      });
    }
    const zoneId = String(body.zone_id);
    const account = this.account(env, openid, zoneId);
    const balanceNow = () => account.paid + account.present;
    if (op === 'getbalance') {
      return ok({
        balance: balanceNow(),
        present_balance: account.present,
        sum_save: account.sumSave,
        sum_present: account.sumPresent,
        sum_balance: account.sumSave + account.sumPresent,
        sum_cost: account.sumCost,
        first_save: account.sumSave === 0,
      });
    }
    const billNo = String(body.bill_no);
    const billId = `${env}|${billNo}`;
    if (this.bills.has(billId)) return failed(90012);
    const amount = body.amount as number;
    if (op === 'pay') {
      if (balanceNow() < amount) return failed(90013);
      const usedPresent = Math.min(account.present, amount);
      account.present -= usedPresent;
      account.paid -= amount - usedPresent;
      account.sumCost += amount;
      this.bills.set(billId, { kind: 'pay', openid, zoneId, amount, usedPresent, refunded: 0 });
      return ok({ bill_no: billNo, balance: balanceNow(), used_present_amount: usedPresent });
    }
    if (op === 'present') {
      account.present += amount;
      account.sumPresent += amount;
      this.bills.set(billId, { kind: 'present', openid, zoneId, amount, usedPresent: 0, refunded: 0 });
      return ok({ bill_no: billNo, balance: balanceNow() });
    }
    // cancelpay: a refund bill of its own, naming the pay; partial and repeated, never past the pay.
    const pay = this.bills.get(`${env}|${String(body.pay_bill_no)}`);
    if (!pay || pay.kind !== 'pay' || pay.openid !== openid || pay.zoneId !== zoneId) return failed(90000);
    if (pay.refunded + amount > pay.amount) return failed(90018, 'amount');
    // Gifted coins the pay used come back as gifted coins first.
    const presentBack = Math.min(amount, Math.max(0, pay.usedPresent - pay.refunded));
    account.present += presentBack;
    account.paid += amount - presentBack;
    account.sumCost -= amount;
    pay.refunded += amount;
    this.bills.set(billId, { kind: 'refund', openid, zoneId, amount, usedPresent: 0, refunded: 0, payBillNo: String(body.pay_bill_no) });
    return ok({ bill_no: billNo });
  }
}

function json(body: unknown): WxaAnswer {
  return { status: 200, body: JSON.stringify(body) };
}
