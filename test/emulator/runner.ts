/**
 * Invokes built function bundles the way the cloud platform does: each instance is its own
 * Node process with the platform's environment; the player context (openid, appid, client IP,
 * caller source) is set per invocation; an instance runs one invocation at a time; an
 * invocation past the function timeout kills its instance.
 */
import { fork, type ChildProcess } from 'child_process';
import { existsSync, readdirSync } from 'fs';
import path from 'path';
import { INSTANCE_HOST } from './paths';

export interface Player {
  openid?: string;
  appid?: string;
  unionid?: string;
  clientIp?: string;
  /** getWXContext().SOURCE: `wx_client` (default), `scf`, `wx_trigger`, `wx_client,scf`, … */
  source?: string;
}

export interface InvokeOptions {
  /** Function configuration (environment variables of the function), on top of the runner's. */
  functionEnv?: Record<string, string>;
  /** The platform's function timeout (default 3000 ms, as the platform's). */
  timeoutMs?: number;
}

export interface Invocation {
  /** What `main` returned, as the platform serialises it (JSON). */
  result?: unknown;
  /** Set when `main` threw or the instance died or timed out: what reaches the platform. */
  error?: { message: string; kind: 'exception' | 'timeout' | 'crash' };
  /** Whether a new instance was started for this call (cold start). */
  cold: boolean;
  /** Time from the invoke to the answer, including the cold start. */
  ms: number;
}

export interface RunnerOptions {
  functionsDir: string;
  /** Base URL of the local gateway, e.g. http://127.0.0.1:4000 */
  gatewayUrl: string;
  /** The cloud environment id. */
  envId: string;
  /** Function configuration every instance gets. */
  functionEnv?: Record<string, string>;
  /** A function's timeout in ms (its deployed timeout); 3000 when left out. */
  timeoutOf?: (name: string) => number | undefined;
  /** Called with each line a function logs, as it is written. */
  onLog?: (fn: string, line: string) => void;
  /** Called with each invocation once it has answered. */
  onCall?: (fn: string, player: Player, invocation: Invocation) => void;
}


type Pending = { resolve: (m: HostResult) => void; reject: (e: Error) => void };
type HostResult = { ok: boolean; result?: unknown; error?: { message: string } };

class Instance {
  readonly child: ChildProcess;
  busy = false;
  dead = false;
  readonly ready: Promise<void>;
  private pending = new Map<number, Pending>();
  private seq = 0;

  constructor(bundle: string, env: Record<string, string>, onLine?: (line: string) => void) {
    this.child = fork(INSTANCE_HOST, [bundle], { env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'json' });
    // An instance may die at any moment, even as a message is sent to it (EPIPE): that fails its
    // invocations, never the local cloud.
    this.child.on('error', (e) => this.fail(e));
    // The function's logs are the operator's, not the test output's; keep them for inspection.
    let partial = '';
    this.child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      this.logs += text;
      if (!onLine) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (m: { type: string; id?: number; message?: string } & HostResult) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'loadError') reject(new Error(`bundle failed to load: ${m.message}`));
        else if (m.type === 'result' && m.id !== undefined) {
          this.pending.get(m.id)?.resolve(m);
          this.pending.delete(m.id);
        }
      });
      this.child.on('exit', (code, signal) => {
        const err = new Error(`instance exited (${signal ?? code})`);
        reject(err);
        this.fail(err);
      });
    });
  }

  logs = '';

  /** The instance is gone: every invocation on it fails, and it is never used again. */
  private fail(err: Error): void {
    this.dead = true;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  invoke(event: unknown, env: Record<string, string>): Promise<HostResult> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      if (this.dead || !this.child.connected) {
        reject(new Error('instance is gone'));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.child.send({ type: 'invoke', id, event, context: { function_name: 'local', memory_limit_in_mb: 256 }, env }, (e) => {
        if (e) this.fail(e);
      });
    });
  }

  kill(): void {
    if (!this.dead) this.child.kill('SIGKILL');
  }
}

export class FunctionRunner {
  private pools = new Map<string, Instance[]>();

  constructor(private readonly opts: RunnerOptions) {}

  /** Everything the functions have written to stderr (their logs), for tests that check logs. */
  get logs(): string {
    return [...this.pools.values()]
      .flat()
      .map((i) => i.logs)
      .join('');
  }

