/**
 * The mini-game side: one call to buy an item or coins. It calls the cloud functions of this
 * project (login, signPayment, getBalance) and WeChat's payment sheet, and shares their request
 * and response types from shared/contract (which imports nothing: no server code, no Node types).
 *
 * @example
 * import { createMidasClient } from './midas-client';
 * const midas = createMidasClient(wx);
 * const item = await midas.buyItem('sword_basic');   // resolves once delivered (or "paid, delivery pending")
 * const coins = await midas.buyCoins(60);                       // waits until the coins have arrived
 * const sword = await midas.buyWithCoins('sword_basic');        // spends coins; granted on the server
 */
/** The timer of every JavaScript runtime a game runs in (mini-games, browsers, Node), declared here so no typings are needed. */
declare function setTimeout(callback: () => void, ms: number): unknown;

import type { BalanceResponse, BuyWithCoinsRequest, BuyWithCoinsResponse, CatalogueResponse, ClientError, ErrorCode, FunctionName, FunctionResponse, Functions, MyOrdersResponse, SignPaymentRequest, SignPaymentResponse } from '../shared/contract/answers';

export type * from '../shared/contract/answers';

/** What `myOrders` answers: the player's client orders and inventory. */
export type MyOrders = MyOrdersResponse;

/** The signed fields both payment sheets take (from signPayment, passed on unchanged). */
export interface MidasSignedFields {
  /** The exact string signPayment signed: WeChat checks that very string. */
  signData: string;
  paySig: string;
  signature: string;
}

/** What this helper passes to WeChat's payment sheets and login, and what it expects back. */
interface WxCalls {
  login(option: { success: (r: { code: string }) => void; fail: (e: { errMsg: string }) => void }): void;
  requestMidasPaymentGameItem(option: MidasSignedFields & SheetCallbacks): void;
  requestMidasPayment(
    option: MidasSignedFields & SheetCallbacks & { mode: 'game'; env: 0 | 1; offerId: string; currencyType: 'CNY'; platform: 'android'; buyQuantity: number; zoneId: string; outTradeNo: string },
  ): void;
}

interface SheetCallbacks {
  success: (r: { errMsg: string }) => void;
  fail: (r: { errCode: number; errMsg: string }) => void;
}

/**
 * The part of `wx` this helper uses, described here so that the package needs no typings: the
 * real `wx` of a mini-game fits it, whichever version of WeChat's typings describes it (their
 * option types differ between versions, so the options are not spelt out here), and so does
 * `createLocalWx`.
 */
export interface MidasWx {
  login(option: never): unknown;
  requestMidasPaymentGameItem(option: never): unknown;
  requestMidasPayment(option: never): unknown;
  cloud: { callFunction(option: { name: string; data?: object }): Promise<{ result?: unknown }> };
}

