/**
 * `npm run bench`: what our code costs on top of wx-server-sdk, measured against the local cloud.
 *
 * For each built function: bundle size; cold start (a fresh Node process: load + first call
 * answered) beside a bare bundle that only loads wx-server-sdk and makes the same cloud call;
 * warm per-call latency beside the same bare call. Then wx-server-sdk bundled vs installed
 * (external) for the pay function. Prints numbers; asserts nothing.
 */
import { spawnSync } from 'child_process';
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import path from 'path';
import { gzipSync } from 'zlib';
import { OPERATION_NAMES, type OperationName } from '../shared/midas-v1/operation-table';
import { LocalCloud } from '../test/emulator/local-cloud';
import { FUNCTIONS_DIR, ROOT } from '../test/emulator/paths';
import { bundleOptions } from './build-lib';

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 12);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 4);
const WARM_CALLS = Number(process.env.BENCH_WARM_CALLS ?? 300);
const WARMUP = 30;
const OUT = path.join(ROOT, '.build', 'bench');
const PLAYER = 'oBenchPlayer_0000000000001';

/**
 * The least code that does the same work with the bare SDK: load it, sign, call; and what the
 * ledger does around the call. pay and present: insert a record, update it after. cancelPay:
 * find the paid record by its bill number, mark it cancelling, call, mark it cancelled (ours
 * reads the order, claims it and settles it: one read, two writes).
 *
 * BARE_RECORD 'order' writes the record our ledger writes (the same fields, the same conditional
 * updates): the same work, which is what the overhead is measured against. 'minimal' writes a
 * four-field record, to show what the ledger's larger record costs by itself.
 */
const BARE_SOURCE = `
const cloud = require('wx-server-sdk');
cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
const db = cloud.database();
const _ = db.command;
const orders = () => db.collection('bench_bare_orders');
const ORDER = BARE_RECORD === 'order';
const LEASE = 'bench-lease-' + process.pid;
let made = false;
exports.main = async (event) => {
  if (BARE_OP !== 'getBalance' && !made) { await db.createCollection('bench_bare_orders').catch(() => {}); made = true; }
  if (BARE_OP === 'cancelPay') {
    const rec = (await orders().where({ billNo: event.billNo }).limit(1).get()).data[0];
    if (!rec || rec.state !== 'COMPLETED') return { errCode: -1, errMsg: 'bench: no paid record for ' + event.billNo };
    const claim = ORDER
      ? { state: 'CANCELLING', leaseId: LEASE, leaseUntil: Date.now() + 30000, updatedAt: Date.now(), cancelAttempts: _.inc(1) }
      : { state: 'CANCELLING', at: Date.now() };
    await orders().where({ _id: rec._id, state: _.in(['COMPLETED']) }).update({ data: claim });
    const r = await bareCall(event);
    const t = Date.now();
    const settle = ORDER ? { state: 'CANCELLED', lastError: null, leaseId: '', leaseUntil: 0, updatedAt: t, resolvedAt: t } : { state: 'CANCELLED', at: t };
    await orders().where(ORDER ? { _id: rec._id, leaseId: LEASE } : { _id: rec._id }).update({ data: settle });
    return r;
  }
  if (BARE_OP === 'getBalance') return bareCall(event);
  const ctx = cloud.getWXContext();
  const openid = event.toOpenid || ctx.OPENID;
  const amount = event.amt || event.presentCounts;
  const t = Date.now();
  const rec = ORDER
    ? { _id: event.billNo, kind: BARE_OP, env: 'sandbox', offerId: process.env.MIDAS_OFFER_ID, appid: ctx.APPID, state: 'PENDING', billNo: event.billNo, openid, amount,
        call: { openid, appid: ctx.APPID, zoneId: '1', billNo: event.billNo, [BARE_OP === 'pay' ? 'amt' : 'presentCounts']: amount },
        attempts: 1, cancelAttempts: 0, leaseId: LEASE, leaseUntil: t + 30000, lastError: null, result: null, createdAt: t, updatedAt: t, resolvedAt: null }
    : { billNo: event.billNo, amount, state: 'PENDING', at: t };
  const added = await orders().add({ data: rec });
  const r = await bareCall(event);
  const done = Date.now();
  if (ORDER) {
    await orders().where({ _id: added._id, leaseId: LEASE }).update({ data: { state: 'COMPLETED', result: _.set({ balance: r.balance, usedGenAmt: r.usedGenAmt }), lastError: null, leaseId: '', leaseUntil: 0, updatedAt: done, resolvedAt: done } });
  } else {
    await orders().doc(added._id).update({ data: { state: 'COMPLETED', balance: r.balance, at: done } });
  }
  return r;
};
const bareCall = async (event) => {
  const ctx = cloud.getWXContext();
  const p = { openid: event.toOpenid || ctx.OPENID, appid: ctx.APPID, offerId: process.env.MIDAS_OFFER_ID,
    ts: Math.floor(Date.now() / 1000), zoneId: '1', pf: 'android' };
  if (event.amt) p.amt = event.amt;
  if (event.presentCounts) p.presentCounts = event.presentCounts;
  if (event.billNo) p.billNo = event.billNo;
  const sig = cloud.signature({ type: 'midas', params: Object.keys(p), secret: process.env.MIDAS_SANDBOX_SECRET });
  return cloud.openapi.midas[BARE_OP + 'Sandbox']({ ...p, sig });
};
`;

