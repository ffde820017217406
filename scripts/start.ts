/**
 * `npm start`: the local cloud with the emulated Midas backend, a seeded sandbox player, and an
 * HTTP stand-in for wx.cloud.callFunction. Runs until stopped (Ctrl-C).
 */
import path from 'path';
import { LocalCloud } from '../test/emulator/local-cloud';
import { ROOT } from '../test/emulator/paths';

const PORT = Number(process.env.PORT ?? 8787);
/** Where the cloud database and the Midas accounts live between runs. */
const DATA_DIR = path.resolve(process.env.LOCAL_CLOUD_DIR ?? path.join(ROOT, '.local-cloud'));
const PLAYER = process.env.LOCAL_PLAYER_OPENID ?? 'oLocalPlayer_000000000000001';
const SEED_COINS = 1000;

async function main(): Promise<void> {
  const cloud = await LocalCloud.start({ port: PORT, dataDir: DATA_DIR });
  const seeded = cloud.backend.account({ env: 'sandbox', openid: PLAYER }).saveAmt === 0;
  if (seeded) cloud.backend.topUp({ env: 'sandbox', openid: PLAYER }, SEED_COINS);
  const url = cloud.url;
  const curl = (name: string, data: object, player: object = { openid: PLAYER }) =>
    `curl -s ${url}/callFunction -H 'content-type: application/json' -d '${JSON.stringify({ name, data, player })}'`;

  console.log(`midas-cloud local cloud on ${url} (cloud env "${cloud.envId}", Midas sandbox, offer ${cloud.app.offerId}, appid ${cloud.app.appid})
${seeded ? `Seeded sandbox player ${PLAYER} with ${SEED_COINS} coins.` : `Sandbox player ${PLAYER} has ${cloud.backend.balance({ env: 'sandbox', openid: PLAYER })} coins.`} Secrets are random for this run.
Data (cloud database, Midas accounts) persists in ${DATA_DIR}; delete it to start afresh.

Call a function as wx.cloud.callFunction would (POST the function's name, its data and the player):
  ${curl('getBalance', {})}
  ${curl('pay', { amt: 30, payItem: 'sword', idempotencyKey: 'buy-sword-1' })}
  ${curl('cancelPay', { billNo: '<billNo from pay>' })}
  ${curl('present', { toOpenid: PLAYER, presentCounts: 50 }, { source: 'scf' })}
  ${curl('reconcile', {}, { source: 'wx_trigger' })}
"player" takes openid, appid, clientIp and source (wx_client by default; scf or wx_trigger for trusted callers).

Stuck orders, as an operator sees them from outside the cloud:
  TCB_ENV=${cloud.envId} TENCENTCLOUD_SECRETID=local TENCENTCLOUD_SECRETKEY=local TCB_SERVICE_URL=${url}/admin npm run orders -- list
  (then: npm run orders -- resolve [orderId…]; the reconcile function also runs on its timer in the cloud)

Buy an item with Virtual Payment 2.0 (as the game would: wx.login, login, signPayment, the sheet):
  curl -s ${url}/__wx/login -H 'content-type: application/json' -d '{"openid":"${PLAYER}"}'
  ${curl('login', { code: '<code>' })}
  ${curl('signPayment', { kind: 'item', productId: 'sword_basic', quantity: 1 })}
  curl -s ${url}/__wx/requestMidasPaymentGameItem -H 'content-type: application/json' -d '{"openid":"${PLAYER}","signData":"<signData>","paySig":"<paySig>","signature":"<signature>"}'
  (WeChat then pushes the payment to paymentNotify, which delivers it once; the player's orders and inventory:)
  curl -s ${url}/callFunction -H 'content-type: application/json' -d '{"name":"myOrders","data":{},"player":{"openid":"${PLAYER}"}}'
  curl -s ${url}/__emulator/pushes   (every push and its attempts; faults: POST /__emulator/pushes/faults {"fault":{"kind":"drop"}})
  ${curl('catalogue', {})}

An Android app's balance through YSDK (log in first to get an openkey):
  curl -s ${url}/__emulator/ysdk/login -H 'content-type: application/json' -d '{"openid":"oAndroid01","login":"qq"}'
  curl -s ${url}/callFunction -H 'content-type: application/json' -d '{"name":"ysdkBalance","data":{"login":"qq","openid":"oAndroid01","openkey":"<openkey>","pf":"myapp_m_qq-00000000-android-00000000-ysdk","pfkey":"pfkey01"},"player":{"source":"wx_http"}}'
  curl -s ${url}/__emulator/ysdk/topup -H 'content-type: application/json' -d '{"openid":"oAndroid01","coins":60,"delayMs":20000}'
    (then add "afterTopUp":{"saveAmt":<before>} to poll until it arrives: every 15 s, at most 2 min)

Emulator controls:
  curl -s ${url}/__emulator/topup -H 'content-type: application/json' -d '{"openid":"${PLAYER}","coins":100}'
  curl -s '${url}/__emulator/balance?openid=${PLAYER}'
  curl -s ${url}/__emulator/faults -H 'content-type: application/json' -d '{"op":"pay","fault":{"kind":"applyThenBusy"}}'
    (faults: busy, applyThenBusy, delay {ms}, inProgress, empty, gatewayError)

Ctrl-C to stop.`);

  const stop = async () => {
    await cloud.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
