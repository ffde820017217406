/**
 * `cancelPay`: cancels (v1) or refunds (2.0) a completed pay within 48 hours. Trusted callers
 * only: the game's own functions, timers and operators (MIDAS_OPERATOR_OPENIDS); never a player,
 * who could otherwise take back the coins of an item already received. A cancelled coin purchase
 * has its revocable grants taken back, or is flagged for an operator.
 */
import { trustedOnly } from '../../shared/edge/caller';
import { defineFunction } from '../../shared/edge/function';
import { cancelOrder } from '../../shared/ledger/exactly-once';
import { openapiPermissions } from '../../shared/midas-v1/operation-table';
import { loadCoinConfig } from '../../shared/purchases/settings';
import { coinPaymentDeps } from '../../shared/wiring/coin-api';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'cancelPay',
  callers: trustedOnly,
  settings: loadCoinConfig,
  openapi: openapiPermissions('cancelPay'),
  run: (event, ctx) => cancelOrder(event, coinPaymentDeps(ctx)),
});
