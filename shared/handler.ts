/**
 * The edge of every function: parse, call the core, map the result to the one response shape.
 * No exception gets past `main`; what a client sees is decided by {@link toClientError}.
 */
import { loadConfig, type MidasConfig } from './config';
import { isMidasCloudError, toClientError, type ClientError } from './errors';
import type { OperationName } from './operations';
import { runOperation } from './operation';
import { callerFromContext, type WxCloud } from './wxcloud';

/** The one response shape of every function, for success and failure. */
export type FunctionResponse<T = Record<string, unknown>> = { ok: true; data: T } | { ok: false; error: ClientError };

type Log = (line: string) => void;

/**
 * Makes the `main` of a function for `op`. Configuration is read at the first call and kept for
 * the life of the instance; a configuration error is answered (naming the variable) at every call.
 *
 * @example
 * cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
 * export const main = createMain('pay', cloud);
 */
export function createMain(op: OperationName, cloud: WxCloud, log: Log = (l) => console.error(l)) {
  let config: MidasConfig | undefined;
  return async function main(event: unknown): Promise<FunctionResponse> {
    try {
      config ??= loadConfig(process.env);
      const caller = callerFromContext(cloud.getWXContext());
      const result = await runOperation(op, event, { cloud, config, caller });
      const data = result.billNo !== undefined ? { ...result.data, billNo: result.billNo } : result.data;
      return { ok: true, data };
    } catch (e) {
      const error = toClientError(e);
      // Codes, fields and bill numbers only: never a secret, a signature or an upstream message.
      const entry: Record<string, unknown> = { fn: op, code: error.code, retryable: error.retryable };
      if (isMidasCloudError(e)) {
        if (e.upstreamCode !== undefined) entry.upstreamCode = e.upstreamCode;
        if (e.field !== undefined) entry.field = e.field;
        if (e.billNo !== undefined) entry.billNo = e.billNo;
        if (e.outcome !== undefined) entry.outcome = e.outcome;
      } else {
        entry.unexpected = e instanceof Error ? e.name : typeof e;
      }
      log(JSON.stringify(entry));
      return { ok: false, error };
    }
  };
}

/**
 * The whole of a deployed function: the real wx-server-sdk, initialised once per cold start
 * for the environment the function runs in.
 */
export function createFunction(op: OperationName) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cloud = require('wx-server-sdk') as WxCloud;
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
  return createMain(op, cloud);
}
