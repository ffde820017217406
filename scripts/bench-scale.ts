/**
 * `npm run bench` (second part): whether the periodic and per-player queries cost what the open
 * orders cost, not what history costs. The ledger and the client orders are filled with 10,000
 * and then 200,000 final orders (20 per player, so the player myOrders reads has as many at either
 * size), and `reconcile`, `deliveryReconcile` and
 * `myOrders` are timed through the local cloud, whose store uses the indexes the deploy declares.
 * Prints numbers; asserts nothing.
 */
import { LocalCloud } from '../test/emulator/local-cloud';

const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 15);
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '10000,200000').split(',').map(Number);
/** Every player has this many orders of each kind, at any size: the one timed by myOrders too. */
const ORDERS_PER_PLAYER = 20;
const TRUSTED = { source: 'wx_trigger' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Final orders of every kind, older than any reconciler's minimum age. */
async function fill(cloud: LocalCloud, from: number, to: number): Promise<void> {
  const old = Date.now() - 86_400_000;
  const e = cloud.functionEnv;
  for (let start = from; start < to; start += 2000) {
    const ledger: string[] = [];
    const client: string[] = [];
    for (let i = start; i < Math.min(to, start + 2000); i++) {
      const openid = `oBenchScale${String(Math.floor(i / ORDERS_PER_PLAYER)).padStart(8, '0')}`;
      const at = old + i;
      ledger.push(JSON.stringify({
        _id: `bench-l-${i}`, kind: i % 3 === 0 ? 'present' : 'pay', api: 'v1', env: 'sandbox', offerId: e.MIDAS_OFFER_ID, appid: e.MIDAS_APPID,
        state: i % 7 === 0 ? 'CANCELLED' : 'COMPLETED', billNo: `benchbill${i}`, openid, amount: 10, call: {}, attempts: 1, cancelAttempts: 0,
        leaseId: '', leaseUntil: 0, lastError: null, result: null, createdAt: at, updatedAt: at, resolvedAt: at,
        ...(i % 5 === 0 && { purchase: { productId: 'sword_basic', quantity: 1, coinPrice: 60 }, grant: 'DELIVERED', grantOpen: false }),
      }));
      client.push(JSON.stringify({
        _id: `mtBench${i}`, openid, kind: 'item', productId: 'sword_basic', quantity: 1, unitPriceFen: 600, totalFen: 600, env: 'sandbox',
        offerId: e.MIDAS_OFFER_ID, appid: e.MIDAS_APPID, zoneId: '1', state: i % 9 === 0 ? 'EXPIRED' : 'DELIVERED', createdAt: at, updatedAt: at,
      }));
    }
    for (const [collectionName, data] of [['midas_orders', ledger], ['midas_client_orders', client]] as const) {
      const r = await cloud.database.handle('database.insertDocument', { collectionName, data });
      if ('code' in r) throw new Error(`${collectionName}: ${r.message}`);
    }
  }
}

async function timed(cloud: LocalCloud, name: string, event: unknown, player: Record<string, string>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const t = performance.now();
    const r = await cloud.invoke(name, event, player, { MIDAS_RECONCILE_MIN_AGE_MS: '60000', MIDAS_DELIVERY_RECONCILE_MIN_AGE_MS: '60000' });
    const ms = performance.now() - t;
    const answer = r.result as { ok?: boolean; error?: { code: string } } | undefined;
    if (r.error || answer?.ok === false) throw new Error(`${name}: ${r.error?.message ?? answer?.error?.code}`);
    if (i >= 3) samples.push(ms); // the first calls start the instance
  }
  return median(samples);
}

async function main(): Promise<void> {
  const cloud = await LocalCloud.start({ midasApi: 'v1' });
  try {
    for (const c of ['midas_orders', 'midas_client_orders']) await cloud.database.createCollection(c);
    const rows: Record<number, Record<string, number>> = {};
    let filled = 0;
    console.log(`\nScale: final orders in the ledger and in the client orders, ${RUNS} runs each (ms, medians, through the local cloud)`);
    for (const size of SIZES) {
      const t = performance.now();
      await fill(cloud, filled, size);
      filled = size;
      const fillS = ((performance.now() - t) / 1000).toFixed(1);
      const player = { openid: 'oBenchScale00000007' }; // 20 orders of each kind at either size
      rows[size] = {
        reconcile: await timed(cloud, 'reconcile', {}, TRUSTED),
        deliveryReconcile: await timed(cloud, 'deliveryReconcile', {}, TRUSTED),
        myOrders: await timed(cloud, 'myOrders', {}, player),
      };
      console.log(`  ${String(size).padStart(7)} final orders each (filled in ${fillS} s)  ${Object.entries(rows[size]!).map(([k, v]) => `${k} ${v.toFixed(1)}`).join('   ')}`);
    }
    if (SIZES.length >= 2) {
      const [a, b] = [SIZES[0]!, SIZES[SIZES.length - 1]!];
      console.log(`  ratio ${b} / ${a}:  ${Object.keys(rows[a]!).map((k) => `${k} ${(rows[b]![k]! / rows[a]![k]!).toFixed(2)}×`).join('   ')}   (goal: at most 1.5×)`);
    }
  } finally {
    await cloud.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
