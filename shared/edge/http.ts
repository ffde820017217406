/**
 * A plain GET with a timeout, on Node's own http/https (the cloud runtime may be Node 16,
 * without fetch). Callers must not log the URL when it carries tokens.
 */
import http from 'http';
import https from 'https';

/** Reads a whole response as text. */
function collect(resolve: (r: { status: number; body: string }) => void, reject: (e: Error) => void) {
  return (res: http.IncomingMessage) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    res.on('error', reject);
  };
}

export type HttpGet = (url: string, headers: Record<string, string>, timeoutMs: number) => Promise<{ status: number; body: string }>;

export const httpGet: HttpGet = (url, headers, timeoutMs) =>
  new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { headers, timeout: timeoutMs }, collect(resolve, reject));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });

export type HttpPost = (url: string, headers: Record<string, string>, body: string, timeoutMs: number) => Promise<{ status: number; body: string }>;

/** A POST of `body` exactly as given (callers sign these bytes), with a timeout. */
export const httpPost: HttpPost = (url, headers, body, timeoutMs) =>
  new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const payload = Buffer.from(body, 'utf8');
    const req = lib.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(payload.length) }, timeout: timeoutMs }, collect(resolve, reject));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
