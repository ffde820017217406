/** `ysdkBalance`: a native Android player's Midas balance through YSDK, optionally polling until a top-up arrives. */
import { defineFunction } from '../../shared/edge/function';
import { loadYsdkConfig, ysdkBalanceRequest } from '../../shared/ysdk/balance';

export const { main, manifest } = defineFunction({
  name: 'ysdkBalance',
  settings: loadYsdkConfig,
  run: (event, { settings, log }) => ysdkBalanceRequest(event, { config: settings, log }),
});
