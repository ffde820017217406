/** The ledger's Midas generation for v1: pay, present and cancel through wx-server-sdk cloud calls. */
import type { CallRecord, CoinApi } from '../ledger/coin-api';
import { callOp, type CallDeps } from './call-params';

/** Midas v1 through wx-server-sdk cloud calls. */
export function v1CoinApi(deps: CallDeps): CoinApi {
  return {
    api: 'v1',
    callOf(kind, b) {
      const call: CallRecord = { openid: b.openid, appid: b.appid, zoneId: b.zoneId, billNo: b.billNo, [kind === 'pay' ? 'amt' : 'presentCounts']: b.amount };
      if (b.userIp !== undefined) call.userIp = b.userIp;
      if (b.payItem !== undefined) call.payItem = b.payItem;
      if (b.appRemark !== undefined) call.appRemark = b.appRemark;
      return call;
    },
    send(op, call, timeoutMs) {
      if (op === 'refund') throw new Error('Midas v1 has no refund bills: a pay is cancelled by its own bill');
      return callOp(op, call, deps, timeoutMs);
    },
  };
}
