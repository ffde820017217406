/**
 * The cloud database as the gateway serves it to wx-server-sdk and @cloudbase/node-sdk
 * (SPEC §7): JSON actions `database.*` whose queries and documents are canonical EJSON strings.
 * Query and update semantics are nedb's (Mongo-style, maintained), not hand-written matching;
 * with a data directory every collection is an append-only file that survives restarts.
 */
import Datastore from '@seald-io/nedb';
import { EJSON } from 'bson';
import { existsSync, mkdirSync, readdirSync } from 'fs';
import path from 'path';
import type { IndexDeclaration } from '../../shared/edge/collections';
import { FaultQueue } from './fault-queue';

/** What the gateway sends back: `{data}` on success, `{code, message}` for an error. */
export type DbAnswer = { data: Record<string, unknown> } | { code: string; message: string };

type Doc = Record<string, unknown> & { _id?: unknown };

/** The write actions a database fault can hit. */
export const DB_WRITE_ACTIONS = ['database.insertDocument', 'database.modifyDocument', 'database.removeDocument'] as const;

/**
 * A scripted failure of the cloud database:
 * - `refuse`: the write is refused, nothing changes (a failed request);
 * - `lostAnswer`: the write is applied, then the answer is an error (the caller cannot know).
 */
export interface DbFaultRule {
  kind: 'refuse' | 'lostAnswer';
  collection?: string;
  action?: (typeof DB_WRITE_ACTIONS)[number];
  /** How many matching writes it hits (default 1). */
  times?: number;
}

const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The cloud database is MongoDB underneath and, like MongoDB, stores no document nested more than
 * 100 levels deep (the document itself is level 1; every object or array inside adds one).
 */
export const MAX_NESTING = 100;
/**
 * The store of this local cloud (nedb) checks a document in time that doubles with every array on
 * a path: arrays nested deeper than this are refused here (the cloud takes them up to
 * MAX_NESTING) rather than freezing the local cloud. No real document comes near it.
 */
export const MAX_LOCAL_ARRAY_NESTING = 16;

/**
 * How deep a value goes (levels of objects and arrays, the value itself being level 1, and a
 * dotted key `a.b.c` of an update counting as its three levels) and how many arrays one path
 * crosses. Walks with its own stack, so no depth of input can overflow the call stack.
 */
export function nestingOf(value: unknown, dottedKeys = false): { levels: number; arrays: number } {
  let levels = 0;
  let arrays = 0;
  const stack: { v: unknown; level: number; arrays: number }[] = [{ v: value, level: 1, arrays: 0 }];
  while (stack.length > 0) {
    const { v, level, arrays: a } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const here = Array.isArray(v) ? a + 1 : a;
    levels = Math.max(levels, level);
    arrays = Math.max(arrays, here);
    if (levels > MAX_NESTING + 1) break; // far enough to refuse
    for (const [k, child] of Object.entries(v)) {
      const extra = dottedKeys && !Array.isArray(v) ? k.split('.').length - 1 : 0;
      levels = Math.max(levels, level + extra); // the objects a dotted path implies
      stack.push({ v: child, level: level + 1 + extra, arrays: here });
    }
  }
  return { levels, arrays };
}

/** Why the database refuses a document (or an update, with its dotted keys), if it does. */
function nestingRefusal(what: 'insert' | 'update' | 'query', value: unknown): DbAnswer | undefined {
  // An update's operators ($set…) and a query's are not levels of the stored document.
  const n = nestingOf(value, what !== 'insert');
  const levels = what === 'insert' ? n.levels : n.levels - (hasOperatorKeys(value) ? 1 : 0);
  if (levels > MAX_NESTING) {
    const message =
      what === 'insert'
        ? `cannot insert document because it exceeds ${MAX_NESTING} levels of nesting`
        : what === 'update'
          ? `the update would leave the document more than ${MAX_NESTING} levels deep`
          : `the query is nested more than ${MAX_NESTING} levels deep`;
    return { code: 'DATABASE_REQUEST_FAILED', message };
  }
  if (n.arrays > MAX_LOCAL_ARRAY_NESTING) {
    return { code: 'DATABASE_REQUEST_FAILED', message: `local cloud: arrays nested more than ${MAX_LOCAL_ARRAY_NESTING} deep are not stored here (the cloud database allows up to ${MAX_NESTING} levels)` };
  }
  return undefined;
}

