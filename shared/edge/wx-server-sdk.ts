/**
 * The small part of wx-server-sdk this project uses, typed locally: the SDK's own typings lack
 * `signature`, type `openapi` as `Record<string, any>` and reject DYNAMIC_CURRENT_ENV (SPEC §7).
 */

export type OpenApiMethod = (data: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** The part of `cloud.database()` the ledger uses. */
export interface WxQuery {
  get(): Promise<{ data: Record<string, unknown>[] }>;
  update(options: { data: Record<string, unknown> }): Promise<{ stats: { updated: number } }>;
  remove(): Promise<{ stats: { removed: number } }>;
  orderBy(field: string, direction: 'asc' | 'desc'): WxQuery;
  limit(n: number): WxQuery;
}

export interface WxDatabase {
  readonly command: {
    in(values: unknown[]): unknown;
    lt(value: number): unknown;
    lte(value: number): unknown;
    /** Not equal; matches documents without the field too (MongoDB's $ne). */
    neq(value: unknown): unknown;
    inc(n: number): unknown;
    exists(b: boolean): unknown;
    push(values: unknown[]): unknown;
    /** Replaces the field whole (a plain object would be merged key by key). */
    set(value: unknown): unknown;
  };
  collection(name: string): {
    add(options: { data: Record<string, unknown> }): Promise<{ _id: string }>;
    where(query: Record<string, unknown>): WxQuery;
    /** set() replaces (or creates) the whole document. */
    doc(id: string): { set(options: { data: Record<string, unknown> }): Promise<unknown> };
  };
  createCollection(name: string): Promise<unknown>;
}

export interface WxCloud {
  init(options: { env: unknown; timeout?: number }): void;
  database(): WxDatabase;
  readonly DYNAMIC_CURRENT_ENV: unknown;
  getWXContext(): Record<string, string | number | undefined>;
  signature(options: { type: 'midas'; params: string[]; secret: string }): unknown;
  readonly openapi: Record<string, Record<string, OpenApiMethod>>;
}
