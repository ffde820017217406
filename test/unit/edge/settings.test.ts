import { loadDeliveryConfig } from '../../../shared/delivery/settings';
import { readFileSync } from 'fs';
import path from 'path';
import { loadConfig } from '../../../shared/midas-v1/settings';
import { parseEnv } from 'util';
import { DEPLOY_SETTINGS, SETTINGS } from '../../../scripts/settings';
import { isMidasCloudError } from '../../../shared/edge/errors';

const BASE = { MIDAS_OFFER_ID: '1450012345', MIDAS_SANDBOX_SECRET: 'sandboxSecret123' };

function failure(env: Record<string, string>): { field?: string; message: string } {
  try {
    loadConfig(env);
  } catch (e) {
    if (isMidasCloudError(e) && e.code === 'CONFIG_INVALID') return { message: e.message, ...(e.field && { field: e.field }) };
    throw e;
  }
  throw new Error('expected a configuration error');
}

describe('loadConfig', () => {
  test('defaults: sandbox, zone 1, 1 s per call inside a 2.5 s budget, ledger midas_orders', () => {
    const c = loadConfig(BASE);
    expect(c).toMatchObject({
      env: 'sandbox', offerId: '1450012345', secret: 'sandboxSecret123', defaultZoneId: '1', callTimeoutMs: 1000,
      timeBudgetMs: 2500, ledgerCollection: 'midas_orders', reconcileMinAgeMs: 60000, reconcilePayPolicy: 'complete',
    });
    expect(c.operatorOpenids.size).toBe(0);
  });

  test('production takes MIDAS_SECRET, never the sandbox one', () => {
    const c = loadConfig({ ...BASE, MIDAS_ENV: 'production', MIDAS_SECRET: 'productionSecret1' });
    expect(c.secret).toBe('productionSecret1');
    expect(failure({ ...BASE, MIDAS_ENV: 'production' }).field).toBe('MIDAS_SECRET');
  });

  test.each([
    [{ MIDAS_SANDBOX_SECRET: 'sandboxSecret123' }, 'MIDAS_OFFER_ID'],
    [{ ...BASE, MIDAS_OFFER_ID: 'abc' }, 'MIDAS_OFFER_ID'],
    [{ MIDAS_OFFER_ID: '1' }, 'MIDAS_SANDBOX_SECRET'],
    [{ ...BASE, MIDAS_SANDBOX_SECRET: 'short' }, 'MIDAS_SANDBOX_SECRET'],
    [{ ...BASE, MIDAS_SANDBOX_SECRET: 'has a space inside' }, 'MIDAS_SANDBOX_SECRET'],
    [{ ...BASE, MIDAS_ENV: 'prod' }, 'MIDAS_ENV'],
    [{ ...BASE, MIDAS_ZONE_ID: 'zone1' }, 'MIDAS_ZONE_ID'],
    [{ ...BASE, MIDAS_APPID: 'notanappid' }, 'MIDAS_APPID'],
    [{ ...BASE, MIDAS_OPERATOR_OPENIDS: 'oGood0001,bad!' }, 'MIDAS_OPERATOR_OPENIDS'],
    [{ ...BASE, MIDAS_CALL_TIMEOUT_MS: '50' }, 'MIDAS_CALL_TIMEOUT_MS'],
    [{ ...BASE, MIDAS_CALL_TIMEOUT_MS: '2s' }, 'MIDAS_CALL_TIMEOUT_MS'],
    [{ ...BASE, MIDAS_TIME_BUDGET_MS: '100' }, 'MIDAS_TIME_BUDGET_MS'],
    [{ ...BASE, MIDAS_LEDGER_COLLECTION: 'a b' }, 'MIDAS_LEDGER_COLLECTION'],
    [{ ...BASE, MIDAS_RECONCILE_PAY_POLICY: 'maybe' }, 'MIDAS_RECONCILE_PAY_POLICY'],
  ])('%p fails naming %s', (env, variable) => {
    const f = failure(env as Record<string, string>);
    expect(f.field).toBe(variable);
    expect(f.message).toContain(variable);
  });

  test('the message never contains a secret value', () => {
    const f = failure({ ...BASE, MIDAS_SANDBOX_SECRET: 'with space secret' });
    expect(f.message).not.toContain('with space secret');
  });

  test('operators are a trimmed set', () => {
    const c = loadConfig({ ...BASE, MIDAS_OPERATOR_OPENIDS: ' oOp000001 , oOp000002,' });
    expect([...c.operatorOpenids]).toEqual(['oOp000001', 'oOp000002']);
  });
});

describe('the configuration reference and .env.example', () => {
  const root = path.join(__dirname, '..', '..', '..');
  const page = readFileSync(path.join(root, 'docs', 'configuration.md'), 'utf8');
  const example = readFileSync(path.join(root, '.env.example'), 'utf8');
  const DEPLOY: readonly string[] = DEPLOY_SETTINGS;

  test.each([...Object.keys(SETTINGS), ...DEPLOY])('document %s', (variable) => {
    expect(page).toContain(`\`${variable}\``);
    expect(example).toMatch(new RegExp(`^(# )?${variable}=`, 'm'));
  });

  test('.env.example reads as an env file, and its values are only the safe defaults', () => {
    const values = parseEnv(example) as Record<string, string>;
    for (const [k, v] of Object.entries(values)) {
      expect(k in SETTINGS || DEPLOY.includes(k)).toBe(true);
      if (v !== '') expect({ [k]: v }).toEqual({ [k]: k.endsWith('_ENV') ? 'sandbox' : 'v1' });
    }
  });
});

describe('delivery settings', () => {
  test('safe mode (WX_PUSH_AES_KEY) needs MIDAS_APPID: the appid inside every message is checked against it', () => {
    const env = { MIDAS_OFFER_ID: '1450012345', MIDAS_SANDBOX_APPKEY: 'sandbox-appkey-1', WX_APP_SECRET: 'app-secret-123', WX_PUSH_AES_KEY: 'a'.repeat(43) };
    expect(() => loadDeliveryConfig(env)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'MIDAS_APPID' }));
    expect(loadDeliveryConfig({ ...env, MIDAS_APPID: 'wx51dc10ca1c0ffee0' }).pushAesKey).toBe('a'.repeat(43));
  });
});
