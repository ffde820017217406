/**
 * The local cloud: gateway + Midas backend + function runner, wired the way the platform is.
 * Used by the integration tests, `npm start` and `npm run bench`.
 */
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
}

/** A fresh random secret per run: the emulator and the functions share it through configuration only. */
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
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
  readonly gateway: Gateway;
  readonly runner: FunctionRunner;
  readonly app: MidasApp;
  readonly envId: string;
  /** The configuration every function instance gets (what an operator sets in the console). */
  readonly functionEnv: Record<string, string>;

  private constructor(opts: LocalCloudOptions, gateway: Gateway, backend: MidasBackend, database: CloudDatabase, app: MidasApp, ysdk: YsdkEmulator, wechat: WechatClientEmulator, wxa: WxaGameBackend) {
    this.backend = backend;
    this.wxa = wxa;
    this.midasApi = opts.midasApi ?? 'v1';
    this.database = database;
    this.ysdk = ysdk;
    this.wechat = wechat;
    this.gateway = gateway;
    this.app = app;
    this.envId = opts.envId ?? 'local-env';
    this.functionEnv = {
      MIDAS_ENV: opts.midasEnv ?? 'sandbox',
      MIDAS_API: opts.midasApi ?? 'v1',
      MIDAS_OFFER_ID: app.offerId,
      MIDAS_SECRET: app.secrets.production,
      MIDAS_SANDBOX_SECRET: app.secrets.sandbox,
      MIDAS_APPID: app.appid,
      YSDK_ENV: opts.midasEnv ?? 'sandbox',
      YSDK_OFFER_ID: ysdk.app.offerId,
      YSDK_APPKEY: ysdk.app.appKeys.production,
      YSDK_SANDBOX_APPKEY: ysdk.app.appKeys.sandbox,
      YSDK_BASE_URL: `${gateway.url}${YSDK_PREFIX[opts.midasEnv ?? 'sandbox']}`,
      MIDAS_APPKEY: wechat.app.appKeys.production,
      MIDAS_SANDBOX_APPKEY: wechat.app.appKeys.sandbox,
      WX_APP_SECRET: wechat.app.appSecret,
      WX_API_BASE_URL: gateway.url,
      ...opts.functionEnv,
    };
    this.runner = new FunctionRunner({
      functionsDir: opts.functionsDir ?? FUNCTIONS_DIR,
      gatewayUrl: gateway.url,
      envId: this.envId,
      functionEnv: this.functionEnv,
    });
  }

  static async start(opts: LocalCloudOptions = {}): Promise<LocalCloud> {
    const app: MidasApp = {
      appid: opts.app?.appid ?? 'wx51dc10ca1c0ffee0',
      offerId: opts.app?.offerId ?? '1450012345',
      secrets: opts.app?.secrets ?? { production: randomSecret(), sandbox: randomSecret() },
    };
    const backend = new MidasBackend([app]);
    const ysdk = new YsdkEmulator({ offerId: '1450099999', appKeys: { production: randomSecret(), sandbox: randomSecret() } });
    // WeChat's side is configured like the console: the products and prices of the catalogue.
    const cat = catalogue();
    const wechat = new WechatClientEmulator({
      appid: app.appid,
      appSecret: randomSecret(),
      offerId: app.offerId,
      appKeys: { production: randomSecret(), sandbox: randomSecret() },
      productPrices: new Map([...cat.products.values()].map((p) => [p.productId, p.priceFen])),
      coinPriceFen: cat.coinPriceFen,
      released: false,
    });
    const wxa = new WxaGameBackend({ appid: app.appid, appSecret: wechat.app.appSecret, offerId: app.offerId, appKeys: wechat.app.appKeys }, wechat);
    // Coins bought on the sheet land in the player's account of the generation in use, as a top-up does.
    wechat.onCoinsPaid = (openid, env, coins) => (opts.midasApi === 'v2' ? wxa.topUp(env, openid, coins) : backend.topUp({ env, openid }, coins));
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
  injectFault(rule: FaultRule): void {
    this.backend.injectFault(rule);
    this.wxa.injectFault(rule);
  }

  clearFaults(): void {
    this.backend.clearFaults();
    this.wxa.clearFaults();
  }

  /** A player's coins in the generation in use. */
  balanceOf(openid: string, env: MidasEnv = this.functionEnv.MIDAS_ENV as MidasEnv, zoneId = '1'): number {
    return this.midasApi === 'v2' ? this.wxa.balance(env, openid, zoneId) : this.backend.balance({ env, openid, zoneId });
  }

  async close(): Promise<void> {
    await this.runner.close();
    await this.gateway.close();
    await this.database.close();
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
      const { name, data, player } = json() as { name?: unknown; data?: unknown; player?: Player };
      if (typeof name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(name)) {
        sendJson(res, 400, { errCode: -1, errMsg: 'cloud.callFunction:fail name is required' });
        return true;
      }
      const r = await this.invoke(name, data ?? {}, player ?? {});
      if (r.error) sendJson(res, 200, { errCode: -504002, errMsg: `cloud.callFunction:fail -504002 functions execute fail. ${r.error.message}` });
      else sendJson(res, 200, { result: r.result, errMsg: 'cloud.callFunction:ok' });
      return true;
    }
    if (req.method === 'POST' && url.pathname === '/__emulator/topup') {
      const { openid, coins, zoneId, env } = json() as { openid?: string; coins?: number; zoneId?: string; env?: MidasEnv };
      if (typeof openid !== 'string' || typeof coins !== 'number') {
        sendJson(res, 400, { error: 'openid and coins are required' });
        return true;
      }
      const midasEnv = env ?? (this.functionEnv.MIDAS_ENV as MidasEnv);
      if (this.midasApi === 'v2') this.wxa.topUp(midasEnv, openid, coins, zoneId ?? '1');
      else this.backend.topUp({ env: midasEnv, openid, ...(zoneId && { zoneId }) }, coins);
      sendJson(res, 200, { balance: this.balanceOf(openid, midasEnv, zoneId ?? '1') });
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
      this.injectFault(json() as unknown as FaultRule);
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
