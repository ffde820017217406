/**
 * The wire format wx-server-sdk 4.0.2 speaks to the cloud gateway (SPEC §7): a multipart POST
 * whose `requestData` is a protobuf CommApiData, answered by a protobuf CommOpenApiResp.
 */
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
message KeyValuePair { string key = 1; bytes value = 2; string contenttype = 3; string filename = 4; }
message OpenApiData { repeated KeyValuePair pairs = 1; }
message TokenApiData { }
message CommApiData {
  enum ApiType { OPEN_API = 0; INNER_API = 1; SVRKIT_API = 2; TOKEN_API = 3; }
  ApiType apiType = 1;
  OpenApiData openapiData = 2;
  TokenApiData tokenData = 5;
  string appid = 6;
}
message HttpHeader { string key = 1; string value = 2; }
message CommOpenApiResp {
  bytes respData = 1;
  string contentType = 2;
  int32 errorCode = 3;
  uint32 httpCode = 4;
  repeated HttpHeader headers = 5;
  int32 svrkitErrorCode = 6;
}
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const CommApiData = root.lookupType('CommApiData');
const CommOpenApiResp = root.lookupType('CommOpenApiResp');

export interface OpenApiRequest {
  apiType: number;
  appid: string;
  /** Each pair's value parsed as the JSON text the SDK sends; `raw` keeps the text. */
  params: Record<string, unknown>;
  raw: Record<string, string>;
}

export function decodeCommApiData(buf: Uint8Array): OpenApiRequest {
  const msg = CommApiData.toObject(CommApiData.decode(buf), { defaults: true }) as {
    apiType: number;
    appid: string;
    openapiData?: { pairs?: { key: string; value: Uint8Array }[] };
  };
  const params: Record<string, unknown> = {};
  const raw: Record<string, string> = {};
  for (const pair of msg.openapiData?.pairs ?? []) {
    const text = Buffer.from(pair.value).toString('utf8');
    raw[pair.key] = text;
    try {
      params[pair.key] = JSON.parse(text);
    } catch {
      params[pair.key] = text;
    }
  }
  return { apiType: msg.apiType, appid: msg.appid, params, raw };
}

/** Encodes a CommApiData the way wx-server-sdk does (used by unit tests of the gateway). */
export function encodeCommApiData(params: Record<string, unknown>, appid = ''): Buffer {
  const pairs = Object.entries(params).map(([key, v]) => ({ key, value: Buffer.from(JSON.stringify(v)) }));
  return Buffer.from(CommApiData.encode(CommApiData.fromObject({ apiType: 0, openapiData: { pairs }, appid })).finish());
}

export interface OpenApiAnswer {
  /** The WeChat JSON answer; omitted with `errorCode` for a gateway-level failure. */
  json?: unknown;
  /** A gateway error code such as -604101 (no permission). */
  errorCode?: number;
}

export function encodeCommOpenApiResp(answer: OpenApiAnswer): Buffer {
  const body = answer.json === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(answer.json));
  const msg = CommOpenApiResp.fromObject({
    respData: body,
    contentType: answer.json === undefined ? '' : 'application/json; charset=utf-8',
    errorCode: answer.errorCode ?? 0,
    httpCode: 200,
    headers: [],
  });
  return Buffer.from(CommOpenApiResp.encode(msg).finish());
}

export function decodeCommOpenApiResp(buf: Uint8Array): { json?: unknown; errorCode: number; contentType: string } {
  const msg = CommOpenApiResp.toObject(CommOpenApiResp.decode(buf), { defaults: true }) as {
    respData: Uint8Array;
    contentType: string;
    errorCode: number;
  };
  const text = Buffer.from(msg.respData).toString('utf8');
  return { ...(text && { json: JSON.parse(text) }), errorCode: msg.errorCode, contentType: msg.contentType };
}

/**
 * Parses a multipart/form-data body into its parts, as bytes. (The platform's own FormData
 * parser decodes a part without a filename as UTF-8 text, which would corrupt the protobuf.)
 */
export function parseMultipart(body: Buffer, contentType: string): Map<string, Buffer> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new Error('multipart body without boundary');
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts = new Map<string, Buffer>();
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // closing delimiter
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      if (name !== undefined) parts.set(name, part.subarray(headerEnd + 4));
    }
    pos = next;
  }
  return parts;
}
