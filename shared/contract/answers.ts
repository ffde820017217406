/**
 * What the functions answer and what the game sends them: the contract between the server and
 * the mini-game. Nothing here imports anything, so the game's package ships it as is, free of
 * server code and Node types. The functions use these very types (each function's wiring declares
 * its answer as `Functions[name]['response']`), and a test checks every request type against the
 * fields the server accepts, so the two cannot drift.
 *
 * Words used below: a **fen** is 1/100 yuan (600 fen = ¥6); **coins** are the game's virtual
 * currency held by Midas (米大师, WeChat's virtual-payment service); a **zone** (`zoneId`) is a game
 * server or region, `"1"` when the game has one; **genBalance** is the part of the balance that
 * was gifted (`present`) rather than bought.
 */

/** Every error code a function may answer with (the server's ERROR_CODES must list exactly these). */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'NOT_LOGGED_IN'
  | 'FORBIDDEN'
  | 'CONFIG_INVALID'
  | 'INSUFFICIENT_BALANCE'
  | 'BILL_ALREADY_EXISTS'
  | 'BILL_NOT_FOUND'
  | 'BILL_ALREADY_CONFIRMED'
  | 'BILL_ALREADY_CANCELLED'
  | 'BILL_IN_PROGRESS'
  | 'SESSION_EXPIRED'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'ORDER_NOT_CANCELLABLE'
  | 'LEDGER_UNAVAILABLE'
  | 'REFUND_EXCEEDS_PAYMENT'
  | 'OUT_TRADE_NO_NOT_FOUND'
  | 'LOGIN_CODE_INVALID'
  | 'PRODUCT_NOT_FOUND'
  | 'GRANT_REFUSED'
  | 'WECHAT_CONFIG_REJECTED'
  | 'YSDK_BAD_PARAMS'
  | 'YSDK_LOGIN_INVALID'
  | 'MIDAS_SIGNATURE_REJECTED'
  | 'MIDAS_PERMISSION_DENIED'
  | 'MIDAS_BAD_PARAMS'
  | 'OPENAPI_PERMISSION_DENIED'
  | 'MIDAS_BUSY'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'INTERNAL';

/** What a client receives for a failure: stable code, safe message, never a secret. */
export interface ClientError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  field?: string;
  outcome?: 'not_applied' | 'unknown';
  billNo?: string;
}

/** The one response shape of every function, for success and failure. */
export type FunctionResponse<T = Record<string, unknown>> = { ok: true; data: T } | { ok: false; error: ClientError };

/** What the client asks to sign. Prices never: they come from the catalogue. */
export type SignPaymentRequest =
  | { kind: 'item'; productId: string; quantity?: number; zoneId?: string; attach?: string }
  | { kind: 'coins'; quantity: number; zoneId?: string; attach?: string };

/** Everything `wx.requestMidasPaymentGameItem` / `wx.requestMidasPayment` need, signed. */
export interface SignPaymentResponse {
  /** The exact string that was signed: pass it on unchanged, byte for byte. */
  signData: string;
  paySig: string;
  signature: string;
  outTradeNo: string;
  mode: 'goods' | 'game';
  env: 0 | 1;
  offerId: string;
  buyQuantity: number;
  zoneId: string;
  currencyType: 'CNY';
  platform: 'android';
  /** What the order costs in total, in fen (informative). */
  totalFen: number;
}

/** `catalogue`: what a game's shop shows, and the coin quantities that make a price tier. */
export interface CatalogueResponse {
  /** `priceFen`: sold for money (signPayment); `coinPrice`: sold for game coins (buyWithCoins); one or both. */
  products: { productId: string; name: string; priceFen?: number; coinPrice?: number; grants: Record<string, number> }[];
  coinPriceFen: number;
  coinQuantities: number[];
}

export type ClientOrderState = 'PENDING' | 'PAID' | 'DELIVERED' | 'REFUNDED' | 'EXPIRED';

/** `buyWithCoins`: what the game sends. The price comes from the server's catalogue. */
export interface BuyWithCoinsRequest {
  productId: string;
  /** Units of the product (default 1). */
  quantity?: number;
  /** One per purchase; the same when the purchase is repeated (a repeat never charges twice). */
  idempotencyKey: string;
  zoneId?: string;
}

