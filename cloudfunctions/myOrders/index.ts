/**
 * `myOrders`: the calling player's client orders (latest 50, or one by `outTradeNo`), coin
 * purchases (latest 50) and inventory.
 */
import { defineFunction } from '../../shared/edge/function';
import { MidasCloudError } from '../../shared/edge/errors';
import { requestFields } from '../../shared/edge/request';
import { MY_ORDERS_FIELDS, ordersAndInventory } from '../../shared/delivery/fulfilment';
import { loadOrdersViewConfig } from '../../shared/delivery/settings';
import type { Order } from '../../shared/ledger/order-store';
import { coinOrderView } from '../../shared/purchases/coin-purchase';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'myOrders',
  settings: loadOrdersViewConfig,
  run: async (event, { cloud, caller, settings }) => {
    const f = requestFields(event);
    for (const k of Object.keys(f)) if (!(MY_ORDERS_FIELDS as readonly string[]).includes(k)) throw new MidasCloudError('VALIDATION_FAILED', `${k} is not a field of this request`, { field: k });
    if (f.outTradeNo !== undefined && (typeof f.outTradeNo !== 'string' || !/^[0-9A-Za-z_\-|*@]{1,32}$/.test(f.outTradeNo))) {
      throw new MidasCloudError('VALIDATION_FAILED', 'outTradeNo must be the outTradeNo signPayment gave', { field: 'outTradeNo' });
    }
    if (!caller.openid) throw new MidasCloudError('NOT_LOGGED_IN', 'no player in the platform context: call this from the mini-game');
    return ordersAndInventory(cloud, settings, caller.openid, settings.env, (doc) => coinOrderView(doc as unknown as Order), f.outTradeNo as string | undefined);
  },
});
