/** `pay`: the calling player spends coins, exactly once per idempotency key (the order ledger). */
import { defineFunction } from '../../shared/edge/function';
import { paymentDeps, placeOrder } from '../../shared/ledger/exactly-once';
import { openapiPermissions } from '../../shared/midas-v1/operation-table';
import { loadConfig } from '../../shared/midas-v1/settings';
import { coinApiFor } from '../../shared/wiring/coin-api';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'pay',
  settings: loadConfig,
  openapi: openapiPermissions('pay'),
  run: (event, ctx) => placeOrder('pay', event, paymentDeps(ctx, coinApiFor(ctx))),
});