/**
 * Where a coin purchase stands for the player: RESOLVING (call again with the same key later),
 * DELIVERED (charged and granted), FAILED (not charged), CANCELLED (the coins were given back),
 * EXPIRED (never confirmed: an operator looks at it).
 */
export type CoinOrderState = 'RESOLVING' | 'DELIVERED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

/** Where the grant of a coin purchase stands (see the README's "Spending coins"). */
export type GrantState = 'PENDING' | 'DELIVERED' | 'REFUSED' | 'REVOKED' | 'FLAGGED' | 'NONE';

/** A coin purchase, as `buyWithCoins` answers and `myOrders` lists it. */
export interface CoinOrderView {
  orderId: string;
  billNo: string;
  productId: string;
  quantity: number;
  /** Coins the purchase costs (the catalogue's coinPrice × quantity when it was made). */
  coins: number;
  state: CoinOrderState;
  /** True while the outcome is not known yet. */
  resolving: boolean;
  grant: GrantState;
  flagged?: true;
  createdAt: number;
  updatedAt: number;
}

export interface BuyWithCoinsResponse extends CoinOrderView {
  /** The player's coins after the pay, as Midas said (absent when not known). */
  balance?: number;
}

/** `myOrders`: the player's client orders (latest first) and inventory. */
export interface MyOrdersResponse {
  orders: {
    outTradeNo: string;
    kind: 'item' | 'coins';
    productId?: string;
    quantity: number;
    totalFen: number;
    state: ClientOrderState;
    flagged?: true;
    createdAt: number;
    updatedAt: number;
  }[];
  /** The player's coin purchases (buyWithCoins), latest first. */
  coinOrders: CoinOrderView[];
  inventory: Record<string, number>;
}

/** A ledger order's state: PENDING/UNKNOWN/CANCELLING are still being resolved; the others are final. */
export type OrderState = 'PENDING' | 'UNKNOWN' | 'COMPLETED' | 'FAILED' | 'CANCELLING' | 'CANCELLED' | 'EXPIRED';

/** `getBalance`: the calling player's coins. */
export interface GetBalanceRequest {
  zoneId?: string;
}

/** The player's coins, as Midas keeps them. */
export interface BalanceResponse {
  balance: number;
  /** Of `balance`, the coins that were gifted (present) rather than bought. */
  genBalance: number;
  /** Whether the player has never bought coins: Midas v1 answers 1 (never) or 2; Virtual Payment 2.0 answers a boolean. */
  firstSave: number | boolean;
  /** Coins ever bought. */
  saveAmt: number;
  /** Coins ever received (bought and gifted). */
  saveSum: number;
  /** Coins ever spent. */
  costSum: number;
  /** Coins ever gifted. */
  presentSum: number;
}

/** `pay`: the calling player spends `amt` coins (grant what they bought only when the answer's state is COMPLETED). */
export interface PayRequest {
  amt: number;
  zoneId?: string;
  /** What was bought, for Midas' records. */
  payItem?: string;
  appRemark?: string;
  /** One per purchase; the same when the request is repeated (a repeat never charges twice). */
  idempotencyKey?: string;
}

/** `present` (trusted callers only): gives `presentCounts` coins to the player `toOpenid`. */
export interface PresentRequest {
  toOpenid: string;
  presentCounts: number;
  zoneId?: string;
  idempotencyKey?: string;
  reason?: string;
}

/**
 * `cancelPay` (trusted callers only): cancels (v1) or refunds (2.0) a completed pay by its bill
 * number. `amount` (a partial refund, which then needs its own `idempotencyKey`) is 2.0 only.
 */
export interface CancelPayRequest {
  billNo: string;
  amount?: number;
  idempotencyKey?: string;
}

