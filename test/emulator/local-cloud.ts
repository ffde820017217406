/**
 * The local cloud: gateway + Midas backend + function runner, wired the way the platform is.
 * Used by the integration tests, `npm start` and `npm run bench`.
 */
import { COLLECTIONS, collectionName, type CollectionRole } from '../../shared/edge/collections';
import { randomBytes } from 'crypto';
import type http from 'http';
import path from 'path';
import type { MidasEnv } from '../../shared/midas-v1/operation-table';
import { CloudDatabase } from './database';
import { Gateway, sendJson } from './gateway';
import { MidasBackend, type FaultRule, type MidasApp } from './midas-backend';
import { FUNCTIONS_DIR } from './paths';
import { FunctionRunner, type Player } from './runner';
import { YSDK_PREFIX, YsdkEmulator } from './ysdk';
import { catalogue } from '../../shared/virtual-payment/catalogue';
import { WechatClientEmulator } from './wechat-client';
import { WxaGameBackend } from './wxa-game';
import { PushSender, type PushFault } from './push-sender';
import type { PaidOrder } from './wechat-client';
import { existsSync, mkdtempSync, readFileSync } from 'fs';
import os from 'os';
import { TencentCloudApi, type TcCredential } from './tencent-cloud/api';
import { ApiProxy } from './tencent-cloud/proxy';
import { DataFolder } from './data-folder';
import { LogHub, readableLogLine } from './log-hub';
import { startTimers, timerTriggers, type RunningTimer } from './timers';
import type { FunctionManifest } from '../../shared/edge/function';
import { FUNCTION_TABLE } from './paths';
import type { Invocation } from './runner';
import { serveConsole } from './console-routes';

export interface LocalCloudOptions {
  port?: number;
  envId?: string;
  app?: Partial<MidasApp>;
  /** The Midas environment the functions are configured for (MIDAS_ENV). */
  midasEnv?: MidasEnv;
  /** The Midas generation the coin functions use (MIDAS_API); where coins bought on the sheet land. */
  midasApi?: 'v1' | 'v2';
  /** Extra function configuration. */
  functionEnv?: Record<string, string>;
  functionsDir?: string;
  /** Where the cloud database and the Midas accounts persist; in memory when left out. */
  dataDir?: string;
  /** WeChat's push retry schedule is multiplied by this (default 0.001: 15 s become 15 ms). */
  pushTimeScale?: number;
  /** Fire the functions' timer triggers (config.json) on their cron, as the platform does (off by default). */
  timers?: boolean;
  /**
   * Serve the Tencent Cloud API a deploy talks to (scf and tcb), through an HTTPS proxy with a
   * local certificate authority, for these credentials; the environment `envId` exists there.
   */
  tencentCloud?: { credentials: TcCredential[] };
}

/** A fresh random secret per run: the emulator and the functions share it through configuration only. */
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Secrets the local cloud makes up when none is given: kept in the data folder so a restart uses the same. */
const MADE_SECRETS = ['MIDAS_SECRET', 'MIDAS_SANDBOX_SECRET', 'MIDAS_APPKEY', 'MIDAS_SANDBOX_APPKEY', 'WX_APP_SECRET', 'WX_PUSH_TOKEN', 'WX_PUSH_AES_KEY', 'YSDK_APPKEY', 'YSDK_SANDBOX_APPKEY'] as const;

/** What `state.json` of a data folder holds (the database and the v1 accounts have their own files). */
interface SavedState {
  version: 1;
  secrets: Record<string, string>;
  wxa: ReturnType<WxaGameBackend['snapshot']>;
  wechat: ReturnType<WechatClientEmulator['snapshot']>;
  ysdk: ReturnType<YsdkEmulator['snapshot']>;
  pushes: ReturnType<PushSender['snapshot']>;
  knownPlayers: string[];
  seeded: string[];
  /** Every state each order took (the console's history); absent in files of earlier versions. */
  journal?: ReturnType<CloudDatabase['journalSnapshot']>;
}

