/**
 * `npm start`: the local cloud with the emulated Midas backend, a seeded sandbox player, and an
 * HTTP stand-in for wx.cloud.callFunction. Runs until stopped (Ctrl-C).
 */
import { LocalCloud } from '../test/emulator/local-cloud';

const PORT = Number(process.env.PORT ?? 8787);
const PLAYER = process.env.LOCAL_PLAYER_OPENID ?? 'oLocalPlayer_000000000000001';
const SEED_COINS = 1000;

async function main(): Promise<void> {
  const cloud = await LocalCloud.start({ port: PORT });
  cloud.backend.topUp({ env: 'sandbox', openid: PLAYER }, SEED_COINS);
  const url = cloud.url;
  const curl = (name: string, data: object, player: object = { openid: PLAYER }) =>
    `curl -s ${url}/callFunction -H 'content-type: application/json' -d '${JSON.stringify({ name, data, player })}'`;

  console.log(`midas-cloud local cloud on ${url} (cloud env "${cloud.envId}", Midas sandbox, offer ${cloud.app.offerId}, appid ${cloud.app.appid})
Seeded sandbox player ${PLAYER} with ${SEED_COINS} coins. Secrets are random for this run.

Call a function as wx.cloud.callFunction would (POST the function's name, its data and the player):
  ${curl('getBalance', {})}
  ${curl('pay', { amt: 30, payItem: 'sword' })}
  ${curl('cancelPay', { billNo: '<billNo from pay>' })}
  ${curl('present', { toOpenid: PLAYER, presentCounts: 50 }, { source: 'scf' })}
"player" takes openid, appid, clientIp and source (wx_client by default; scf or wx_trigger for trusted callers).

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
