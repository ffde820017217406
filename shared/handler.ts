/**
 * The edge of every function: learn the caller from the platform, run the function's runner,
 * map the result to the one response shape. No exception gets past `main`; what a client sees
 * is decided by {@link toClientError}.
 */
import { isMidasCloudError, toClientError, type ClientError } from './errors';
import type { FunctionName } from './functions';
import { callerFromContext, type Caller, type WxCloud } from './wxcloud';

/** The one response shape of every function, for success and failure. */
export type FunctionResponse<T = Record<string, unknown>> = { ok: true; data: T } | { ok: false; error: ClientError };

/** What a runner gets besides the event: the SDK, the caller (from the platform), a log. */
export interface EdgeContext {
  cloud: WxCloud;
  caller: Caller;
  log: (entry: Record<string, unknown>) => void;
}

/** The work of one function (shared/runners.ts). */
export type Runner = (event: unknown, ctx: EdgeContext) => Promise<unknown>;

type Log = (line: string) => void;

/**
 * Makes the `main` of function `name` from its runner.
 *
 * @example
 * export const main = createMain('pay', cloud, payRunner);
 */
export function createMain(name: FunctionName, cloud: WxCloud, run: Runner, log: Log = (l) => console.error(l)) {
  const logEntry = (entry: Record<string, unknown>) => log(JSON.stringify({ fn: name, ...entry }));
  return async function main(event: unknown): Promise<FunctionResponse<unknown>> {
    try {
      const caller = callerFromContext(cloud.getWXContext());
      return { ok: true, data: await run(event, { cloud, caller, log: logEntry }) };
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
      return { ok: false, error };
    }
  };
}

/**
 * The whole of a deployed function: the real wx-server-sdk, initialised once per cold start
 * for the environment the function runs in, and the function's runner.
 */
export function createFunction(name: FunctionName, run: Runner) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cloud = require('wx-server-sdk') as WxCloud;
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
  return createMain(name, cloud, run);
}