export class LocalCloud {
  readonly backend: MidasBackend;
  readonly database: CloudDatabase;
  /** The YSDK balance endpoint of Android apps, at <url>/ysdk and <url>/ysdktest. */
  readonly ysdk: YsdkEmulator;
  /** wx.login, jscode2session and the payment sheet of the WeChat client. */
  readonly wechat: WechatClientEmulator;
  /** The Virtual Payment 2.0 server APIs: stable_token, /wxa/game/*, checksession. */
  readonly wxa: WxaGameBackend;
  readonly midasApi: 'v1' | 'v2';
  /** Virtual-payment pushes to the game's `paymentNotify`. */
  readonly pushes: PushSender;
  readonly gateway: Gateway;
  readonly runner: FunctionRunner;
  readonly app: MidasApp;
  readonly envId: string;
  /** The configuration every function instance gets (what an operator sets in the console). */
  readonly functionEnv: Record<string, string>;
  readonly functionsDir: string;
  /** Everything the functions log, each invocation, and the cloud's own events, as they happen. */
  readonly logs = new LogHub();
  /** Players made from the console (besides those with an account). */
  readonly knownPlayers = new Set<string>();
  private timerHandle?: { timers: RunningTimer[]; stop: () => void };
  /** The emulated Tencent Cloud API and the proxy that reaches it (with `tencentCloud`). */
  tencentCloud?: { api: TencentCloudApi; proxy: ApiProxy };

  private constructor(opts: LocalCloudOptions, gateway: Gateway, backend: MidasBackend, database: CloudDatabase, app: MidasApp, ysdk: YsdkEmulator, wechat: WechatClientEmulator, wxa: WxaGameBackend) {
    this.backend = backend;
    this.wxa = wxa;
    this.midasApi = opts.midasApi ?? (opts.functionEnv?.MIDAS_API === 'v2' ? 'v2' : 'v1');
    this.database = database;
    this.ysdk = ysdk;
    this.wechat = wechat;
    this.gateway = gateway;
    this.app = app;
    this.envId = opts.envId ?? 'local-env';
    const midasEnv = opts.midasEnv ?? (opts.functionEnv?.MIDAS_ENV === 'production' ? 'production' : 'sandbox');
    this.functionEnv = {
      MIDAS_ENV: midasEnv,
      MIDAS_API: this.midasApi,
      MIDAS_OFFER_ID: app.offerId,
      MIDAS_SECRET: app.secrets.production,
      MIDAS_SANDBOX_SECRET: app.secrets.sandbox,
      MIDAS_APPID: app.appid,
      YSDK_ENV: midasEnv,
      YSDK_OFFER_ID: ysdk.app.offerId,
      YSDK_APPKEY: ysdk.app.appKeys.production,
      YSDK_SANDBOX_APPKEY: ysdk.app.appKeys.sandbox,
      YSDK_BASE_URL: `${gateway.url}${YSDK_PREFIX[midasEnv]}`,
      MIDAS_APPKEY: wechat.app.appKeys.production,
      MIDAS_SANDBOX_APPKEY: wechat.app.appKeys.sandbox,
      WX_APP_SECRET: wechat.app.appSecret,
      WX_API_BASE_URL: gateway.url,
      WX_PUSH_TOKEN: randomBytes(12).toString('hex'),
      WX_PUSH_AES_KEY: randomBytes(32).toString('base64').slice(0, 43),
      ...opts.functionEnv,
    };
    this.functionsDir = opts.functionsDir ?? FUNCTIONS_DIR;
    const table = readFunctionTable(this.functionsDir);
    this.runner = new FunctionRunner({
      functionsDir: this.functionsDir,
      gatewayUrl: gateway.url,
      envId: this.envId,
      functionEnv: this.functionEnv,
      timeoutOf: (name) => (table[name] ? table[name].timeoutSeconds * 1000 : undefined),
      onLog: (fn, line) => this.logs.add(fn, 'log', readableLogLine(line)),
      onCall: (fn, player, inv) => this.logs.add(fn, 'call', describeCall(player, inv)),
    });
    this.pushes = new PushSender({
      appid: app.appid,
      appKeys: wechat.app.appKeys,
      timeScale: opts.pushTimeScale ?? 0.001,
      // The cloud's message-push route: the event is the push, the answer the reply.
      deliver: async (envelope) => {
        this.logs.add('cloud', 'cloud', `WeChat pushes ${String(envelope.Event)} to paymentNotify`);
        const r = await this.runner.invoke('paymentNotify', envelope, { appid: app.appid, source: 'wx_push' });
        return r.error ? { error: r.error.message } : r.result;
      },
    });
    this.pushes.enabled = existsSync(path.join(opts.functionsDir ?? FUNCTIONS_DIR, 'paymentNotify', 'index.js'));
    wechat.onPaid = (order) => this.pushPaid(order);
  }

