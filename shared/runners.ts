/**
 * One runner per function. Each function's index.ts imports only its own runner, so esbuild
 * leaves out of its bundle whatever the others use. Configuration is read at the first call and
 * kept for the life of the instance; a configuration error is answered (naming the variable) at
 * every call until it is fixed.
 */
import { loadConfig, type MidasConfig } from './config';
import { MidasCloudError } from './errors';
import type { EdgeContext, Runner } from './handler';
import { Ledger } from './ledger';
import { getBalance, isClientCall, isTrustedCaller } from './operation';
import { cancelOrder, placeOrder, type PaymentDeps } from './payments';
import { parseReconcileEvent, reconcile } from './reconcile';
import { requestFields } from './validation';
import { describeCatalogue, loadV2Config, login, signPayment, type V2Config, type V2Deps } from './v2';
import { loadYsdkConfig, pollAfterTopUp, validateYsdkPlayer, ysdkGetBalance, type YsdkConfig } from './ysdk';

let midasConfig: MidasConfig | undefined;
let ledger: Ledger | undefined;

/** Configuration and SDK, for calls that keep no ledger. */
function midas(ctx: EdgeContext) {
  midasConfig ??= loadConfig(process.env);
  return { cloud: ctx.cloud, config: midasConfig, caller: ctx.caller };
}

function payments(ctx: EdgeContext): PaymentDeps {
  const deps = midas(ctx);
  ledger ??= new Ledger(ctx.cloud, deps.config.ledgerCollection);
  return { ...deps, ledger, log: ctx.log };
}

let v2Config: V2Config | undefined;

function v2(ctx: EdgeContext): V2Deps {
  return { cloud: ctx.cloud, caller: ctx.caller, config: (v2Config ??= loadV2Config(process.env)) };
}

let ysdkConfig: YsdkConfig | undefined;

function forbidden(what: string): MidasCloudError {
  return new MidasCloudError('FORBIDDEN', `${what} may only be called by a timer, another cloud function or an operator`);
}

export const getBalanceRunner: Runner = (event, ctx) => getBalance(event, midas(ctx));

export const payRunner: Runner = (event, ctx) => placeOrder('pay', event, payments(ctx));

export const presentRunner: Runner = (event, ctx) => {
  const deps = payments(ctx);
  if (!isTrustedCaller(deps.caller, deps.config)) throw forbidden('present');
  return placeOrder('present', event, deps);
};

export const cancelPayRunner: Runner = (event, ctx) => cancelOrder(event, payments(ctx));

/** The reconciler only finishes what the ledger already holds; still, players do not run it. */
export const reconcileRunner: Runner = (event, ctx) => {
  const deps = payments(ctx);
  if (isClientCall(deps.caller) && !isTrustedCaller(deps.caller, deps.config)) throw forbidden('reconcile');
  return reconcile(parseReconcileEvent(event), deps);
};

export const loginRunner: Runner = (event, ctx) => login(event, v2(ctx));

export const signPaymentRunner: Runner = (event, ctx) => signPayment(event, v2(ctx));

export const catalogueRunner: Runner = async () => describeCatalogue();

/**
 * `ysdkBalance`: the balance of a native Android player from the tokens of its YSDK login; with
 * `afterTopUp: {saveAmt}` it polls until the top-up has arrived (the seed's delay rule).
 */
export const ysdkBalanceRunner: Runner = async (event, ctx) => {
  const { afterTopUp, ...tokens } = requestFields(event);
  const player = validateYsdkPlayer(tokens);
  const config = (ysdkConfig ??= loadYsdkConfig(process.env));
  if (afterTopUp === undefined) return ysdkGetBalance(player, { config });
  const before = (afterTopUp as { saveAmt?: unknown } | null)?.saveAmt;
  if (typeof afterTopUp !== 'object' || afterTopUp === null || Object.keys(afterTopUp).length !== 1 || !Number.isSafeInteger(before) || (before as number) < 0) {
    throw new MidasCloudError('VALIDATION_FAILED', 'afterTopUp must be {saveAmt: the save_amt read before the top-up}', { field: 'afterTopUp' });
  }
  // Progress goes to the log (poll count, time, save_amt only) as it happens, and to the answer.
  const r = await pollAfterTopUp(player, before as number, { config, onProgress: (p) => ctx.log({ event: 'ysdk_poll', ...p }) });
  return { ...r.balance, arrived: r.arrived, progress: r.progress };
};
