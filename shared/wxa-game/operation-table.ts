/**
 * The Virtual Payment 2.0 server APIs (`/wxa/game/*`, SPEC §5): one table of their paths, body
 * fields and answers. The client (our functions) and the local cloud's backend both read it, so
 * what is sent and what is checked cannot drift apart.
 */

export const WXA_GAME_OPS = ['getbalance', 'pay', 'cancelpay', 'present', 'queryorderinfo'] as const;
export type WxaGameOp = (typeof WXA_GAME_OPS)[number];

export type FieldType = 'string' | 'number';

export interface WxaField {
  name: string;
  type: FieldType;
  required: boolean;
}

const COMMON: readonly WxaField[] = [
  { name: 'offer_id', type: 'string', required: true },
  { name: 'openid', type: 'string', required: true },
  { name: 'ts', type: 'number', required: true },
  { name: 'zone_id', type: 'string', required: true },
  { name: 'env', type: 'number', required: true },
  { name: 'user_ip', type: 'string', required: false },
];

export interface WxaOpSpec {
  /** Body fields in the order they are serialised (the order of the official example). */
  fields: readonly WxaField[];
  /** Fields of a successful answer. */
  response: readonly string[];
  movesCoins: boolean;
}

export const WXA_GAME: { readonly [K in WxaGameOp]: WxaOpSpec } = {
  getbalance: {
    fields: [...COMMON, { name: 'coin_type', type: 'number', required: false }],
    response: ['balance', 'present_balance', 'sum_save', 'sum_present', 'sum_balance', 'sum_cost', 'first_save'],
    movesCoins: false,
  },
  pay: {
    fields: [
      ...COMMON,
      { name: 'amount', type: 'number', required: true },
      { name: 'bill_no', type: 'string', required: true },
      { name: 'payitem', type: 'string', required: false },
      { name: 'remark', type: 'string', required: false },
    ],
    response: ['bill_no', 'balance', 'used_present_amount'],
    movesCoins: true,
  },
  cancelpay: {
    fields: [
      ...COMMON,
      { name: 'amount', type: 'number', required: true },
      { name: 'bill_no', type: 'string', required: true },
      { name: 'pay_bill_no', type: 'string', required: true },
    ],
    response: ['bill_no'],
    movesCoins: true,
  },
  present: {
    fields: [...COMMON, { name: 'amount', type: 'number', required: true }, { name: 'bill_no', type: 'string', required: true }],
    response: ['bill_no', 'balance'],
    movesCoins: true,
  },
  queryorderinfo: {
    // No zone, no user_ip (SPEC §5).
    fields: [
      { name: 'offer_id', type: 'string', required: true },
      { name: 'openid', type: 'string', required: true },
      { name: 'ts', type: 'number', required: true },
      { name: 'env', type: 'number', required: true },
      { name: 'out_trade_no', type: 'string', required: true },
      { name: 'biz_id', type: 'number', required: true },
    ],
    response: ['pay_state', 'deliver_state', 'out_trade_no'],
    movesCoins: false,
  },
};

/** The path of an op, which is also the `uri` that `pay_sig` signs. */
export function wxaPath(op: WxaGameOp): string {
  return `/wxa/game/${op}`;
}

/** 2.0 bill numbers: ≤ 63 chars of `[0-9A-Za-z_-]`, never starting with `_` (the platform's own do). */
export const V2_BILL_NO_PATTERN = /^[0-9A-Za-z-][0-9A-Za-z_-]{0,62}$/;

/** `env` of a body: 0 production, 1 sandbox. */
export function envNumber(env: 'production' | 'sandbox'): 0 | 1 {
  return env === 'production' ? 0 : 1;
}