  /** The push WeChat sends for a paid client order. */
  pushPaid(order: PaidOrder) {
    const Env = order.env === 'production' ? 0 : 1;
    const WeChatPayInfo = { MchOrderNo: `mch${order.outTradeNo}`, TransactionId: `local${order.outTradeNo}` };
    if (order.mode === 'goods') {
      return this.pushes.push('minigame_game_pay_goods_deliver_notify', {
        OpenId: order.openid,
        Env,
        OutTradeNo: order.outTradeNo,
        WeChatPayInfo,
        GoodsInfo: { ProductId: order.productId, Quantity: order.quantity, ZoneId: order.zoneId, OrigPrice: order.totalFen, ActualPrice: order.totalFen, Attach: order.attach ?? '', OrderSource: 1 },
      });
    }
    return this.pushes.push('minigame_coin_deliver_completed', {
      OpenId: order.openid,
      OutTradeNo: order.outTradeNo,
      WeChatPayInfo,
      Env,
      CoinInfo: { ZoneId: order.zoneId, ActualPrice: order.totalFen, BuyQuantity: order.quantity, OrigPrice: order.totalFen },
    });
  }

  /** WeChat refunds a paid client order (the MP console or its API) and pushes the refund. */
  refundClientOrder(outTradeNo: string) {
    const order = this.wechat.paid.get(outTradeNo);
    if (!order) throw new Error(`no paid client order ${outTradeNo}`);
    return this.pushes.push('minigame_pay_refund_succ_notify', {
      RefundId: `refund${outTradeNo}`,
      RefundAmount: order.totalFen,
      RefundSource: 2,
      Env: order.env === 'production' ? 0 : 1,
      OutTradeNo: outTradeNo,
      WeChatPayInfo: { MchOrderNo: `mch${outTradeNo}`, TransactionId: `local${outTradeNo}` },
    });
  }

