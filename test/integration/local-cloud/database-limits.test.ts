/**
 * The local cloud's database refuses what the cloud database refuses, before it reaches the
 * store: documents, updates and queries nested more than 100 levels deep. Arrays nested past the
 * local store's own bound are refused too (it would otherwise take time doubling with each), so
 * no input can freeze the local cloud. Through the real wx-server-sdk, as a function sees it.
 */
import { MAX_LOCAL_ARRAY_NESTING, MAX_NESTING, nestingOf } from '../../emulator/database';
import { useInProcessSdk } from '../helpers';

const env = useInProcessSdk({}, 'pay');

/** A document `levels` deep: the document itself and levels - 1 objects (or arrays) inside. */
function nested(levels: number, array = false): Record<string, unknown> {
  let v: unknown = 'leaf';
  for (let i = 1; i < levels; i++) v = array ? [v] : { n: v };
  return { v };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toMatchObject({ errCode: -502001 });
    return String((e as { errMsg?: string; message?: string }).errMsg ?? (e as Error).message);
  }
  throw new Error('the database accepted it');
}

/** The part of wx-server-sdk's collection API these tests use. */
interface Collection {
  add(o: { data: Record<string, unknown> }): Promise<unknown>;
  doc(id: string): {
    get(): Promise<{ data: Record<string, unknown> }>;
    update(o: { data: Record<string, unknown> }): Promise<unknown>;
    set(o: { data: Record<string, unknown> }): Promise<unknown>;
  };
  where(q: Record<string, unknown>): {
    get(): Promise<{ data: unknown[] }>;
    count(): Promise<{ total: number }>;
    update(o: { data: Record<string, unknown> }): Promise<unknown>;
  };
}

const collection = () => env().cloud.database().collection('deep_docs') as unknown as Collection;

beforeAll(async () => {
  await env().cloud.database().createCollection('deep_docs');
});

test('a document exactly 100 levels deep is stored and read back; 101 is refused with the cloud’s error and nothing is stored', async () => {
  await collection().add({ data: { _id: 'ok100', ...nested(MAX_NESTING) } });
  const back = (await collection().doc('ok100').get()).data;
  expect(nestingOf({ v: back.v }).levels).toBe(MAX_NESTING);
  expect(await refusal(collection().add({ data: { _id: 'deep101', ...nested(MAX_NESTING + 1) } }))).toMatch(/exceeds 100 levels of nesting/);
  expect(await refusal(collection().add({ data: { _id: 'deep130', ...nested(130) } }))).toMatch(/exceeds 100 levels of nesting/);
  expect((await collection().where({ _id: env().cloud.database().command.in(['deep101', 'deep130']) }).get()).data).toEqual([]);
});

test('an update or a replacing set that would go past 100 levels is refused and leaves the document as it was', async () => {
  await collection().add({ data: { _id: 'upd', shallow: 1 } });
  expect(await refusal(collection().doc('upd').update({ data: { deep: nested(MAX_NESTING + 1).v } }))).toMatch(/more than 100 levels/);
  expect(await refusal(collection().doc('upd').set({ data: nested(MAX_NESTING + 5) }))).toMatch(/100 levels/);
  const doc = (await collection().doc('upd').get()).data;
  expect(doc).toEqual({ _id: 'upd', shallow: 1 });
  // Exactly 100 levels after the update is fine.
  await collection().doc('upd').update({ data: { deep: nested(MAX_NESTING).v } });
  expect(nestingOf((await collection().doc('upd').get()).data).levels).toBe(MAX_NESTING);
});

test('arrays nested 200 deep (or past the local bound) are refused at once, and the local cloud keeps answering', async () => {
  expect(await refusal(collection().add({ data: { _id: 'arr200', ...nested(200, true) } }))).toMatch(/100 levels of nesting/);
  expect(await refusal(collection().add({ data: { _id: 'arr40', ...nested(MAX_LOCAL_ARRAY_NESTING + 5, true) } }))).toMatch(/arrays nested more than/);
  expect(await refusal(collection().where({ _id: 'x' }).update({ data: { a: nested(60, true).v } }))).toMatch(/arrays nested more than/);
  // Within the bound it is stored as given.
  await collection().add({ data: { _id: 'arr8', ...nested(8, true) } });
  expect(nestingOf((await collection().doc('arr8').get()).data.v)).toEqual({ levels: 7, arrays: 7 });
  expect((await collection().where({ _id: 'ok100' }).count()).total).toBe(1);
});

test('a query nested past 100 levels is refused', async () => {
  expect(await refusal(collection().where({ v: nested(MAX_NESTING + 2).v }).get())).toMatch(/query is nested more than 100 levels/);
});
