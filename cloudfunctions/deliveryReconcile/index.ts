/**
 * `deliveryReconcile`: every minute, client orders whose push was lost are checked with
 * queryorderinfo: paid ones are delivered, ones never paid in time end EXPIRED.
 */
import { notPlayers } from '../../shared/edge/caller';
import { defineFunction } from '../../shared/edge/function';
import { reconcileDeliveries } from '../../shared/delivery/fulfilment';
import { gameFulfilment } from '../../shared/delivery/game-fulfilment';
import { loadDeliveryConfig } from '../../shared/delivery/settings';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'deliveryReconcile',
  settings: loadDeliveryConfig,
  callers: (caller, settings) => notPlayers(caller, settings.midas),
  triggers: [{ name: 'deliveryReconcile', type: 'timer', config: '0 * * * * * *' }],
  run: (_event, { cloud, settings, log, caller }) => reconcileDeliveries({ cloud, config: settings, log, fulfilment: gameFulfilment, ...(caller.appid !== undefined && { appid: caller.appid }) }),
});
