/** `cancelPay`: the calling player cancels one of its own completed pays within 48 hours. */
import { defineFunction } from '../../shared/edge/function';
import { cancelOrder, paymentDeps } from '../../shared/ledger/exactly-once';
import { openapiPermissions } from '../../shared/midas-v1/operation-table';
import { loadConfig } from '../../shared/midas-v1/settings';

export const { main, manifest, readSettings } = defineFunction({
  name: 'cancelPay',
  settings: loadConfig,
  openapi: openapiPermissions('cancelPay'),
  run: (event, ctx) => cancelOrder(event, paymentDeps(ctx)),
});
