/**
 * `paymentNotify`: receives WeChat's virtual-payment pushes and delivers what was paid, exactly
 * once. Two routes: the cloud's message push (the event is the push, nested or flattened; the
 * answer is the reply) and the HTTP access service (GET URL check, POST plain or safe mode).
 * Players may call any function with wx.cloud.callFunction: a WeChat client caller is refused,
 * and an unsigned (flattened) push is confirmed with queryorderinfo before anything is granted.
 */
import { isClientCall } from '../../shared/edge/caller';
import { defineFunction } from '../../shared/edge/function';
import { handlePush } from '../../shared/delivery/fulfilment';
import { PushRejected, isHttpEvent, pushFromHttp, pushFromObject } from '../../shared/delivery/push';
import { gameFulfilment } from '../../shared/delivery/game-fulfilment';
import { loadDeliveryConfig } from '../../shared/delivery/settings';

const json = (statusCode: number, body: unknown) => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'paymentNotify',
  settings: loadDeliveryConfig,
  // A failure is "send it again" in WeChat's terms (or a 500 on the HTTP route): nothing was delivered.
  raw: { onError: (error, event) => (isHttpEvent(event) ? json(500, { ErrCode: 99999, ErrMsg: error.code }) : { ErrCode: 99999, ErrMsg: error.code }) },
  run: async (event, { cloud, caller, settings, log }) => {
    const deps = { cloud, config: settings, log, fulfilment: gameFulfilment, ...(caller.appid !== undefined && { appid: caller.appid }) };
    // Who is calling is decided before anything of the event is read: a player's junk is refused cleanly.
    if (isClientCall(caller)) {
      log({ event: 'push_refused', route: 'message', why: 'called by a WeChat client' });
      return { ErrCode: 99999, ErrMsg: 'pushes come from WeChat, not from a client' };
    }
    if (isHttpEvent(event)) {
      try {
        const r = pushFromHttp(event, {
          ...(settings.pushToken && { token: settings.pushToken }),
          ...(settings.pushAesKey && { aesKey: settings.pushAesKey }),
          ...(settings.midas.appId && { appId: settings.midas.appId }),
          now: Date.now(),
          timestampWindowMs: settings.pushTimestampWindowMs,
        });
        if ('echo' in r) return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: r.echo };
        return json(200, await handlePush(r.push, deps));
      } catch (e) {
        if (!(e instanceof PushRejected)) throw e;
        log({ event: 'push_refused', route: 'http', why: e.message });
        return json(e.status, { ErrCode: 99999, ErrMsg: e.message });
      }
    }
    if (event === null || typeof event !== 'object' || Array.isArray(event)) return { ErrCode: 99999, ErrMsg: 'the push must be an object' };
    try {
      return await handlePush(pushFromObject(event as Record<string, unknown>), deps);
    } catch (e) {
      if (!(e instanceof PushRejected)) throw e;
      log({ event: 'push_refused', route: 'message', why: e.message });
      return { ErrCode: 99999, ErrMsg: e.message };
    }
  },
});
