/**
 * What a deploy makes live, from the code and the operator's settings: every function (its built
 * code, runtime, handler, timeout, memory, the variables its settings reader reads with these
 * settings that have a value, its timer triggers) and every collection the functions use
 * (admin-only, with the indexes declared beside it in shared/edge/collections.ts).
 */
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import path from 'path';
import { zipSync } from 'fflate';
import { COLLECTIONS, collectionName, type IndexDeclaration } from '../../shared/edge/collections';
import type { TimerTrigger } from '../../shared/edge/function';
import type { FunctionEntry } from '../build-lib';

/** The Node.js runtime the functions run on (the bundles target node16: 16.13 or later). */
export const RUNTIME = 'Nodejs18.15';
export const HANDLER = 'index.main';
export const MEMORY_MB = 256;
/** The permission every collection gets: only the server SDKs (admin) read or write it. */
export const ACL = 'ADMINONLY';
/** What the code package of a function holds (what `npm run build` writes to its folder). */
export const PACKAGE_FILES = ['index.js', 'package.json', 'config.json'] as const;

export interface FunctionPlan {
  name: string;
  runtime: string;
  handler: string;
  timeout: number;
  memory: number;
  /** Every variable the function reads that has a value (names and values; values may be secrets). */
  variables: Record<string, string>;
  triggers: readonly TimerTrigger[];
  /** The openapi names of its config.json (granted by hand: see the manual steps). */
  openapi: readonly string[];
  zip: Buffer;
  /** SHA-256 of the code, recorded in the function's description so a later run can tell it is live. */
  codeHash: string;
  description: string;
}

export interface CollectionPlan {
  name: string;
  setting: string;
  acl: typeof ACL;
  indexes: readonly IndexDeclaration[];
}

export interface Plan {
  functions: FunctionPlan[];
  collections: CollectionPlan[];
}

/** A zip of the built files that is the same bytes for the same code (fixed times, fixed order). */
export function codePackage(dir: string): { zip: Buffer; codeHash: string } {
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const hash = createHash('sha256');
  for (const f of PACKAGE_FILES) {
    const data = readFileSync(path.join(dir, f));
    files[f] = [data, { mtime: new Date('2020-01-01T00:00:00Z') }];
    hash.update(`${f}\0${data.length}\0`).update(data);
  }
  return { zip: Buffer.from(zipSync(files, { level: 9 })), codeHash: hash.digest('hex') };
}

export function descriptionOf(codeHash: string): string {
  return `midas-cloud; code sha256 ${codeHash}`;
}

/** The code hash a deploy recorded in a function's description, if it did. */
export function codeHashIn(description: string | undefined): string | undefined {
  return /code sha256 ([0-9a-f]{64})/.exec(description ?? '')?.[1];
}

export function makePlan(table: Record<string, FunctionEntry>, functionsDir: string, values: Record<string, string>): Plan {
  const functions = Object.entries(table).map(([name, f]): FunctionPlan => {
    const { zip, codeHash } = codePackage(path.join(functionsDir, name));
    return {
      name,
      runtime: RUNTIME,
      handler: HANDLER,
      timeout: f.timeoutSeconds,
      memory: MEMORY_MB,
      variables: Object.fromEntries(f.variables.filter((v) => values[v] !== undefined && values[v] !== '').map((v) => [v, values[v]!])),
      triggers: f.triggers ?? [],
      openapi: f.openapi,
      zip,
      codeHash,
      description: descriptionOf(codeHash),
    };
  });
  const collections = Object.entries(COLLECTIONS).map(([role, c]): CollectionPlan => ({
    name: collectionName(values, role as keyof typeof COLLECTIONS),
    setting: c.setting,
    acl: ACL,
    indexes: c.indexes,
  }));
  return { functions, collections };
}
