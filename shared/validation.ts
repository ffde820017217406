/**
 * Validation of events at the edge, derived from the operations table. A schema rejects
 * unknown fields; every failure is a VALIDATION_FAILED naming the one field at fault.
 */
import * as z from 'zod/mini';
import { MidasCloudError } from './errors';
import {
  BILL_NO_PATTERN,
  FREE_TEXT_PATTERN,
  MAX_APP_REMARK_LENGTH,
  MAX_COINS_PER_CALL,
  MAX_PAY_ITEM_LENGTH,
  OPENID_PATTERN,
  ZONE_ID_PATTERN,
} from './limits';
import { OPERATIONS, allParams, toCamelCase, type OperationName } from './operations';

interface FieldRule {
  schema: z.ZodMiniType;
  /** What a valid value looks like, for the error message. */
  expect: string;
}

const coins = (): FieldRule => ({
  schema: z.int().check(z.minimum(1), z.maximum(MAX_COINS_PER_CALL)),
  expect: `a whole number of coins from 1 to ${MAX_COINS_PER_CALL}`,
});

/** Limits per wire name. Every `event` param of the table must have one (checked at load). */
const RULES: Record<string, FieldRule> = {
  zone_id: { schema: z.string().check(z.regex(ZONE_ID_PATTERN)), expect: 'a zone like "1" or "1_<role>"' },
  amt: coins(),
  present_counts: coins(),
  bill_no: { schema: z.string().check(z.regex(BILL_NO_PATTERN)), expect: '1 to 63 characters of 0-9 A-Z a-z _ -' },
  pay_item: {
    schema: z.string().check(z.maxLength(MAX_PAY_ITEM_LENGTH), z.regex(FREE_TEXT_PATTERN)),
    expect: `1 to ${MAX_PAY_ITEM_LENGTH} characters without control characters, & or =`,
  },
  app_remark: {
    schema: z.string().check(z.maxLength(MAX_APP_REMARK_LENGTH), z.regex(FREE_TEXT_PATTERN)),
    expect: `1 to ${MAX_APP_REMARK_LENGTH} characters without control characters, & or =`,
  },
};

/** The recipient of a gift, named by a trusted caller. */
export const RECIPIENT_FIELD = 'toOpenid';
const RECIPIENT_RULE: FieldRule = { schema: z.string().check(z.regex(OPENID_PATTERN)), expect: 'an openid' };

/** Fields an event may carry for an operation, camelCase, with their rule and whether required. */
export function eventFields(op: OperationName): { field: string; wire?: string; required: boolean; rule: FieldRule }[] {
  const out: { field: string; wire?: string; required: boolean; rule: FieldRule }[] = [];
  if (OPERATIONS[op].player === 'event') out.push({ field: RECIPIENT_FIELD, required: true, rule: RECIPIENT_RULE });
  for (const p of allParams(op)) {
    if (p.source !== 'event') continue;
    const rule = RULES[p.wire];
    if (!rule) throw new Error(`no validation rule for event param ${p.wire}`);
    out.push({ field: toCamelCase(p.wire), wire: p.wire, required: p.required && !p.eventDefault, rule });
  }
  return out;
}

const schemas = new Map<OperationName, z.ZodMiniType>();

function schemaFor(op: OperationName): z.ZodMiniType {
  let s = schemas.get(op);
  if (!s) {
    const shape: Record<string, z.ZodMiniType> = {};
    for (const f of eventFields(op)) shape[f.field] = f.required ? f.rule.schema : z.optional(f.rule.schema);
    s = z.strictObject(shape);
    schemas.set(op, s);
  }
  return s;
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
  // The platform adds userInfo ({appId, openId}) to every event from a client; it is not input.
  let input = event;
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && 'userInfo' in input) {
    const { userInfo: _ignored, ...rest } = input as Record<string, unknown>;
    input = rest;
  }
  const result = schemaFor(op).safeParse(input ?? {});
  if (result.success) return result.data as Record<string, string | number>;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const why = IDENTITY_KEYS.has(key)
      ? 'is not accepted: the player and app come from the platform context, never from the request'
      : 'is not a field of this request';
    throw new MidasCloudError('VALIDATION_FAILED', `${key} ${why}`, { field: key });
  }
  const field = issue.path.length > 0 ? String(issue.path[0]) : '(event)';
  if (field === '(event)') throw new MidasCloudError('VALIDATION_FAILED', 'the request must be an object', { field });
  const spec = eventFields(op).find((f) => f.field === field);
  const missing = issue.code === 'invalid_type' && (input as Record<string, unknown>)[field] === undefined;
  const message = missing ? `${field} is required` : `${field} must be ${spec?.rule.expect ?? 'valid'}`;
  throw new MidasCloudError('VALIDATION_FAILED', message, { field });
}
