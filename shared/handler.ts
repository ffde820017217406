/**
 * The edge of every function: read configuration, learn the caller from the platform, run the
 * core, map the result to the one response shape. No exception gets past `main`; what a client
 * sees is decided by {@link toClientError}.
 */
import { loadConfig, type MidasConfig } from './config';
import { MidasCloudError, isMidasCloudError, toClientError, type ClientError } from './errors';
import type { FunctionName } from './functions';
import { Ledger } from './ledger';
import { getBalance, isClientCall, isTrustedCaller } from './operation';
import { cancelOrder, placeOrder, type PaymentDeps } from './payments';
import { parseReconcileEvent, reconcile } from './reconcile';
import { callerFromContext, type WxCloud } from './wxcloud';

/** The one response shape of every function, for success and failure. */
export type FunctionResponse<T = Record<string, unknown>> = { ok: true; data: T } | { ok: false; error: ClientError };

type Log = (line: string) => void;
type Runner = (event: unknown, deps: PaymentDeps) => Promise<unknown>;

function forbidden(what: string): MidasCloudError {
  return new MidasCloudError('FORBIDDEN', `${what} may only be called by a timer, another cloud function or an operator`);
}

const RUNNERS: Record<FunctionName, Runner> = {
  getBalance: (event, deps) => getBalance(event, deps),
  pay: (event, deps) => placeOrder('pay', event, deps),
  present: (event, deps) => {
    if (!isTrustedCaller(deps.caller, deps.config)) throw forbidden('present');
    return placeOrder('present', event, deps);
  },
  cancelPay: (event, deps) => cancelOrder(event, deps),
  // The reconciler only finishes what the ledger already holds; still, players do not run it.
  reconcile: (event, deps) => {
    if (isClientCall(deps.caller) && !isTrustedCaller(deps.caller, deps.config)) throw forbidden('reconcile');
    return reconcile(parseReconcileEvent(event), deps);
  },
};

/**
 * Makes the `main` of function `name`. Configuration is read at the first call and kept for
 * the life of the instance; a configuration error is answered (naming the variable) at every call.
 *
 * @example
 * export const main = createMain('pay', cloud);
 */
export function createMain(name: FunctionName, cloud: WxCloud, log: Log = (l) => console.error(l)) {
  let config: MidasConfig | undefined;
  let ledger: Ledger | undefined;
  const logEntry = (entry: Record<string, unknown>) => log(JSON.stringify({ fn: name, ...entry }));
  return async function main(event: unknown): Promise<FunctionResponse<unknown>> {
    try {
      config ??= loadConfig(process.env);
      ledger ??= new Ledger(cloud, config.ledgerCollection);
      const caller = callerFromContext(cloud.getWXContext());
      const data = await RUNNERS[name](event, { cloud, config, caller, ledger, log: logEntry });
      return { ok: true, data };
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
 * for the environment the function runs in.
 */
export function createFunction(name: FunctionName) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cloud = require('wx-server-sdk') as WxCloud;
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
  return createMain(name, cloud);
}
