/**
 * The web console of the local cloud (`npm start`, http://127.0.0.1:<port>/) and the JSON routes
 * it reads and drives, which scripts may use too:
 * - GET  /                      the console (static files under test/emulator/console/)
 * - GET  /client/index.mjs      the mini-game package as built (the console buys with it, as a game does)
 * - GET  /game/?openid=…        the sample mini-game (game.js) in the browser, as that player
 * - GET  /__emulator/state      players and balances (both environments, v1 and 2.0), the ledger and
 *                               client orders with their state history, inventories, pushes with their
 *                               attempts, faults waiting, timers
 * - GET  /__emulator/logs?since=N, /__emulator/logs/stream (server-sent events): log lines as they happen
 * - GET  /__emulator/faults; POST /__emulator/faults/clear; POST /__emulator/database/faults {kind, collection?, action?, times?}
 * - POST /__emulator/players {openid?}: a new player (a random openid when none is given)
 * - POST /__emulator/timers/fire {fn, youngOrders?}: the function's timer trigger fires now (run the
 *   reconciler); youngOrders: also orders younger than the reconciler's minimum age
 * - GET  /__emulator/export; POST /__emulator/import: everything the local cloud holds, as one JSON document
 */
import { randomBytes } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import type http from 'http';
import path from 'path';
import { collectionName } from '../../shared/edge/collections';
import { MIDAS_ENVS, type MidasEnv } from '../../shared/midas-v1/operation-table';
import { isSecret } from '../../scripts/settings';
import { DB_WRITE_ACTIONS, type DbFaultRule } from './database';
import { sendJson } from './gateway';
import type { LocalCloud } from './local-cloud';
import type { LogLine } from './log-hub';
import { ROOT } from './paths';

const CONSOLE_DIR = path.join(ROOT, 'test', 'emulator', 'console');
const CLIENT_DIR = path.join(ROOT, 'build', 'midas-client');
const GAME_PAGE_DIR = path.join(ROOT, 'test', 'emulator', 'game-web');
const GAME_BUILD_DIR = path.join(ROOT, 'build', 'game-web');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

/** A file under `dir` (never outside it), or false. */
function sendFile(res: http.ServerResponse, dir: string, rel: string): boolean {
  const file = path.resolve(dir, rel);
  if (!file.startsWith(dir + path.sep) || !existsSync(file)) return false;
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  res.end(readFileSync(file));
  return true;
}

function parseBody(body: Buffer): Record<string, unknown> | Error {
  try {
    const v: unknown = JSON.parse(body.toString('utf8') || '{}');
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : new Error('the body must be a JSON object');
  } catch (e) {
    return new Error(`the body is not JSON (${(e as Error).message})`);
  }
}

/** A new player's openid: 28 characters, as WeChat's are. */
function newOpenid(): string {
  return `oLocal${randomBytes(16).toString('base64url').replace(/[-_]/g, 'x').slice(0, 22)}`;
}

