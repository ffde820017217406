/** `getBalance`: the calling player's Midas v1 coins. Any player; nothing moves, no ledger. */
import { defineFunction } from '../../shared/edge/function';
import { getBalance } from '../../shared/midas-v1/balance';
import { openapiPermissions } from '../../shared/midas-v1/operation-table';
import { loadConfig } from '../../shared/midas-v1/settings';

export const { main, manifest } = defineFunction({
  name: 'getBalance',
  settings: loadConfig,
  openapi: openapiPermissions('getBalance'),
  run: (event, { cloud, caller, settings }) => getBalance(event, { cloud, caller, config: settings }),
});
