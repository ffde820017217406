/**
 * `present`: gives coins to the player named in `toOpenid`, exactly once per idempotency key.
 * Trusted callers only: a timer, another cloud function, or an operator (MIDAS_OPERATOR_OPENIDS).
 */
import { trustedOnly } from '../../shared/edge/caller';
import { defineFunction } from '../../shared/edge/function';
import { paymentDeps, placeOrder } from '../../shared/ledger/exactly-once';
import { openapiPermissions } from '../../shared/midas-v1/operation-table';
import { loadConfig } from '../../shared/midas-v1/settings';
import { coinApiFor } from '../../shared/wiring/coin-api';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'present',
  callers: trustedOnly,
  settings: loadConfig,
  openapi: openapiPermissions('present'),
  run: (event, ctx) => placeOrder('present', event, paymentDeps(ctx, coinApiFor(ctx))),
});
