/**
 * One Midas v1 operation from a validated request to an answer: who may call, whose account,
 * which params, one signed call. Functions are thin wrappers around {@link runOperation}.
 */
import { randomBytes } from 'crypto';
import type { MidasConfig } from './config';
import { MidasCloudError, isMidasCloudError } from './errors';
import { IP_PATTERN } from './limits';
import { callMidas, type WireParams } from './midas';
import { OPERATIONS, PF_ANDROID, allParams, toCamelCase, type OperationName } from './operations';
import { RECIPIENT_FIELD, validateEvent } from './validation';
import type { Caller, WxCloud } from './wxcloud';

/** Immediate callers that are our own code rather than a player: a timer, another cloud function. */
const TRUSTED_SOURCES = new Set(['wx_trigger', 'scf']);

/**
 * Whether the caller may use a trusted-only operation: the last hop of SOURCE is a timer or a
 * cloud function, or the caller is a player on the operator allowlist.
 */
export function isTrustedCaller(caller: Caller, config: MidasConfig): boolean {
  const last = caller.source[caller.source.length - 1];
  if (last !== undefined && TRUSTED_SOURCES.has(last)) return true;
  return caller.openid !== undefined && config.operatorOpenids.has(caller.openid);
}

/**
 * A new bill number: unique per app, ≤ 63 chars of `[0-9A-Za-z_-]`. Made once per logical
 * operation; a retry of the same operation must reuse it (a new one would charge twice).
 */
export function newBillNo(prefix = 'mc'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(12).toString('base64url')}`;
}

export interface OperationResult {
  /** The answer's fields, camelCase. */
  data: Record<string, unknown>;
  /** The bill number used, for coin-moving operations. */
  billNo?: string;
}

export interface OperationDeps {
  cloud: WxCloud;
  config: MidasConfig;
  caller: Caller;
  /** Unix seconds. */
  now?: () => number;
}

/**
 * Runs `op` for `event` on behalf of `deps.caller`.
 * Throws MidasCloudError; when a bill number was in play it is attached as `billNo`.
 */
export async function runOperation(op: OperationName, event: unknown, deps: OperationDeps): Promise<OperationResult> {
  const { cloud, config, caller } = deps;
  const spec = OPERATIONS[op];
  if (spec.trustedOnly && !isTrustedCaller(caller, config)) {
    throw new MidasCloudError('FORBIDDEN', `${op} may only be called by a timer, another cloud function or an operator`);
  }
  const fields = validateEvent(op, event);

  const openid = spec.player === 'event' ? String(fields[RECIPIENT_FIELD]) : caller.openid;
  if (!openid) throw new MidasCloudError('NOT_LOGGED_IN', 'no player in the platform context: call this from the mini-game');
  const appid = caller.appid ?? config.appId;
  if (!appid) throw new MidasCloudError('CONFIG_INVALID', 'configuration: MIDAS_APPID is not set and the platform context has no APPID', { field: 'MIDAS_APPID' });

  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const params: WireParams = {};
  for (const p of allParams(op)) {
    let value: string | number | undefined;
    switch (p.source) {
      case 'context':
        value = p.wire === 'openid' ? openid : p.wire === 'appid' ? appid : caller.clientIp;
        // An IP the platform did not give in the expected form is left out rather than sent.
        if (p.wire === 'user_ip' && value !== undefined && !IP_PATTERN.test(String(value))) value = undefined;
        break;
      case 'config':
        value = config.offerId;
        break;
      case 'clock':
        value = now();
        break;
      case 'constant':
        value = PF_ANDROID;
        break;
      case 'event':
        value = fields[toCamelCase(p.wire)];
        if (value === undefined && p.eventDefault === 'config') value = config.defaultZoneId;
        if (value === undefined && p.eventDefault === 'generated') value = newBillNo();
        break;
    }
    if (value !== undefined) params[p.wire] = value;
  }

  const billNo = typeof params.bill_no === 'string' ? params.bill_no : undefined;
  try {
    const data = await callMidas(cloud, op, params, { env: config.env, secret: config.secret, timeoutMs: config.callTimeoutMs });
    return { data, ...(billNo !== undefined && { billNo }) };
  } catch (e) {
    // The bill number is known before the call, so a failure can name it for a retry.
    if (billNo !== undefined && isMidasCloudError(e)) e.billNo = billNo;
    throw e;
  }
}
