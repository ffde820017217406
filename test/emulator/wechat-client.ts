/**
 * The WeChat side of a client payment, for local runs:
 * - `wx.login` codes and `jscode2session`: single-use codes valid 5 minutes, a new session_key
 *   at every login (the previous ones stay known, so a signature made with one is "expired"
 *   rather than "wrong"), unknown codes refused (40029);
 * - the payment sheet of `wx.requestMidasPaymentGameItem` / `wx.requestMidasPayment`: it checks
 *   signData, paySig (AppKey of its env), signature (the player's current session_key), the
 *   product and its price as configured on WeChat's side, and answers with the client errCodes
 *   of SPEC §3, recording what was paid.
 */
import { randomBytes } from 'crypto';
import { PRICE_TIERS_CNY } from '../../shared/virtual-payment/catalogue';
import type { MidasEnv } from '../../shared/midas-v1/operation-table';
import { clientPaySig, userSignature } from '../../shared/virtual-payment/signing';
import { signaturesEqual } from '../../shared/edge/hmac';

export interface WechatApp {
  appid: string;
  appSecret: string;
  offerId: string;
  /** Virtual Payment 2.0 AppKeys. */
  appKeys: Record<MidasEnv, string>;
  /** Products as configured in the Virtual Payment 2.0 console: id → unit price in fen. */
  productPrices: Map<string, number>;
  coinPriceFen: number;
  /** A released game may not pay in the sandbox (-15010). */
  released: boolean;
}

export interface SheetAnswer {
  errCode: number;
  errMsg: string;
}

export interface PaidOrder {
  outTradeNo: string;
  openid: string;
  env: MidasEnv;
  mode: 'goods' | 'game';
  productId?: string;
  quantity: number;
  totalFen: number;
  /** Unix ms of the payment. */
  paidAt: number;
  zoneId: string;
  attach?: string;
  unitPriceFen: number;
}

const CODE_TTL_MS = 5 * 60 * 1000;

export class WechatClientEmulator {
  private codes = new Map<string, { openid: string; expires: number }>();
  /** Every session_key each player has had; the last is the current one. */
  private sessionKeys = new Map<string, string[]>();
  readonly paid = new Map<string, PaidOrder>();
  /** Every answer of the sheet, for tests. */
  readonly sheetJournal: (SheetAnswer & { method: string })[] = [];

  /** Called with every coin purchase the sheet accepts (the local cloud credits the Midas account). */
  onCoinsPaid?: (openid: string, env: MidasEnv, coins: number) => void;
  /** Called with every purchase the sheet accepts (the local cloud pushes it to the game's server). */
  onPaid?: (order: PaidOrder) => void;

  constructor(readonly app: WechatApp) {}

  /** What survives a restart: players' session keys and the orders paid on the sheet. */
  snapshot(): { sessionKeys: [string, string[]][]; paid: [string, PaidOrder][] } {
    return { sessionKeys: [...this.sessionKeys], paid: [...this.paid] };
  }

  restore(s: ReturnType<WechatClientEmulator['snapshot']>): void {
    this.sessionKeys.clear();
    this.paid.clear();
    for (const [k, v] of s.sessionKeys) this.sessionKeys.set(k, v);
    for (const [k, v] of s.paid) this.paid.set(k, v);
  }

