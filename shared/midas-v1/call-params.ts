/**
 * How the params of one Midas call are put together from the table:
 * the player from the platform, the offer from configuration, the time from the clock, the
 * rest from the validated event or the ledger's order.
 */
import type { Caller } from '../edge/caller';
import { MidasCloudError } from '../edge/errors';
import { randomBase64url } from '../edge/random';
import type { WxCloud } from '../edge/wx-server-sdk';
import { IP_PATTERN } from './api-limits';
import { callMidas, type WireParams } from './cloud-call';
import { PF_ANDROID, allParams, sourceOf, toCamelCase, type OperationName } from './operation-table';
import type { MidasConfig } from './settings';

/**
 * A new bill number: unique per app, ≤ 63 chars of `[0-9A-Za-z_-]`. Made once per logical
 * operation; a retry of the same operation must reuse it (a new one would charge twice).
 */
export function newBillNo(prefix = 'mc'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBase64url(12)}`;
}

/** Values of one call, keyed by the camelCase of the wire names (`openid`, `zoneId`, `amt`, `billNo`…). */
export type CallValues = Readonly<Record<string, string | number | undefined>>;

/**
 * The wire params of `op` from `values` (context, event and ledger values), the configuration
 * and the clock. Optional params without a value are left out; every param sent is signed.
 */
export function buildParams(op: OperationName, values: CallValues, config: MidasConfig, nowSeconds: number): WireParams {
  const params: WireParams = {};
  for (const p of allParams(op)) {
    const key = toCamelCase(p.wire);
    let value: string | number | undefined;
    switch (sourceOf(op, p)) {
      case 'config':
        value = config.offerId;
        break;
      case 'clock':
        value = nowSeconds;
        break;
      case 'constant':
        value = PF_ANDROID;
        break;
      default:
        value = values[key];
        if (value === undefined && p.eventDefault === 'config') value = config.defaultZoneId;
    }
    // An IP the platform did not give in the expected form is left out rather than sent.
    if (p.wire === 'user_ip' && value !== undefined && !IP_PATTERN.test(String(value))) value = undefined;
    if (value === undefined) {
      if (p.required) throw new Error(`no value for required param ${p.wire} of ${op}`);
      continue;
    }
    params[p.wire] = value;
  }
  return params;
}

/** The player's account for an op: the caller's own, or a recipient for gifts. */
export function playerValues(caller: Caller, config: MidasConfig, openid: string | undefined): { openid: string; appid: string; userIp?: string } {
  if (!openid) throw new MidasCloudError('NOT_LOGGED_IN', 'no player in the platform context: call this from the mini-game');
  const appid = caller.appid ?? config.appId;
  if (!appid) {
    throw new MidasCloudError('CONFIG_INVALID', 'configuration: MIDAS_APPID is not set and the platform context has no APPID', { field: 'MIDAS_APPID' });
  }
  return { openid, appid, ...(caller.clientIp !== undefined && { userIp: caller.clientIp }) };
}

export interface CallDeps {
  cloud: WxCloud;
  config: MidasConfig;
  /** Unix milliseconds. */
  now?: () => number;
}

/** One signed call of `op` with `values`; throws MidasCloudError. */
export function callOp(op: OperationName, values: CallValues, deps: CallDeps, timeoutMs = deps.config.callTimeoutMs): Promise<Record<string, unknown>> {
  const now = deps.now ?? Date.now;
  const params = buildParams(op, values, deps.config, Math.floor(now() / 1000));
  const secret = deps.config.secret;
  if (secret === undefined) throw new MidasCloudError('CONFIG_INVALID', 'configuration: MIDAS_API is v2, so Midas v1 cannot be called', { field: 'MIDAS_API' });
  return callMidas(deps.cloud, op, params, { env: deps.config.env, secret, timeoutMs });
}
