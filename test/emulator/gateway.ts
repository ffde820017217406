/**
 * A local stand-in for the WeChat cloud gateway on 127.0.0.1. The real wx-server-sdk inside a
 * built bundle talks to it unchanged (SPEC §7): it answers `wx.openApi` with protobuf, enforces
 * each function's config.json permissions, and hands Midas calls to the backend.
 */
import { readFileSync } from 'fs';
import http from 'http';
import type { AddressInfo } from 'net';
import path from 'path';
import { resolveCloudApiName } from '../../shared/midas-v1/operation-table';
import type { CloudDatabase } from './database';
import type { MidasBackend } from './midas-backend';
import { decodeCommApiData, encodeCommOpenApiResp, parseMultipart } from './wire';

export interface GatewayOptions {
  backend: MidasBackend;
  database: CloudDatabase;
  /** `functions.invokeFunction`: runs a function with the caller's SOURCE chain; returns what it returned. */
  invokeFunction: (name: string, data: unknown, source: string) => Promise<{ result?: unknown; error?: string }>;
  envId: string;
  functionsDir: string;
  port?: number;
  /** Extra routes (the client-call endpoint of `npm start`, the emulator's admin API). */
  extraRoutes?: (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => Promise<boolean>;
}

/** Error codes of the gateway's JSON error shape, as wx-server-sdk maps them (SPEC §7). */
const NO_PERMISSION = -604101;

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendProto(res: http.ServerResponse, buf: Buffer): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': buf.length });
  res.end(buf);
}

export class Gateway {
  private server?: http.Server;
  /** Every openapi call seen: which function, which name. Tests assert on it. */
  readonly calls: { fn?: string; apiName: string; permitted: boolean; billNo?: string }[] = [];

  constructor(private readonly opts: GatewayOptions) {}

  get url(): string {
    const addr = this.server?.address() as AddressInfo | undefined;
    if (!addr) throw new Error('gateway not started');
    return `http://127.0.0.1:${addr.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { code: 'SYS_ERR', message: (e as Error).message });
      });
    });
    const server = this.server;
    const port = this.opts.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') reject(new Error(`port ${port} on 127.0.0.1 is already in use (another local cloud?): stop it, or choose another port with PORT=<port>`));
        else if (e.code === 'EACCES') reject(new Error(`port ${port} on 127.0.0.1 may not be used by this user: choose another with PORT=<port> (1024 to 65535)`));
        else reject(e);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private requestSeq = 0;

  /** Database and function actions: JSON in, `{data}` or `{code, message}` out. */
  private async jsonAction(params: Record<string, unknown>, req: http.IncomingMessage): Promise<Record<string, unknown>> {
    const action = String(params.action ?? '');
    if (action.startsWith('database.')) return this.opts.database.handle(action, params);
    if (action === 'functions.invokeFunction') {
      const name = String(params.function_name ?? '');
      let data: unknown = {};
      try {
        data = params.request_data ? JSON.parse(String(params.request_data)) : {};
      } catch {
        return { code: 'INVALID_PARAM', message: 'request_data is not JSON' };
      }
      // The SDK sends the caller's SOURCE chain plus its own hop (",scf" inside a function):
      // exactly the callee's SOURCE, as the platform passes it along.
      const source = String(req.headers['x-tcb-source'] ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x && x !== 'undefined')
        .join(',');
      const r = await this.opts.invokeFunction(name, data, source);
      if (r.error !== undefined) return { code: 'FUNCTIONS_EXECUTE_FAIL', message: r.error };
      return { data: { response_data: JSON.stringify(r.result ?? null) } };
    }
    return { code: 'INVALID_ACTION', message: `action ${action} is not served by this emulator` };
  }

  /** The openapi names a function's config.json grants (read at each call, as after an upload). */
  private permissions(fn: string | undefined): Set<string> {
    if (!fn) return new Set();
    try {
      const cfg = JSON.parse(readFileSync(path.join(this.opts.functionsDir, fn, 'config.json'), 'utf8')) as { permissions?: { openapi?: string[] } };
      return new Set(cfg.permissions?.openapi ?? []);
    } catch {
      return new Set();
    }
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (this.opts.extraRoutes && (await this.opts.extraRoutes(req, body, res))) return;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^(?:\/fn\/([^/]+))?\/admin$/.exec(url.pathname);
    if (req.method !== 'POST' || !m) {
      sendJson(res, 404, { code: 'NOT_FOUND', message: 'no such route' });
      return;
    }
    const fn = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    if (url.searchParams.get('env') !== this.opts.envId) {
      sendJson(res, 200, { code: 'INVALID_ENV', message: `env ${url.searchParams.get('env')} does not exist` });
      return;
    }
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data')) {
      let params: Record<string, unknown>;
      try {
        params = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        sendJson(res, 200, { code: 'INVALID_PARAM', message: 'body is not JSON' });
        return;
      }
      sendJson(res, 200, { ...(await this.jsonAction(params, req)), requestId: `local-${++this.requestSeq}` });
      return;
    }
    const form = parseMultipart(body, contentType);
    const action = form.get('action')?.toString('utf8');
    if (action !== 'wx.openApi') {
      sendJson(res, 200, { code: 'INVALID_ACTION', message: `action ${action} is not served by this emulator` });
      return;
    }
    const apiName = form.get('apiName')?.toString('utf8') ?? '';
    const permitted = this.permissions(fn).has(apiName);
    const request = decodeCommApiData(form.get('requestData') ?? Buffer.alloc(0));
    const billNo = typeof request.params.bill_no === 'string' ? request.params.bill_no : undefined;
    this.calls.push({ ...(fn !== undefined && { fn }), apiName, permitted, ...(billNo !== undefined && { billNo }) });
    const target = resolveCloudApiName(apiName);
    if (!target) {
      // A name the SDK does not know: it serialised the signature object as is, secret inside.
      if (typeof request.params.sig === 'object' && request.params.sig !== null) this.opts.backend.secretLeaks.push({ op: apiName });
      sendProto(res, encodeCommOpenApiResp({ errorCode: NO_PERMISSION }));
      return;
    }
    if (!permitted) {
      sendProto(res, encodeCommOpenApiResp({ errorCode: NO_PERMISSION }));
      return;
    }
    const answer = await this.opts.backend.handle(target.op, target.env, request.params);
    if (answer.kind === 'empty') {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    } else if (answer.kind === 'gatewayError') {
      sendJson(res, 200, { code: answer.code, message: answer.message });
    } else {
      sendProto(res, encodeCommOpenApiResp({ json: answer.json }));
    }
  }
}