  /** `wx.login` on the player's phone: a fresh code, and a fresh session_key behind it. */
  wxLogin(openid: string): string {
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { openid, expires: Date.now() + CODE_TTL_MS });
    return code;
  }

  currentSessionKey(openid: string): string | undefined {
    return this.sessionKeys.get(openid)?.at(-1);
  }

  /** GET /sns/jscode2session */
  /** How many times jscode2session was asked (tests check invalid requests send nothing). */
  codeExchanges = 0;

  jscode2session(query: URLSearchParams): Record<string, unknown> {
    this.codeExchanges += 1;
    if (query.get('grant_type') !== 'authorization_code') return { errcode: 40002, errmsg: 'invalid grant_type' };
    if (query.get('appid') !== this.app.appid) return { errcode: 40013, errmsg: 'invalid appid' };
    if (query.get('secret') !== this.app.appSecret) return { errcode: 40125, errmsg: 'invalid appsecret' };
    const code = query.get('js_code') ?? '';
    const entry = this.codes.get(code);
    this.codes.delete(code); // single use, whatever happens
    if (!entry || entry.expires < Date.now()) return { errcode: 40029, errmsg: 'invalid code' };
    const sessionKey = randomBytes(16).toString('base64');
    this.sessionKeys.set(entry.openid, [...(this.sessionKeys.get(entry.openid) ?? []), sessionKey]);
    return { openid: entry.openid, session_key: sessionKey };
  }

  private answer(method: string, errCode: number, errMsg: string): SheetAnswer {
    const a = { errCode, errMsg: errCode === 0 ? `${method}:ok` : `${method}:fail ${errMsg}` };
    this.sheetJournal.push({ ...a, method });
    return a;
  }

  /**
   * The sheet of `wx.requestMidasPaymentGameItem` (`mode: goods`) or `wx.requestMidasPayment`
   * (`mode: game`), as `openid` taps "pay".
   */
  pay(method: 'requestMidasPaymentGameItem' | 'requestMidasPayment', openid: string, opts: { signData?: unknown; paySig?: unknown; signature?: unknown }): SheetAnswer {
    const { signData, paySig, signature } = opts;
    if (typeof signData !== 'string' || typeof paySig !== 'string' || typeof signature !== 'string') return this.answer(method, -15001, 'missing signData, paySig or signature');
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(signData) as Record<string, unknown>;
    } catch {
      return this.answer(method, -15011, 'signData is not JSON');
    }
    const env: MidasEnv | undefined = data.env === 0 ? 'production' : data.env === 1 ? 'sandbox' : undefined;
    const mode = method === 'requestMidasPaymentGameItem' ? 'goods' : 'game';
    if (!env || data.mode !== mode || data.offerId !== this.app.offerId || data.currencyType !== 'CNY' || data.platform !== 'android') {
      return this.answer(method, -15002, 'invalid param');
    }
    if (env === 'sandbox' && this.app.released) return this.answer(method, -15010, 'released game paying in sandbox');
    // paySig first: it proves the server made this exact string.
    if (!signaturesEqual(clientPaySig(method, signData, this.app.appKeys[env]), paySig)) return this.answer(method, -15014, 'paysig error');
    const keys = this.sessionKeys.get(openid) ?? [];
    const current = keys.at(-1);
    if (!current || !signaturesEqual(userSignature(signData, current), signature)) {
      const old = keys.slice(0, -1).some((k) => signaturesEqual(userSignature(signData, k), signature));
      return old ? this.answer(method, -15015, 'session_key expired') : this.answer(method, -15012, 'signature error');
    }
    const outTradeNo = data.outTradeNo;
    if (typeof outTradeNo !== 'string' || !/^[0-9A-Za-z_\-|*@]{1,32}$/.test(outTradeNo) || outTradeNo.startsWith('_')) return this.answer(method, -15002, 'invalid outTradeNo');
    if (this.paid.has(outTradeNo)) return this.answer(method, -15007, 'order already paid');
    const quantity = data.buyQuantity;
    if (!Number.isSafeInteger(quantity) || (quantity as number) < 1) return this.answer(method, -15002, 'invalid buyQuantity');

    let totalFen: number;
    if (mode === 'goods') {
      const price = this.app.productPrices.get(String(data.productId));
      if (price === undefined) return this.answer(method, 3017, 'invalid productId');
      if (data.goodsPrice !== price) return this.answer(method, -15016, 'goods price error');
      totalFen = price * (quantity as number);
    } else {
      totalFen = this.app.coinPriceFen * (quantity as number);
      if (!PRICE_TIERS_CNY.some((cny) => cny * 100 === totalFen)) return this.answer(method, -15002, 'buyQuantity is not a price tier');
    }
    this.paid.set(outTradeNo, {
      outTradeNo,
      openid,
      env,
      mode,
      ...(mode === 'goods' && { productId: String(data.productId) }),
      quantity: quantity as number,
      totalFen,
      paidAt: Date.now(),
      zoneId: String(data.zoneId ?? '1'),
      ...(typeof data.attach === 'string' && { attach: data.attach }),
      unitPriceFen: totalFen / (quantity as number),
    });
    if (mode === 'game') this.onCoinsPaid?.(openid, env, quantity as number);
    this.onPaid?.(this.paid.get(outTradeNo)!);
    return this.answer(method, 0, '');
  }
}