  private platformEnv(name: string, extra: Record<string, string>): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TENCENTCLOUD_RUNENV: 'SCF',
      TENCENTCLOUD_REGION: 'ap-shanghai',
      SCF_NAMESPACE: this.opts.envId,
      TCB_ENV: this.opts.envId,
      // The platform's temporary credentials; the local gateway does not check them.
      TENCENTCLOUD_SECRETID: 'local-emulator',
      TENCENTCLOUD_SECRETKEY: 'local-emulator',
      // The gateway learns which function calls from the path, to apply its config.json.
      TCB_CONTEXT_CNFG: JSON.stringify({ URL: `${this.opts.gatewayUrl}/fn/${encodeURIComponent(name)}/admin` }),
      WX_CONTEXT_KEYS: 'WX_OPENID,WX_APPID,WX_UNIONID,WX_CLIENTIP,WX_CLIENTIPV6,WX_API_TOKEN',
      ...this.opts.functionEnv,
      ...extra,
    };
  }

  /** The built functions (folders with an index.js). */
  names(): string[] {
    try {
      return readdirSync(this.opts.functionsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(path.join(this.opts.functionsDir, d.name, 'index.js')))
        .map((d) => d.name)
        .sort();
    } catch {
      return [];
    }
  }

  exists(name: string): boolean {
    return /^[A-Za-z0-9_-]+$/.test(name) && existsSync(path.join(this.opts.functionsDir, name, 'index.js'));
  }

  /** Starts a fresh instance of `name` (a cold start); it is in the pool at once, loading. */
  private create(name: string, functionEnv: Record<string, string>): Instance {
    const bundle = path.join(this.opts.functionsDir, name, 'index.js');
    const onLog = this.opts.onLog;
    const inst = new Instance(bundle, this.platformEnv(name, functionEnv), onLog && ((line) => onLog(name, line)));
    const key = this.poolKey(name, functionEnv);
    this.pools.set(key, [...(this.pools.get(key) ?? []), inst]);
    return inst;
  }

  private poolKey(name: string, functionEnv: Record<string, string>): string {
    return `${name}\u0000${JSON.stringify(functionEnv)}`;
  }

  /**
   * Invokes `name` with `event` as `player`. Reuses an idle instance, else starts one
   * (concurrent calls get their own instances, as on the platform).
   */
  async invoke(name: string, event: unknown, player: Player = {}, options: InvokeOptions = {}): Promise<Invocation> {
    const inv = await this.run(name, event, player, options);
    this.opts.onCall?.(name, player, inv);
    return inv;
  }

  private async run(name: string, event: unknown, player: Player, options: InvokeOptions): Promise<Invocation> {
    const t0 = performance.now();
    if (!this.exists(name)) {
      return { error: { message: `FunctionName parameter could not be found: there is no function "${name}" (functions: ${this.names().join(', ')})`, kind: 'exception' }, cold: false, ms: 0 };
    }
    const functionEnv = options.functionEnv ?? {};
    const pool = (this.pools.get(this.poolKey(name, functionEnv)) ?? []).filter((i) => !i.dead);
    this.pools.set(this.poolKey(name, functionEnv), pool);
    // Reserved before any await, so concurrent calls never share an instance.
    let inst = pool.find((i) => !i.busy);
    const cold = !inst;
    inst ??= this.create(name, functionEnv);
    inst.busy = true;

    const source = player.source ?? 'wx_client';
    const env: Record<string, string> = { TCB_SOURCE: source, WX_API_TOKEN: '' };
    if (player.openid !== undefined) env.WX_OPENID = player.openid;
    if (player.appid !== undefined) env.WX_APPID = player.appid;
    if (player.unionid !== undefined) env.WX_UNIONID = player.unionid;
    if (player.clientIp !== undefined) env.WX_CLIENTIP = player.clientIp;
    if (source.split(',').pop() === 'wx_trigger') env.TRIGGER_SRC = 'timer';
    // A call from a client carries userInfo, added by the platform (not trusted by our code).
    const platformEvent =
      player.openid !== undefined && event !== null && typeof event === 'object' && !Array.isArray(event)
        ? { ...event, userInfo: { appId: player.appid, openId: player.openid } }
        : event;

    const timeoutMs = options.timeoutMs ?? this.opts.timeoutOf?.(name) ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await inst.ready;
      const answer = await Promise.race([
        inst.invoke(platformEvent, env),
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), timeoutMs);
        }),
      ]);
      const ms = performance.now() - t0;
      if (answer === 'timeout') {
        inst.kill();
        return { error: { message: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, kind: 'timeout' }, cold, ms };
      }
      if (!answer.ok) return { error: { message: answer.error?.message ?? 'error', kind: 'exception' }, cold, ms };
      return { result: answer.result, cold, ms };
    } catch (e) {
      return { error: { message: (e as Error).message, kind: 'crash' }, cold, ms: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
      inst.busy = false;
    }
  }

  /**
   * Kills the idle instances of `name` and returns once they are gone, before this process has
   * noticed: the next invocation picks a dead instance, as when an instance dies just as the
   * platform reuses it.
   */
  killIdle(name: string): number {
    let n = 0;
    for (const [key, pool] of this.pools) {
      if (!key.startsWith(`${name}\u0000`)) continue;
      for (const i of pool) {
        if (!i.busy && !i.dead) {
          i.kill();
          n += 1;
        }
      }
    }
    // Synchronously (no event loop turn, so no 'exit' is seen yet) give the kernel time to close them.
    if (n > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    return n;
  }

  /** Kills one running invocation of `name`, chosen by `pick` (0 ≤ pick < 1); false when none runs. */
  killOneBusy(name: string, pick: number): boolean {
    const busy = [...this.pools].filter(([key]) => key.startsWith(`${name}\u0000`)).flatMap(([, pool]) => pool.filter((i) => i.busy && !i.dead));
    const victim = busy[Math.floor(pick * busy.length)];
    victim?.kill();
    return victim !== undefined;
  }

  /** Kills every running invocation of `name` mid-call (an instance lost while working). */
  killBusy(name: string): number {
    let n = 0;
    for (const [key, pool] of this.pools) {
      if (!key.startsWith(`${name}\u0000`)) continue;
      for (const i of pool) {
        if (i.busy) {
          i.kill();
          n += 1;
        }
      }
    }
    return n;
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) for (const i of pool) i.kill();
    this.pools.clear();
  }
}
