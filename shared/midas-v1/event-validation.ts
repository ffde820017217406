/**
 * Validation of events at the edge, derived from the operations table: unknown fields are
 * refused, every value is checked against the API's limits, and every failure is a
 * VALIDATION_FAILED naming the one field at fault.
 */
import { MidasCloudError } from '../edge/errors';
import { requestFields } from '../edge/request';
import {
  BILL_NO_PATTERN,
  FREE_TEXT_PATTERN,
  MAX_APP_REMARK_LENGTH,
  MAX_COINS_PER_CALL,
  MAX_PAY_ITEM_LENGTH,
  OPENID_PATTERN,
  ZONE_ID_PATTERN,
} from './api-limits';
import { OPERATIONS, allParams, sourceOf, toCamelCase, type OperationName } from './operation-table';

/** A rule for one field: a check of the value and what a valid value looks like (for the message). */
interface FieldRule {
  check: (v: unknown) => boolean;
  expect: string;
}

const text = (pattern: RegExp, maxLength = Infinity) => (v: unknown) => typeof v === 'string' && v.length <= maxLength && pattern.test(v);

const coins = (): FieldRule => ({
  check: (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_COINS_PER_CALL,
  expect: `a whole number of coins from 1 to ${MAX_COINS_PER_CALL}`,
});

/** Limits per wire name. Every `event` param of the table must have one (checked when first used). */
const RULES: Record<string, FieldRule> = {
  zone_id: { check: text(ZONE_ID_PATTERN), expect: 'a zone like "1" or "1_<role>"' },
  amt: coins(),
  present_counts: coins(),
  bill_no: { check: text(BILL_NO_PATTERN), expect: '1 to 63 characters of 0-9 A-Z a-z _ -' },
  pay_item: {
    check: text(FREE_TEXT_PATTERN, MAX_PAY_ITEM_LENGTH),
    expect: `1 to ${MAX_PAY_ITEM_LENGTH} characters without control characters, & or =`,
  },
  app_remark: {
    check: text(FREE_TEXT_PATTERN, MAX_APP_REMARK_LENGTH),
    expect: `1 to ${MAX_APP_REMARK_LENGTH} characters without control characters, & or =`,
  },
};

/** The recipient of a gift, named by a trusted caller. */
export const RECIPIENT_FIELD = 'toOpenid';
const RECIPIENT_RULE: FieldRule = { check: text(OPENID_PATTERN), expect: 'an openid' };

/** A client's key for one logical purchase: the same key never charges twice. */
export const IDEMPOTENCY_KEY_FIELD = 'idempotencyKey';
export const IDEMPOTENCY_KEY_PATTERN = /^[0-9A-Za-z_.:-]{1,64}$/;
const IDEMPOTENCY_KEY_RULE: FieldRule = { check: text(IDEMPOTENCY_KEY_PATTERN), expect: '1 to 64 characters of 0-9 A-Z a-z _ . : -' };

/** Why a gift is made, kept in the ledger (Midas' present has no remark). */
export const REASON_FIELD = 'reason';
const REASON_RULE: FieldRule = { check: text(FREE_TEXT_PATTERN, MAX_APP_REMARK_LENGTH), expect: `1 to ${MAX_APP_REMARK_LENGTH} characters without control characters, & or =` };

/** Fields of our own (not Midas params) that an op's event may carry. */
const EXTRA_FIELDS: Partial<Record<OperationName, EventField[]>> = {
  pay: [{ field: IDEMPOTENCY_KEY_FIELD, required: false, rule: IDEMPOTENCY_KEY_RULE }],
  present: [
    { field: IDEMPOTENCY_KEY_FIELD, required: false, rule: IDEMPOTENCY_KEY_RULE },
    { field: REASON_FIELD, required: false, rule: REASON_RULE },
  ],
};

export interface EventField {
  /** The event's name for it (camelCase of the wire name). */
  field: string;
  required: boolean;
  rule: FieldRule;
}

const fieldsCache = new Map<OperationName, EventField[]>();

/** Fields an event may carry for an operation, derived from the table. */
export function eventFields(op: OperationName): EventField[] {
  let out = fieldsCache.get(op);
  if (out) return out;
  out = [];
  if (OPERATIONS[op].player === 'event') out.push({ field: RECIPIENT_FIELD, required: true, rule: RECIPIENT_RULE });
  for (const p of allParams(op)) {
    if (sourceOf(op, p) !== 'event') continue;
    const rule = RULES[p.wire];
    if (!rule) throw new Error(`no validation rule for event param ${p.wire}`);
    out.push({ field: toCamelCase(p.wire), required: p.required && !p.eventDefault, rule });
  }
  out.push(...(EXTRA_FIELDS[op] ?? []));
  fieldsCache.set(op, out);
  return out;
}

/** Keys a client sometimes sends to pick the player; they are refused with a clear reason. */
const IDENTITY_KEYS = new Set(['openid', 'openId', 'OPENID', 'appid', 'appId', 'APPID', 'userIp', 'clientIp']);

/**
 * Validates an event for `op`; returns the typed fields or throws VALIDATION_FAILED naming the field.
 *
 * @example
 * validateEvent('pay', { amt: 10 }) // → { amt: 10 }
 * validateEvent('pay', { amt: 10, openid: 'x' }) // throws: field "openid"
 */
export function validateEvent(op: OperationName, event: unknown): Record<string, string | number> {
  const record = requestFields(event);
  const fields = eventFields(op);
  for (const key of Object.keys(record)) {
    if (fields.some((f) => f.field === key)) continue;
    const why = IDENTITY_KEYS.has(key)
      ? 'is not accepted: the player and app come from the platform context, never from the request'
      : 'is not a field of this request';
    throw new MidasCloudError('VALIDATION_FAILED', `${key} ${why}`, { field: key });
  }
  const out: Record<string, string | number> = {};
  for (const f of fields) {
    const v = record[f.field];
    if (v === undefined) {
      if (f.required) throw new MidasCloudError('VALIDATION_FAILED', `${f.field} is required`, { field: f.field });
      continue;
    }
    if (!f.rule.check(v)) throw new MidasCloudError('VALIDATION_FAILED', `${f.field} must be ${f.rule.expect}`, { field: f.field });
    out[f.field] = v as string | number;
  }
  return out;
}

/** The fields of a 2.0 `cancelPay` request. */
export const REFUND_FIELDS = ['billNo', 'amount', 'idempotencyKey'] as const;

/**
 * A 2.0 `cancelPay`: the pay's `billNo`, and optionally `amount` (a partial refund, which then
 * needs its own `idempotencyKey` so that a repeat is the same refund).
 */
export function validateRefundEvent(event: unknown): { billNo: string; amount?: number; idempotencyKey?: string } {
  const record = requestFields(event);
  const rules: Record<(typeof REFUND_FIELDS)[number], FieldRule> = { billNo: RULES.bill_no!, amount: coins(), [IDEMPOTENCY_KEY_FIELD]: IDEMPOTENCY_KEY_RULE };
  for (const key of Object.keys(record)) {
    // Own keys only: `constructor`, `toString`, `__proto__`… are members of every object, not fields.
    if (!Object.hasOwn(rules, key)) throw new MidasCloudError('VALIDATION_FAILED', `${key} is not a field of this request`, { field: key });
  }
  for (const [field, rule] of Object.entries(rules)) {
    const v = record[field];
    if (v === undefined) {
      if (field === 'billNo') throw new MidasCloudError('VALIDATION_FAILED', 'billNo is required', { field });
      continue;
    }
    if (!rule.check(v)) throw new MidasCloudError('VALIDATION_FAILED', `${field} must be ${rule.expect}`, { field });
  }
  if (record.amount !== undefined && record[IDEMPOTENCY_KEY_FIELD] === undefined) {
    throw new MidasCloudError('VALIDATION_FAILED', `a partial refund (amount) needs an ${IDEMPOTENCY_KEY_FIELD}, so that repeating it is safe`, { field: IDEMPOTENCY_KEY_FIELD });
  }
  return {
    billNo: record.billNo as string,
    ...(record.amount !== undefined && { amount: record.amount as number }),
    ...(record[IDEMPOTENCY_KEY_FIELD] !== undefined && { idempotencyKey: record[IDEMPOTENCY_KEY_FIELD] as string }),
  };
}
