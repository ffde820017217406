/** `getBalance`: the calling player's coins (Midas v1, or 2.0 with MIDAS_API=v2). Any player; nothing moves, no ledger. */
import { defineFunction } from '../../shared/edge/function';
import { getBalance } from '../../shared/midas-v1/balance';
import { openapiPermissions } from '../../shared/midas-v1/operation-table';
import { loadConfig } from '../../shared/midas-v1/settings';
import { getBalanceV2 } from '../../shared/wxa-game/balance';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'getBalance',
  settings: loadConfig,
  openapi: openapiPermissions('getBalance'),
  run: (event, { cloud, caller, settings }) =>
    settings.api === 'v2' ? getBalanceV2(event, { cloud, caller, config: settings }) : getBalance(event, { cloud, caller, config: settings }),
});
