/**
 * The ledger's Midas generation for Virtual Payment 2.0: pay, present and refunds over
 * `/wxa/game/*`, each signed with the AppKey of the deployment's env and the player's (or the
 * gift's recipient's) session_key from the store `login` keeps.
 */
import { MidasCloudError, isMidasCloudError } from '../edge/errors';
import type { HttpPost } from '../edge/http';
import type { WxCloud } from '../edge/wx-server-sdk';
import type { CallRecord, CoinApi, CoinOp } from '../ledger/coin-api';
import type { MidasConfig, V2ServerConfig } from '../midas-v1/settings';
import { dropSessionKey, readSessionKey } from '../virtual-payment/session-store';
import { WXA_GAME, envNumber, type WxaGameOp } from './operation-table';
import { callWxaGame } from './server-call';

export interface V2Deps {
  cloud: WxCloud;
  config: MidasConfig;
  now?: () => number;
  post?: HttpPost;
}

const OP_OF: Record<Exclude<CoinOp, 'cancelPay'>, WxaGameOp> = { pay: 'pay', present: 'present', refund: 'cancelpay' };

export function v2Server(config: MidasConfig): V2ServerConfig {
  if (!config.v2) throw new MidasCloudError('CONFIG_INVALID', 'configuration: MIDAS_API is not v2', { field: 'MIDAS_API' });
  return config.v2;
}

/** The body of `op` from the common fields and a call record, in the table's field order. */
export function bodyOf(op: WxaGameOp, config: MidasConfig, values: Readonly<Record<string, string | number | undefined>>, nowMs: number): Record<string, string | number> {
  const all: Record<string, string | number | undefined> = { offer_id: config.offerId, ts: Math.floor(nowMs / 1000), env: envNumber(config.env), ...values };
  const body: Record<string, string | number> = {};
  for (const f of WXA_GAME[op].fields) {
    const v = all[f.name];
    if (v === undefined) {
      if (f.required) throw new Error(`no value for required field ${f.name} of ${op}`);
      continue;
    }
    body[f.name] = v;
  }
  return body;
}

/**
 * One signed 2.0 call as `openid` (whose session_key signs it). A session WeChat calls stale
 * (90010/90016) is dropped from the store, so the next call asks for a login at once.
 */
export async function sendAs(deps: V2Deps, op: WxaGameOp, openid: string, appid: string, values: Readonly<Record<string, string | number | undefined>>, opts: { timeoutMs?: number; whose?: 'player' | 'recipient' } = {}): Promise<Record<string, unknown>> {
  const v2 = v2Server(deps.config);
  const now = deps.now ?? Date.now;
  const sessionKey = await readSessionKey(deps.cloud, v2.sessions, openid, now(), opts.whose ?? 'player');
  const body = bodyOf(op, deps.config, { openid, ...values }, now());
  const cfg = { appId: appid, appSecret: v2.appSecret, apiBaseUrl: v2.apiBaseUrl, appKey: v2.appKey, timeoutMs: deps.config.callTimeoutMs };
  try {
    return await callWxaGame(op, body, sessionKey, cfg, { ...(deps.post && { post: deps.post }), ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }), now });
  } catch (e) {
    if (isMidasCloudError(e) && e.code === 'SESSION_EXPIRED') await dropSessionKey(deps.cloud, v2.sessions, openid, sessionKey);
    throw e;
  }
}

export function v2CoinApi(deps: V2Deps): CoinApi {
  return {
    api: 'v2',
    callOf(_kind, b) {
      const call: CallRecord = { openid: b.openid, appid: b.appid, zoneId: b.zoneId, billNo: b.billNo, amount: b.amount };
      if (b.userIp !== undefined) call.userIp = b.userIp;
      if (b.payItem !== undefined) call.payitem = b.payItem;
      if (b.appRemark !== undefined) call.remark = b.appRemark;
      return call;
    },
    async prepare(kind, openid) {
      // Nothing is written for a player who cannot sign: SESSION_EXPIRED asks for a login first.
      await readSessionKey(deps.cloud, v2Server(deps.config).sessions, openid, (deps.now ?? Date.now)(), kind === 'present' ? 'recipient' : 'player');
    },
    async send(op, call, timeoutMs) {
      if (op === 'cancelPay') throw new Error('2.0 cancels a pay with a refund bill of its own');
      const { openid, appid, zoneId, userIp, billNo, amount, payitem, remark, payBillNo } = call;
      const values = { zone_id: zoneId, user_ip: userIp, bill_no: billNo, amount, payitem, remark, pay_bill_no: payBillNo };
      const a = await sendAs(deps, OP_OF[op], String(openid), String(appid), values, { timeoutMs, whose: op === 'present' ? 'recipient' : 'player' });
      return { balance: a.balance, usedGenAmt: a.used_present_amount };
    },
  };
}
