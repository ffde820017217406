/**
 * The Tencent Cloud API a CloudBase deploy talks to, emulated: `scf` (2018-04-16: functions and
 * their timer triggers, one namespace per environment) and `tcb` (2018-06-08: environments,
 * collections, their indexes and permissions). Every request is checked as Tencent Cloud checks
 * it (TC3-HMAC-SHA256 with a known SecretId, the date and service of the credential, a timestamp
 * within 5 minutes, the session token), answered in the real shapes (`{"Response": {…,
 * "RequestId"}}`, errors as `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`), and what
 * was created is kept (in a file with a data directory). Functions go through `Creating` or
 * `Updating` before `Active`, and refuse another change meanwhile, as SCF does.
 */
import { createHash, randomUUID } from 'crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'fs';
import { unzipSync } from 'fflate';
import { FaultQueue } from '../fault-queue';
import { parseWechatCron } from '../timers';
import { parseAuthorization, sameSignature, tc3Date, tc3Signature } from './tc3';

export interface TcCredential {
  secretId: string;
  secretKey: string;
  /** A temporary credential's session token (X-TC-Token). */
  token?: string;
}

/** A scripted failure: the next `times` calls of `action` answer this error. */
export interface TcFault {
  action: string;
  code: string;
  message?: string;
  times?: number;
}

/** A scripted bad outcome: the next create or update of a function ends in a failed status. */
export type StatusFault = 'CreateFailed' | 'UpdateFailed';

export const ACL_TAGS = ['READONLY', 'PRIVATE', 'ADMINWRITE', 'ADMINONLY', 'CUSTOM'] as const;
export type AclTag = (typeof ACL_TAGS)[number];

export const RUNTIMES = ['Nodejs8.9', 'Nodejs10.15', 'Nodejs12.16', 'Nodejs14.18', 'Nodejs16.13', 'Nodejs18.15', 'Nodejs20.19'] as const;

export interface ScfTrigger {
  TriggerName: string;
  Type: string;
  TriggerDesc: string;
  Enable: number;
  AddTime: string;
  ModTime: string;
}

export interface ScfFunction {
  FunctionName: string;
  Namespace: string;
  Runtime: string;
  Handler: string;
  Timeout: number;
  MemorySize: number;
  Description: string;
  Environment: { Variables: { Key: string; Value: string }[] };
  Status: 'Creating' | 'Updating' | 'Active' | 'CreateFailed' | 'UpdateFailed';
  StatusReasons: { ErrorCode: string; ErrorMessage: string }[];
  Triggers: ScfTrigger[];
  /** The uploaded code package (base64 of the zip). */
  zip: string;
  AddTime: string;
  ModTime: string;
}

export interface TcbIndex {
  Name: string;
  Keys: { Name: string; Direction: string }[];
  Unique: boolean;
}

export interface TcbTable {
  TableName: string;
  AclTag: AclTag;
  Indexes: TcbIndex[];
}

export interface TcbEnv {
  EnvId: string;
  Region: string;
  DatabaseInstanceId: string;
  functions: Record<string, ScfFunction>;
  tables: Record<string, TcbTable>;
}

