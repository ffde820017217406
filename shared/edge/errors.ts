/**
 * One error type for the whole project. `code` is a string literal (it survives minification,
 * unlike class names), `retryable` tells a caller whether the same request may succeed later,
 * and `expose` whether `message` may reach a client. Anything not exposed reaches a client as a
 * generic message; keys, signatures and raw upstream messages never do.
 */
import type { ClientError, ErrorCode } from '../contract/answers';

export const ERROR_CODES = {
  // the caller's request
  VALIDATION_FAILED: { retryable: false, expose: true },
  NOT_LOGGED_IN: { retryable: false, expose: true },
  FORBIDDEN: { retryable: false, expose: true },
  // configuration of the deployment
  CONFIG_INVALID: { retryable: false, expose: true },
  // business answers of Midas
  INSUFFICIENT_BALANCE: { retryable: false, expose: true },
  BILL_ALREADY_EXISTS: { retryable: false, expose: true },
  BILL_NOT_FOUND: { retryable: false, expose: true },
  BILL_ALREADY_CONFIRMED: { retryable: false, expose: true },
  BILL_ALREADY_CANCELLED: { retryable: false, expose: true },
  BILL_IN_PROGRESS: { retryable: true, expose: true },
  SESSION_EXPIRED: { retryable: false, expose: true },
  // the ledger
  IDEMPOTENCY_KEY_REUSED: { retryable: false, expose: true },
  ORDER_NOT_CANCELLABLE: { retryable: false, expose: true },
  LEDGER_UNAVAILABLE: { retryable: true, expose: true },
  REFUND_EXCEEDS_PAYMENT: { retryable: false, expose: true },
  // Virtual Payment 2.0 on the server
  OUT_TRADE_NO_NOT_FOUND: { retryable: false, expose: true },
  // Virtual Payment 2.0 for the client
  LOGIN_CODE_INVALID: { retryable: false, expose: true },
  PRODUCT_NOT_FOUND: { retryable: false, expose: true },
  // coin purchases
  GRANT_REFUSED: { retryable: false, expose: true },
  WECHAT_CONFIG_REJECTED: { retryable: false, expose: false },
  // YSDK (Android apps)
  YSDK_BAD_PARAMS: { retryable: false, expose: true },
  YSDK_LOGIN_INVALID: { retryable: false, expose: true },
  // integration faults: the deployment is wrong, a client can do nothing about it
  MIDAS_SIGNATURE_REJECTED: { retryable: false, expose: false },
  MIDAS_PERMISSION_DENIED: { retryable: false, expose: false },
  MIDAS_BAD_PARAMS: { retryable: false, expose: false },
  OPENAPI_PERMISSION_DENIED: { retryable: false, expose: false },
  // transient faults: the outcome of a coin-moving call is unknown
  MIDAS_BUSY: { retryable: true, expose: true },
  UPSTREAM_TIMEOUT: { retryable: true, expose: true },
  UPSTREAM_UNAVAILABLE: { retryable: true, expose: true },
  UPSTREAM_BAD_RESPONSE: { retryable: true, expose: true },
  // anything else
  INTERNAL: { retryable: false, expose: false },
} as const satisfies Record<ErrorCode, { retryable: boolean; expose: boolean }>;

export type { ErrorCode, ClientError } from '../contract/answers';

/** Message a client sees for an error that is not exposed. */
export const GENERIC_MESSAGE = 'the payment service is not available; the operator has been told';

export interface MidasCloudErrorOptions {
  /** The event field at fault, for VALIDATION_FAILED. */
  field?: string;
  /** The Midas errcode or wx-server-sdk errCode behind this error, for logs and tests. */
  upstreamCode?: number;
  /** For a coin-moving call: whether the coins may have moved although the call failed. */
  outcome?: 'not_applied' | 'unknown';
  cause?: unknown;
}

export class MidasCloudError extends Error {
  override readonly name = 'MidasCloudError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly expose: boolean;
  readonly field?: string;
  readonly upstreamCode?: number;
  readonly outcome?: 'not_applied' | 'unknown';
  /** The bill number of a coin-moving call, so the caller can retry it or cancel it. */
  billNo?: string;

  constructor(code: ErrorCode, message: string, options: MidasCloudErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.expose = ERROR_CODES[code].expose;
    if (options.field !== undefined) this.field = options.field;
    if (options.upstreamCode !== undefined) this.upstreamCode = options.upstreamCode;
    if (options.outcome !== undefined) this.outcome = options.outcome;
  }
}

