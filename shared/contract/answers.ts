/**
 * What the functions answer and what the game sends them: the contract between the server and
 * the mini-game. Nothing here imports anything, so the game's package ships it as is, free of
 * server code and Node types. The server's own types are checked against these.
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