export interface ApiRequest {
  host: string;
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** One call the API answered: for tests, which actions a deploy made. */
export interface ApiCall {
  service: string;
  action: string;
  params: Record<string, unknown>;
  error?: string;
}

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const VERSIONS: Record<string, string> = { scf: '2018-04-16', tcb: '2018-06-08' };
const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{1,58}[A-Za-z0-9]$/;
const TABLE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Environment variables of one function, in all (SCF's limit). */
const MAX_ENV_BYTES = 4096;

function now(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new ApiError('MissingParameter', `The request is missing a required parameter \`${field}\`.`);
  return v;
}

export class TencentCloudApi {
  private credentials = new Map<string, TcCredential>();
  private faults = new FaultQueue<TcFault>();
  private statusFaults = new FaultQueue<StatusFault>();
  readonly envs = new Map<string, TcbEnv>();
  /** Every call answered, in order. */
  readonly calls: ApiCall[] = [];
  /** How long a function stays Creating or Updating (ms). */
  transitionMs = 150;
  /** Told when a collection is created (the local cloud makes it in its database). */
  onCreateTable?: (envId: string, name: string) => Promise<void>;

  constructor(private readonly file?: string) {
    if (file && existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as TcbEnv[];
      for (const e of saved) this.envs.set(e.EnvId, e);
    }
  }

  addCredential(c: TcCredential): void {
    this.credentials.set(c.secretId, c);
  }

  /** An environment (what creating one in the console does): a namespace for functions and a database. */
  addEnv(envId: string, region = 'ap-shanghai'): TcbEnv {
    const existing = this.envs.get(envId);
    if (existing) return existing;
    const env: TcbEnv = { EnvId: envId, Region: region, DatabaseInstanceId: `tnt-${createHash('sha256').update(envId).digest('hex').slice(0, 10)}`, functions: {}, tables: {} };
    this.envs.set(envId, env);
    this.save();
    return env;
  }

  injectFault(f: TcFault): void {
    this.faults.add(f, f.times ?? 1);
  }

  injectStatusFault(f: StatusFault, times = 1): void {
    this.statusFaults.add(f, times);
  }

  clearFaults(): void {
    this.faults.clear();
    this.statusFaults.clear();
  }

  private save(): void {
    if (!this.file) return;
    writeFileSync(`${this.file}.tmp`, JSON.stringify([...this.envs.values()]));
    renameSync(`${this.file}.tmp`, this.file);
  }

  /** Answers one HTTPS request to `<service>.tencentcloudapi.com`. */
  async handle(req: ApiRequest): Promise<{ status: number; body: unknown }> {
    const requestId = randomUUID();
    const service = req.host.split(':')[0]!.replace(/\.tencentcloudapi\.com$/, '');
    const action = req.headers['x-tc-action'] ?? '';
    let params: Record<string, unknown> = {};
    try {
      if (req.method !== 'POST') throw new ApiError('UnsupportedProtocol', 'Only POST requests with a JSON body are served here.');
      if (!/^application\/json/i.test(req.headers['content-type'] ?? '')) throw new ApiError('InvalidParameter', 'The Content-Type must be application/json.');
      try {
        params = JSON.parse(req.body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new ApiError('InvalidParameter', 'The request body is not JSON.');
      }
      this.authenticate(req, service);
      if (!VERSIONS[service]) throw new ApiError('InvalidAction', `The service ${service} is not available here.`);
      if (req.headers['x-tc-version'] !== VERSIONS[service]) throw new ApiError('InvalidParameter', `X-TC-Version of ${service} must be ${VERSIONS[service]}.`);
      if (!req.headers['x-tc-region']) throw new ApiError('MissingParameter', 'The request is missing a required parameter `Region`.');
      const fault = this.faults.take((f) => f.action === action);
      if (fault) throw new ApiError(fault.code, fault.message ?? `emulated fault on ${action}`);
      const answer = await (service === 'scf' ? this.scf(action, params) : this.tcb(action, params));
      this.calls.push({ service, action, params });
      return { status: 200, body: { Response: { ...answer, RequestId: requestId } } };
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError('InternalError', (e as Error).message);
      this.calls.push({ service, action, params, error: err.code });
      return { status: 200, body: { Response: { Error: { Code: err.code, Message: err.message }, RequestId: requestId } } };
    }
  }

  /** TC3-HMAC-SHA256, as Tencent Cloud checks it. */
  private authenticate(req: ApiRequest, service: string): void {
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) throw new ApiError('AuthFailure.InvalidAuthorization', 'The Authorization header is not a TC3-HMAC-SHA256 signature.');
    const credential = this.credentials.get(auth.secretId);
    if (!credential) throw new ApiError('AuthFailure.SecretIdNotFound', 'The SecretId is not found, please ensure that your SecretId is correct.');
    const timestamp = Number(req.headers['x-tc-timestamp']);
    if (!Number.isInteger(timestamp)) throw new ApiError('MissingParameter', 'The request is missing a required parameter `Timestamp`.');
    if (Math.abs(Date.now() / 1000 - timestamp) > 300) throw new ApiError('AuthFailure.SignatureExpire', 'Signature expired. Timestamp and server time are more than 5 minutes apart.');
    if (auth.date !== tc3Date(timestamp) || auth.service !== service) throw new ApiError('AuthFailure.SignatureFailure', 'The provided credentials could not be validated (the credential scope does not match the request).');
    if (!auth.signedHeaders.includes('content-type') || !auth.signedHeaders.includes('host')) throw new ApiError('AuthFailure.SignatureFailure', 'The signature must cover content-type and host.');
    const headers: Record<string, string> = {};
    for (const name of auth.signedHeaders) headers[name] = req.headers[name] ?? '';
    const [path, query = ''] = req.path.split('?');
    const expected = tc3Signature({ method: req.method, path: path!, query, headers, signedHeaders: auth.signedHeaders, body: req.body, timestamp, service, secretKey: credential.secretKey });
    if (!sameSignature(expected, auth.signature)) throw new ApiError('AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please check your signature is correct.');
    if (credential.token !== undefined && req.headers['x-tc-token'] !== credential.token) throw new ApiError('AuthFailure.TokenFailure', 'The token is invalid or expired.');
  }

  private env(id: unknown, field: string): TcbEnv {
    const env = this.envs.get(str(id, field));
    if (!env) throw new ApiError(field === 'Namespace' ? 'ResourceNotFound.Namespace' : 'ResourceNotFound.Env', `The environment ${String(id)} does not exist.`);
    return env;
  }

  private fn(p: Record<string, unknown>): ScfFunction {
    const env = this.env(p.Namespace, 'Namespace');
    const f = env.functions[str(p.FunctionName, 'FunctionName')];
    if (!f) throw new ApiError('ResourceNotFound.Function', `The function ${String(p.FunctionName)} does not exist.`);
    return f;
  }

  /** Another change while Creating or Updating is refused, as SCF does. */
  private idle(f: ScfFunction): void {
    if (f.Status === 'Creating' || f.Status === 'Updating') throw new ApiError('FailedOperation', `The function ${f.FunctionName} is ${f.Status}; try again when it is Active.`);
  }

  /** Creating/Updating for a moment, then Active (or the failed status a fault asks for). */
  private transition(f: ScfFunction, during: 'Creating' | 'Updating'): void {
    f.Status = during;
    f.StatusReasons = [];
    f.ModTime = now();
    const fault = this.statusFaults.take((s) => (during === 'Creating' ? s === 'CreateFailed' : s === 'UpdateFailed'));
    this.save();
    setTimeout(() => {
      f.Status = fault ?? 'Active';
      if (fault) f.StatusReasons = [{ ErrorCode: 'InternalError', ErrorMessage: 'emulated failure while installing the function' }];
      this.save();
    }, this.transitionMs).unref();
  }

  private config(p: Record<string, unknown>, f: Partial<ScfFunction>): void {
    if (p.Timeout !== undefined) {
      if (!Number.isInteger(p.Timeout) || (p.Timeout as number) < 1 || (p.Timeout as number) > 900) throw new ApiError('InvalidParameterValue.Timeout', 'Timeout must be 1 to 900 seconds.');
      f.Timeout = p.Timeout as number;
    }
    if (p.MemorySize !== undefined) {
      const m = p.MemorySize as number;
      if (!Number.isInteger(m) || m < 64 || m > 3072 || (m > 64 && m % 128 !== 0)) throw new ApiError('InvalidParameterValue.MemorySize', 'MemorySize must be 64, or 128 to 3072 in steps of 128.');
      f.MemorySize = m;
    }
    if (p.Description !== undefined) f.Description = String(p.Description).slice(0, 1000);
    if (p.Environment !== undefined) {
      const vars = (p.Environment as { Variables?: { Key: string; Value: string }[] }).Variables ?? [];
      if (!Array.isArray(vars) || vars.some((v) => typeof v.Key !== 'string' || typeof v.Value !== 'string')) throw new ApiError('InvalidParameterValue.Environment', 'Environment.Variables must be [{Key, Value}] strings.');
      if (Buffer.byteLength(JSON.stringify(vars)) > MAX_ENV_BYTES) throw new ApiError('InvalidParameterValue.Environment', `Environment variables exceed ${MAX_ENV_BYTES} bytes.`);
      f.Environment = { Variables: vars.map((v) => ({ Key: v.Key, Value: v.Value })) };
    }
  }

  private zipOf(code: unknown): string {
    const zip = typeof code === 'string' ? code : (code as { ZipFile?: unknown } | undefined)?.ZipFile;
    if (typeof zip !== 'string' || zip === '') throw new ApiError('MissingParameter', 'The request is missing the code (Code.ZipFile).');
    try {
      const files = unzipSync(Buffer.from(zip, 'base64'));
      if (Object.keys(files).length === 0) throw new Error('empty');
    } catch {
      throw new ApiError('InvalidParameterValue.ZipFile', 'The code package is not a zip file.');
    }
    return zip;
  }

  private async scf(action: string, p: Record<string, unknown>): Promise<Record<string, unknown>> {
    switch (action) {
      case 'CreateFunction': {
        const env = this.env(p.Namespace, 'Namespace');
        const name = str(p.FunctionName, 'FunctionName');
        if (!FUNCTION_NAME.test(name)) throw new ApiError('InvalidParameterValue.FunctionName', 'The function name must be 2 to 60 letters, digits, _ or -, starting with a letter.');
        if (env.functions[name]) throw new ApiError('ResourceInUse.Function', `The function ${name} already exists.`);
        const runtime = str(p.Runtime, 'Runtime');
        if (!(RUNTIMES as readonly string[]).includes(runtime)) throw new ApiError('InvalidParameterValue.Runtime', `Runtime ${runtime} is not supported.`);
        const f: ScfFunction = {
          FunctionName: name, Namespace: env.EnvId, Runtime: runtime, Handler: typeof p.Handler === 'string' ? p.Handler : 'index.main', Timeout: 3, MemorySize: 128, Description: '',
          Environment: { Variables: [] }, Status: 'Creating', StatusReasons: [], Triggers: [], zip: this.zipOf(p.Code), AddTime: now(), ModTime: now(),
        };
        this.config(p, f);
        env.functions[name] = f;
        this.transition(f, 'Creating');
        return {};
      }
      case 'UpdateFunctionCode': {
        const f = this.fn(p);
        this.idle(f);
        f.zip = this.zipOf(p.ZipFile ?? p.Code);
        if (typeof p.Handler === 'string') f.Handler = p.Handler;
        this.transition(f, 'Updating');
        return {};
      }
      case 'UpdateFunctionConfiguration': {
        const f = this.fn(p);
        this.idle(f);
        if (p.Runtime !== undefined && p.Runtime !== f.Runtime) throw new ApiError('InvalidParameterValue.Runtime', 'The runtime of an existing function cannot be changed.');
        this.config(p, f);
        this.transition(f, 'Updating');
        return {};
      }
      case 'GetFunction': {
        const f = this.fn(p);
        const { zip, ...shown } = f;
        return { ...shown, CodeSize: Buffer.from(zip, 'base64').length, StatusDesc: f.StatusReasons[0]?.ErrorMessage ?? '' };
      }
      case 'ListFunctions': {
        const env = this.env(p.Namespace, 'Namespace');
        const all = Object.values(env.functions);
        const offset = Number(p.Offset ?? 0);
        const limit = Math.min(Number(p.Limit ?? 20), 100);
        return { Functions: all.slice(offset, offset + limit).map((f) => ({ FunctionName: f.FunctionName, Namespace: f.Namespace, Runtime: f.Runtime, Status: f.Status, ModTime: f.ModTime, AddTime: f.AddTime, Description: f.Description })), TotalCount: all.length };
      }
      case 'CreateTrigger': {
        const f = this.fn(p);
        this.idle(f);
        const name = str(p.TriggerName, 'TriggerName');
        if (p.Type !== 'timer') throw new ApiError('InvalidParameterValue.Type', 'Only timer triggers are served here.');
        const desc = str(p.TriggerDesc, 'TriggerDesc');
        try {
          parseWechatCron(desc);
        } catch (e) {
          throw new ApiError('InvalidParameterValue.TriggerDesc', (e as Error).message);
        }
        if (f.Triggers.some((t) => t.TriggerName === name)) throw new ApiError('ResourceInUse.Trigger', `The trigger ${name} already exists.`);
        const t: ScfTrigger = { TriggerName: name, Type: 'timer', TriggerDesc: desc, Enable: p.Enable === 'CLOSE' ? 0 : 1, AddTime: now(), ModTime: now() };
        f.Triggers.push(t);
        this.save();
        return { TriggerInfo: t };
      }
      case 'DeleteTrigger': {
        const f = this.fn(p);
        const name = str(p.TriggerName, 'TriggerName');
        if (!f.Triggers.some((t) => t.TriggerName === name)) throw new ApiError('ResourceNotFound.Trigger', `The trigger ${name} does not exist.`);
        f.Triggers = f.Triggers.filter((t) => t.TriggerName !== name);
        this.save();
        return {};
      }
      case 'ListTriggers': {
        const f = this.fn(p);
        return { Triggers: f.Triggers, TotalCount: f.Triggers.length };
      }
      default:
        throw new ApiError('InvalidAction', `The action ${action} of scf is not served here.`);
    }
  }

  private table(p: Record<string, unknown>, field = 'TableName'): { env: TcbEnv; table: TcbTable } {
    const env = this.env(p.EnvId, 'EnvId');
    const name = str(p[field], field);
    const table = env.tables[name];
    if (!table) throw new ApiError('ResourceNotFound', `The collection ${name} does not exist.`);
    return { env, table };
  }

  private async tcb(action: string, p: Record<string, unknown>): Promise<Record<string, unknown>> {
    switch (action) {
      case 'DescribeEnvs': {
        const list = [...this.envs.values()].filter((e) => p.EnvId === undefined || e.EnvId === p.EnvId);
        return {
          EnvList: list.map((e) => ({
            EnvId: e.EnvId, Source: 'miniapp', Alias: e.EnvId, Status: 'NORMAL', Region: e.Region,
            Databases: [{ InstanceId: e.DatabaseInstanceId, Region: e.Region, Status: 'RUNNING' }],
            Functions: [{ Namespace: e.EnvId, Region: e.Region }],
          })),
        };
      }
      case 'CreateTable': {
        const env = this.env(p.EnvId, 'EnvId');
        const name = str(p.TableName, 'TableName');
        if (!TABLE_NAME.test(name)) throw new ApiError('InvalidParameter', 'A collection name is 1 to 64 letters, digits, _ or -.');
        if (env.tables[name]) throw new ApiError('ResourceInUse', `The collection ${name} already exists.`);
        // A new collection gets the platform's default: the creator reads and writes its own documents.
        env.tables[name] = { TableName: name, AclTag: 'PRIVATE', Indexes: [{ Name: '_id_', Keys: [{ Name: '_id', Direction: '1' }], Unique: true }] };
        this.save();
        await this.onCreateTable?.(env.EnvId, name);
        return {};
      }
      case 'DescribeTable': {
        const { table } = this.table(p);
        return { Indexes: table.Indexes.map((i) => ({ ...i, Size: 0, Accesses: { Ops: 0, Since: now() } })), IndexNum: table.Indexes.length };
      }
      case 'ListTables': {
        const env = this.env(p.EnvId, 'EnvId');
        const all = Object.values(env.tables);
        const offset = Number(p.MgoOffset ?? 0);
        const limit = Math.min(Number(p.MgoLimit ?? 100), 1000);
        return { Tables: all.slice(offset, offset + limit).map((t) => ({ TableName: t.TableName, Count: 0, Size: 0, IndexCount: t.Indexes.length, IndexSize: 0 })), Pager: { Offset: offset, Limit: limit, Total: all.length } };
      }
      case 'UpdateTable': {
        const { table } = this.table(p);
        const drops = (p.DropIndexes ?? []) as { IndexName?: string }[];
        const creates = (p.CreateIndexes ?? []) as { IndexName?: string; MgoKeySchema?: { MgoIndexKeys?: { Name?: string; Direction?: string }[]; MgoIsUnique?: boolean } }[];
        for (const d of drops) {
          if (!table.Indexes.some((i) => i.Name === d.IndexName)) throw new ApiError('ResourceNotFound', `The index ${String(d.IndexName)} does not exist.`);
          if (d.IndexName === '_id_') throw new ApiError('InvalidParameter', 'The _id_ index cannot be dropped.');
        }
        const made: TcbIndex[] = creates.map((c) => {
          const keys = c.MgoKeySchema?.MgoIndexKeys ?? [];
          if (typeof c.IndexName !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(c.IndexName)) throw new ApiError('InvalidParameter', 'IndexName must be 1 to 64 letters, digits or _.');
          if (keys.length === 0 || keys.some((k) => typeof k.Name !== 'string' || (k.Direction !== '1' && k.Direction !== '-1'))) throw new ApiError('InvalidParameter', 'MgoIndexKeys must name fields with Direction "1" or "-1".');
          return { Name: c.IndexName, Keys: keys.map((k) => ({ Name: k.Name!, Direction: k.Direction! })), Unique: c.MgoKeySchema?.MgoIsUnique === true };
        });
        const after = table.Indexes.filter((i) => !drops.some((d) => d.IndexName === i.Name));
        for (const m of made) {
          if (after.some((i) => i.Name === m.Name)) throw new ApiError('ResourceInUse', `The index ${m.Name} already exists.`);
          after.push(m);
        }
        table.Indexes = after;
        this.save();
        return {};
      }
      case 'ModifyDatabaseACL': {
        const { table } = this.table(p, 'CollectionName');
        const tag = str(p.AclTag, 'AclTag');
        if (!(ACL_TAGS as readonly string[]).includes(tag) || tag === 'CUSTOM') throw new ApiError('InvalidParameter', `AclTag must be one of READONLY, PRIVATE, ADMINWRITE, ADMINONLY.`);
        table.AclTag = tag as AclTag;
        this.save();
        return {};
      }
      case 'DescribeDatabaseACL': {
        const { table } = this.table(p, 'CollectionName');
        return { AclTag: table.AclTag };
      }
      default:
        throw new ApiError('InvalidAction', `The action ${action} of tcb is not served here.`);
    }
  }
}