export function isMidasCloudError(e: unknown): e is MidasCloudError {
  return e instanceof Error && (e as { name?: unknown }).name === 'MidasCloudError' && typeof (e as MidasCloudError).code === 'string';
}

/** Midas v1 errcodes (SPEC §2) and what they mean to us. -1 is handled with the transport faults. */
const MIDAS_ERRCODES: Record<number, { code: ErrorCode; message: string }> = {
  90000: { code: 'BILL_NOT_FOUND', message: 'no such order for this player' },
  90009: { code: 'MIDAS_SIGNATURE_REJECTED', message: 'Midas rejected mp_sig (90009)' },
  90010: { code: 'SESSION_EXPIRED', message: 'the player is not logged in or the session expired; log in again' },
  90011: { code: 'MIDAS_SIGNATURE_REJECTED', message: 'Midas rejected sig (90011): check the Midas secret of this environment' },
  90012: {
    code: 'BILL_ALREADY_EXISTS',
    message: 'this bill number was used before; if it repeats a call whose outcome was unknown, that call went through',
  },
  90013: { code: 'INSUFFICIENT_BALANCE', message: 'the balance is too low' },
  90014: { code: 'BILL_ALREADY_CONFIRMED', message: 'the order is confirmed and can no longer be cancelled' },
  90015: { code: 'BILL_ALREADY_CANCELLED', message: 'the order was already cancelled' },
  90016: { code: 'BILL_IN_PROGRESS', message: 'the order is being processed; try again shortly' },
  90017: { code: 'MIDAS_PERMISSION_DENIED', message: 'Midas denied the call (90017): check the offer id and the app' },
  90018: { code: 'MIDAS_BAD_PARAMS', message: 'Midas rejected the parameters (90018)' },
};

/** wx-server-sdk errCodes of the gateway (SPEC §7). */
const OPENAPI_NO_PERMISSION = -604101;
const OPENAPI_TIMEOUT = -604102;

/**
 * Maps anything a wx-server-sdk cloud call may throw to a MidasCloudError.
 *
 * `movesCoins` marks calls whose coins may have moved although the answer was a failure:
 * for them every transient fault carries `outcome: 'unknown'`.
 */
export function fromCloudCallError(e: unknown, movesCoins: boolean): MidasCloudError {
  if (isMidasCloudError(e)) return e;
  const errCode = typeof e === 'object' && e !== null ? (e as { errCode?: unknown }).errCode : undefined;
  const transientOutcome = movesCoins ? 'unknown' : undefined;
  if (typeof errCode === 'number') {
    const known = MIDAS_ERRCODES[errCode];
    if (known) {
      return new MidasCloudError(known.code, known.message, { upstreamCode: errCode, outcome: 'not_applied' });
    }
    if (errCode === -1) {
      return new MidasCloudError('MIDAS_BUSY', 'Midas is busy; retry with the same bill number', {
        upstreamCode: errCode,
        ...(transientOutcome && { outcome: transientOutcome }),
      });
    }
    if (errCode === OPENAPI_NO_PERMISSION) {
      return new MidasCloudError('OPENAPI_PERMISSION_DENIED', 'config.json does not grant this openapi (-604101)', {
        upstreamCode: errCode,
        outcome: 'not_applied',
      });
    }
    if (errCode === OPENAPI_TIMEOUT) {
      return new MidasCloudError('UPSTREAM_TIMEOUT', 'the call to Midas timed out; retry with the same bill number', {
        upstreamCode: errCode,
        ...(transientOutcome && { outcome: transientOutcome }),
      });
    }
    return new MidasCloudError('UPSTREAM_UNAVAILABLE', 'the WeChat gateway failed; retry with the same bill number', {
      upstreamCode: errCode,
      ...(transientOutcome && { outcome: transientOutcome }),
    });
  }
  // No errCode: a network failure inside the SDK, or a bug. Either way the call may have been sent.
  return new MidasCloudError('UPSTREAM_UNAVAILABLE', 'the call to Midas failed; retry with the same bill number', {
    ...(transientOutcome && { outcome: transientOutcome }),
    cause: e,
  });
}


export function toClientError(e: unknown): ClientError {
  const err = isMidasCloudError(e) ? e : new MidasCloudError('INTERNAL', 'unexpected error', { cause: e });
  const out: ClientError = {
    code: err.code,
    message: err.expose ? err.message : GENERIC_MESSAGE,
    retryable: err.retryable,
  };
  if (err.field !== undefined) out.field = err.field;
  if (err.outcome !== undefined) out.outcome = err.outcome;
  if (err.billNo !== undefined) out.billNo = err.billNo;
  return out;
}
