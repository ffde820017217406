/**
 * TC3-HMAC-SHA256, the signature of every Tencent Cloud API request, as Tencent Cloud checks it:
 * the canonical request (method, path, query, the signed headers with lower-case names and values,
 * the hex SHA-256 of the body), the string to sign for the UTC date of X-TC-Timestamp and the
 * service, and a key derived from the SecretKey through the date, the service and "tc3_request".
 */
import { createHash, createHmac, timingSafeEqual } from 'crypto';

const sha256Hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

export interface Tc3Input {
  method: string;
  path: string;
  query: string;
  /** Header name → value, for the names in signedHeaders. */
  headers: Record<string, string>;
  signedHeaders: string[];
  body: string | Buffer;
  timestamp: number;
  service: string;
  secretKey: string;
}

/** The UTC date (YYYY-MM-DD) of a timestamp in seconds. */
export function tc3Date(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

export function canonicalRequest(i: Omit<Tc3Input, 'timestamp' | 'service' | 'secretKey'>): string {
  const names = [...i.signedHeaders].map((n) => n.toLowerCase()).sort();
  const headers = names.map((n) => `${n}:${(i.headers[n] ?? '').trim().toLowerCase()}\n`).join('');
  return `${i.method.toUpperCase()}\n${i.path}\n${i.query}\n${headers}\n${names.join(';')}\n${sha256Hex(i.body)}`;
}

export function stringToSign(canonical: string, timestamp: number, service: string): string {
  return `TC3-HMAC-SHA256\n${timestamp}\n${tc3Date(timestamp)}/${service}/tc3_request\n${sha256Hex(canonical)}`;
}

export function tc3Signature(i: Tc3Input): string {
  const date = tc3Date(i.timestamp);
  const key = hmac(hmac(hmac(`TC3${i.secretKey}`, date), i.service), 'tc3_request');
  return createHmac('sha256', key).update(stringToSign(canonicalRequest(i), i.timestamp, i.service)).digest('hex');
}

/** The parts of an `Authorization: TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header. */
export function parseAuthorization(header: string | undefined): { secretId: string; date: string; service: string; signedHeaders: string[]; signature: string } | undefined {
  const m = /^TC3-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{4}-\d{2}-\d{2})\/([a-z]+)\/tc3_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return undefined;
  return { secretId: m[1]!, date: m[2]!, service: m[3]!, signedHeaders: m[4]!.split(';'), signature: m[5]! };
}

export function sameSignature(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