  static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    // One local cloud per data folder; what it made up for that folder before is used again.
    const folder = options.dataDir ? DataFolder.acquire(options.dataDir) : undefined;
    try {
      const saved = folder?.readState<SavedState>();
      const opts: LocalCloudOptions = { ...options, functionEnv: { ...saved?.secrets, ...options.functionEnv } };
      const cloud = await LocalCloud.startWith(opts, folder);
      if (saved) cloud.restore(saved);
      if (folder) {
        // Only secrets this local cloud made up are kept: one given by the operator stays where it was given.
        cloud.madeSecrets = Object.fromEntries(MADE_SECRETS.filter((n) => options.functionEnv?.[n] === undefined && cloud.functionEnv[n] !== undefined).map((n) => [n, cloud.functionEnv[n]!]));
        folder.noteUrl(cloud.url);
        cloud.saveState();
        cloud.saveTimer = setInterval(() => cloud.saveState(), 1000);
        cloud.saveTimer.unref();
      }
      return cloud;
    } catch (e) {
      folder?.release();
      throw e;
    }
  }

  private static async startWith(opts: LocalCloudOptions, folder: DataFolder | undefined): Promise<LocalCloud> {
    const given = opts.functionEnv ?? {};
    const app: MidasApp = {
      appid: opts.app?.appid ?? given.MIDAS_APPID ?? 'wx51dc10ca1c0ffee0',
      offerId: opts.app?.offerId ?? given.MIDAS_OFFER_ID ?? '1450012345',
      secrets: opts.app?.secrets ?? { production: given.MIDAS_SECRET ?? randomSecret(), sandbox: given.MIDAS_SANDBOX_SECRET ?? randomSecret() },
    };
    const backend = new MidasBackend([app]);
    const ysdk = new YsdkEmulator({ offerId: given.YSDK_OFFER_ID ?? '1450099999', appKeys: { production: given.YSDK_APPKEY ?? randomSecret(), sandbox: given.YSDK_SANDBOX_APPKEY ?? randomSecret() } });
    // WeChat's side is configured like the console: the products and prices of the catalogue.
    const cat = catalogue();
    const wechat = new WechatClientEmulator({
      appid: app.appid,
      appSecret: given.WX_APP_SECRET ?? randomSecret(),
      offerId: app.offerId,
      appKeys: { production: given.MIDAS_APPKEY ?? randomSecret(), sandbox: given.MIDAS_SANDBOX_APPKEY ?? randomSecret() },
      productPrices: new Map([...cat.products.values()].flatMap((p) => (p.priceFen === undefined ? [] : [[p.productId, p.priceFen] as const]))),
      coinPriceFen: cat.coinPriceFen,
      released: false,
    });
    // (wechat.onPaid is set by the constructor, once the runner exists)
    const wxa = new WxaGameBackend({ appid: app.appid, appSecret: wechat.app.appSecret, offerId: app.offerId, appKeys: wechat.app.appKeys }, wechat);
    // Coins bought on the sheet land in the player's account of the generation in use, as a top-up does.
    wechat.onCoinsPaid = (openid, env, coins) => ((opts.midasApi ?? given.MIDAS_API) === 'v2' ? wxa.topUp(env, openid, coins) : backend.topUp({ env, openid }, coins));
    const database = new CloudDatabase(opts.dataDir && path.join(opts.dataDir, 'database'));
    if (opts.dataDir) backend.persistTo(path.join(opts.dataDir, 'midas-accounts.json'));
    await database.open();
    let cloud: LocalCloud | undefined;
    const gateway = new Gateway({
      backend,
      database,
      invokeFunction: async (name, data, source) => {
        if (!cloud) return { error: 'local cloud not ready' };
        const r = await cloud.runner.invoke(name, data, { appid: app.appid, source });
        return r.error ? { error: r.error.message } : { result: r.result };
      },
      envId: opts.envId ?? 'local-env',
      functionsDir: opts.functionsDir ?? FUNCTIONS_DIR,
      ...(opts.port !== undefined && { port: opts.port }),
      extraRoutes: (req, body, res) => (cloud ? cloud.serveClientRoutes(req, body, res) : Promise.resolve(false)),
    });
    await gateway.start();
    cloud = new LocalCloud(opts, gateway, backend, database, app, ysdk, wechat, wxa);
    cloud.folder = folder;
    // The collections as a deploy creates them: queries the declared indexes do not serve are refused.
    await database.declareIndexes(new Map(Object.entries(COLLECTIONS).map(([role, c]) => [collectionName(cloud!.functionEnv, role as CollectionRole), c.indexes])));
    if (opts.timers) cloud.startTimers();
    if (opts.tencentCloud) {
      const api = new TencentCloudApi(opts.dataDir && path.join(opts.dataDir, 'tencent-cloud.json'));
      for (const c of opts.tencentCloud.credentials) api.addCredential(c);
      api.addEnv(cloud.envId);
      // A collection made by the deploy exists in the database the functions use.
      api.onCreateTable = async (envId, name) => {
        if (envId === cloud!.envId) await database.createCollection(name);
      };
      const certDir = opts.dataDir ? path.join(opts.dataDir, 'certs') : mkdtempSync(path.join(os.tmpdir(), 'midas-cloud-certs-'));
      cloud.tencentCloud = { api, proxy: await ApiProxy.start(api, certDir) };
    }
    return cloud;
  }

  get url(): string {
    return this.gateway.url;
  }

  /** Invokes a built function as `player` (appid defaults to the game's). */
  invoke(name: string, data: unknown, player: Player = {}, functionEnv?: Record<string, string>) {
    const p: Player = { appid: this.app.appid, ...player };
    return this.runner.invoke(name, data, p, functionEnv ? { functionEnv } : {});
  }

  /** A scripted Midas fault, for v1 and 2.0 alike. */
  injectFault(rule: FaultRule, api?: 'v1' | 'v2'): void {
    // One generation when named (the console names the one in use); both for tests that want either.
    if (api !== 'v2') this.backend.injectFault(rule);
    if (api !== 'v1') this.wxa.injectFault(rule);
  }

  clearFaults(): void {
    this.backend.clearFaults();
    this.wxa.clearFaults();
  }

  /** A player's coins in the generation in use. */
  balanceOf(openid: string, env: MidasEnv = this.functionEnv.MIDAS_ENV as MidasEnv, zoneId = '1'): number {
    return this.midasApi === 'v2' ? this.wxa.balance(env, openid, zoneId) : this.backend.balance({ env, openid, zoneId });
  }

  /** Timer triggers firing on their cron (started with the `timers` option). */
  get timers(): RunningTimer[] {
    return this.timerHandle?.timers ?? [];
  }

  /** Starts firing every timer trigger of config.json on its cron. */
  startTimers(): void {
    this.timerHandle?.stop();
    this.timerHandle = startTimers(timerTriggers(this.functionsDir), (spec) => void this.fireTimer(spec.fn, spec.name));
  }

  /**
   * A timer trigger fires now: the function runs as the platform runs it on its cron. With
   * `youngOrders`, the reconcilers also take orders younger than their minimum age (an operator's
   * "resolve now", as `npm run orders -- resolve` does).
   */
  async fireTimer(fn: string, triggerName = 'timer', youngOrders = false) {
    this.logs.add('cloud', 'cloud', `timer ${triggerName} fires ${fn}${youngOrders ? ' (young orders too)' : ''}`);
    const event = { Type: 'timer', TriggerName: triggerName, Time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Message: '' };
    const young = youngOrders ? { functionEnv: { MIDAS_RECONCILE_MIN_AGE_MS: '0', MIDAS_DELIVERY_RECONCILE_MIN_AGE_MS: '0' } } : {};
    return this.runner.invoke(fn, event, { appid: this.app.appid, source: 'wx_trigger' }, young);
  }

  /** Everything this local cloud holds, as one JSON document (to share a reproduction). */
  async exportState(): Promise<Record<string, unknown>> {
    const database: Record<string, unknown[]> = {};
    for (const name of this.database.collectionNames()) database[name] = await this.database.allAsEjson(name);
    return { format: 'midas-cloud local state', version: 1, midasApi: this.midasApi, midasEnv: this.functionEnv.MIDAS_ENV, database, midasV1: this.backend.snapshot(), local: this.snapshot() };
  }

  /** Replaces what this local cloud holds with an export (its own secrets are kept: they belong to this run's functions). */
  async importState(doc: Record<string, unknown>): Promise<void> {
    if (doc.format !== 'midas-cloud local state' || doc.version !== 1) throw new Error('not an export of a midas-cloud local cloud (format, version 1)');
    const database = doc.database as Record<string, unknown[]> | undefined;
    const local = doc.local as SavedState | undefined;
    if (!database || typeof database !== 'object' || !local || !doc.midasV1) throw new Error('the export lacks database, midasV1 or local');
    await this.database.replaceAll(database);
    this.backend.replace(doc.midasV1 as ReturnType<MidasBackend['snapshot']>);
    this.knownPlayers.clear();
    this.seeded.clear();
    this.restore({ ...local, secrets: this.madeSecrets });
    this.saveState();
    this.logs.add('cloud', 'cloud', `local state imported: ${Object.keys(database).length} collections, ${local.knownPlayers.length} players`);
  }

  /** The data folder this local cloud holds (when it persists). */
  private folder?: DataFolder;
  private saveTimer?: ReturnType<typeof setInterval>;
  private madeSecrets: Record<string, string> = {};
  /** Players given coins once by `seedOnce` (generation:env:openid). */
  private seeded = new Set<string>();

  /** A player this local cloud knows: made in the console, seeded, or with a Midas account of either generation. */
  isKnownPlayer(openid: string): boolean {
    if (this.knownPlayers.has(openid)) return true;
    const suffix = `|${openid}`;
    return [...this.backend.accounts.keys(), ...this.wxa.accounts.keys()].some((k) => k.endsWith(suffix));
  }

  /** Gives a player coins the first time only (a restart does not give them again). */
  seedOnce(openid: string, coins: number, env: MidasEnv = this.functionEnv.MIDAS_ENV as MidasEnv): boolean {
    const key = `${this.midasApi}:${env}:${openid}`;
    if (this.seeded.has(key)) return false;
    if (this.midasApi === 'v2') this.wxa.topUp(env, openid, coins);
    else this.backend.topUp({ env, openid }, coins);
    this.seeded.add(key);
    this.knownPlayers.add(openid);
    this.saveState();
    return true;
  }

  private snapshot(): SavedState {
    return {
      version: 1,
      secrets: this.madeSecrets,
      wxa: this.wxa.snapshot(),
      wechat: this.wechat.snapshot(),
      ysdk: this.ysdk.snapshot(),
      pushes: this.pushes.snapshot(),
      knownPlayers: [...this.knownPlayers],
      seeded: [...this.seeded],
      journal: this.database.journalSnapshot(),
    };
  }

  private restore(s: SavedState): void {
    this.wxa.restore(s.wxa);
    this.wechat.restore(s.wechat);
    this.ysdk.restore(s.ysdk);
    this.pushes.restore(s.pushes);
    for (const p of s.knownPlayers) this.knownPlayers.add(p);
    for (const k of s.seeded) this.seeded.add(k);
    if (s.journal) this.database.restoreJournal(s.journal);
  }

  /** Keeps what the local cloud holds in its data folder (every second, and when it closes). */
  saveState(): void {
    this.folder?.writeState(this.snapshot());
  }

  async close(): Promise<void> {
    if (this.saveTimer) clearInterval(this.saveTimer);
    this.saveState();
    this.folder?.release();
    this.timerHandle?.stop();
    this.pushes.stop();
    await this.runner.close();
    await this.gateway.close();
    await this.database.close();
    await this.tencentCloud?.proxy.close();
  }

  /**
   * HTTP routes for people and scripts:
   * - POST /callFunction {name, data, player}: a stand-in for wx.cloud.callFunction
   * - POST /__emulator/topup {openid, coins, zoneId?, env?}: a top-up as wx.requestMidasPayment makes it
   * - POST /__emulator/faults {fault, op?, env?, times?}: script a fault
   * - GET  /__emulator/balance?openid=&env=&zoneId=: an account as the backend holds it
   * - POST /__emulator/ysdk/login {openid, login}: a YSDK login, answered with its openkey
   * - POST /__emulator/ysdk/topup {openid, coins, delayMs?}: a YSDK top-up, arriving late with delayMs
   * - GET  /sns/jscode2session: WeChat's code exchange
   * - POST /__wx/login {openid}: wx.login on the player's phone, answered {code}
   * - POST /__wx/requestMidasPaymentGameItem | /__wx/requestMidasPayment {openid, signData, paySig, signature}:
   *   the payment sheet, answered {errCode, errMsg}
   */
  async serveClientRoutes(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const json = (): Record<string, unknown> => {
      try {
        const v: unknown = JSON.parse(body.toString('utf8') || '{}');
        return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    if (await serveConsole(this, req, url, body, res)) return true;
    const fnHttp = /^\/http\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    if (fnHttp) {
      // CloudBase's HTTP access service: the request as an API-gateway event, the answer as its response.
      const event = {
        httpMethod: req.method ?? 'GET',
        path: url.pathname,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        queryStringParameters: Object.fromEntries(url.searchParams),
        body: body.toString('utf8'),
        isBase64Encoded: false,
      };
      const r = await this.runner.invoke(fnHttp[1]!, event, { appid: this.app.appid, source: 'tcb_http' });
      const out = (r.result ?? {}) as { statusCode?: number; headers?: Record<string, string>; body?: string };
      res.writeHead(r.error ? 502 : (out.statusCode ?? 200), out.headers ?? { 'content-type': 'text/plain' });
      res.end(r.error ? r.error.message : (out.body ?? ''));
      return true;
    }
    if (url.pathname.startsWith('/__emulator/pushes')) {
      if (req.method === 'GET' && url.pathname === '/__emulator/pushes') {
        sendJson(res, 200, { pushes: this.pushes.pushes.map(({ envelope: _e, ...p }) => p) });
        return true;
      }
      if (req.method === 'POST' && url.pathname === '/__emulator/pushes/faults') {
        const { fault, times } = json() as { fault?: PushFault; times?: number };
        try {
          this.pushes.injectFault(fault as PushFault, typeof times === 'number' ? times : 1);
          sendJson(res, 200, { ok: true });
        } catch (e) {
          sendJson(res, 400, { error: (e as Error).message });
        }
        return true;
      }
      if (req.method === 'POST' && url.pathname === '/__emulator/pushes/replay') {
        const { id } = json() as { id?: string };
        try {
          sendJson(res, 200, { reply: await this.pushes.replay(String(id)) });
        } catch (e) {
          sendJson(res, 404, { error: (e as Error).message });
        }
        return true;
      }
      if (req.method === 'POST' && url.pathname === '/__emulator/pushes/mock') {
        const { event } = json() as { event?: string };
        const rec = this.pushes.push(event ?? 'minigame_game_pay_goods_deliver_notify', { OpenId: 'oMockOpenid', Env: 1, OutTradeNo: 'mockOutTradeNo', GoodsInfo: { ProductId: 'mock', Quantity: 1, ZoneId: '1', OrigPrice: 1, ActualPrice: 1, Attach: '', OrderSource: 1 } }, true);
        sendJson(res, 200, { id: rec.id });
        return true;
      }
    }
    if (req.method === 'POST' && url.pathname === '/__emulator/refund') {
      const { outTradeNo } = json() as { outTradeNo?: string };
      try {
        sendJson(res, 200, { id: this.refundClientOrder(String(outTradeNo)).id });
      } catch (e) {
        sendJson(res, 404, { error: (e as Error).message });
      }
      return true;
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/stable_token') {
      const a = this.wxa.stableToken(body.toString('utf8'));
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
      return true;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/wxa/game/')) {
      // The bytes as received: pay_sig and signature are checked over them.
      const a = await this.wxa.handle(url.pathname, url.searchParams, body.toString('utf8'));
      if (a) {
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(a.body);
        return true;
      }
    }
    if (req.method === 'GET' && url.pathname === '/wxa/checksession') {
      const a = this.wxa.checkSession(url.searchParams);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/sns/jscode2session') {
      sendJson(res, 200, this.wechat.jscode2session(url.searchParams));
      return true;
    }
    if (req.method === 'POST' && url.pathname === '/__wx/login') {
      const { openid } = json() as { openid?: unknown };
      if (typeof openid !== 'string') {
        sendJson(res, 400, { errMsg: 'login:fail openid is required' });
        return true;
      }
      sendJson(res, 200, { code: this.wechat.wxLogin(openid), errMsg: 'login:ok' });
      return true;
    }
    const sheet = /^\/__wx\/(requestMidasPaymentGameItem|requestMidasPayment)$/.exec(url.pathname);
    if (req.method === 'POST' && sheet) {
      const { openid, ...options } = json() as { openid?: unknown } & Record<string, unknown>;
      sendJson(res, 200, this.wechat.pay(sheet[1] as 'requestMidasPaymentGameItem' | 'requestMidasPayment', String(openid), options));
      return true;
    }
    if (req.method === 'GET') {
      const y = this.ysdk.handle(url.pathname, url.search.slice(1), req.headers.cookie);
      if (y) {
        // The real endpoint answers JSON labelled text/html (seed).
        res.writeHead(y.status, { 'content-type': 'text/html; charset=utf-8' });
        res.end(y.body);
        return true;
      }
    }
    if (req.method === 'POST' && url.pathname === '/callFunction') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (e) {
        sendJson(res, 400, { errCode: -1, errMsg: `cloud.callFunction:fail the request body is not JSON (${(e as Error).message}); send {"name": "<function>", "data": {…}, "player": {"openid": "…"}}` });
        return true;
      }
      const { name, data, player } = (parsed !== null && typeof parsed === 'object' ? parsed : {}) as { name?: unknown; data?: unknown; player?: Player };
      if (typeof name !== 'string' || name === '') {
        sendJson(res, 400, { errCode: -1, errMsg: `cloud.callFunction:fail name is required: the function to call, one of ${this.runner.names().join(', ')}` });
        return true;
      }
      if (!this.runner.exists(name)) {
        sendJson(res, 404, { errCode: -501000, errMsg: `cloud.callFunction:fail -501000 FunctionName parameter could not be found: there is no function "${name}" in this cloud (functions: ${this.runner.names().join(', ')})` });
        return true;
      }
      const r = await this.invoke(name, data ?? {}, player !== null && typeof player === 'object' ? player : {});
      if (r.error) sendJson(res, 200, { errCode: -504002, errMsg: `cloud.callFunction:fail -504002 functions execute fail. ${r.error.message}` });
      else sendJson(res, 200, { result: r.result, errMsg: 'cloud.callFunction:ok' });
      return true;
    }
    if (req.method === 'POST' && url.pathname === '/__emulator/topup') {
      const { openid, coins, zoneId, env, api, create } = json() as { openid?: unknown; coins?: unknown; zoneId?: unknown; env?: unknown; api?: unknown; create?: unknown };
      const problem =
        typeof openid !== 'string' || openid === '' ? 'openid is required'
        : !Number.isSafeInteger(coins) || (coins as number) <= 0 || (coins as number) > 1_000_000 ? 'coins must be a whole number from 1 to 1000000'
        : env !== undefined && env !== 'sandbox' && env !== 'production' ? 'env must be sandbox or production'
        : api !== undefined && api !== 'v1' && api !== 'v2' ? 'api must be v1 or v2'
        : zoneId !== undefined && (typeof zoneId !== 'string' || !/^[0-9]{1,16}$/.test(zoneId)) ? 'zoneId must be digits'
        : create !== undefined && typeof create !== 'boolean' ? 'create must be true or false'
        : undefined;
      if (problem) {
        sendJson(res, 400, { error: problem, field: problem.split(' ')[0] });
        return true;
      }
      // A typo in an openid must not make a new player with coins: only known players, unless asked.
      if (create !== true && !this.isKnownPlayer(openid as string)) {
        sendJson(res, 404, { error: `openid ${String(openid)} is not a player of this local cloud: create it first (POST /__emulator/players, or "Create player" in the console), or send "create": true`, field: 'openid' });
        return true;
      }
      this.knownPlayers.add(openid as string);
      const midasEnv = (env ?? this.functionEnv.MIDAS_ENV) as MidasEnv;
      const zone = (zoneId as string | undefined) ?? '1';
      const generation = (api as 'v1' | 'v2' | undefined) ?? this.midasApi;
      if (generation === 'v2') this.wxa.topUp(midasEnv, openid as string, coins as number, zone);
      else this.backend.topUp({ env: midasEnv, openid: openid as string, zoneId: zone }, coins as number);
      this.logs.add('cloud', 'cloud', `top-up of ${String(coins)} coins for ${String(openid)} (${generation}, ${midasEnv})`);
      const balance = generation === 'v2' ? this.wxa.balance(midasEnv, openid as string, zone) : this.backend.balance({ env: midasEnv, openid: openid as string, zoneId: zone });
      sendJson(res, 200, { balance });
      return true;
    }
    if (req.method === 'POST' && url.pathname === '/__emulator/ysdk/login') {
      const { openid, login } = json() as { openid?: unknown; login?: unknown };
      if (typeof openid !== 'string' || (login !== 'qq' && login !== 'wx')) {
        sendJson(res, 400, { error: 'openid and login ("qq" or "wx") are required' });
        return true;
      }
      sendJson(res, 200, { openid, login, openkey: this.ysdk.login(openid, login) });
      return true;
    }
    if (req.method === 'POST' && url.pathname === '/__emulator/ysdk/topup') {
      const { openid, coins, delayMs } = json() as { openid?: unknown; coins?: unknown; delayMs?: unknown };
      if (typeof openid !== 'string' || !Number.isSafeInteger(coins) || (coins as number) <= 0) {
        sendJson(res, 400, { error: 'openid and coins are required' });
        return true;
      }
      this.ysdk.topUp(this.functionEnv.YSDK_ENV as MidasEnv, openid, coins as number, typeof delayMs === 'number' ? delayMs : 0);
      sendJson(res, 200, { ok: true });
      return true;
    }
    if (req.method === 'POST' && url.pathname === '/__emulator/faults') {
      try {
        // Checked before anything is added: a bad rule changes nothing. `api` names one generation.
        const { api, ...rule } = json() as { api?: unknown } & Record<string, unknown>;
        if (api !== undefined && api !== 'v1' && api !== 'v2') throw new Error('api must be v1 or v2');
        this.injectFault(rule as unknown as FaultRule, api as 'v1' | 'v2' | undefined);
      } catch (e) {
        sendJson(res, 400, { error: (e as Error).message });
        return true;
      }
      sendJson(res, 200, { ok: true });
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/__emulator/balance') {
      const openid = url.searchParams.get('openid') ?? '';
      const env = (url.searchParams.get('env') ?? this.functionEnv.MIDAS_ENV) as MidasEnv;
      const zoneId = url.searchParams.get('zoneId') ?? '1';
      sendJson(res, 200, { openid, env, zoneId, ...this.backend.account({ env, openid, zoneId }) });
      return true;
    }
    return false;
  }
}

