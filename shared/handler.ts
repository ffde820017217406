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
import { callerFromContext, type Caller, type WxCloud } from './wxcloud';
import { describeCatalogue, loadV2Config, login, signPayment, type V2Config, type V2Deps } from './v2';
import { loadYsdkConfig, pollAfterTopUp, validateYsdkPlayer, ysdkGetBalance, type YsdkConfig } from './ysdk';

/** The one response shape of every function, for success and failure. */
export type FunctionResponse<T = Record<string, unknown>> = { ok: true; data: T } | { ok: false; error: ClientError };

type Log = (line: string) => void;

/** What a function's runner can ask for; configuration is read only by the functions that need it. */
interface RunContext {
  caller: Caller;
  log: (entry: Record<string, unknown>) => void;
  payments(): PaymentDeps;
  ysdk(): YsdkConfig;
  v2(): V2Deps;
}

function forbidden(what: string): MidasCloudError {
  return new MidasCloudError('FORBIDDEN', `${what} may only be called by a timer, another cloud function or an operator`);
}

const RUNNERS: Record<FunctionName, (event: unknown, ctx: RunContext) => Promise<unknown>> = {
  getBalance: (event, ctx) => getBalance(event, ctx.payments()),
  pay: (event, ctx) => placeOrder('pay', event, ctx.payments()),
  present: (event, ctx) => {
    const deps = ctx.payments();
    if (!isTrustedCaller(deps.caller, deps.config)) throw forbidden('present');
    return placeOrder('present', event, deps);
  },
  cancelPay: (event, ctx) => cancelOrder(event, ctx.payments()),
  // The reconciler only finishes what the ledger already holds; still, players do not run it.
  reconcile: (event, ctx) => {
    const deps = ctx.payments();
    if (isClientCall(deps.caller) && !isTrustedCaller(deps.caller, deps.config)) throw forbidden('reconcile');
    return reconcile(parseReconcileEvent(event), deps);
  },
  ysdkBalance: (event, ctx) => ysdkBalance(event, ctx),
  login: (event, ctx) => login(event, ctx.v2()),
  signPayment: (event, ctx) => signPayment(event, ctx.v2()),
  catalogue: async () => describeCatalogue(),
};

/**
 * `ysdkBalance`: the balance of a native Android player from the tokens of its YSDK login; with
 * `afterTopUp: {saveAmt}` it polls until the top-up has arrived (the seed's delay rule).
 */
async function ysdkBalance(event: unknown, ctx: RunContext): Promise<unknown> {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new MidasCloudError('VALIDATION_FAILED', 'the request must be an object', { field: '(event)' });
  }
  const { afterTopUp, userInfo: _platform, ...tokens } = event as Record<string, unknown>;
  const player = validateYsdkPlayer(tokens);
  const config = ctx.ysdk();
  if (afterTopUp === undefined) return ysdkGetBalance(player, { config });
  const before = (afterTopUp as { saveAmt?: unknown } | null)?.saveAmt;
  if (typeof afterTopUp !== 'object' || afterTopUp === null || Object.keys(afterTopUp).length !== 1 || !Number.isSafeInteger(before) || (before as number) < 0) {
    throw new MidasCloudError('VALIDATION_FAILED', 'afterTopUp must be {saveAmt: the save_amt read before the top-up}', { field: 'afterTopUp' });
  }
  // Progress goes to the log (poll count, time, save_amt only) as it happens, and to the answer.
  const r = await pollAfterTopUp(player, before as number, { config, onProgress: (p) => ctx.log({ event: 'ysdk_poll', ...p }) });
  return { ...r.balance, arrived: r.arrived, progress: r.progress };
}

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
  let ysdkConfig: YsdkConfig | undefined;
  let v2Config: V2Config | undefined;
  const logEntry = (entry: Record<string, unknown>) => log(JSON.stringify({ fn: name, ...entry }));
  return async function main(event: unknown): Promise<FunctionResponse<unknown>> {
    try {
      const caller = callerFromContext(cloud.getWXContext());
      const ctx: RunContext = {
        caller,
        log: logEntry,
        payments: () => {
          config ??= loadConfig(process.env);
          ledger ??= new Ledger(cloud, config.ledgerCollection);
          return { cloud, config, caller, ledger, log: logEntry };
        },
        ysdk: () => (ysdkConfig ??= loadYsdkConfig(process.env)),
        v2: () => ({ cloud, caller, config: (v2Config ??= loadV2Config(process.env)) }),
      };
      const data = await RUNNERS[name](event, ctx);
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
