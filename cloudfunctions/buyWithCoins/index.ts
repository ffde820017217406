/**
 * `buyWithCoins`: the calling player buys a product of the catalogue at its coin price; the pay
 * goes through the ledger and the product is granted by the game's fulfilment, exactly once.
 * It may cancel the pay (a grant the fulfilment refuses), so it holds cancel permissions too.
 */
import { defineFunction } from '../../shared/edge/function';
import { openapiPermissions } from '../../shared/midas-v1/operation-table';
import { buyWithCoins } from '../../shared/purchases/coin-purchase';
import { loadCoinConfig } from '../../shared/purchases/settings';
import { coinPaymentDeps } from '../../shared/wiring/coin-api';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'buyWithCoins',
  settings: loadCoinConfig,
  openapi: (['pay', 'cancelPay'] as const).flatMap(openapiPermissions),
  run: (event, ctx) => buyWithCoins(event, coinPaymentDeps(ctx)),
});