/** The function table the build wrote (timeouts), when the functions are the project's own. */
function readFunctionTable(functionsDir: string): Record<string, FunctionManifest> {
  const file = path.resolve(functionsDir) === path.resolve(FUNCTIONS_DIR) ? FUNCTION_TABLE : path.join(functionsDir, '..', 'build', 'functions.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, FunctionManifest>;
  } catch {
    return {};
  }
}

/** One line for an invocation: who called, how long it took, what came back (codes only). */
export function describeCall(player: Player, inv: Invocation): string {
  const who = [player.source ?? 'wx_client', player.openid].filter(Boolean).join(' ');
  const took = `${Math.round(inv.ms)} ms${inv.cold ? ', cold start' : ''}`;
  let outcome: string;
  if (inv.error) outcome = `${inv.error.kind}: ${inv.error.message}`;
  else {
    const r = inv.result as { ok?: unknown; error?: { code?: unknown }; ErrCode?: unknown; statusCode?: unknown } | null | undefined;
    if (r && r.ok === true) outcome = 'ok';
    else if (r && r.ok === false) outcome = `error ${String(r.error?.code)}`;
    else if (r && r.ErrCode !== undefined) outcome = `ErrCode ${String(r.ErrCode)}`;
    else if (r && r.statusCode !== undefined) outcome = `HTTP ${String(r.statusCode)}`;
    else outcome = 'answered';
  }
  return `called by ${who} (${took}): ${outcome}`;
}
