/**
 * `reconcile`: resolves the ledger's open orders every 5 minutes by re-sending their bills, and
 * brings every coin purchase's grant in line with its pay (grants it, or takes it back).
 * It only finishes what the ledger already holds; still, players do not run it (operators may).
 */
import { notPlayers } from '../../shared/edge/caller';
import { defineFunction } from '../../shared/edge/function';
import { parseReconcileEvent, reconcile } from '../../shared/ledger/reconciler';
import { openapiPermissions } from '../../shared/midas-v1/operation-table';
import { loadCoinConfig } from '../../shared/purchases/settings';
import { coinPaymentDeps } from '../../shared/wiring/coin-api';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'reconcile',
  callers: notPlayers,
  settings: loadCoinConfig,
  // Re-sends bills of open orders: every coin-moving op.
  openapi: (['pay', 'present', 'cancelPay'] as const).flatMap(openapiPermissions),
  triggers: [{ name: 'reconcile', type: 'timer', config: '0 */5 * * * * *' }],
  run: (event, ctx) => reconcile(parseReconcileEvent(event), coinPaymentDeps(ctx)),
});
