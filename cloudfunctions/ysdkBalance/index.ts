/** `ysdkBalance`: a native Android player's Midas balance through YSDK, optionally polling until a top-up arrives. */
import { defineFunction } from '../../shared/edge/function';
import { loadYsdkConfig, YSDK_FUNCTION_TIMEOUT_SECONDS, ysdkBalanceRequest } from '../../shared/ysdk/balance';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'ysdkBalance',
  settings: loadYsdkConfig,
  // After a top-up it asks for up to 2 minutes (YSDK_POLL_MAX_MS), one request at a time.
  timeoutSeconds: YSDK_FUNCTION_TIMEOUT_SECONDS,
  run: (event, { settings, log }) => ysdkBalanceRequest(event, { config: settings, log }),
});