/** What `pay`, `present` and `cancelPay` answer: the order. Grant an item only when `state` is `COMPLETED`. */
export interface OrderView {
  orderId: string;
  billNo: string;
  kind: 'pay' | 'present' | 'refund';
  state: OrderState;
  /** True while the outcome is not known yet: call again with the same idempotency key later. */
  resolving: boolean;
  amount: number;
  item?: string;
  reason?: string;
  balance?: number;
  usedGenAmt?: number;
  /** 2.0 refund: the bill number of the pay it refunds. */
  refundOf?: string;
  /** 2.0 pay: coins refunded or being refunded. */
  refunded?: number;
  createdAt: number;
}

/** `login` (Virtual Payment 2.0): the code of `wx.login`; the server keeps the player's session key. */
export interface LoginRequest {
  code: string;
}

export interface LoginResponse {
  loggedIn: true;
}

/** `myOrders`: all of the player's recent orders, or the one client order `outTradeNo`. */
export interface MyOrdersRequest {
  outTradeNo?: string;
}

/** A monthly card or subscription of a YSDK player. */
export interface YsdkSubscription {
  innerproductid: string;
  begintime: string;
  endtime: string;
  paychan: string;
  paysubchan: number;
  autopaychan: string;
  autopaysubchan: number;
  grandtotal_opendays: number;
  grandtotal_presentdays: number;
  first_buy_time: string;
  extend: string;
}

/** `ysdkBalance`: a native Android (YSDK) player's tokens; with `afterTopUp` it waits for a top-up to arrive. */
export interface YsdkBalanceRequest {
  login: 'qq' | 'wx';
  openid: string;
  openkey: string;
  pf: string;
  pfkey: string;
  zoneId?: string;
  userIp?: string;
  accountType?: 'common' | 'security';
  afterTopUp?: { saveAmt: number };
}

export interface YsdkBalanceResponse {
  balance: number;
  genBalance: number;
  /** 1: qualifies for a first top-up, 0: does not. */
  firstSave: number;
  saveAmt: number;
  tssList: YsdkSubscription[];
  /** With afterTopUp: whether the top-up arrived within the wait, and each look at the balance. */
  arrived?: boolean;
  progress?: { poll: number; elapsedMs: number; saveAmt: number }[];
}

/** `reconcile` (timer and trusted callers): resolves open ledger orders. */
export interface ReconcileRequest {
  /** Resolve just these orders (any age); otherwise every open order old enough. */
  orderIds?: string[];
}

export interface ReconcileResponse {
  examined: number;
  resolved: { orderId: string; from: OrderState; to: OrderState }[];
  /** Orders left for a later run: held by a live invocation, of another deployment, or out of time. */
  skipped: { orderId: string; why: 'busy' | 'other_api' | 'other_env' | 'other_offer' | 'other_app' | 'out_of_time' | 'not_open' | 'not_found' | 'ledger_unavailable' }[];
  /** Coin purchases whose grant was brought in line with their pay: granted, taken back or flagged. */
  granted: { orderId: string; grant: string }[];
}

/** `deliveryReconcile` (timer): client orders whose push was lost, delivered or expired. */
export interface DeliveryReconcileResponse {
  examined: number;
  delivered: string[];
  expired: string[];
  waiting: string[];
}

/**
 * Every function: what it takes (`request`) and the `data` of its successful answer
 * (`FunctionResponse<Functions[name]['response']>`). `paymentNotify` answers WeChat, not a game.
 */
export interface Functions {
  getBalance: { request: GetBalanceRequest; response: BalanceResponse };
  pay: { request: PayRequest; response: OrderView };
  present: { request: PresentRequest; response: OrderView };
  cancelPay: { request: CancelPayRequest; response: OrderView };
  reconcile: { request: ReconcileRequest; response: ReconcileResponse };
  login: { request: LoginRequest; response: LoginResponse };
  signPayment: { request: SignPaymentRequest; response: SignPaymentResponse };
  catalogue: { request: Record<string, never>; response: CatalogueResponse };
  buyWithCoins: { request: BuyWithCoinsRequest; response: BuyWithCoinsResponse };
  myOrders: { request: MyOrdersRequest; response: MyOrdersResponse };
  deliveryReconcile: { request: Record<string, never>; response: DeliveryReconcileResponse };
  ysdkBalance: { request: YsdkBalanceRequest; response: YsdkBalanceResponse };
}

export type FunctionName = keyof Functions;