/** Everything the console shows, in one answer. */
export async function consoleState(cloud: LocalCloud) {
  const env = cloud.functionEnv;
  const ledgerCollection = collectionName(env, 'ledger');
  const clientCollection = collectionName(env, 'clientOrders');
  const inventoryCollection = collectionName(env, 'inventory');
  const byCreated = (a: Record<string, unknown>, b: Record<string, unknown>) => Number(b.createdAt ?? 0) - Number(a.createdAt ?? 0);

  // Every player seen anywhere: made from the console, holding coins in either generation, or with an inventory.
  const openids = new Set<string>(cloud.knownPlayers);
  for (const id of [...cloud.backend.accounts.keys(), ...cloud.wxa.accounts.keys()]) openids.add(id.split('|')[4]!);
  const inventory = await cloud.database.all(inventoryCollection);
  for (const inv of inventory) {
    const [, openid] = String(inv._id).split(':');
    if (openid) openids.add(openid);
  }
  // Each player's account in both environments of both generations (zero where Midas has none yet),
  // read without creating any; the environment and generation in use first.
  const appid = cloud.app.appid;
  const offerId = cloud.app.offerId;
  const rank = (a: { api: string; env: string; zoneId: string }) => (a.zoneId === '1' ? 0 : 4) + (a.env === env.MIDAS_ENV ? 0 : 2) + (a.api === cloud.midasApi ? 0 : 1);
  const zonesOf = (openid: string) => {
    const zones = new Set(['1']);
    for (const id of [...cloud.backend.accounts.keys(), ...cloud.wxa.accounts.keys()]) {
      const [, , , zone, who] = id.split('|');
      if (who === openid) zones.add(zone!);
    }
    return [...zones].sort();
  };
  const players = [...openids].sort().map((openid) => {
    const accounts = zonesOf(openid).flatMap((zoneId) => MIDAS_ENVS.flatMap((e) => {
      const v1 = cloud.backend.accounts.get([e, appid, offerId, zoneId, openid].join('|'));
      const v2 = cloud.wxa.accounts.get([e, appid, offerId, zoneId, openid].join('|'));
      const rows = [
        { api: 'v1', env: e, zoneId: '1', inUse: e === env.MIDAS_ENV && cloud.midasApi === 'v1', balance: (v1?.paid ?? 0) + (v1?.gen ?? 0), paid: v1?.paid ?? 0, gifted: v1?.gen ?? 0, saveAmt: v1?.saveAmt ?? 0, costSum: v1?.costSum ?? 0, presentSum: v1?.presentSum ?? 0 },
        { api: 'v2', env: e, zoneId: '1', inUse: e === env.MIDAS_ENV && cloud.midasApi === 'v2', balance: (v2?.paid ?? 0) + (v2?.present ?? 0), paid: v2?.paid ?? 0, gifted: v2?.present ?? 0, saveAmt: v2?.sumSave ?? 0, costSum: v2?.sumCost ?? 0, presentSum: v2?.sumPresent ?? 0 },
      ];
      // Zone 1 always; another zone only where an account exists.
      return zoneId === '1' ? rows : rows.filter((r) => (r.api === 'v1' ? v1 : v2) !== undefined);
    }).map((r) => ({ ...r, zoneId })));
    return { openid, accounts: accounts.sort((a, b) => rank(a) - rank(b)) };
  });

  const ledger = (await cloud.database.all(ledgerCollection)).sort(byCreated).slice(0, 300).map((o) => {
    const { call: _call, leaseId: _lease, ...shown } = o as Record<string, unknown>;
    return { ...shown, history: cloud.database.stateHistory(ledgerCollection, String(o._id)) };
  });
  // A client order is PENDING from when it is signed; its own history starts at the first change.
  const clientOrders = (await cloud.database.all(clientCollection)).sort(byCreated).slice(0, 300).map((o) => {
    const h = (o.history ?? []) as { state: string; at: number; via?: string }[];
    return { ...o, history: h[0]?.state === 'PENDING' ? h : [{ state: 'PENDING', at: o.createdAt, via: 'signed' }, ...h] };
  });

  return {
    cloud: { url: cloud.url, envId: cloud.envId, midasEnv: env.MIDAS_ENV, midasApi: cloud.midasApi, appid: cloud.app.appid, offerId: cloud.app.offerId },
    functions: cloud.runner.names(),
    // Names and values of the functions' settings; a secret's value is never sent to the page.
    settings: Object.keys(env).sort().map((name) => ({ name, value: isSecret(name) ? null : env[name] })),
    collections: cloud.database.collectionNames(),
    players,
    ledger,
    clientOrders,
    inventory,
    pushes: cloud.pushes.pushes.map(({ envelope: _e, ...p }) => p).reverse(),
    faults: {
      midas: cloud.backend.pendingFaults(),
      wxa: cloud.wxa.pendingFaults(),
      pushes: cloud.pushes.pendingFaults(),
      database: cloud.database.pendingFaults(),
    },
    timers: cloud.timers.map((t) => ({ fn: t.fn, name: t.name, config: t.config, next: t.next(), fired: t.fired })),
  };
}

