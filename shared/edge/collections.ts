/**
 * Collections are made on first use, so a new deployment needs no console step before its first
 * order. TCB answers -502005 for a collection that does not exist.
 */
import type { WxDatabase } from './wx-server-sdk';

export function isMissingCollection(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { errCode?: unknown }).errCode === -502005;
}

/** Runs `op` on a collection, making the collection first (once) if this deployment has none yet. */
export async function inCollection<T>(db: WxDatabase, name: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (!isMissingCollection(e)) throw e;
    // Another invocation may make it at the same moment: "already exists" is fine.
    await db.createCollection(name).catch(() => undefined);
    return op();
  }
}
