/**
 * `npm run orders -- list | flagged | resolve [orderId…]`: the operator's view of the ledger from
 * outside the cloud, with @cloudbase/node-sdk and Tencent Cloud API keys.
 *
 * - list: open orders (PENDING, UNKNOWN, CANCELLING), oldest first; `--state S` for another state.
 * - flagged: every flagged order, client orders (MIDAS_CLIENT_ORDERS_COLLECTION, default
 *   midas_client_orders) and coin purchases, with each flag's reason, time and summary.
 * - resolve: runs the `reconcile` function on the given orders, or on every open order. Only a
 *   cloud function can call Midas, so resolution goes through it, by its documented policy.
 *
 * Environment: TCB_ENV (the cloud environment id), TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY,
 * MIDAS_LEDGER_COLLECTION (default midas_orders), and TCB_SERVICE_URL to point at another gateway
 * (the local cloud of `npm start`: http://127.0.0.1:8787/admin). Add --json for JSON lines.
 */
import tcb from '@cloudbase/node-sdk';
import { OPEN_STATES, ORDER_STATES, type Order } from '../shared/ledger/order-store';

interface Args {
  command: 'list' | 'flagged' | 'resolve';
  ids: string[];
  state?: string;
  json: boolean;
}

function usage(message: string): never {
  console.error(`${message}\nusage: npm run orders -- list [--state STATE] [--json] | flagged [--json] | resolve [orderId…] [--json]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'list' && command !== 'flagged' && command !== 'resolve') usage('a command is required');
  const args: Args = { command, ids: [], json: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--json') args.json = true;
    else if (a === '--state') {
      const s = rest[++i];
      if (!s || !(ORDER_STATES as readonly string[]).includes(s)) usage(`--state takes one of ${ORDER_STATES.join(', ')}`);
      args.state = s;
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else args.ids.push(a);
  }
  return args;
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) usage(`${name} is not set`);
  return v;
}

/** node-sdk answers some failures as `{code, message}` instead of throwing. */
function check<T>(r: T): T {
  const e = r as { code?: string; message?: string };
  if (e && typeof e === 'object' && e.code) throw new Error(`${e.code}: ${e.message ?? ''}`);
  return r;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const app = tcb.init({
    env: env('TCB_ENV'),
    secretId: env('TENCENTCLOUD_SECRETID'),
    secretKey: env('TENCENTCLOUD_SECRETKEY'),
    ...(process.env.TCB_SERVICE_URL && { serviceUrl: process.env.TCB_SERVICE_URL }),
  } as Parameters<typeof tcb.init>[0]);
  const db = app.database();
  const collection = process.env.MIDAS_LEDGER_COLLECTION || 'midas_orders';
  const states = args.state ? [args.state] : [...OPEN_STATES];

  const listOrders = async (): Promise<Order[]> => {
    const r = check(await db.collection(collection).where({ state: db.command.in(states) }).orderBy('updatedAt', 'asc').limit(1000).get());
    return (r as { data: Order[] }).data;
  };

  if (args.command === 'flagged') {
    type Flag = { reason: string; at: number; detail?: string; details?: unknown };
    const rows: Record<string, unknown>[] = [];
    const clientOrders = process.env.MIDAS_CLIENT_ORDERS_COLLECTION || 'midas_client_orders';
    for (const [name, what] of [
      [clientOrders, 'client order'],
      [collection, 'coin purchase'],
    ] as const) {
      // Earlier versions wrote a single `flag` on client orders only.
      for (const field of what === 'client order' ? ['flags', 'flag'] : ['flags']) {
        let docs: { _id: string; state: string; openid: string; env: string; flags?: Flag[]; flag?: Flag }[] = [];
        try {
          docs = (check(await db.collection(name).where({ [field]: db.command.exists(true) }).limit(1000).get()) as { data: typeof docs }).data;
        } catch (e) {
          if (!/COLLECTION_NOT_EXIST|not exist/i.test(String((e as Error).message))) throw e;
        }
        for (const d of docs) {
          for (const f of field === 'flags' ? (d.flags ?? []) : d.flag ? [d.flag] : []) {
            rows.push({ what, orderId: d._id, env: d.env, state: d.state, openid: d.openid, reason: f.reason, at: new Date(f.at).toISOString(), detail: f.detail ?? (f.details === undefined ? '' : JSON.stringify(f.details)) });
          }
        }
      }
    }
    for (const row of rows) console.log(args.json ? JSON.stringify(row) : Object.values(row).join('\t'));
    if (!args.json) console.error(`${rows.length} flag(s)`);
    return;
  }

  if (args.command === 'list') {
    const orders = await listOrders();
    const now = Date.now();
    for (const o of orders) {
      const row = { orderId: o._id, billNo: o.billNo, env: o.env, kind: o.kind, state: o.state, openid: o.openid, amount: o.amount, attempts: o.attempts, ageMinutes: Math.round((now - o.createdAt) / 60000), lastError: o.lastError?.code ?? null };
      console.log(args.json ? JSON.stringify(row) : Object.values(row).join('\t'));
    }
    if (!args.json) console.error(`${orders.length} order(s) in ${states.join(', ')}`);
    return;
  }

  const ids = args.ids.length > 0 ? args.ids : (await listOrders()).map((o) => o._id);
  if (ids.length === 0) {
    if (!args.json) console.error('no open orders');
    return;
  }
  for (let i = 0; i < ids.length; i += 100) {
    const r = check(await app.callFunction({ name: 'reconcile', data: { orderIds: ids.slice(i, i + 100) } }));
    const result = (r as { result?: { ok: boolean; data?: { resolved: unknown[]; skipped: unknown[] }; error?: { code: string } } }).result;
    if (!result?.ok) throw new Error(`reconcile failed: ${result?.error?.code ?? 'no answer'}`);
    for (const x of [...result.data!.resolved, ...result.data!.skipped]) console.log(args.json ? JSON.stringify(x) : Object.values(x as object).join('\t'));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
