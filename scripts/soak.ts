/**
 * `npm run soak -- --ops N --seed S [--concurrency C] [--api v1|v2]`: a long randomized run of pay,
 * present, coin purchases (buyWithCoins) and trusted cancels (v1) or refunds (2.0, whole and
 * partial) through the built bundles in the local cloud, against Midas v1 or Virtual Payment 2.0,
 * with everything that goes wrong in a real cloud happening at random, then a check that no coin
 * was lost or doubled and every coin purchase was granted exactly when it was charged. Not part
 * of `npm test`; prints its counts and exits non-zero on any violation.
 *
 * During the traffic:
 * - scripted Midas faults (-1, applied then -1, slow answers, 90016, empty answers, gateway errors);
 * - cloud database faults on the ledger and the inventory (a write refused; a write applied whose
 *   answer is lost);
 * - concurrent duplicates of one idempotency key, and keys reused with other amounts;
 * - function instances killed mid-call;
 * - a reconciler running alongside, from instances whose clocks are up to 25 s off, with either
 *   policy;
 * - a sandbox and a production deployment sharing one ledger collection.
 *
 * After it: the reconciler runs until nothing is open, then the checks: every order final; no
 * bill applied twice, and none in the other environment; every balance, in both environments,
 * equals the initial coins + presents − pays + cancels (2.0: + refunds, which never add up to
 * more than their pay) according to the ledger; a pay a player was
 * told COMPLETED is never refunded unless a cancel of it was asked for; one order per key. Coin
 * purchases: every one that stayed charged is granted exactly once (its marker, and the inventory's
 * counters add up to exactly the grants of those), every grant has a charge, and every cancelled
 * one had its revocable grants taken back or was flagged.
 */
import { mkdirSync, writeFileSync } from 'fs';
import path from 'path';
import { catalogue } from '../shared/virtual-payment/catalogue';
import type { Order } from '../shared/ledger/order-store';
import type { MidasEnv } from '../shared/midas-v1/operation-table';
import type { DbFaultRule } from '../test/emulator/database';
import { LocalCloud } from '../test/emulator/local-cloud';
import type { Fault } from '../test/emulator/midas-backend';

interface Args {
  ops: number;
  seed: number;
  concurrency: number;
  api: 'v1' | 'v2';
}

const USAGE = 'usage: npm run soak -- --ops N --seed S [--concurrency C] [--api v1|v2]';

function parseArgs(argv: string[]): Args {
  const out: Args = { ops: 1000, seed: Date.now() % 1_000_000, concurrency: 12, api: 'v1' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const key = flag.replace(/^--/, '');
    if (key === 'api' && (value === 'v1' || value === 'v2')) out.api = value;
    else if ((key === 'ops' || key === 'seed' || key === 'concurrency') && value !== undefined && /^[0-9]+$/.test(value)) out[key] = Number(value);
    else {
      console.error(`${USAGE}   (bad argument: ${flag} ${value ?? ''})`);
      process.exit(2);
    }
    i++;
  }
  if (out.ops < 1 || out.concurrency < 1) {
    console.error('--ops and --concurrency must be at least 1');
    process.exit(2);
  }
  return out;
}

/** mulberry32: small, seeded, good enough to replay a run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MIDAS_FAULTS: Fault[] = [{ kind: 'busy' }, { kind: 'applyThenBusy' }, { kind: 'delay', ms: 450 }, { kind: 'inProgress' }, { kind: 'empty' }, { kind: 'gatewayError' }];
/** 2.0's 90016 means "the session expired", not "still processing": the other faults. */
const V2_FAULTS: Fault[] = MIDAS_FAULTS.filter((f) => f.kind !== 'inProgress');
const DB_FAULTS: DbFaultRule['kind'][] = ['refuse', 'lostAnswer'];
const DB_ACTIONS = ['database.insertDocument', 'database.modifyDocument'] as const;
const INVENTORY = 'midas_inventory';
/** Products sold for coins, with their prices and grants. */
const COIN_PRODUCTS = [...catalogue().products.values()].filter((p) => p.coinPrice !== undefined);
const ENVS: MidasEnv[] = ['sandbox', 'production'];
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const INITIAL = 1_000_000;
const PLAYERS_PER_ENV = 24;
const COLLECTION = 'midas_orders';

