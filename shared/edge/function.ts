/**
 * The edge of every function: learn the caller from the platform, read the function's settings
 * once, check who may call, run the function's core entry point, and map the result to the one
 * response shape. No exception gets past `main`; what a client sees is decided by
 * {@link toClientError}.
 *
 * Each `cloudfunctions/<name>/index.ts` declares its own wiring with {@link defineFunction}:
 * who may call it, which settings it reads, which Midas operations it may call (its config.json
 * permissions), its triggers, and what it runs. Nothing central lists the functions.
 */
import { callerFromContext, forbidden, type Caller, type CallerPolicy } from './caller';
import { isMidasCloudError, toClientError, type ClientError } from './errors';
import { settingsProblems, type Env, type SettingProblem } from './settings';
import type { WxCloud } from './wx-server-sdk';

import type { FunctionName, Functions } from '../contract/answers';

export type { FunctionResponse } from '../contract/answers';

/** What a runner gets besides the event: the SDK, the caller (from the platform), a log. */
export interface EdgeContext {
  cloud: WxCloud;
  caller: Caller;
  log: (entry: Record<string, unknown>) => void;
}

/** The work of one function, given its event and the edge's context. */
export type Runner = (event: unknown, ctx: EdgeContext) => Promise<unknown>;

type Log = (line: string) => void;

/**
 * Makes the `main` of function `name` from its runner.
 *
 * @example
 * export const main = createMain('pay', cloud, (event, ctx) => placeOrder('pay', event, deps(ctx)));
 */
export function createMain(name: string, cloud: WxCloud, run: Runner, log: Log = (l) => console.error(l), raw?: RawReply) {
  const logEntry = (entry: Record<string, unknown>) => log(JSON.stringify({ fn: name, ...entry }));
  return async function main(event: unknown): Promise<unknown> {
    try {
      const caller = callerFromContext(cloud.getWXContext());
      const data = await run(event, { cloud, caller, log: logEntry });
      return raw ? data : { ok: true, data };
    } catch (e) {
      const error = toClientError(e);
      // Codes, fields and bill numbers only: never a secret, a signature or an upstream message.
      const entry: Record<string, unknown> = { event: 'failure', code: error.code, retryable: error.retryable };
      if (isMidasCloudError(e)) {
        if (e.upstreamCode !== undefined) entry.upstreamCode = e.upstreamCode;
        if (e.field !== undefined) entry.field = e.field;
        if (e.billNo !== undefined) entry.billNo = e.billNo;
        if (e.outcome !== undefined) entry.outcome = e.outcome;
      } else {
        entry.unexpected = e instanceof Error ? e.name : typeof e;
      }
      logEntry(entry);
      return raw ? raw.onError(error, event) : { ok: false, error };
    }
  };
}

/** A function that answers in another's format (a WeChat push reply, an HTTP response): what a failure becomes. */
export interface RawReply {
  onError: (error: ClientError, event: unknown) => unknown;
}

/** A timer trigger of config.json (a 7-field cron). */
export interface TimerTrigger {
  name: string;
  type: 'timer';
  config: string;
}

/** What the build writes to a function's config.json. */
export interface FunctionManifest {
  /** The openapi names the function calls (config.json `permissions.openapi`). */
  openapi: readonly string[];
  triggers?: readonly TimerTrigger[];
  /** How long one invocation may run before the platform stops it (seconds, 1 to 300; the platform's default is 3). */
  timeoutSeconds: number;
}

/** The platform's function timeout when a function sets none (seconds). */
export const DEFAULT_TIMEOUT_SECONDS = 3;

/** What a function's runner gets: the edge's context and the function's settings. */
export interface FunctionContext<S> extends EdgeContext {
  settings: S;
}

/** What a function's `run` resolves with: for the functions of the contract, their answer's type. */
export type AnswerOf<N extends string> = N extends FunctionName ? Functions[N]['response'] : unknown;

/** The wiring of one function, declared in its own `cloudfunctions/<name>/index.ts`. */
export interface FunctionDefinition<S, N extends string = string> {
  name: N;
  /** Who may call it (`trustedOnly`, `notPlayers` from edge/caller); anyone when left out. */
  callers?: CallerPolicy<S>;
  /** Reads and checks its settings from the environment (once per instance; an error names the variable). */
  settings: (env: Env) => S;
  /** The openapi names it calls; the build grants exactly these in config.json. */
  openapi?: readonly string[];
  triggers?: readonly TimerTrigger[];
  /** The function timeout to deploy with, in seconds (default {@link DEFAULT_TIMEOUT_SECONDS}). */
  timeoutSeconds?: number;
  /** Answer what `run` returns as is (not `{ok, data}`), and failures as `onError` says. */
  raw?: RawReply;
  /** The function's work; for a function of the contract (shared/contract), it resolves with that function's answer type. */
  run: (event: unknown, ctx: FunctionContext<S>) => Promise<AnswerOf<N>>;
}

/**
 * The runner of a definition: settings read at the first call and kept for the life of the
 * instance (a settings error is answered, naming the variable, at every call until it is fixed),
 * then the caller check, then the function's own work.
 */
export function runnerOf<S, N extends string>(def: FunctionDefinition<S, N>, env: Env = process.env): Runner {
  let settings: { value: S } | undefined;
  return async (event, ctx) => {
    settings ??= { value: def.settings(env) };
    const s = settings.value;
    if (def.callers && !def.callers(ctx.caller, s)) throw forbidden(def.name);
    return def.run(event, { ...ctx, settings: s });
  };
}

/** The config.json of a definition. */
export function manifestOf<N extends string>(def: FunctionDefinition<unknown, N>): FunctionManifest {
  const timeoutSeconds = def.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 300) throw new Error(`${def.name}: timeoutSeconds must be a whole number from 1 to 300`);
  return { openapi: def.openapi ?? [], ...(def.triggers && { triggers: def.triggers }), timeoutSeconds };
}

/** The config.json WeChat devtools reads on upload. */
export function configJson(m: FunctionManifest): { permissions: { openapi: string[] }; triggers?: TimerTrigger[] } {
  return { permissions: { openapi: [...m.openapi] }, ...(m.triggers && { triggers: m.triggers.map((t) => ({ ...t })) }) };
}

/**
 * The whole of a deployed function: the real wx-server-sdk, initialised once per cold start
 * for the environment the function runs in, and the function's wiring. Exports `main` for the
 * platform; `manifest` (config.json) and `readSettings` for the build, which learns from the
 * latter which environment variables the function reads (the deploy sets exactly those).
 *
 * @example
 * export const { main, manifest, readSettings } = defineFunction({ name: 'pay', settings: loadConfig, openapi: ['midas.pay', 'midas.paySandbox'], run });
 */
export function defineFunction<S, N extends string>(def: FunctionDefinition<S, N>): {
  main: (event: unknown) => Promise<unknown>;
  manifest: FunctionManifest;
  readSettings: (env: Env) => S;
  /** Every problem of these settings at once, by the rules the function applies at its first call (the deploy's pre-check). */
  settingsProblems: (env: Env) => SettingProblem[];
} {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cloud = require('wx-server-sdk') as WxCloud;
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
  return {
    main: createMain(def.name, cloud, runnerOf(def), undefined, def.raw),
    manifest: manifestOf(def as FunctionDefinition<unknown, N>),
    readSettings: def.settings,
    settingsProblems: (env) => settingsProblems(() => def.settings(env)),
  };
}
