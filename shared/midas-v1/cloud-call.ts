/**
 * One Midas v1 cloud call through wx-server-sdk: the name, the signed param list and the
 * payload all come from the operations table, so what is signed is exactly what is sent.
 */
import { MidasCloudError, fromCloudCallError } from '../edge/errors';
import { OPERATIONS, cloudApiName, toCamelCase, type MidasEnv, type OperationName } from './operation-table';
import type { WxCloud } from '../edge/wx-server-sdk';

export type WireParams = Record<string, string | number>;

export interface CallOptions {
  env: MidasEnv;
  secret: string;
  timeoutMs: number;
}

/** The camelCase payload of a cloud call and the names `cloud.signature` must sign. */
export function cloudPayload(params: WireParams): { payload: Record<string, string | number>; signedNames: string[] } {
  const payload: Record<string, string | number> = {};
  for (const [wire, value] of Object.entries(params)) payload[toCamelCase(wire)] = value;
  // Every param sent is signed, and nothing else: a sent but unsigned param is a 90011 (SPEC §2).
  return { payload, signedNames: Object.keys(payload) };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject({ errCode: -604102, errMsg: `no answer within ${ms} ms` }), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Calls `op` and returns the answer's fields (camelCase, as the SDK gives them).
 * Throws MidasCloudError; for coin-moving calls a transient failure has `outcome: 'unknown'`.
 */
export async function callMidas(cloud: WxCloud, op: OperationName, params: WireParams, opts: CallOptions): Promise<Record<string, unknown>> {
  const [namespace, method] = cloudApiName(op, opts.env).split('.') as [string, string];
  const { payload, signedNames } = cloudPayload(params);
  const spec = OPERATIONS[op];
  let answer: Record<string, unknown>;
  try {
    const sig = cloud.signature({ type: 'midas', params: signedNames, secret: opts.secret });
    const fn = cloud.openapi[namespace]![method]!;
    answer = await withTimeout(fn({ ...payload, sig }), opts.timeoutMs);
  } catch (e) {
    throw fromCloudCallError(e, spec.movesCoins);
  }
  // An empty 200 answer resolves as success with no fields (SPEC §7): check what we need.
  const out: Record<string, unknown> = {};
  for (const wire of spec.response) {
    const key = toCamelCase(wire);
    const v = answer?.[key];
    if (v === undefined || v === null) {
      throw new MidasCloudError('UPSTREAM_BAD_RESPONSE', `the answer of Midas lacks ${wire}; retry with the same bill number`, {
        ...(spec.movesCoins && { outcome: 'unknown' as const }),
      });
    }
    out[key] = v;
  }
  return out;
}
