/**
 * Indexes are part of the code: the local cloud refuses a query on a declared collection that no
 * declared index serves, so a new query cannot ship without its index (the deploy creates exactly
 * these). Through the real wx-server-sdk, as a function queries.
 */
import { COLLECTIONS } from '../../../shared/edge/collections';
import { SETTINGS } from '../../../scripts/settings';
import { useInProcessSdk } from '../helpers';

const env = useInProcessSdk({}, 'reconcile');

interface Query {
  orderBy(field: string, dir: 'asc' | 'desc'): Query;
  limit(n: number): Query;
  get(): Promise<{ data: unknown[] }>;
  count(): Promise<{ total: number }>;
}
const ledger = () => env().cloud.database().collection('midas_orders') as unknown as { where(q: Record<string, unknown>): Query; add(o: { data: Record<string, unknown> }): Promise<unknown> };

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return String((e as { errMsg?: string }).errMsg ?? e);
  }
  throw new Error('the query was answered');
}

beforeAll(async () => {
  await env().cloud.database().createCollection('midas_orders').catch(() => undefined);
  await ledger().add({ data: { _id: 'o1', state: 'PENDING', updatedAt: 1, createdAt: 1, openid: 'oA', billNo: 'b1', amount: 5 } });
});

test('queries by _id or starting on a declared index are answered', async () => {
  const _ = env().cloud.database().command;
  expect((await ledger().where({ _id: 'o1' }).get()).data).toHaveLength(1);
  expect((await ledger().where({ state: _.in(['PENDING', 'UNKNOWN']), env: 'sandbox' }).orderBy('updatedAt', 'asc').limit(10).get()).data).toHaveLength(0);
  expect((await ledger().where({ state: 'PENDING' }).orderBy('updatedAt', 'asc').get()).data).toHaveLength(1);
  expect((await ledger().where({ openid: 'oA' }).orderBy('createdAt', 'desc').get()).data).toHaveLength(1);
  expect((await ledger().where({ billNo: 'b1' }).count()).total).toBe(1);
});

test('a query no declared index serves is refused, naming its fields and sort', async () => {
  expect(await refusal(ledger().where({ amount: 5 }).get())).toMatch(/no index declared for midas_orders serves this query \(fields amount\)/);
  // The right field, sorted on a field the index does not hold.
  expect(await refusal(ledger().where({ state: 'PENDING' }).orderBy('amount', 'asc').get())).toMatch(/fields state; sorted by amount/);
  // A count is a query too.
  expect(await refusal(ledger().where({ env: 'sandbox' }).count())).toMatch(/fields env/);
});

test('collections outside the declaration (a game’s own) are not checked', async () => {
  const db = env().cloud.database();
  await db.createCollection('game_players').catch(() => undefined);
  const players = db.collection('game_players') as unknown as { where(q: Record<string, unknown>): Query };
  expect((await players.where({ level: 3 }).get()).data).toEqual([]);
});

test('every collection is renamed by a documented setting, and index names are unique per collection', () => {
  for (const c of Object.values(COLLECTIONS)) {
    expect(SETTINGS).toHaveProperty(c.setting);
    const names = c.indexes.map((i) => i.name);
    expect(new Set(names).size).toBe(names.length);
  }
});
