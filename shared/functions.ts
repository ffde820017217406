/**
 * The deployable functions and what each one's config.json holds. Permissions come from the
 * operations table: a function is granted exactly the openapi names of the ops it calls,
 * production and sandbox.
 */
import { openapiPermissions, type OperationName } from './operations';

export interface FunctionManifest {
  /** The Midas operations the function calls. */
  calls: readonly OperationName[];
  /** config.json `triggers` (timer triggers take a 7-field cron). */
  triggers?: readonly { name: string; type: 'timer'; config: string }[];
}

export const FUNCTIONS = {
  getBalance: { calls: ['getBalance'] },
  pay: { calls: ['pay'] },
  cancelPay: { calls: ['cancelPay'] },
  present: { calls: ['present'] },
  // Re-sends bills of open orders: every coin-moving op. Every 5 minutes.
  reconcile: { calls: ['pay', 'present', 'cancelPay'], triggers: [{ name: 'reconcile', type: 'timer', config: '0 */5 * * * * *' }] },
  // Android apps: YSDK over HTTPS, no openapi.
  ysdkBalance: { calls: [] },
  // Virtual Payment 2.0 for the client: jscode2session over HTTPS, signing, the catalogue.
  login: { calls: [] },
  signPayment: { calls: [] },
  catalogue: { calls: [] },
} as const satisfies Record<string, FunctionManifest>;

export type FunctionName = keyof typeof FUNCTIONS;

export function isFunctionName(name: string): name is FunctionName {
  return Object.prototype.hasOwnProperty.call(FUNCTIONS, name);
}

/** The config.json WeChat devtools reads on upload. */
export function configJson(name: string): { permissions: { openapi: string[] }; triggers?: { name: string; type: string; config: string }[] } {
  if (!isFunctionName(name)) throw new Error(`no manifest for function ${name}`);
  const m: FunctionManifest = FUNCTIONS[name];
  return {
    permissions: { openapi: m.calls.flatMap(openapiPermissions) },
    ...(m.triggers && { triggers: m.triggers.map((t) => ({ ...t })) }),
  };
}