export interface MidasClientOptions {
  /** Names of the deployed functions, if you renamed them. */
  functions?: Partial<Record<FunctionName, string>>;
  /** While a coin purchase is resolving: how often to ask again with the same key, and for how long (default 1 s, 10 s). */
  coinPollMs?: number;
  coinWaitMs?: number;
  /** After an item is paid: how often to ask whether it was delivered, and for how long (default 1 s, 10 s). */
  deliveryPollMs?: number;
  deliveryWaitMs?: number;
  /** After a coin top-up: how often to look at the balance, and for how long (default 15 s, for up to 2 minutes: coins can arrive late). */
  pollIntervalMs?: number;
  pollMaxMs?: number;
  /** Called at each look at the balance while waiting for coins. */
  onProgress?: (p: { poll: number; elapsedMs: number; saveAmt: number }) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The codes of failures that happen in the game rather than in a function: the payment sheet
 * (PAYMENT_CANCELLED, PAYMENT_FAILED), wx.login (WX_LOGIN_FAILED), the cloud call itself failing
 * or not reaching the cloud (CLOUD_CALL_FAILED), an answer that is not a function's (BAD_RESPONSE).
 */
export type ClientSideErrorCode = 'PAYMENT_CANCELLED' | 'PAYMENT_FAILED' | 'WX_LOGIN_FAILED' | 'CLOUD_CALL_FAILED' | 'BAD_RESPONSE';

/** Every code a MidasClientError can have: a function's error code or one of the game's side. */
export type MidasClientErrorCode = ErrorCode | ClientSideErrorCode;

/** Every failure of this helper: of one of our functions (`code` is its error code), of the cloud call, or of the payment sheet (`errCode`). */
export class MidasClientError extends Error {
  override readonly name = 'MidasClientError';
  constructor(
    readonly code: MidasClientErrorCode,
    message: string,
    readonly retryable: boolean,
    /** The errCode of wx.requestMidasPayment(GameItem), e.g. -2 (cancelled), -15014 (paySig). */
    readonly errCode?: number,
  ) {
    super(message);
  }
}

/** Sheet errCodes that mean the player chose not to pay. */
const CANCELLED = new Set([-2, 1, 7]);
/** The sheet's "session_key expired": log in again and sign again. */
const SESSION_KEY_EXPIRED = -15015;

/** The player's coins (`getBalance`); `firstSave` is a number with Midas v1 and a boolean with 2.0. */
export type Balance = BalanceResponse;

/** A key for one coin purchase: the time and randomness, unique enough per player (the server scopes keys by player). */
function newKey(): string {
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
}

export function createMidasClient(wx: MidasWx, options: MidasClientOptions = {}) {
  const calls = wx as unknown as WxCalls;
  const names = { login: 'login', signPayment: 'signPayment', getBalance: 'getBalance', catalogue: 'catalogue', myOrders: 'myOrders', buyWithCoins: 'buyWithCoins', ...options.functions };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function call<T>(name: string, data: object): Promise<T> {
    let r: { result?: unknown };
    try {
      r = await wx.cloud.callFunction({ name, data });
    } catch (e) {
      // No answer from the cloud (network, an undeployed function, the local cloud not running).
      const why = typeof e === 'object' && e !== null && 'errMsg' in e ? String((e as { errMsg: unknown }).errMsg) : e instanceof Error ? e.message : String(e);
      throw new MidasClientError('CLOUD_CALL_FAILED', `${name} could not be called: ${why}`, true);
    }
    const answer = r.result as FunctionResponse<T> | undefined;
    if (!answer || typeof answer !== 'object' || !('ok' in answer)) throw new MidasClientError('BAD_RESPONSE', `${name} answered nothing usable`, true);
    if (!answer.ok) {
      const e: ClientError = answer.error;
      throw new MidasClientError(e.code, e.message, e.retryable);
    }
    return answer.data;
  }

  /** wx.login, then the login function: the server keeps the new session_key. */
  async function login(): Promise<void> {
    const code = await new Promise<string>((resolve, reject) =>
      calls.login({ success: (r) => resolve(r.code), fail: (e) => reject(new MidasClientError('WX_LOGIN_FAILED', e.errMsg, true)) }),
    );
    await call(names.login, { code });
  }

  /** A call that needs the player's login (signing; 2.0 balances): a missing or old login is renewed once. */
  async function callLoggedIn<T>(name: string, data: object): Promise<T> {
    try {
      return await call<T>(name, data);
    } catch (e) {
      if (!(e instanceof MidasClientError) || e.code !== 'SESSION_EXPIRED') throw e;
      await login();
      return call<T>(name, data);
    }
  }

  /** Signs a purchase. */
  function sign(req: SignPaymentRequest): Promise<SignPaymentResponse> {
    return callLoggedIn<SignPaymentResponse>(names.signPayment, req);
  }

  function sheet(method: 'requestMidasPaymentGameItem' | 'requestMidasPayment', signed: SignPaymentResponse): Promise<{ errCode: number; errMsg: string }> {
    return new Promise((resolve) => {
      const callbacks = {
        success: (r: { errMsg: string }) => resolve({ errCode: 0, errMsg: r.errMsg }),
        fail: (r: { errCode: number; errMsg: string }) => resolve({ errCode: r.errCode, errMsg: r.errMsg }),
      };
      // WeChat checks the very string that was signed: signData is passed on as it came.
      const signedFields: MidasSignedFields = { signData: signed.signData, paySig: signed.paySig, signature: signed.signature };
      if (method === 'requestMidasPaymentGameItem') {
        calls.requestMidasPaymentGameItem({ ...signedFields, ...callbacks });
      } else {
        calls.requestMidasPayment({
          mode: 'game',
          env: signed.env,
          offerId: signed.offerId,
          currencyType: 'CNY',
          platform: 'android',
          buyQuantity: signed.buyQuantity,
          zoneId: signed.zoneId,
          outTradeNo: signed.outTradeNo,
          ...callbacks,
          ...signedFields,
        });
      }
    });
  }

  /** Sign, show the sheet; on an expired session_key log in, sign anew and show it once more. */
  async function purchase(req: SignPaymentRequest): Promise<SignPaymentResponse> {
    const method = req.kind === 'item' ? 'requestMidasPaymentGameItem' : 'requestMidasPayment';
    let signed = await sign(req);
    let r = await sheet(method, signed);
    if (r.errCode === SESSION_KEY_EXPIRED) {
      await login();
      signed = await sign(req);
      r = await sheet(method, signed);
    }
    if (r.errCode === 0) return signed;
    if (CANCELLED.has(r.errCode)) throw new MidasClientError('PAYMENT_CANCELLED', 'the player cancelled the payment', false, r.errCode);
    throw new MidasClientError('PAYMENT_FAILED', r.errMsg, r.errCode === -1 || r.errCode === -15004, r.errCode);
  }

  /** The player's coins; with Virtual Payment 2.0 (MIDAS_API=v2) reading them needs a login, made here if missing. */
  async function getBalance(zoneId?: string): Promise<Balance> {
    return callLoggedIn<Balance>(names.getBalance, zoneId ? { zoneId } : {});
  }

  /** Coins can arrive late after a top-up: look every 15 s for up to 2 minutes until save_amt has grown. */
  async function waitForCoins(saveAmtBefore: number, zoneId?: string): Promise<{ arrived: boolean; balance: Balance }> {
    const interval = options.pollIntervalMs ?? 15_000;
    const max = options.pollMaxMs ?? 120_000;
    const start = Date.now();
    for (let poll = 1; ; poll++) {
      const balance = await getBalance(zoneId);
      options.onProgress?.({ poll, elapsedMs: Date.now() - start, saveAmt: balance.saveAmt });
      if (balance.saveAmt > saveAmtBefore) return { arrived: true, balance };
      if (Date.now() - start + interval > max) return { arrived: false, balance };
      await sleep(interval);
    }
  }

  /**
   * Waits until the server delivered the order (WeChat's push, or the reconciler after a lost
   * one). Not delivered within the wait is not a failure: the player paid, delivery is pending.
   */
  async function waitForDelivery(outTradeNo: string): Promise<{ delivered: boolean; status: 'delivered' | 'paid_delivery_pending'; inventory?: Record<string, number> }> {
    const every = options.deliveryPollMs ?? 1000;
    const max = options.deliveryWaitMs ?? 10_000;
    const start = Date.now();
    for (;;) {
      try {
        const mine = await call<MyOrders>(names.myOrders, { outTradeNo });
        if (mine.orders[0]?.state === 'DELIVERED') return { delivered: true, status: 'delivered', inventory: mine.inventory };
      } catch {
        // A failed look is not a failed purchase: look again, or report it pending.
      }
      if (Date.now() - start + every > max) return { delivered: false, status: 'paid_delivery_pending' };
      await sleep(every);
    }
  }

  return {
    /**
     * Calls any function of the contract with its request type and resolves with its answer type
     * (e.g. `call('pay', { amt: 10, idempotencyKey })` → the order). Rejects with MidasClientError.
     */
    call: <N extends FunctionName>(name: N, request: Functions[N]['request']): Promise<Functions[N]['response']> =>
      call<Functions[N]['response']>((options.functions as Partial<Record<string, string>> | undefined)?.[name] ?? name, request as object),
    login,
    getBalance,
    waitForCoins,
    waitForDelivery,
    /** The player's client orders and inventory. */
    myOrders: (outTradeNo?: string) => call<MyOrders>(names.myOrders, outTradeNo ? { outTradeNo } : {}),
    /** What the shop can show: products with prices, and the coin quantities that can be bought. */
    catalogue: () => call<CatalogueResponse>(names.catalogue, {}),
    /**
     * Buys `quantity` of a catalogue product with wx.requestMidasPaymentGameItem, then waits for
     * the server to deliver it: `status` is `delivered` (with the inventory), or
     * `paid_delivery_pending` when delivery takes longer than the wait (the player paid; it will
     * be delivered, look again with myOrders).
     */
    async buyItem(productId: string, quantity = 1, opts: { zoneId?: string; attach?: string; onPaid?: (p: { outTradeNo: string }) => void } = {}) {
      const { onPaid, ...fields } = opts;
      const signed = await purchase({ kind: 'item', productId, quantity, ...fields });
      // The player has paid: a game can say so now, while the server delivers.
      onPaid?.({ outTradeNo: signed.outTradeNo });
      return { outTradeNo: signed.outTradeNo, totalFen: signed.totalFen, ...(await waitForDelivery(signed.outTradeNo)) };
    },
    /**
     * Spends game coins on `quantity` of a catalogue product sold for coins (its `coinPrice`): the
     * server charges its own price and grants the product exactly once. Resolves with `state`
     * `DELIVERED`, or `RESOLVING` when the outcome is still unknown after the wait (ask again later
     * with the same `idempotencyKey`: it never charges twice). Rejects with INSUFFICIENT_BALANCE
     * (nothing charged) or GRANT_REFUSED (the coins were given back).
     */
    async buyWithCoins(productId: string, quantity = 1, opts: { idempotencyKey?: string; zoneId?: string } = {}): Promise<BuyWithCoinsResponse> {
      const req: BuyWithCoinsRequest = { productId, quantity, idempotencyKey: opts.idempotencyKey ?? newKey(), ...(opts.zoneId && { zoneId: opts.zoneId }) };
      const every = options.coinPollMs ?? 1000;
      const max = options.coinWaitMs ?? 10_000;
      const start = Date.now();
      for (;;) {
        const r = await callLoggedIn<BuyWithCoinsResponse>(names.buyWithCoins, req);
        if (!r.resolving || Date.now() - start + every > max) return r;
        await sleep(every);
      }
    },
    /** Buys game coins with wx.requestMidasPayment, then waits until they are in the balance. */
    async buyCoins(quantity: number, opts: { zoneId?: string; attach?: string; onPaid?: (p: { outTradeNo: string }) => void } = {}) {
      const { onPaid, ...fields } = opts;
      const before = await getBalance(opts.zoneId);
      const signed = await purchase({ kind: 'coins', quantity, ...fields });
      onPaid?.({ outTradeNo: signed.outTradeNo });
      const after = await waitForCoins(before.saveAmt, opts.zoneId);
      return { outTradeNo: signed.outTradeNo, totalFen: signed.totalFen, ...after };
    },
  };
}

export type MidasClient = ReturnType<typeof createMidasClient>;
