/** HMAC-SHA256 and constant-time comparison, the primitives of every WeChat signature. */
import { createHmac, timingSafeEqual } from 'crypto';

export function hmacSha256Hex(key: string, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('hex');
}

/** Compares two hex signatures in constant time; false for anything that is not the same length. */
export function signaturesEqual(expected: string, actual: unknown): boolean {
  if (typeof actual !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