type Answer = { ok: boolean; data?: { state: string; billNo: string; orderId: string; grant?: string; refunded?: number }; error?: { code: string } };
/** One Midas call as the backend of either generation journals it. */
type Sent = { op: string; env: MidasEnv; bill: string; applied: boolean; fault: boolean };

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rand = rng(args.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const started = Date.now();
  const v2 = args.api === 'v2';
  console.log(`soak: ${args.ops} operations, seed ${args.seed}, ${args.concurrency} at a time, ${v2 ? 'Virtual Payment 2.0 (MIDAS_API=v2)' : 'Midas v1'}`);

  const cloud = await LocalCloud.start({
    midasApi: args.api,
    functionEnv: { MIDAS_API: args.api, MIDAS_TIME_BUDGET_MS: '1200', MIDAS_CALL_TIMEOUT_MS: '300', MIDAS_LEDGER_COLLECTION: COLLECTION },
  });
  const deployment = (env: MidasEnv, extra: Record<string, string> = {}) => ({ MIDAS_ENV: env, ...extra });
  // The same players exist in both environments (one ledger, two deployments).
  const players = Array.from({ length: PLAYERS_PER_ENV }, (_, i) => `oSoak${args.seed}_${String(i).padStart(4, '0')}`);
  if (v2) {
    // 2.0 signs every call with the player's session_key: each player logs in once.
    for (const openid of players) {
      const r = await cloud.invoke('login', { code: cloud.wechat.wxLogin(openid) }, { openid });
      if (!(r.result as Answer | undefined)?.ok) throw new Error(`login of ${openid} failed: ${JSON.stringify(r.error ?? r.result)}`);
    }
  }
  for (const env of ENVS) for (const openid of players) (v2 ? cloud.wxa.topUp(env, openid, INITIAL) : cloud.backend.topUp({ env, openid }, INITIAL));
  const balanceOf = (env: MidasEnv, openid: string) => (v2 ? cloud.wxa.balance(env, openid) : cloud.backend.balance({ env, openid }));
  const journal = (): Sent[] =>
    v2
      ? cloud.wxa.journal.map((j) => ({ op: j.op, env: j.env, bill: String(j.body.bill_no ?? ''), applied: j.applied, fault: j.fault !== undefined }))
      : cloud.backend.journal.map((j) => ({ op: j.op, env: j.env, bill: String(j.params.bill_no ?? ''), applied: j.applied, fault: j.fault !== undefined }));

  const counts: Record<string, number> = {};
  const count = (what: string, n = 1) => (counts[what] = (counts[what] ?? 0) + n);
  /** Pays a player was told COMPLETED, and pays a player asked to cancel (billNo). */
  const toldCompleted = new Map<string, MidasEnv>();
  const cancelAsked = new Set<string>();
  const cancellable = new Map<string, string[]>(); // env|openid → billNos
  let issued = 0;
  let unexpected = 0;

  const record = (env: MidasEnv, openid: string, kind: string, a: Answer | undefined) => {
    if (!a) {
      count(`${kind}: invocation failed (killed or timed out)`);
      return;
    }
    count(`${kind}: ${a.ok ? `ok ${a.data?.state}` : a.error?.code}`);
    // (A 2.0 pay answers COMPLETED with `refunded` once a refund of it is under way: not told kept.)
    const charged = (kind === 'pay' && a.ok && a.data?.state === 'COMPLETED' && !a.data.refunded) || (kind === 'buyWithCoins' && a.ok && a.data?.state === 'DELIVERED');
    if (charged && a.data) {
      toldCompleted.set(a.data.billNo, env);
      const k = `${env}|${openid}`;
      cancellable.set(k, [...(cancellable.get(k) ?? []), a.data.billNo]);
    }
    if (!a.ok && a.error?.code === 'INTERNAL') unexpected += 1;
  };

  const invoke = async (env: MidasEnv, fn: string, data: unknown, player: { openid?: string; source?: string }, extra: Record<string, string> = {}) => {
    const r = await cloud.invoke(fn, data, player, deployment(env, extra));
    return r.error ? undefined : (r.result as Answer);
  };

  const one = async (): Promise<void> => {
    const env = pick(ENVS);
    const openid = pick(players);
    const roll = rand();
    if (rand() < 0.12) cloud.injectFault({ op: pick(['pay', 'present', 'cancelPay'] as const), env: pick(ENVS), fault: pick(v2 ? V2_FAULTS : MIDAS_FAULTS), times: 1 + Math.floor(rand() * 3) }, args.api);
    if (v2 && rand() < 0.01) {
      // WeChat expires a player's session_key (90016): their calls fail until they log in again.
      cloud.wxa.expireSession(pick(players));
      count('sessions expired by WeChat (2.0)');
    }
    if (v2 && rand() < 0.02) {
      const who = pick(players);
      await cloud.invoke('login', { code: cloud.wechat.wxLogin(who) }, { openid: who });
      count('players logging in again (2.0)');
    }
    if (rand() < 0.04) {
      cloud.database.injectFault({ kind: pick(DB_FAULTS), collection: rand() < 0.7 ? COLLECTION : INVENTORY, action: pick(DB_ACTIONS) });
      count('database faults injected');
    }
    if (roll < 0.2) {
      // Coin purchases: a few keys per player (repeats), now and then concurrent copies.
      const n = Math.floor(rand() * 40);
      const product = COIN_PRODUCTS[n % COIN_PRODUCTS.length]!;
      const copies = rand() < 0.15 ? 2 + Math.floor(rand() * 2) : 1;
      const req = { productId: product.productId, quantity: 1 + (n % 3), idempotencyKey: `b${n}` };
      const answers = await Promise.all(Array.from({ length: copies }, () => invoke(env, 'buyWithCoins', req, { openid })));
      for (const a of answers) record(env, openid, 'buyWithCoins', a);
      if (copies > 1) count('concurrent duplicates', copies - 1);
    } else if (roll < 0.55) {
      // A few keys per player, so repeats of one purchase happen; now and then the same key with
      // another amount (refused), and concurrent copies of one request.
      const n = Math.floor(rand() * 60);
      const key = `k${n}`;
      const amt = rand() < 0.05 ? 1 + Math.floor(rand() * 500) : 1 + (n % 40);
      const copies = rand() < 0.15 ? 2 + Math.floor(rand() * 2) : 1;
      const answers = await Promise.all(Array.from({ length: copies }, () => invoke(env, 'pay', { amt, idempotencyKey: key }, { openid })));
      for (const a of answers) record(env, openid, 'pay', a);
      if (copies > 1) count('concurrent duplicates', copies - 1);
    } else if (roll < 0.8) {
      const key = rand() < 0.1 ? `g-dup-${Math.floor(rand() * 20)}` : `g${Math.floor(rand() * 1e12)}`;
      record(env, openid, 'present', await invoke(env, 'present', { toOpenid: openid, presentCounts: 1 + Math.floor(rand() * 50), idempotencyKey: key }, { source: 'scf' }));
    } else {
      const bills = cancellable.get(`${env}|${openid}`) ?? [];
      if (bills.length === 0) return;
      const billNo = pick(bills);
      cancelAsked.add(billNo);
      // Cancels are for the game's own functions and operators, never players. 2.0 refunds a
      // raw pay in part now and then (a coin purchase is refunded whole, or refused).
      const partial = v2 && rand() < 0.3 ? { amount: 1 + Math.floor(rand() * 5), idempotencyKey: `r${Math.floor(rand() * 3)}` } : {};
      record(env, openid, 'cancelPay', await invoke(env, 'cancelPay', { billNo, ...partial }, { source: 'scf' }));
    }
  };

  // The traffic, `concurrency` operations at a time.
  let done = 0;
  const worker = async () => {
    while (issued < args.ops) {
      issued += 1;
      await one();
      done += 1;
      if (done % 1000 === 0) console.log(`  ${done} operations, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  };
  let traffic = true;
  // Chaos alongside: kills mid-call, and a reconciler from instances with skewed clocks.
  const chaos = (async () => {
    while (traffic) {
      await new Promise((r) => setTimeout(r, 250));
      if (rand() < 0.2 && cloud.runner.killOneBusy(pick(['pay', 'present', 'cancelPay', 'buyWithCoins']), rand())) count('instances killed mid-call');
    }
  })();
  const reconciler = (async () => {
    while (traffic) {
      await new Promise((r) => setTimeout(r, 400));
      // A few clocks, each its own warm instance: -25 s to +25 s against this machine's.
      const skew = pick([-25_000, -10_000, -2_000, 0, 2_000, 10_000, 25_000]);
      const policy = rand() < 0.5 ? 'complete' : 'refund';
      const env = pick(ENVS);
      const r = await cloud.invoke('reconcile', {}, { source: 'wx_trigger' }, deployment(env, { MIDAS_RECONCILE_MIN_AGE_MS: '0', EMULATOR_CLOCK_OFFSET_MS: String(skew), MIDAS_RECONCILE_PAY_POLICY: policy }));
      const a = r.result as Answer | undefined;
      count(a?.ok ? 'reconciler runs during traffic' : `reconciler runs during traffic that failed: ${r.error?.kind ?? a?.error?.code}`);
    }
  })();
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  traffic = false;
  await Promise.all([chaos, reconciler]);
  const trafficSeconds = (Date.now() - started) / 1000;

  // Every invocation has ended (awaited), so no first invocation is still running: the final
  // reconciliation may take over every lease at once. Calls sent by killed instances land first.
  cloud.clearFaults();
  cloud.database.clearFaults();
  await new Promise((r) => setTimeout(r, 1500));
  // Every player logs in once more: a refund refused for a lapsed login is then sent by the reconciler.
  if (v2) for (const openid of players) await cloud.invoke('login', { code: cloud.wechat.wxLogin(openid) }, { openid });
  const ours = async () => ((await cloud.database.all(COLLECTION)) as unknown as Order[]).filter((o) => players.includes(o.openid));
  // Orders touched by a reconciler whose clock ran ahead carry times (updatedAt, leases) up to
  // 25 s in the future: they are named explicitly, and rounds go on while real time catches up.
  let rounds = 0;
  const lastReports: unknown[] = [];
  for (; rounds < 120; rounds++) {
    const open = (await ours()).filter((o) => !FINAL.has(o.state) || o.grantOpen);
    if (open.length === 0) break;
    if (rounds > 0) await new Promise((r) => setTimeout(r, 1000));
    lastReports.length = 0;
    for (const env of ENVS) {
      const ids = open.filter((o) => o.env === env).map((o) => o._id);
      for (let i = 0; i < ids.length; i += 50) {
        const functionEnv = deployment(env, { MIDAS_MAX_CLOCK_SKEW_MS: '0', MIDAS_TIME_BUDGET_MS: '2500' });
        const r = await cloud.invoke('reconcile', { orderIds: ids.slice(i, i + 50) }, { source: 'wx_trigger' }, functionEnv);
        lastReports.push(r.error ?? r.result);
      }
    }
  }
  if ((await ours()).some((o) => !FINAL.has(o.state) || o.grantOpen)) console.log('last reconciliation:', JSON.stringify(lastReports).slice(0, 2000));

  // The checks.
  const violations: string[] = [];
  const orders = await ours();
  const states: Record<string, number> = {};
  for (const o of orders) states[`${o.env} ${o.kind} ${o.state}`] = (states[`${o.env} ${o.kind} ${o.state}`] ?? 0) + 1;
  for (const o of orders) if (!FINAL.has(o.state)) violations.push(`order ${o._id} (${o.env} ${o.kind}) ended ${o.state}`);
  const ids = new Set(orders.map((o) => o._id));
  for (const o of orders) {
    if (o.grantOpen && !o.purchase) violations.push(`pay ${o.billNo} (${o.env}): its refunds were never all written`);
    for (const [id, share] of Object.entries(o.refunds ?? {})) {
      if (share && !ids.has(id)) violations.push(`pay ${o.billNo} (${o.env}): ${share} coins reserved for a refund that was never written`);
      const r = orders.find((x) => x._id === id);
      if (share && r?.state === 'FAILED') violations.push(`pay ${o.billNo} (${o.env}): ${share} coins reserved for refund ${r.billNo}, which ended FAILED (${r.lastError?.code})`);
    }
  }

  // Where each pay ended for its player. v1 cancels a pay by its own bill (CANCELLED); 2.0 keeps
  // the pay COMPLETED and refunds it with refund orders of their own, in whole or in part.
  const refundsOf = new Map<string, Order[]>();
  for (const o of orders) if (o.kind === 'refund' && o.refundOf) refundsOf.set(o.refundOf, [...(refundsOf.get(o.refundOf) ?? []), o]);
  const refunded = (o: Order) => (refundsOf.get(o._id) ?? []).filter((r) => r.state === 'COMPLETED').reduce((n, r) => n + r.amount, 0);
  type Standing = 'COMPLETED' | 'CANCELLED' | 'FAILED' | 'PARTLY REFUNDED';
  const standing = (o: Order): Standing => {
    if (o.state === 'FAILED' || o.state === 'CANCELLED') return o.state;
    const back = refunded(o);
    return back === 0 ? 'COMPLETED' : back >= o.amount ? 'CANCELLED' : 'PARTLY REFUNDED';
  };
  for (const [payId, refunds] of refundsOf) {
    const pay = orders.find((o) => o._id === payId);
    const back = refunds.filter((r) => r.state === 'COMPLETED').reduce((n, r) => n + r.amount, 0);
    if (!pay) violations.push(`refunds of ${payId}, which is not in the ledger`);
    else if (back > pay.amount) violations.push(`pay ${pay.billNo}: refunds add up to ${back}, more than its ${pay.amount}`);
  }

  // Coin purchases against the inventories.
  const inventories = new Map(((await cloud.database.all(INVENTORY)) as { _id: string; counters?: Record<string, number>; applied?: Record<string, number>; revoked?: Record<string, number> }[]).map((d) => [d._id, d]));
  const purchases = orders.filter((o) => o.purchase);
  const grantStates: Record<string, number> = {};
  const expectedCounters = new Map<string, Record<string, number>>();
  for (const o of purchases) {
    const p = o.purchase!;
    const ended = standing(o);
    grantStates[`${ended} ${o.grant}`] = (grantStates[`${ended} ${o.grant}`] ?? 0) + 1;
    const inv = inventories.get(`${o.env}:${o.openid}`);
    const applied = inv?.applied?.[o._id] !== undefined;
    const revoked = inv?.revoked?.[o._id] !== undefined;
    const product = catalogue().products.get(p.productId)!;
    const where = `coin purchase ${o.billNo} (${ended}, grant ${o.grant})`;
    if (o.grantOpen) violations.push(`${where}: its grant was never brought in line`);
    if (ended === 'PARTLY REFUNDED') violations.push(`${where}: refunded in part (${refunded(o)} of ${o.amount}); a coin purchase is refunded whole`);
    if (ended === 'COMPLETED' && (o.grant !== 'DELIVERED' || !applied || revoked)) violations.push(`${where}: charged but not granted exactly once (applied ${applied}, revoked ${revoked})`);
    if (ended === 'FAILED' && (o.grant !== 'NONE' || applied)) violations.push(`${where}: not charged, yet granted or not marked NONE`);
    if (ended === 'CANCELLED') {
      const ok =
        (o.grant === 'REVOKED' && applied && revoked && product.revocable) ||
        (o.grant === 'FLAGGED' && applied && !revoked && !product.revocable && (o.flags ?? []).some((f) => f.reason === 'cancel_not_revocable')) ||
        ((o.grant === 'NONE' || o.grant === 'REFUSED') && !applied);
      if (!ok) violations.push(`${where}: cancelled, but its grants were neither taken back nor flagged (applied ${applied}, revoked ${revoked})`);
    }
    if (applied && !revoked) {
      const key = `${o.env}:${o.openid}`;
      const c = expectedCounters.get(key) ?? {};
      for (const [k, n] of Object.entries(product.grants)) c[k] = (c[k] ?? 0) + n * p.quantity;
      expectedCounters.set(key, c);
    }
  }
  const purchaseIds = new Set(purchases.map((o) => o._id));
  for (const [id, inv] of inventories) {
    if (!players.some((p) => id.endsWith(`:${p}`))) continue;
    for (const orderId of Object.keys(inv.applied ?? {})) if (!purchaseIds.has(orderId)) violations.push(`inventory ${id} holds a grant of ${orderId}, which no coin purchase charged`);
    const want = expectedCounters.get(id) ?? {};
    for (const k of new Set([...Object.keys(want), ...Object.keys(inv.counters ?? {})])) {
      if ((inv.counters?.[k] ?? 0) !== (want[k] ?? 0)) violations.push(`inventory ${id}: ${k} is ${inv.counters?.[k] ?? 0}, the grants of its charged purchases add up to ${want[k] ?? 0}`);
    }
  }

  // Every bill at Midas: applied once if its order says so, never in the other environment.
  const sentAll = journal();
  const byBill = new Map<string, Sent[]>();
  for (const j of sentAll) if (j.bill) byBill.set(j.bill, [...(byBill.get(j.bill) ?? []), j]);
  for (const o of orders) {
    const sent = byBill.get(o.billNo) ?? [];
    if (sent.some((j) => j.env !== o.env)) violations.push(`bill ${o.billNo} of a ${o.env} order was sent to another environment`);
    // v1 cancels a pay by the pay's own bill; 2.0's refunds are orders with bills of their own.
    const applied = sent.filter((j) => j.op !== 'cancelPay' && j.applied).length;
    const cancels = sent.filter((j) => j.op === 'cancelPay' && j.applied).length;
    const wantApplied = o.state === 'FAILED' ? 0 : 1;
    const wantCancels = o.state === 'CANCELLED' ? 1 : 0;
    if (applied !== wantApplied || cancels !== wantCancels) {
      violations.push(`bill ${o.billNo} (${o.kind} ${o.state}): applied ${applied}× and cancelled ${cancels}× at Midas, the ledger says ${wantApplied}/${wantCancels}`);
    }
  }
  const keys = orders.filter((o) => o.idempotencyKey).map((o) => `${o.env}|${o.kind}|${o.openid}|${o.refundOf ?? ''}|${o.idempotencyKey}`);
  if (new Set(keys).size !== keys.length) violations.push(`${keys.length - new Set(keys).size} idempotency keys have more than one order`);

  // Every balance: the initial coins + presents − pays + what was given back (v1 cancels, 2.0 refunds).
  let presents = 0;
  let pays = 0;
  let cancels = 0;
  for (const env of ENVS) {
    for (const openid of players) {
      const mine = orders.filter((o) => o.env === env && o.openid === openid);
      const sum = (keep: (o: Order) => boolean) => mine.filter(keep).reduce((n, o) => n + o.amount, 0);
      const p = sum((o) => o.kind === 'present' && o.state === 'COMPLETED');
      const paid = sum((o) => o.kind === 'pay' && (o.state === 'COMPLETED' || o.state === 'CANCELLED'));
      const back = sum((o) => (o.kind === 'pay' && o.state === 'CANCELLED') || (o.kind === 'refund' && o.state === 'COMPLETED'));
      presents += p;
      pays += paid;
      cancels += back;
      const expected = INITIAL + p - paid + back;
      const actual = balanceOf(env, openid);
      if (actual !== expected) violations.push(`${env} ${openid}: balance ${actual}, the ledger says ${expected}`);
    }
  }
  for (const [billNo] of toldCompleted) {
    const o = orders.find((x) => x.billNo === billNo);
    if (!o) violations.push(`bill ${billNo} was answered COMPLETED but is not in the ledger`);
    else if (o.state === 'FAILED') violations.push(`bill ${billNo} was answered COMPLETED and ended FAILED`);
    else if (standing(o) !== 'COMPLETED' && !cancelAsked.has(billNo)) violations.push(`bill ${billNo} was answered COMPLETED and given back though no cancel was asked for`);
  }
  if (!v2 && cloud.backend.secretLeaks.length > 0) violations.push(`${cloud.backend.secretLeaks.length} calls carried the secret in clear`);
  if (unexpected > 0) violations.push(`${unexpected} answers were INTERNAL (an unexpected error)`);

  const seconds = (Date.now() - started) / 1000;
  console.log(`\ntraffic: ${issued} operations in ${trafficSeconds.toFixed(1)} s (${(issued / trafficSeconds).toFixed(0)} ops/s); reconciled in ${rounds} rounds; ${seconds.toFixed(1)} s in all`);
  console.log('\nanswers and events:');
  for (const [k, v] of Object.entries(counts).sort()) console.log(`  ${String(v).padStart(7)}  ${k}`);
  console.log(`  ${String(sentAll.filter((j) => j.fault).length).padStart(7)}  Midas calls hit by a scripted fault`);
  console.log(`  ${String(cloud.database.faultLog.length).padStart(7)}  ledger writes hit by a database fault (${cloud.database.faultLog.filter((f) => f.kind === 'lostAnswer').length} applied with the answer lost)`);
  console.log('\norders by final state:');
  for (const [k, v] of Object.entries(states).sort()) console.log(`  ${String(v).padStart(7)}  ${k}`);
  console.log('\ncoin purchases by pay state and grant:');
  for (const [k, v] of Object.entries(grantStates).sort()) console.log(`  ${String(v).padStart(7)}  ${k}`);
  console.log(`\nconservation: ${ENVS.length * players.length} accounts; initial ${INITIAL} each; presents ${presents}, pays ${pays}, ${v2 ? 'refunds' : 'cancels'} ${cancels}`);
  console.log(`bills sent to Midas: ${byBill.size}; pays answered COMPLETED to a player: ${toldCompleted.size}`);
  await cloud.close();
  if (violations.length > 0) {
    console.log(`\n${violations.length} VIOLATIONS (seed ${args.seed}, ${args.api}):`);
    for (const v of violations.slice(0, 50)) console.log(`  ${v}`);
    // Everything needed to follow a violation: the ledger, the inventories and every Midas call.
    const dump = path.join('build', `soak-${args.seed}-${args.api}.json`);
    mkdirSync(path.dirname(dump), { recursive: true });
    writeFileSync(dump, JSON.stringify({ seed: args.seed, api: args.api, violations, orders, inventories: [...inventories.values()], midas: sentAll }, null, 1));
    console.log(`\nthe ledger, the inventories and every Midas call: ${dump}`);
    process.exit(1);
  }
  console.log(`\nno violations: every order final, no bill applied twice, every balance as the ledger says, every charged coin purchase granted exactly once (seed ${args.seed}, ${args.api})`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
