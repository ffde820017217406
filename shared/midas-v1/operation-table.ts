/**
 * The one table of Midas v1 operations.
 *
 * Every API name, cgi path, parameter and response field is written here once. The payload
 * builder, the list given to `cloud.signature`, validation, each function's config.json
 * permissions and the local emulator all derive from this table, so a misspelled API name
 * (which wx-server-sdk would send with the secret in clear, SPEC §2) cannot be typed anywhere.
 */

/** Which Midas environment a call goes to. The sandbox has its own paths, names and secret. */
export type MidasEnv = 'production' | 'sandbox';
export const MIDAS_ENVS: readonly MidasEnv[] = ['production', 'sandbox'];

export type ParamType = 'string' | 'integer';

/**
 * Where a parameter's value comes from when one of our functions builds a call.
 * - `context`: the platform (`cloud.getWXContext()`), never the event
 * - `config`: environment variables of the function
 * - `clock`: the current time
 * - `constant`: a fixed value of the API
 * - `event`: the caller's event, validated against the limits below
 * - `ledger`: the order in the ledger (a bill number made once per order, kept through retries)
 */
export type ParamSource = 'context' | 'config' | 'clock' | 'constant' | 'event' | 'ledger';

export interface ParamSpec {
  /** The name on the wire (snake_case), as signed and as the HTTPS API documents it. */
  readonly wire: string;
  readonly type: ParamType;
  readonly required: boolean;
  readonly source: ParamSource;
  /** For `event` params that the event may leave out: `config` takes the configured default. */
  readonly eventDefault?: 'config';
}

export interface OperationSpec {
  /** The cloud-call method under `cloud.openapi.midas`, and the basis of every other name. */
  readonly method: OperationName;
  /** Parameters in addition to the common ones. */
  readonly params: readonly ParamSpec[];
  /** Fields of a successful answer (snake_case on the wire). */
  readonly response: readonly string[];
  /** Whether the call moves coins: an ambiguous failure of such a call may have been applied. */
  readonly movesCoins: boolean;
  /**
   * Whose account: `context` is the calling player (getWXContext().OPENID); `event` is a
   * recipient named by a trusted caller in `toOpenid` (gifts are not asked for by the receiver).
   */
  readonly player: 'context' | 'event';
  /** Only trusted callers (timer, another cloud function, an operator) may call it. */
  readonly trustedOnly: boolean;
  /** Params that, for this op, are taken from the ledger's order rather than the event. */
  readonly fromLedger?: readonly string[];
}

export const OPERATION_NAMES = ['getBalance', 'pay', 'cancelPay', 'present'] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

/** Parameters every v1 operation takes (SPEC §2). */
export const COMMON_PARAMS: readonly ParamSpec[] = [
  { wire: 'openid', type: 'string', required: true, source: 'context' },
  { wire: 'appid', type: 'string', required: true, source: 'context' },
  { wire: 'offer_id', type: 'string', required: true, source: 'config' },
  { wire: 'ts', type: 'integer', required: true, source: 'clock' },
  { wire: 'zone_id', type: 'string', required: true, source: 'event', eventDefault: 'config' },
  { wire: 'pf', type: 'string', required: true, source: 'constant' },
  { wire: 'user_ip', type: 'string', required: false, source: 'context' },
];