export async function serveConsole(cloud: LocalCloud, req: http.IncomingMessage, url: URL, body: Buffer, res: http.ServerResponse): Promise<boolean> {
  const p = url.pathname;
  if (req.method === 'GET') {
    if (p === '/' || p === '/index.html') return sendFile(res, CONSOLE_DIR, 'index.html');
    if (p.startsWith('/console/')) return sendFile(res, CONSOLE_DIR, p.slice('/console/'.length));
    if (p === '/game' || p === '/game/') return sendFile(res, GAME_PAGE_DIR, 'index.html');
    if (p === '/game/wx-web.js') return sendFile(res, GAME_PAGE_DIR, 'wx-web.js');
    if (p === '/game/game.js') {
      if (sendFile(res, GAME_BUILD_DIR, 'game.js')) return true;
      sendJson(res, 404, { error: 'the sample game is not built: run npm run build' });
      return true;
    }
    if (p.startsWith('/client/')) {
      if (sendFile(res, CLIENT_DIR, p.slice('/client/'.length))) return true;
      sendJson(res, 404, { error: 'the mini-game package is not built: run npm run build' });
      return true;
    }
    if (p === '/__emulator/state') {
      sendJson(res, 200, await consoleState(cloud));
      return true;
    }
    if (p === '/__emulator/logs') {
      sendJson(res, 200, { lines: cloud.logs.since(Number(url.searchParams.get('since') ?? 0) || 0) });
      return true;
    }
    if (p === '/__emulator/logs/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      const send = (l: LogLine) => res.write(`id: ${l.seq}\ndata: ${JSON.stringify(l)}\n\n`);
      const since = Number(req.headers['last-event-id'] ?? url.searchParams.get('since') ?? 0) || 0;
      for (const l of cloud.logs.since(since)) send(l);
      const stop = cloud.logs.subscribe(send);
      req.on('close', stop);
      return true;
    }
    if (p === '/__emulator/faults') {
      sendJson(res, 200, (await consoleState(cloud)).faults);
      return true;
    }
    if (p === '/__emulator/export') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-disposition': `attachment; filename="midas-cloud-local-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json"` });
      res.end(JSON.stringify(await cloud.exportState()));
      return true;
    }
    return false;
  }
  if (req.method !== 'POST') return false;
  const handled = ['/__emulator/faults/clear', '/__emulator/database/faults', '/__emulator/players', '/__emulator/timers/fire', '/__emulator/import'];
  if (!handled.includes(p)) return false;
  const input = parseBody(body);
  if (input instanceof Error) {
    sendJson(res, 400, { error: input.message });
    return true;
  }
  if (p === '/__emulator/faults/clear') {
    cloud.clearFaults();
    cloud.pushes.clearFaults();
    cloud.database.clearFaults();
    sendJson(res, 200, { ok: true });
    return true;
  }
  if (p === '/__emulator/database/faults') {
    const { kind, collection, action, times } = input;
    if (kind !== 'refuse' && kind !== 'lostAnswer') return badField(res, 'kind', 'must be refuse or lostAnswer');
    if (collection !== undefined && (typeof collection !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(collection))) return badField(res, 'collection', 'must be a collection name');
    if (action !== undefined && !(DB_WRITE_ACTIONS as readonly unknown[]).includes(action)) return badField(res, 'action', `must be one of ${DB_WRITE_ACTIONS.join(', ')}`);
    if (times !== undefined && !(Number.isSafeInteger(times) && (times as number) > 0)) return badField(res, 'times', 'must be a positive whole number');
    cloud.database.injectFault({ kind, ...(collection !== undefined && { collection }), ...(action !== undefined && { action }), ...(times !== undefined && { times }) } as DbFaultRule);
    sendJson(res, 200, { ok: true });
    return true;
  }
  if (p === '/__emulator/players') {
    const { openid } = input;
    if (openid !== undefined && (typeof openid !== 'string' || !/^[A-Za-z0-9_-]{6,64}$/.test(openid))) return badField(res, 'openid', 'must be 6 to 64 letters, digits, _ or -');
    const id = (openid as string | undefined) ?? newOpenid();
    cloud.knownPlayers.add(id);
    // Midas makes an account on first sight; so does this, in both environments of the generation in use.
    for (const e of MIDAS_ENVS) {
      if (cloud.midasApi === 'v2') cloud.wxa.account(e, id);
      else cloud.backend.account({ env: e, openid: id });
    }
    sendJson(res, 200, { openid: id });
    return true;
  }
  if (p === '/__emulator/import') {
    try {
      await cloud.importState(input);
    } catch (e) {
      sendJson(res, 400, { error: (e as Error).message });
      return true;
    }
    sendJson(res, 200, { ok: true });
    return true;
  }
  if (p === '/__emulator/timers/fire') {
    const { fn, youngOrders } = input;
    if (typeof fn !== 'string' || !cloud.runner.exists(fn)) return badField(res, 'fn', `must be a function: ${cloud.runner.names().join(', ')}`);
    if (youngOrders !== undefined && typeof youngOrders !== 'boolean') return badField(res, 'youngOrders', 'must be true or false');
    const r = await cloud.fireTimer(fn, 'console', youngOrders === true);
    sendJson(res, 200, r.error ? { error: r.error.message } : { result: r.result });
    return true;
  }
  return false;
}

function badField(res: http.ServerResponse, field: string, problem: string): true {
  sendJson(res, 400, { error: `${field} ${problem}`, field });
  return true;
}

export type { MidasEnv };
