/** `getBalance`: the calling player's coins, read from Midas (no ledger: nothing moves). */
import type { BalanceResponse } from '../contract/answers';
import type { Caller } from '../edge/caller';
import { callOp, playerValues, type CallDeps } from './call-params';
import { validateEvent } from './event-validation';

/** `getBalance` for the calling player. */
export async function getBalance(event: unknown, deps: CallDeps & { caller: Caller }): Promise<BalanceResponse> {
  const fields = validateEvent('getBalance', event);
  const player = playerValues(deps.caller, deps.config, deps.caller.openid);
  // Every field of the table's answer is there (callOp checks), as numbers: the contract's shape.
  return (await callOp('getBalance', { ...player, zoneId: fields.zoneId }, deps)) as unknown as BalanceResponse;
}
