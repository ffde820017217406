import { readFileSync, readdirSync } from 'fs';
import path from 'path';
import { FUNCTIONS_DIR } from '../../emulator/paths';
import {
  COMMON_PARAMS, OPERATIONS, OPERATION_NAMES, MIDAS_ENVS, allParams, cgiPath, cloudApiName,
  resolveCgiPath, resolveCloudApiName, sourceOf, toCamelCase, toSnakeCase,
} from '../../../shared/midas-v1/operation-table';

describe('operations table', () => {
  test('gives exactly the eight cloud-call names wx-server-sdk knows how to sign (SPEC §2)', () => {
    const names = OPERATION_NAMES.flatMap((op) => MIDAS_ENVS.map((env) => cloudApiName(op, env))).sort();
    expect(names).toEqual([
      'midas.cancelPay', 'midas.cancelPaySandbox', 'midas.getBalance', 'midas.getBalanceSandbox',
      'midas.pay', 'midas.paySandbox', 'midas.present', 'midas.presentSandbox',
    ]);
  });

  test('gives the documented cgi paths, with /sandbox/ for the sandbox', () => {
    expect(OPERATION_NAMES.map((op) => cgiPath(op, 'production'))).toEqual([
      '/cgi-bin/midas/getbalance', '/cgi-bin/midas/pay', '/cgi-bin/midas/cancelpay', '/cgi-bin/midas/present',
    ]);
    expect(cgiPath('cancelPay', 'sandbox')).toBe('/cgi-bin/midas/sandbox/cancelpay');
  });

  test('resolves names and paths back, and nothing else', () => {
    for (const op of OPERATION_NAMES) {
      for (const env of MIDAS_ENVS) {
        expect(resolveCloudApiName(cloudApiName(op, env))).toEqual({ op, env });
        expect(resolveCgiPath(cgiPath(op, env))).toEqual({ op, env });
      }
    }
    expect(resolveCloudApiName('midas.getbalance')).toBeUndefined();
    expect(resolveCgiPath('/cgi-bin/midas/getBalance')).toBeUndefined();
  });

  test('case conversion is the inverse of the SDK’s for every param name', () => {
    for (const op of OPERATION_NAMES) {
      for (const p of allParams(op)) expect(toSnakeCase(toCamelCase(p.wire))).toBe(p.wire);
    }
    expect(toCamelCase('used_gen_amt')).toBe('usedGenAmt');
    expect(toSnakeCase('offerId')).toBe('offer_id');
  });

  test('each op has the params of the seeds', () => {
    expect(COMMON_PARAMS.map((p) => p.wire)).toEqual(['openid', 'appid', 'offer_id', 'ts', 'zone_id', 'pf', 'user_ip']);
    expect(OPERATIONS.pay.params.map((p) => `${p.wire}${p.required ? '' : '?'}`)).toEqual(['amt', 'bill_no', 'pay_item?', 'app_remark?']);
    expect(OPERATIONS.cancelPay.params.map((p) => `${p.wire}${p.required ? '' : '?'}`)).toEqual(['bill_no', 'pay_item?']);
    expect(OPERATIONS.present.params.map((p) => `${p.wire}${p.required ? '' : '?'}`)).toEqual(['bill_no', 'present_counts']);
  });

  test('bill numbers of pay and present come from the ledger, never from the event', () => {
    expect(OPERATIONS.pay.params.find((p) => p.wire === 'bill_no')?.source).toBe('ledger');
    expect(OPERATIONS.present.params.find((p) => p.wire === 'bill_no')?.source).toBe('ledger');
    expect(sourceOf('cancelPay', COMMON_PARAMS.find((p) => p.wire === 'zone_id')!)).toBe('ledger');
  });
});

/** The config.json the build wrote from each function's own definition. */
function configJson(name: string): unknown {
  return JSON.parse(readFileSync(path.join(FUNCTIONS_DIR, name, 'config.json'), 'utf8'));
}

describe('function manifests (config.json written by the build from each index.ts)', () => {
  test('each op function is granted exactly its own op, production and sandbox', () => {
    expect(readdirSync(FUNCTIONS_DIR).sort()).toEqual([...OPERATION_NAMES, 'reconcile', 'ysdkBalance', 'login', 'signPayment', 'catalogue', 'paymentNotify', 'myOrders', 'deliveryReconcile', 'buyWithCoins'].sort());
    // buyWithCoins pays, and cancels a pay whose grant the game's fulfilment refuses.
    expect(configJson('buyWithCoins')).toEqual({ permissions: { openapi: ['midas.pay', 'midas.paySandbox', 'midas.cancelPay', 'midas.cancelPaySandbox'] } });
    expect(configJson('cancelPay')).toEqual({ permissions: { openapi: ['midas.cancelPay', 'midas.cancelPaySandbox'] } });
    expect(configJson('present')).toEqual({ permissions: { openapi: ['midas.present', 'midas.presentSandbox'] } });
  });

  test('reconcile may re-send every coin-moving op and runs on a 7-field cron timer', () => {
    expect(configJson('reconcile')).toEqual({
      permissions: { openapi: ['midas.pay', 'midas.paySandbox', 'midas.present', 'midas.presentSandbox', 'midas.cancelPay', 'midas.cancelPaySandbox'] },
      triggers: [{ name: 'reconcile', type: 'timer', config: '0 */5 * * * * *' }],
    });
    expect((configJson('reconcile') as { triggers: { config: string }[] }).triggers[0]!.config.split(' ')).toHaveLength(7);
  });

  test.each(['ysdkBalance', 'login', 'signPayment', 'catalogue', 'paymentNotify', 'myOrders'])('%s is granted no openapi at all', (name) => {
    expect(configJson(name)).toEqual({ permissions: { openapi: [] } });
  });

  test('deliveryReconcile runs every minute on a 7-field cron timer', () => {
    expect(configJson('deliveryReconcile')).toEqual({ permissions: { openapi: [] }, triggers: [{ name: 'deliveryReconcile', type: 'timer', config: '0 * * * * * *' }] });
  });
});
