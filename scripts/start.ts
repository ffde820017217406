/**
 * `npm start`: the local cloud with the emulated Midas backend and WeChat, its web console, the
 * functions' timer triggers on their cron, and every function's log lines printed as they happen.
 * Settings come from the environment or `.env` (`MIDAS_ENV=production npm start`). Runs until
 * stopped (Ctrl-C).
 */
import { readFileSync } from 'fs';
import path from 'path';
import type { FunctionEntry } from './build-lib';
import { pairProblems } from './deploy/precheck';
import { DataFolderInUse } from '../test/emulator/data-folder';
import { LocalCloud } from '../test/emulator/local-cloud';
import { formatLogLine } from '../test/emulator/log-hub';
import { FUNCTION_TABLE, ROOT } from '../test/emulator/paths';
import { checkSettings, describeSettings, operatorSettings } from './settings';

/** A mistake of the person starting it: one sentence, no stack. */
class StartError extends Error {}

function port(): number {
  const raw = process.env.PORT;
  if (raw === undefined || raw === '') return 8787;
  if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) throw new StartError(`PORT must be a whole number from 1 to 65535 (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/** Where the cloud database and the Midas accounts live between runs. */
const DATA_DIR = path.resolve(process.env.LOCAL_CLOUD_DIR ?? path.join(ROOT, '.local-cloud'));
const PLAYER = process.env.LOCAL_PLAYER_OPENID ?? 'oLocalPlayer_000000000000001';
const SEED_COINS = 1000;
/** The functions reach the local WeChat, whatever the settings say: these are never taken from them. */
const ALWAYS_LOCAL = ['WX_API_BASE_URL', 'YSDK_BASE_URL'];

async function main(): Promise<void> {
  const listenOn = port();
  const given = operatorSettings(ROOT);
  for (const n of ALWAYS_LOCAL) {
    if (given.values[n] !== undefined) {
      console.log(`(${n} from ${given.sources[n]} is not used here: the local cloud's functions reach the local WeChat)`);
      delete given.values[n];
    }
  }
  if (given.unknown.length) console.log(`(.env sets ${given.unknown.join(', ')}, which no function reads: a typo?)`);

  let cloud: LocalCloud;
  try {
    cloud = await LocalCloud.start({ port: listenOn, dataDir: DATA_DIR, functionEnv: given.values, timers: true });
  } catch (e) {
    if (e instanceof DataFolderInUse) throw new StartError(e.message);
    throw e;
  }
  try {
    checkSettings(cloud.functionEnv);
  } catch (e) {
    await cloud.close();
    // The very message a deployed function answers with (CONFIG_INVALID, naming the variable).
    throw new StartError(`bad setting: ${(e as Error).message}`);
  }
  // Settings valid one by one that cannot work with a function's timeout (the deploy checks the same).
  const table = JSON.parse(readFileSync(FUNCTION_TABLE, 'utf8')) as Record<string, FunctionEntry>;
  const clash = pairProblems(Object.entries(table).map(([name, f]) => ({ name, timeoutSeconds: f.timeoutSeconds, variables: f.variables })), cloud.functionEnv);
  if (clash.length) {
    await cloud.close();
    throw new StartError(`bad setting: ${clash.map((p) => `${p.variable} ${p.problem} (${p.functions.join(', ')})`).join('; ')}`);
  }
  const env = cloud.functionEnv.MIDAS_ENV as 'sandbox' | 'production';
  const generation = cloud.midasApi;
  // Once per data folder (and generation and environment): a restart never gives the coins again.
  const seeded = cloud.seedOnce(PLAYER, SEED_COINS, env);
  const url = cloud.url;
  const curl = (name: string, data: object, player: object = { openid: PLAYER }) =>
    `curl -s ${url}/callFunction -H 'content-type: application/json' -d '${JSON.stringify({ name, data, player })}'`;
  const sources = Object.fromEntries(Object.entries(given.sources));

  console.log(`midas-cloud local cloud

  Console:  ${url}/            (players, balances, orders, pushes, faults, live logs; buy as a player)
  Game:     ${url}/game/       (the sample mini-game, in the browser)

Cloud env "${cloud.envId}", Midas ${env}, ${generation === 'v2' ? 'Virtual Payment 2.0 (/wxa/game/*)' : 'Midas v1 (cloud calls)'}, offer ${cloud.app.offerId}, appid ${cloud.app.appid}.
${seeded ? `Seeded ${env} player ${PLAYER} with ${SEED_COINS} coins.` : `${env} player ${PLAYER} has ${cloud.balanceOf(PLAYER, env)} coins.`}
Everything the local cloud holds (database, Midas accounts, WeChat sessions, pushes) persists in ${DATA_DIR}; delete it to start afresh.

Settings in force (from the environment, then .env; secrets the local WeChat shares with the functions are random for this run unless set):
${describeSettings(cloud.functionEnv, sources).map((l) => `  ${l}`).join('\n')}

Timers (config.json): ${cloud.timers.map((t) => `${t.fn} "${t.config}"`).join(', ') || 'none'}

Call a function as wx.cloud.callFunction would (POST the function's name, its data and the player):
${generation === 'v2' ? `  (MIDAS_API=v2: the player logs in first, with a wx.login code)
  code=$(curl -s ${url}/__wx/login -H 'content-type: application/json' -d '{"openid":"${PLAYER}"}' | sed 's/.*"code":"\\([^"]*\\)".*/\\1/')
  curl -s ${url}/callFunction -H 'content-type: application/json' -d '{"name":"login","data":{"code":"'$code'"},"player":{"openid":"${PLAYER}"}}'
` : ''}  ${curl('getBalance', {})}
  ${curl('pay', { amt: 30, payItem: 'sword', idempotencyKey: 'buy-sword-1' })}
  ${curl('present', { toOpenid: PLAYER, presentCounts: 50 }, { source: 'scf' })}
"player" takes openid, appid, clientIp and source (wx_client by default; scf or wx_trigger for trusted callers).
Stuck orders from outside the cloud:
  TCB_ENV=${cloud.envId} TENCENTCLOUD_SECRETID=local TENCENTCLOUD_SECRETKEY=local TCB_SERVICE_URL=${url}/admin npm run orders -- list
YSDK (an Android app's balance; log in first for an openkey, then top up with a delay and poll until it arrives):
  curl -s ${url}/__emulator/ysdk/login -H 'content-type: application/json' -d '{"openid":"oAndroid01","login":"qq"}'
  curl -s ${url}/__emulator/ysdk/topup -H 'content-type: application/json' -d '{"openid":"oAndroid01","coins":60,"delayMs":20000}'
  curl -s ${url}/callFunction -H 'content-type: application/json' -d '{"name":"ysdkBalance","data":{"login":"qq","openid":"oAndroid01","openkey":"<openkey>","pf":"myapp_m_qq-00000000-android-00000000-ysdk","pfkey":"pfkey01","afterTopUp":{"saveAmt":0}},"player":{"source":"wx_http"}}'
    (asks every 15 s for up to 2 minutes; the function's timeout is 150 s)
Emulator routes: /__emulator/state, /__emulator/players, /__emulator/topup, /__emulator/faults (+ /clear), /__emulator/pushes (+ /faults, /replay, /mock), /__emulator/timers/fire, /__emulator/logs/stream, /__emulator/export, /__emulator/import.

Function logs follow (time, function, line). Ctrl-C to stop.
`);

  cloud.logs.subscribe((l) => console.log(formatLogLine(l)));

  const stop = async () => {
    await cloud.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? `npm start: ${e.message}` : e);
  process.exit(1);
});