function hasOperatorKeys(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).some((k) => k.startsWith('$'));
}

function parseEjson(text: unknown): Doc {
  if (text === undefined || text === null || text === '') return {};
  return EJSON.parse(String(text), { relaxed: true }) as Doc;
}

function toEjson(doc: unknown): string {
  return EJSON.stringify(doc as Doc, { relaxed: false });
}

export class CloudDatabase {
  private collections = new Map<string, Datastore<Doc>>();
  private faults = new FaultQueue<DbFaultRule>();
  /** Writes a fault hit: what happened to each. */
  readonly faultLog: { kind: DbFaultRule['kind']; collection: string; action: string }[] = [];

  injectFault(rule: DbFaultRule): void {
    if (rule.kind !== 'refuse' && rule.kind !== 'lostAnswer') throw new Error(`unknown database fault kind ${String(rule.kind)}`);
    this.faults.add(rule, rule.times ?? 1);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** The database faults still waiting. */
  pendingFaults(): { rule: DbFaultRule; left: number }[] {
    return this.faults.list();
  }

  /**
   * Every `state` a document took, as the database saw its writes (collection → _id → states):
   * the console shows a ledger order's history from it. Kept in memory for this run.
   */
  private stateJournal = new Map<string, Map<string, { state: unknown; at: number }[]>>();

  /** The state journal, to keep across a restart with the rest of the local cloud. */
  journalSnapshot(): [string, [string, { state: unknown; at: number }[]][]][] {
    return [...this.stateJournal].map(([c, byId]) => [c, [...byId]]);
  }

  restoreJournal(saved: [string, [string, { state: unknown; at: number }[]][]][]): void {
    this.stateJournal = new Map(saved.map(([c, byId]) => [c, new Map(byId)]));
  }

  stateHistory(collection: string, id: string): { state: unknown; at: number }[] {
    return this.stateJournal.get(collection)?.get(id) ?? [];
  }

  private noteStates(collection: string, docs: unknown): void {
    const list = (Array.isArray(docs) ? docs : docs ? [docs] : []) as Doc[];
    for (const d of list) {
      if (d.state === undefined || d._id === undefined) continue;
      let byId = this.stateJournal.get(collection);
      if (!byId) this.stateJournal.set(collection, (byId = new Map()));
      const id = String(d._id);
      const h = byId.get(id) ?? [];
      if (h.at(-1)?.state !== d.state) h.push({ state: d.state, at: Date.now() });
      byId.set(id, h.slice(-50));
    }
  }

  private takeFault(collection: string, action: string): DbFaultRule['kind'] | undefined {
    if (!(DB_WRITE_ACTIONS as readonly string[]).includes(action)) return undefined;
    const rule = this.faults.take((f) => (!f.collection || f.collection === collection) && (!f.action || f.action === action));
    if (!rule) return undefined;
    this.faultLog.push({ kind: rule.kind, collection, action });
    return rule.kind;
  }

  /** @param dataDir where collections persist; in memory when undefined. */
  constructor(private readonly dataDir?: string) {}

  /** The indexes declared for each collection (what a deploy creates): queries must use them. */
  private indexes = new Map<string, readonly IndexDeclaration[]>();

  /**
   * Declares the indexes of collections, as the deploy creates them. From then on a query on one of
   * these collections that neither names `_id` nor starts on a declared index (its first field in
   * the query, any sort on the index's fields) is refused, so a query the cloud would answer by
   * scanning every document fails here first. The store indexes each index's first field too, so
   * a query's cost here follows what the index selects, as it does in the cloud.
   */
  async declareIndexes(byCollection: ReadonlyMap<string, readonly IndexDeclaration[]>): Promise<void> {
    for (const [name, list] of byCollection) {
      this.indexes.set(name, list);
      const ds = this.collections.get(name);
      if (ds) await this.ensureIndexes(name, ds);
    }
  }

  private async ensureIndexes(name: string, ds: Datastore<Doc>): Promise<void> {
    for (const index of this.indexes.get(name) ?? []) {
      const field = index.keys[0]![0];
      // An array of objects is not a key the local store can order; the cloud indexes it (multikey).
      if (field !== 'flags') await ds.ensureIndexAsync({ fieldName: field });
    }
  }

  /** Why no declared index serves a query, if none does. */
  private unindexed(name: string, query: Doc, order: Record<string, unknown>): string | undefined {
    const declared = this.indexes.get(name);
    if (!declared || '_id' in query) return undefined;
    const fields = Object.keys(query);
    const sorted = Object.keys(order);
    const served = declared.some((i) => fields.includes(i.keys[0]![0]) && sorted.every((f) => i.keys.some(([k]) => k === f)));
    if (served) return undefined;
    return `local cloud: no index declared for ${name} serves this query (fields ${fields.join(', ') || 'none'}${sorted.length ? `; sorted by ${sorted.join(', ')}` : ''}): declare one beside the collections (shared/edge/collections.ts)`;
  }

  /** Opens every collection already on disk. */
  async open(): Promise<void> {
    if (!this.dataDir) return;
    mkdirSync(this.dataDir, { recursive: true });
    for (const f of readdirSync(this.dataDir)) {
      if (f.endsWith('.db')) await this.load(f.slice(0, -3));
    }
  }

  private async load(name: string): Promise<Datastore<Doc>> {
    const ds = new Datastore<Doc>(this.dataDir ? { filename: path.join(this.dataDir, `${name}.db`) } : {});
    await ds.loadDatabaseAsync();
    this.collections.set(name, ds);
    await this.ensureIndexes(name, ds);
    return ds;
  }

  async createCollection(name: string): Promise<boolean> {
    if (!COLLECTION_NAME.test(name)) throw new Error(`bad collection name ${name}`);
    if (this.collections.has(name)) return false;
    await this.load(name);
    return true;
  }

  hasCollection(name: string): boolean {
    return this.collections.has(name) || (this.dataDir !== undefined && existsSync(path.join(this.dataDir, `${name}.db`)));
  }

  /** The collections that exist. */
  collectionNames(): string[] {
    return [...this.collections.keys()].sort();
  }

  /** Every document of a collection as canonical EJSON objects (dates and the like survive a round trip). */
  async allAsEjson(name: string): Promise<unknown[]> {
    return (await this.all(name)).map((d) => EJSON.serialize(d, { relaxed: false }));
  }

  /** Replaces every collection with the given documents (an import); collections not named are emptied. */
  async replaceAll(collections: Record<string, unknown[]>): Promise<void> {
    for (const [name, docs] of Object.entries(collections)) {
      if (!COLLECTION_NAME.test(name) || !Array.isArray(docs)) throw new Error(`collection ${name}: a name and a list of documents are needed`);
    }
    for (const name of new Set([...this.collections.keys(), ...Object.keys(collections)])) {
      await this.createCollection(name);
      const ds = this.collections.get(name)!;
      await ds.removeAsync({}, { multi: true });
      const docs = (collections[name] ?? []).map((d) => EJSON.deserialize(d as Doc, { relaxed: true }) as Doc);
      if (docs.length) await ds.insertAsync(docs);
    }
  }

  /** Every document of a collection, for tests and the emulator's own checks. */
  async all(name: string): Promise<Doc[]> {
    const ds = this.collections.get(name);
    return ds ? ds.findAsync({}) : [];
  }

  async close(): Promise<void> {
    for (const ds of this.collections.values()) {
      if (this.dataDir) await ds.compactDatafileAsync();
    }
    this.collections.clear();
  }

  /** Handles one `database.*` action as the gateway receives it, with any scripted fault. */
  async handle(action: string, params: Record<string, unknown>): Promise<DbAnswer> {
    const fault = this.takeFault(String(params.collectionName ?? ''), action);
    if (fault === 'refuse') return { code: 'DATABASE_REQUEST_FAILED', message: 'emulated fault: the write was refused' };
    const answer = await this.apply(action, params);
    if (fault === 'lostAnswer') return { code: 'DATABASE_REQUEST_FAILED', message: 'emulated fault: the answer was lost' };
    return answer;
  }

  private async apply(action: string, params: Record<string, unknown>): Promise<DbAnswer> {
    const name = String(params.collectionName ?? '');
    if (action === 'database.addCollection') {
      if (!COLLECTION_NAME.test(name)) return { code: 'INVALID_PARAM', message: 'invalid collection name' };
      return (await this.createCollection(name))
        ? { data: {} }
        : { code: 'DATABASE_COLLECTION_ALREADY_EXIST', message: `collection ${name} already exists` };
    }
    if (params.transactionId) return { code: 'INVALID_ACTION', message: 'transactions are not used by this project and not emulated' };
    const ds = this.collections.get(name);
    if (!ds) return { code: 'DATABASE_COLLECTION_NOT_EXIST', message: `collection ${name} does not exist` };
    try {
      const query = parseEjson(params.query);
      // Checked before anything reaches the store, as the cloud does.
      const deepQuery = nestingRefusal('query', query);
      if (deepQuery) return deepQuery;
      if (action !== 'database.insertDocument') {
        const why = this.unindexed(name, query, parseEjson(params.order));
        if (why) return { code: 'DATABASE_REQUEST_FAILED', message: why };
      }
      switch (action) {
        case 'database.insertDocument': {
          const docs = (params.data as unknown[]).map(parseEjson);
          for (const d of docs) {
            const refusal = nestingRefusal('insert', d);
            if (refusal) return refusal;
          }
          const inserted = await ds.insertAsync(docs);
          this.noteStates(name, inserted);
          return { data: { insertedIds: (Array.isArray(inserted) ? inserted : [inserted]).map((d) => d._id) } };
        }
        case 'database.getDocument': {
          let cursor = ds.findAsync(query);
          if (params.order) cursor = cursor.sort(parseEjson(params.order) as Record<string, 1 | -1>);
          if (params.offset) cursor = cursor.skip(Number(params.offset));
          cursor = cursor.limit(params.multi === false ? 1 : Math.min(Number(params.limit ?? 100), 1000));
          if (params.projection) cursor = cursor.projection(parseEjson(params.projection) as Record<string, 0 | 1>);
          const list = await cursor;
          return { data: { list: list.map(toEjson), limit: params.limit ?? 100, offset: params.offset ?? 0 } };
        }
        case 'database.modifyDocument': {
          const data = parseEjson(params.data);
          const refusal = nestingRefusal(params.merge === false ? 'insert' : 'update', data);
          if (refusal) return refusal;
          // A replacing upsert (doc.set) takes its _id from the query, as in MongoDB.
          if (params.merge === false && params.upsert === true && query._id !== undefined && data._id === undefined) data._id = query._id;
          // With merge the data holds update operators ($set, $inc…); without (doc.set) it is a
          // whole document that replaces the match. nedb reads both forms the same way Mongo does.
          const r = await ds.updateAsync(query, data, { multi: params.multi !== false, upsert: params.upsert === true, returnUpdatedDocs: true });
          this.noteStates(name, r.affectedDocuments);
          const upsertId = r.upsert && r.affectedDocuments && !Array.isArray(r.affectedDocuments) ? (r.affectedDocuments as Doc)._id : null;
          return { data: { updated: r.upsert ? 0 : r.numAffected, upsert_id: upsertId } };
        }
        case 'database.removeDocument':
          return { data: { deleted: await ds.removeAsync(query, { multi: params.multi !== false }) } };
        case 'database.calculateDocument':
          return { data: { total: await ds.countAsync(query) } };
        default:
          return { code: 'INVALID_ACTION', message: `action ${action} is not emulated` };
      }
    } catch (e) {
      const err = e as { errorType?: string; key?: unknown; message?: string };
      if (err.errorType === 'uniqueViolated') {
        // The shape TCB answers with for a duplicate _id (MongoDB's E11000).
        return { code: 'DATABASE_REQUEST_FAILED', message: `E11000 duplicate key error collection: ${name} index: _id_ dup key: { _id: ${JSON.stringify(err.key)} }` };
      }
      return { code: 'DATABASE_REQUEST_FAILED', message: err.message ?? String(e) };
    }
  }
}
