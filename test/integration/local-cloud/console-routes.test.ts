/**
 * What a person (or the console) reads and drives over HTTP: state with history, live logs,
 * players, top-ups, faults, timers; and the clear errors that replaced raw stacks.
 */
import http from 'http';
import { LocalCloud } from '../../emulator/local-cloud';
import { call, newOpenid, useLocalCloud, waitFor } from '../helpers';

const cloud = useLocalCloud({ timers: true });

async function post(path: string, body: unknown, raw?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${cloud().url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function state(): Promise<Record<string, any>> {
  return (await (await fetch(`${cloud().url}/__emulator/state`)).json()) as Record<string, any>;
}

describe('the console and what it reads', () => {
  test('the console page, its script and the mini-game package are served by the local cloud itself', async () => {
    const page = await fetch(`${cloud().url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('/console/app.js');
    const script = await fetch(`${cloud().url}/console/app.js`);
    expect(await script.text()).toContain("from '/client/index.mjs'");
    const pkg = await fetch(`${cloud().url}/client/index.mjs`);
    expect(await pkg.text()).toMatch(/export\s*\{[^}]*createMidasClient/);
    expect((await fetch(`${cloud().url}/console/../../local-cloud.ts`)).status).not.toBe(200);
  });

  test('a pay shows in the ledger with its state history, and the player with both environments', async () => {
    const created = await post('/__emulator/players', {});
    const openid = String(created.json.openid);
    expect(openid).toMatch(/^oLocal[A-Za-z0-9]{22}$/);
    expect((await post('/__emulator/topup', { openid, coins: 200 })).json).toEqual({ balance: 200 });
    const paid = await call(cloud(), 'pay', { amt: 30, idempotencyKey: 'console-1' }, { openid });
    expect(paid.ok).toBe(true);
    const s = await state();
    const player = s.players.find((p: { openid: string }) => p.openid === openid);
    expect(player.accounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ api: 'v1', env: 'sandbox', balance: 170, paid: 170 }),
        expect.objectContaining({ api: 'v1', env: 'production', balance: 0 }),
      ]),
    );
    expect(player.accounts.map((a: { api: string; env: string; zoneId: string; inUse: boolean }) => `${a.api}/${a.env}/${a.zoneId}${a.inUse ? '*' : ''}`)).toEqual(['v1/sandbox/1*', 'v2/sandbox/1', 'v1/production/1', 'v2/production/1']);
    await post('/__emulator/topup', { openid, coins: 7, zoneId: '2', api: 'v2' });
    const zoned = (await state()).players.find((p: { openid: string }) => p.openid === openid);
    expect(zoned.accounts.at(-1)).toMatchObject({ api: 'v2', env: 'sandbox', zoneId: '2', balance: 7, inUse: false });
    expect(zoned.accounts).toHaveLength(5);
    const order = s.ledger.find((o: { openid: string }) => o.openid === openid);
    expect(order).toMatchObject({ kind: 'pay', amount: 30, state: 'COMPLETED', env: 'sandbox' });
    expect(order.history.map((h: { state: string }) => h.state)).toEqual(['PENDING', 'COMPLETED']);
    expect(order).not.toHaveProperty('leaseId');
  });

  test('a top-up can go to either generation and environment; bad input names the field and changes nothing', async () => {
    const openid = newOpenid();
    // An openid nobody made (a typo) is not a new player with coins, unless asked for.
    const unknown = await post('/__emulator/topup', { openid, coins: 5, api: 'v2', env: 'production' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ field: 'openid', error: expect.stringContaining('is not a player of this local cloud') });
    expect(cloud().wxa.balance('production', openid)).toBe(0);
    expect((await post('/__emulator/topup', { openid, coins: 5, api: 'v2', env: 'production', create: true })).json).toEqual({ balance: 5 });
    expect(cloud().wxa.balance('production', openid)).toBe(5);
    // Known from now on.
    expect((await post('/__emulator/topup', { openid, coins: 1, api: 'v2', env: 'production' })).json).toEqual({ balance: 6 });
    for (const [body, field] of [
      [{ openid, coins: -1 }, 'coins'],
      [{ openid, coins: 5, env: 'live' }, 'env'],
      [{ openid, coins: 5, api: 'v3' }, 'api'],
      [{ coins: 5 }, 'openid'],
    ] as const) {
      const r = await post('/__emulator/topup', body);
      expect(r.status).toBe(400);
      expect(String(r.json.error)).toMatch(new RegExp(`^${field} `));
    }
    expect(cloud().wxa.balance('production', openid)).toBe(6);
    expect(cloud().backend.balance({ env: 'sandbox', openid })).toBe(0);
  });

  test('faults: an unknown kind is refused, naming what is allowed; added ones are listed and cleared', async () => {
    const bad = await post('/__emulator/faults', { fault: { kind: 'boom' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('fault.kind must be one of busy, applyThenBusy, delay, inProgress, empty, gatewayError (got "boom")');
    expect((await post('/__emulator/faults', { fault: { kind: 'delay' } })).json.error).toMatch(/^fault\.ms /);
    expect((await post('/__emulator/faults', { fault: { kind: 'busy' }, op: 'payy' })).json.error).toMatch(/^op must be one of/);
    expect((await post('/__emulator/pushes/faults', { fault: { kind: 'lose' } })).json.error).toMatch(/^fault\.kind must be one of drop, duplicate, delay, reorder/);
    expect((await post('/__emulator/database/faults', { kind: 'explode' })).json.error).toMatch(/^kind /);
    expect((await state()).faults).toEqual({ midas: [], wxa: [], pushes: [], database: [] });

    await post('/__emulator/faults', { fault: { kind: 'busy' }, op: 'pay', times: 2 });
    await post('/__emulator/pushes/faults', { fault: { kind: 'drop' } });
    await post('/__emulator/database/faults', { kind: 'refuse', collection: 'midas_orders' });
    const listed = (await (await fetch(`${cloud().url}/__emulator/faults`)).json()) as Record<string, unknown[]>;
    expect(listed.midas).toEqual([{ rule: { fault: { kind: 'busy' }, op: 'pay', times: 2 }, left: 2 }]);
    expect(listed.wxa).toHaveLength(1);
    expect(listed.pushes).toEqual([{ rule: { kind: 'drop' }, left: 1 }]);
    expect(listed.database).toEqual([{ rule: { kind: 'refuse', collection: 'midas_orders' }, left: 1 }]);
    await post('/__emulator/faults/clear', {});
    expect((await state()).faults).toEqual({ midas: [], wxa: [], pushes: [], database: [] });
  });

  test('the timers of config.json are running, and the reconciler can be run now as its timer runs it', async () => {
    const s = await state();
    expect(s.timers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ fn: 'reconcile', config: '0 */5 * * * * *', next: expect.stringMatching(/:\d[05]:00\.000Z$/) }),
        expect.objectContaining({ fn: 'deliveryReconcile', config: '0 * * * * * *', next: expect.stringMatching(/:00\.000Z$/) }),
      ]),
    );
    const r = await post('/__emulator/timers/fire', { fn: 'reconcile' });
    // reconcile refuses players: an answer of ok proves it ran as the trusted timer caller.
    expect(r.json).toMatchObject({ result: { ok: true } });
    expect((await post('/__emulator/timers/fire', { fn: 'nope' })).status).toBe(400);
  });

  test('log lines: each invocation and each function line, for late readers and as a live stream', async () => {
    const openid = newOpenid();
    const received: string[] = [];
    const req = http.get(`${cloud().url}/__emulator/logs/stream?since=999999999`, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream');
      res.on('data', (d: Buffer) => received.push(d.toString()));
    });
    await waitFor('stream open', () => req.reusedSocket !== undefined || received.length >= 0);
    await new Promise((r) => setTimeout(r, 200));
    const r = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'broke' }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_BALANCE' } });
    await waitFor('the stream carries the failure', () => received.join('').includes('failure code=INSUFFICIENT_BALANCE'));
    req.destroy();
    const all = (await (await fetch(`${cloud().url}/__emulator/logs`)).json()) as { lines: { fn: string; kind: string; text: string }[] };
    expect(all.lines).toEqual(expect.arrayContaining([{ ...all.lines.find((l) => l.kind === 'call' && l.text.includes(openid))!, fn: 'pay', text: expect.stringMatching(/^called by wx_client oTest\S+ \(\d+ ms(, cold start)?\): error INSUFFICIENT_BALANCE$/) }]));
  });
});

describe('what an operator does from the console', () => {
  test('a Midas fault can be aimed at one generation: nothing is left queued for the other', async () => {
    await post('/__emulator/faults/clear', {});
    expect((await post('/__emulator/faults', { fault: { kind: 'busy' }, op: 'pay', api: 'v1' })).status).toBe(200);
    expect(cloud().backend.pendingFaults()).toHaveLength(1);
    expect(cloud().wxa.pendingFaults()).toHaveLength(0);
    expect((await post('/__emulator/faults', { fault: { kind: 'busy' }, api: 'v3' })).json).toEqual({ error: 'api must be v1 or v2' });
    await post('/__emulator/faults/clear', {});
  });

  test('"run now" leaves young orders for later unless asked, and then resolves them', async () => {
    const openid = newOpenid();
    cloud().backend.topUp({ env: 'sandbox', openid }, 50);
    cloud().injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 100 }, 'v1');
    const stuck = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'young-1' }, { openid }, { MIDAS_TIME_BUDGET_MS: '300' });
    cloud().clearFaults();
    expect(stuck).toMatchObject({ ok: true, data: { state: 'UNKNOWN' } });
    const orderId = (stuck as unknown as { data: { orderId: string } }).data.orderId;
    const plain = await post('/__emulator/timers/fire', { fn: 'reconcile' });
    expect((plain.json.result as { data: { resolved: { orderId: string }[] } }).data.resolved.map((r) => r.orderId)).not.toContain(orderId);
    const young = await post('/__emulator/timers/fire', { fn: 'reconcile', youngOrders: true });
    expect((young.json.result as { data: { resolved: { orderId: string; to: string }[] } }).data.resolved).toContainEqual(expect.objectContaining({ orderId, to: 'COMPLETED' }));
  });

  test('export and import: the whole local state goes into one file and comes back as it was', async () => {
    const openid = newOpenid();
    await post('/__emulator/players', { openid });
    await post('/__emulator/topup', { openid, coins: 100 });
    expect((await call(cloud(), 'pay', { amt: 40, idempotencyKey: 'export-1' }, { openid })).ok).toBe(true);
    const exported = await (await fetch(`${cloud().url}/__emulator/export`)).json();
    const before = { balance: cloud().backend.balance({ env: 'sandbox', openid }), orders: (await cloud().database.all('midas_orders')).length };
    // Things change after the export…
    expect((await call(cloud(), 'pay', { amt: 5, idempotencyKey: 'export-2' }, { openid })).ok).toBe(true);
    expect(cloud().backend.balance({ env: 'sandbox', openid })).toBe(55);
    // …and an import brings back what was exported.
    expect((await post('/__emulator/import', exported)).json).toEqual({ ok: true });
    expect(cloud().backend.balance({ env: 'sandbox', openid })).toBe(before.balance);
    expect((await cloud().database.all('midas_orders')).length).toBe(before.orders);
    expect(cloud().knownPlayers.has(openid)).toBe(true);
    // A repeated key after the import is answered from the imported ledger: not charged again.
    expect((await call(cloud(), 'pay', { amt: 40, idempotencyKey: 'export-1' }, { openid })).ok).toBe(true);
    expect(cloud().backend.balance({ env: 'sandbox', openid })).toBe(60);
    // Something that is not an export changes nothing.
    const bad = await post('/__emulator/import', { hello: 1 });
    expect(bad.status).toBe(400);
    expect(cloud().backend.balance({ env: 'sandbox', openid })).toBe(60);
  });
});

describe('clear messages instead of stacks', () => {
  test('malformed JSON to /callFunction says so, and an unknown function is named with the ones that exist', async () => {
    const bad = await post('/callFunction', null, '{"name": "pay", ');
    expect(bad.status).toBe(400);
    expect(bad.json.errMsg).toMatch(/^cloud\.callFunction:fail the request body is not JSON/);
    const missing = await post('/callFunction', { name: 'payy', data: {} });
    expect(missing.status).toBe(404);
    expect(missing.json.errCode).toBe(-501000);
    expect(missing.json.errMsg).toContain('there is no function "payy"');
    expect(missing.json.errMsg).toContain('pay, paymentNotify');
    expect(missing.json.errMsg).not.toMatch(/\/|require stack/);
    const noName = await post('/callFunction', { data: {} });
    expect(noName.json.errMsg).toMatch(/name is required: the function to call, one of buyWithCoins, cancelPay, /);
  });

  test('a port already in use is said plainly', async () => {
    const port = Number(new URL(cloud().url).port);
    await expect(LocalCloud.start({ port })).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use (another local cloud?): stop it, or choose another port with PORT=<port>`);
  });

  test('a function runs with its own timeout: ysdkBalance polls past the platform default of 3 s', async () => {
    const openid = newOpenid();
    const openkey = cloud().ysdk.login(openid, 'qq');
    cloud().ysdk.topUp('sandbox', openid, 60, 3600);
    const p = { login: 'qq', openid, openkey, pf: 'myapp_m_qq-00000000-android-00000000-ysdk', pfkey: 'c3a1e5f0d2b4', afterTopUp: { saveAmt: 0 } };
    const started = Date.now();
    const r = await call(cloud(), 'ysdkBalance', p, { source: 'wx_http' }, { YSDK_POLL_INTERVAL_MS: '1000', YSDK_POLL_MAX_MS: '10000' });
    expect(Date.now() - started).toBeGreaterThan(3000);
    expect(r).toMatchObject({ ok: true, data: { saveAmt: 60, arrived: true } });
  });
});