export const OPERATIONS: { readonly [K in OperationName]: OperationSpec } = {
  getBalance: {
    method: 'getBalance',
    params: [],
    response: ['balance', 'gen_balance', 'first_save', 'save_amt', 'save_sum', 'cost_sum', 'present_sum'],
    movesCoins: false,
    player: 'context',
    trustedOnly: false,
  },
  pay: {
    method: 'pay',
    params: [
      { wire: 'amt', type: 'integer', required: true, source: 'event' },
      { wire: 'bill_no', type: 'string', required: true, source: 'ledger' },
      { wire: 'pay_item', type: 'string', required: false, source: 'event' },
      { wire: 'app_remark', type: 'string', required: false, source: 'event' },
    ],
    response: ['bill_no', 'balance', 'used_gen_amt'],
    movesCoins: true,
    player: 'context',
    trustedOnly: false,
  },
  cancelPay: {
    method: 'cancelPay',
    params: [
      { wire: 'bill_no', type: 'string', required: true, source: 'event' },
      { wire: 'pay_item', type: 'string', required: false, source: 'ledger' },
    ],
    response: ['bill_no'],
    movesCoins: true,
    player: 'context',
    trustedOnly: false,
    // A cancel names the bill; its zone is the paid order's, not the caller's choice.
    fromLedger: ['zone_id'],
  },
  present: {
    method: 'present',
    params: [
      { wire: 'bill_no', type: 'string', required: true, source: 'ledger' },
      { wire: 'present_counts', type: 'integer', required: true, source: 'event' },
    ],
    response: ['balance', 'bill_no'],
    movesCoins: true,
    player: 'event',
    trustedOnly: true,
  },
};

/** The value of `pf` for every mini-game call (SPEC §2). */
export const PF_ANDROID = 'android';

/** The HTTP method that is part of every v1 signature. */
export const SIGNED_METHOD = 'POST';

/** All parameters of an operation: the common ones, then its own. */
export function allParams(op: OperationName): readonly ParamSpec[] {
  return [...COMMON_PARAMS, ...OPERATIONS[op].params];
}

/** Where a param's value comes from for `op`, after the op's own overrides. */
export function sourceOf(op: OperationName, p: ParamSpec): ParamSource {
  return OPERATIONS[op].fromLedger?.includes(p.wire) ? 'ledger' : p.source;
}

/** The openapi name of a cloud call, e.g. `midas.pay` or `midas.paySandbox`. */
export function cloudApiName(op: OperationName, env: MidasEnv): string {
  return `midas.${OPERATIONS[op].method}${env === 'sandbox' ? 'Sandbox' : ''}`;
}

/** The cgi path that is signed as `org_loc`, e.g. `/cgi-bin/midas/sandbox/pay`. */
export function cgiPath(op: OperationName, env: MidasEnv): string {
  return `/cgi-bin/midas/${env === 'sandbox' ? 'sandbox/' : ''}${OPERATIONS[op].method.toLowerCase()}`;
}

/** Every openapi permission a function for `op` needs in its config.json. */
export function openapiPermissions(op: OperationName): string[] {
  return MIDAS_ENVS.map((env) => cloudApiName(op, env));
}

/** Finds the operation and environment of an openapi name; undefined for any name not in the table. */
export function resolveCloudApiName(name: string): { op: OperationName; env: MidasEnv } | undefined {
  for (const op of OPERATION_NAMES) {
    for (const env of MIDAS_ENVS) {
      if (cloudApiName(op, env) === name) return { op, env };
    }
  }
  return undefined;
}

/** Finds the operation and environment of a cgi path; undefined for any path not in the table. */
export function resolveCgiPath(path: string): { op: OperationName; env: MidasEnv } | undefined {
  for (const op of OPERATION_NAMES) {
    for (const env of MIDAS_ENVS) {
      if (cgiPath(op, env) === path) return { op, env };
    }
  }
  return undefined;
}

/**
 * snake_case → camelCase the way wx-server-sdk converts answers (`save_amt` → `saveAmt`).
 * The inverse of {@link toSnakeCase} for every name in this table.
 */
export function toCamelCase(name: string): string {
  // Called a dozen times per Midas call with the same few wire names of this table: kept once made.
  let camel = camelNames.get(name);
  if (camel === undefined) {
    camel = name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (camelNames.size < 256) camelNames.set(name, camel);
  }
  return camel;
}
const camelNames = new Map<string, string>();

/** camelCase → snake_case the way wx-server-sdk converts params (`offerId` → `offer_id`). */
export function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c, i: number) => `${i ? '_' : ''}${c.toLowerCase()}`);
}
