/**
 * Random tokens (bill numbers, lease ids, trade numbers) from the operating system's CSPRNG.
 * Bytes are drawn in blocks and each byte is handed out once, as Node does for randomUUID: one
 * `randomBytes` per token costs more than the rest of a pay's own code (about 6 µs each, measured).
 */
import { randomFillSync } from 'crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `bytes` fresh random bytes (1 to 64) as base64url, never any byte given out before. */
export function randomBase64url(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 64) throw new RangeError('randomBase64url: bytes must be 1 to 64');
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const token = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return token;
}