/** A plain wx-server-sdk bundle: load and initialise the SDK, nothing else (built the same way, nothing left out). */
const PLAIN_SOURCE = `
const cloud = require('wx-server-sdk');
cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
exports.main = async () => ({});
`;

/** Wall time of a fresh \`node\` that runs \`code\` (ms), in the platform's environment. */
/**
 * The environment a function instance starts in on the platform (as the local cloud's runner
 * gives it): outside it the SDK takes other paths at load (one reaches axios, which our bundles
 * leave out), so both bundles are measured as the cloud loads them.
 */
const PLATFORM_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  TENCENTCLOUD_RUNENV: 'SCF',
  TENCENTCLOUD_REGION: 'ap-shanghai',
  SCF_NAMESPACE: 'bench-env',
  TCB_ENV: 'bench-env',
  TENCENTCLOUD_SECRETID: 'bench',
  TENCENTCLOUD_SECRETKEY: 'bench',
  WX_CONTEXT_KEYS: 'WX_OPENID,WX_APPID,WX_UNIONID,WX_CLIENTIP,WX_CLIENTIPV6,WX_API_TOKEN',
};

function processMs(code: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', code], { stdio: 'ignore', env: PLATFORM_ENV });
  if (r.status !== 0) throw new Error(`node -e failed: ${code}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function stats(xs: number[]): { median: number; p90: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p90: at(0.9), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}

const fmt = (n: number) => n.toFixed(2).padStart(8);
const pct = (ours: number, bare: number) => `${(((ours - bare) / bare) * 100).toFixed(1).padStart(6)}%`;

async function buildBare(dir: string, record: 'order' | 'minimal'): Promise<void> {
  const src = path.join(OUT, 'bare-src.js');
  writeFileSync(src, BARE_SOURCE);
  for (const op of OPERATION_NAMES) {
    mkdirSync(path.join(dir, op), { recursive: true });
    const define = { BARE_OP: JSON.stringify(op), BARE_RECORD: JSON.stringify(record) };
    await build(bundleOptions(src, path.join(dir, op, 'index.js'), { define, nodePaths: [path.join(ROOT, 'node_modules')] }));
    cpSync(path.join(FUNCTIONS_DIR, op, 'config.json'), path.join(dir, op, 'config.json'));
  }
}

let seq = 0;
const billNo = (tag: string) => `bench_${tag}_${process.pid}_${++seq}`;

const bareClouds = new WeakSet<LocalCloud>();
const isBare = (c: LocalCloud) => bareClouds.has(c);

/** The event of one call of `op`; for cancelPay a paid order is made first, outside the timing. */
async function eventFor(cloud: LocalCloud, op: OperationName): Promise<Record<string, unknown>> {
  switch (op) {
    case 'getBalance':
      return {};
    // Our functions make the bill number themselves (the ledger's); the bare bundle is given one.
    case 'pay':
      return isBare(cloud) ? { amt: 1, billNo: billNo('pay') } : { amt: 1 };
    case 'present':
      return isBare(cloud) ? { toOpenid: PLAYER, presentCounts: 1, billNo: billNo('present') } : { toOpenid: PLAYER, presentCounts: 1 };
    case 'cancelPay': {
      if (!isBare(cloud)) {
        // Ours cancels only what its ledger holds as paid: pay through our own function first.
        const paid = (await cloud.invoke('pay', { amt: 1 }, { openid: PLAYER })).result as { ok: boolean; data?: { billNo: string } };
        if (!paid.ok || !paid.data) throw new Error(`bench setup pay failed: ${JSON.stringify(paid)}`);
        return { billNo: paid.data.billNo };
      }
      // The bare side pays through its own pay bundle, which records the bill as the ledger would.
      const b = billNo('cancel');
      const paid = (await cloud.invoke('pay', { amt: 1, billNo: b }, { openid: PLAYER })).result as { errCode?: number };
      if (paid?.errCode !== 0) throw new Error(`bench setup bare pay failed: ${JSON.stringify(paid)}`);
      return { billNo: b };
    }
  }
}

function playerFor(op: OperationName) {
  return op === 'present' ? { source: 'scf' } : { openid: PLAYER };
}

/** Which side goes first in round `i`: ABBA, so neither side always runs just after the other. */
const sidesOf = (i: number) => (i % 2 === 0 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const));

/** Cold samples of `op`, the two clouds interleaved run by run. */
async function coldSamples(cloud: LocalCloud, bareCloud: LocalCloud, op: OperationName) {
  const cold = { ours: [] as number[], bare: [] as number[] };
  for (let i = 0; i < COLD_RUNS; i++) {
    // Alternate, so drift of the machine hits both sides alike. A new functionEnv forces a new instance.
    for (const side of sidesOf(i)) {
      const c = side === 'ours' ? cloud : bareCloud;
      const inv = await c.invoke(op, await eventFor(c, op), playerFor(op), { BENCH_COLD: String(i) });
      if (inv.error || !inv.cold) throw new Error(`cold ${side} ${op}: ${inv.error?.message ?? 'not cold'}`);
      cold[side].push(inv.ms);
      await c.runner.close();
    }
  }
  return cold;
}

/** Warm samples of `op`: interleaved call by call, each side on its one warm instance. */
async function warmSamples(cloud: LocalCloud, bareCloud: LocalCloud, op: OperationName) {
  const warm = { ours: [] as number[], bare: [] as number[] };
  for (let i = 0; i < WARMUP + WARM_CALLS; i++) {
    for (const side of sidesOf(i)) {
      const c = side === 'ours' ? cloud : bareCloud;
      const inv = await c.invoke(op, await eventFor(c, op), playerFor(op));
      const r = inv.result as { ok?: boolean; errCode?: number } | undefined;
      if (inv.error || !(r?.ok === true || r?.errCode === 0)) throw new Error(`warm ${side} ${op}: ${JSON.stringify(inv)}`);
      if (i >= WARMUP) warm[side].push(inv.ms);
    }
  }
  await cloud.runner.close();
  await bareCloud.runner.close();
  return warm;
}

async function measure(cloud: LocalCloud, bareCloud: LocalCloud, op: OperationName) {
  return { cold: await coldSamples(cloud, bareCloud, op), warm: await warmSamples(cloud, bareCloud, op) };
}

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const bareDir = path.join(OUT, 'bare');
  await buildBare(bareDir, 'order');
  const minimalDir = path.join(OUT, 'bare-minimal');
  await buildBare(minimalDir, 'minimal');

  console.log(`midas-cloud bench — node ${process.version}, cold runs ${COLD_RUNS}, warm calls ${WARM_CALLS} (after ${WARMUP} warm-up)`);
  console.log('\nBundle sizes (bytes; gzip in brackets)');
  for (const op of OPERATION_NAMES) {
    const ours = readFileSync(path.join(FUNCTIONS_DIR, op, 'index.js'));
    const bare = readFileSync(path.join(bareDir, op, 'index.js'));
    console.log(`  ${op.padEnd(11)} ours ${String(ours.length).padStart(9)} [${gzipSync(ours).length}]   bare SDK ${String(bare.length).padStart(9)} [${gzipSync(bare).length}]   +${ours.length - bare.length}`);
  }

  // Load only: a fresh process that requires the bundle, against a plain SDK bundle, interleaved.
  const plainFile = path.join(OUT, 'plain', 'index.js');
  writeFileSync(path.join(OUT, 'plain-src.js'), PLAIN_SOURCE);
  await build(bundleOptions(path.join(OUT, 'plain-src.js'), plainFile, { nodePaths: [path.join(ROOT, 'node_modules')] }));
  const fns = readdirSync(FUNCTIONS_DIR).filter((f) => existsSync(path.join(FUNCTIONS_DIR, f, 'index.js'))).sort();
  const load: Record<string, number[]> = { floor: [], plain: [] };
  for (let i = 0; i < COLD_RUNS; i++) {
    load.floor!.push(processMs('0'));
    load.plain!.push(processMs(`require(${JSON.stringify(plainFile)})`));
    for (const fn of fns) (load[fn] ??= []).push(processMs(`require(${JSON.stringify(path.join(FUNCTIONS_DIR, fn, 'index.js'))})`));
  }
  const floor = stats(load.floor!).median;
  const plain = stats(load.plain!).median;
  console.log(`\nLoad only: a fresh node process that requires the bundle (ms, medians of ${COLD_RUNS}, interleaved)`);
  console.log(`  node -e 0 (the floor) ${fmt(floor)}   plain wx-server-sdk bundle ${fmt(plain)} (${statSync(plainFile).size} bytes)`);
  console.log('  function            ours   ratio to plain   (above the floor: ours / plain)');
  for (const fn of fns) {
    const m = stats(load[fn]!).median;
    console.log(`  ${fn.padEnd(17)} ${fmt(m)}   ${(m / plain).toFixed(2).padStart(6)}×          ${((m - floor) / (plain - floor)).toFixed(2)}×`);
  }

  const cloud = await LocalCloud.start();
  const bareCloud = await LocalCloud.start({ functionsDir: bareDir });
  bareClouds.add(bareCloud);
  for (const c of [cloud, bareCloud]) c.backend.topUp({ env: 'sandbox', openid: PLAYER }, 10_000_000);

  console.log('\nCold start: fresh process, load + first call answered by the local cloud (ms, median / p90; bare = the full SDK doing the same call)');
  console.log('  function       ours median   bare median    ratio |  ours p90   bare p90');
  const warmRows: string[] = [];
  const warmMedians: Partial<Record<OperationName, { ours: number; bare: number }>> = {};
  for (const op of OPERATION_NAMES) {
    const { cold, warm } = await measure(cloud, bareCloud, op);
    warmMedians[op] = { ours: stats(warm.ours).median, bare: stats(warm.bare).median };
    const co = stats(cold.ours);
    const cb = stats(cold.bare);
    console.log(`  ${op.padEnd(11)} ${fmt(co.median)}     ${fmt(cb.median)}    ${(co.median / cb.median).toFixed(2).padStart(5)}× | ${fmt(co.p90)}  ${fmt(cb.p90)}`);
    const wo = stats(warm.ours);
    const wb = stats(warm.bare);
    warmRows.push(`  ${op.padEnd(11)} ${fmt(wo.median)}     ${fmt(wb.median)}    ${pct(wo.median, wb.median)} | ${fmt(wo.mean)}  ${fmt(wb.mean)} | ${fmt(wo.p90)}  ${fmt(wb.p90)}`);
  }
  console.log('\nWarm per-call latency (ms; invoke → answer, through the local cloud)');
  console.log('  function       ours median   bare median   overhead |  ours mean  bare mean |  ours p90   bare p90');
  for (const row of warmRows) console.log(row);

  // The ledger: pay and present write the order before the call and settle it after, cancelPay
  // reads it, claims it and settles it; the bare bundles do the same work with the SDK alone.
  console.log('\nThe same work, ours vs the bare SDK writing the same records (warm medians from above; ms)');
  const work = { pay: 'insert, call, update', present: 'insert, call, update', cancelPay: 'read, claim, call, settle' } as const;
  for (const op of ['pay', 'present', 'cancelPay'] as const) {
    const m = warmMedians[op]!;
    console.log(`  ${op.padEnd(11)} ${work[op].padEnd(26)} ours ${fmt(m.ours)}   bare ${fmt(m.bare)}   ${pct(m.ours, m.bare)}`);
  }
  const minimalCloud = await LocalCloud.start({ functionsDir: minimalDir });
  bareClouds.add(minimalCloud);
  minimalCloud.backend.topUp({ env: 'sandbox', openid: PLAYER }, 10_000_000);
  const small = await warmSamples(cloud, minimalCloud, 'pay');
  const smallOurs = stats(small.ours).median;
  const smallBare = stats(small.bare).median;
  console.log(`  pay against a bare SDK writing a four-field record instead: ours ${fmt(smallOurs)}   bare ${fmt(smallBare)}   ${pct(smallOurs, smallBare)} (what the ledger's fuller record costs)`);
  await minimalCloud.close();
  console.log(`\nPay throughput through the local cloud, ${THROUGHPUT_SECONDS} s per row (pays/s; each client a function instance)`);
  console.log('  clients   with ledger   bare SDK');
  for (const clients of [1, 2, 4]) {
    const rate = async (c: LocalCloud) => {
      let done = 0;
      const end = performance.now() + THROUGHPUT_SECONDS * 1000;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (performance.now() < end) {
            const inv = await c.invoke('pay', await eventFor(c, 'pay'), { openid: PLAYER });
            const r = inv.result as { ok?: boolean; errCode?: number } | undefined;
            if (inv.error || !(r?.ok === true || r?.errCode === 0)) throw new Error(`throughput: ${JSON.stringify(inv)}`);
            done += 1;
          }
        }),
      );
      await c.runner.close();
      return done / THROUGHPUT_SECONDS;
    };
    const ours = await rate(cloud);
    const bare = await rate(bareCloud);
    console.log(`  ${String(clients).padStart(7)}   ${ours.toFixed(0).padStart(11)}   ${bare.toFixed(0).padStart(8)}`);
  }

  // The same functions on Virtual Payment 2.0 (MIDAS_API=v2, /wxa/game/* over HTTP to the local
  // cloud) beside v1 (cloud calls), both ours, interleaved.
  const v2cloud = await LocalCloud.start({ midasApi: 'v2' });
  await v2cloud.invoke('login', { code: v2cloud.wechat.wxLogin(PLAYER) }, { openid: PLAYER });
  v2cloud.wxa.topUp('sandbox', PLAYER, 10_000_000);
  console.log('\nMidas v1 (cloud calls) vs Virtual Payment 2.0 (MIDAS_API=v2, HTTPS /wxa/game/*), our functions (ms, medians)');
  console.log('  function       v1 cold     2.0 cold |    v1 warm    2.0 warm');
  for (const op of OPERATION_NAMES) {
    const { cold, warm } = await measure(cloud, v2cloud, op);
    console.log(`  ${op.padEnd(11)} ${fmt(stats(cold.ours).median)}   ${fmt(stats(cold.bare).median)}  | ${fmt(stats(warm.ours).median)}    ${fmt(stats(warm.bare).median)}`);
  }
  console.log('  (2.0 cold includes the stable_token fetch and the session_key read; warm calls reuse the token)');
  await v2cloud.close();

  // Bundled vs installed wx-server-sdk, for the deployment decision (README).
  const extDir = path.join(OUT, 'external');
  mkdirSync(path.join(extDir, 'pay'), { recursive: true });
  await build(bundleOptions(path.join(FUNCTIONS_DIR, 'pay', 'index.ts'), path.join(extDir, 'pay', 'index.js'), { external: ['wx-server-sdk'] }));
  cpSync(path.join(FUNCTIONS_DIR, 'pay', 'config.json'), path.join(extDir, 'pay', 'config.json'));
  const extCloud = await LocalCloud.start({ functionsDir: extDir });
  extCloud.backend.topUp({ env: 'sandbox', openid: PLAYER }, 10_000_000);
  const bundled: number[] = [];
  const external: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const a = await cloud.invoke('pay', await eventFor(cloud, 'pay'), { openid: PLAYER }, { BENCH_EXT: String(i) });
    // NODE_PATH stands in for the node_modules the cloud would install beside index.js.
    const b = await extCloud.invoke('pay', await eventFor(extCloud, 'pay'), { openid: PLAYER }, { BENCH_EXT: String(i), NODE_PATH: path.join(ROOT, 'node_modules') });
    if (a.error || b.error) throw new Error(`bundling comparison: ${a.error?.message ?? b.error?.message}`);
    bundled.push(a.ms);
    external.push(b.ms);
    await cloud.runner.close();
    await extCloud.runner.close();
  }
  const sb = stats(bundled);
  const se = stats(external);
  console.log('\nwx-server-sdk bundled vs installed in node_modules (pay, cold start ms, median / p90)');
  console.log(`  bundled  ${fmt(sb.median)} / ${fmt(sb.p90)}   (index.js ${statSync(path.join(FUNCTIONS_DIR, 'pay', 'index.js')).size} bytes, no dependencies)`);
  console.log(`  external ${fmt(se.median)} / ${fmt(se.p90)}   (index.js ${statSync(path.join(extDir, 'pay', 'index.js')).size} bytes + node_modules)`);

  await Promise.all([cloud.close(), bareCloud.close(), extCloud.close()]);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
