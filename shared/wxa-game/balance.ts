/**
 * `getBalance` over 2.0 (`/wxa/game/getbalance`): the answer uses the v1 names where the meaning
 * is the same (SPEC §5's renames), so a game reads one shape whichever generation it is on.
 */
import type { BalanceResponse } from '../contract/answers';
import type { Caller } from '../edge/caller';
import { playerValues } from '../midas-v1/call-params';
import { validateEvent } from '../midas-v1/event-validation';
import { sendAs, type V2Deps } from './coin-api';

/** The contract's balance as 2.0 answers it: v1's names where the meaning is the same; `firstSave` a boolean. */
export type V2Balance = BalanceResponse & { firstSave: boolean };

export async function getBalanceV2(event: unknown, deps: V2Deps & { caller: Caller }): Promise<V2Balance> {
  const fields = validateEvent('getBalance', event);
  const player = playerValues(deps.caller, deps.config, deps.caller.openid);
  const a = await sendAs(deps, 'getbalance', player.openid, player.appid, {
    zone_id: (fields.zoneId as string | undefined) ?? deps.config.defaultZoneId,
    user_ip: player.userIp,
  });
  return {
    balance: Number(a.balance),
    genBalance: Number(a.present_balance),
    saveAmt: Number(a.sum_save),
    saveSum: Number(a.sum_balance),
    costSum: Number(a.sum_cost),
    presentSum: Number(a.sum_present),
    firstSave: a.first_save === true || a.first_save === 1,
  };
}
