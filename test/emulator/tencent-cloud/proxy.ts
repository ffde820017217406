/**
 * How a real deploy reaches the emulated Tencent Cloud API unchanged: it is pointed at this HTTP
 * proxy (`http_proxy`, which the Tencent Cloud tools honour) and trusts this local certificate
 * authority (`NODE_EXTRA_CA_CERTS`, which Node honours). A `CONNECT <service>.tencentcloudapi.com:443`
 * is answered by a TLS server holding a certificate for `*.tencentcloudapi.com` signed by that
 * authority, so the deploy speaks HTTPS to the names it would use in production. Every host asked
 * for is recorded; any other host is refused, so a test sees everything the deploy tried to reach.
 *
 * The certificates are made with the `openssl` command (Debian's, present wherever
 * ca-certificates is), once per directory.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import http from 'http';
import https from 'https';
import type { AddressInfo, Socket } from 'net';
import path from 'path';
import type { TencentCloudApi } from './api';

const API_HOST = /^[a-z]+\.tencentcloudapi\.com$/;

/** A local certificate authority and a certificate for `*.tencentcloudapi.com` it signed. */
export function localCertificates(dir: string): { caFile: string; key: Buffer; cert: Buffer } {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  if (!existsSync(f('api.pem'))) {
    const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '3650', '-subj', '/CN=midas-cloud local cloud CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('api.key'), '-out', f('api.csr'), '-subj', '/CN=*.tencentcloudapi.com']);
    writeFileSync(f('api.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:*.tencentcloudapi.com,DNS:tencentcloudapi.com\n');
    run(['x509', '-req', '-in', f('api.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('api.pem'), '-days', '3650', '-extfile', f('api.ext')]);
  }
  return { caFile: f('ca.pem'), key: readFileSync(f('api.key')), cert: readFileSync(f('api.pem')) };
}

export class ApiProxy {
  /** Every host:port something asked this proxy for, in order (refused ones too). */
  readonly hostsAsked: string[] = [];
  private constructor(
    private readonly proxy: http.Server,
    private readonly tls: https.Server,
    readonly caFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${(this.proxy.address() as AddressInfo).port}`;
  }

  static async start(api: TencentCloudApi, certDir: string): Promise<ApiProxy> {
    const { caFile, key, cert } = localCertificates(certDir);
    const tls = https.createServer({ key, cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        api
          .handle({ host: req.headers.host ?? '', method: req.method ?? 'GET', path: req.url ?? '/', headers, body: Buffer.concat(chunks) })
          .then((answer) => {
            res.writeHead(answer.status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(answer.body));
          })
          .catch(() => {
            res.writeHead(500);
            res.end();
          });
      });
    });
    const proxy = http.createServer((req, res) => {
      // A plain-HTTP request through the proxy: recorded and refused (the API is HTTPS only).
      self.hostsAsked.push(req.headers.host ?? String(req.url));
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('only HTTPS to *.tencentcloudapi.com goes through this proxy\n');
    });
    const self = new ApiProxy(proxy, tls, caFile);
    proxy.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const target = req.url ?? '';
      self.hostsAsked.push(target);
      const [host, port] = target.split(':');
      if (!API_HOST.test(host ?? '') || port !== '443') {
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) socket.unshift(head);
      tls.emit('connection', socket);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    return self;
  }

  async close(): Promise<void> {
    this.proxy.closeAllConnections();
    this.tls.closeAllConnections();
    await new Promise<void>((resolve) => this.proxy.close(() => resolve()));
    await new Promise<void>((resolve) => this.tls.close(() => resolve()));
  }
}
