/**
 * Failure paths through the built bundles: definite business failures, scripted faults of
 * the backend (SPEC §2's ambiguous cases), configuration errors. Each outcome is the
 * documented one, and money is never lost or doubled.
 */
import { GENERIC_MESSAGE } from '../../shared/errors';
import { balanceOf, call, newOpenid, useLocalCloud } from './helpers';

const cloud = useLocalCloud();

afterEach(() => cloud().backend.clearFaults());

function fundedPlayer(coins = 100): string {
  const openid = newOpenid();
  cloud().backend.topUp({ env: 'sandbox', openid }, coins);
  return openid;
}

describe('definite failures change nothing', () => {
  test('a wrong secret is a 90011, reported without detail to the client', async () => {
    const openid = fundedPlayer();
    const r = await call(cloud(), 'pay', { amt: 10 }, { openid }, { MIDAS_SANDBOX_SECRET: 'not-the-secret-0001' });
    expect(r).toMatchObject({ ok: false, error: { code: 'MIDAS_SIGNATURE_REJECTED', message: GENERIC_MESSAGE, retryable: false } });
    expect(balanceOf(cloud(), openid)).toBe(100);
    expect(cloud().backend.journal.filter((j) => j.params.openid === openid).map((j) => j.errcode)).toEqual([90011]);
  });

  test('the production secret does not sign sandbox calls', async () => {
    const openid = fundedPlayer();
    const r = await call(cloud(), 'getBalance', {}, { openid }, { MIDAS_SANDBOX_SECRET: cloud().app.secrets.production });
    expect(!r.ok && r.error.code).toBe('MIDAS_SIGNATURE_REJECTED');
  });

  test('a balance too low is INSUFFICIENT_BALANCE', async () => {
    const openid = fundedPlayer(5);
    const r = await call(cloud(), 'pay', { amt: 6 }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_BALANCE', retryable: false, outcome: 'not_applied' } });
    expect(balanceOf(cloud(), openid)).toBe(5);
  });

  test('a repeated bill number never deducts twice', async () => {
    const openid = fundedPlayer();
    const first = await call(cloud(), 'pay', { amt: 10, billNo: `rep_${openid}` }, { openid });
    const second = await call(cloud(), 'pay', { amt: 10, billNo: `rep_${openid}` }, { openid });
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, error: { code: 'BILL_ALREADY_EXISTS', billNo: `rep_${openid}` } });
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('invalid input is refused before anything is sent to Midas', async () => {
    const openid = fundedPlayer();
    const before = cloud().backend.journal.length;
    const r = await call(cloud(), 'pay', { amt: 0 }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field: 'amt' } });
    expect(cloud().backend.journal.length).toBe(before);
  });

  test.each([null, 'text', [1], 7])('an event of %p is answered, not thrown', async (event) => {
    const inv = await cloud().invoke('getBalance', event, { openid: newOpenid() });
    expect(inv.error).toBeUndefined();
    expect(inv.result).toMatchObject(event === null ? { ok: true } : { ok: false, error: { code: 'VALIDATION_FAILED' } });
  });
});

describe('cancelPay rules', () => {
  test('only the payer’s own bill can be cancelled', async () => {
    const payer = fundedPlayer();
    const billNo = `own_${payer}`;
    await call(cloud(), 'pay', { amt: 40, billNo }, { openid: payer });
    const r = await call(cloud(), 'cancelPay', { billNo }, { openid: newOpenid() });
    expect(r).toMatchObject({ ok: false, error: { code: 'BILL_NOT_FOUND' } });
    expect(balanceOf(cloud(), payer)).toBe(60);
  });

  test('a second cancel is BILL_ALREADY_CANCELLED and gives nothing back twice', async () => {
    const openid = fundedPlayer();
    const billNo = `twice_${openid}`;
    await call(cloud(), 'pay', { amt: 40, billNo }, { openid });
    await call(cloud(), 'cancelPay', { billNo }, { openid });
    const again = await call(cloud(), 'cancelPay', { billNo }, { openid });
    expect(!again.ok && again.error.code).toBe('BILL_ALREADY_CANCELLED');
    expect(balanceOf(cloud(), openid)).toBe(100);
  });

  test('a bill older than 48 hours is confirmed and cannot be cancelled', async () => {
    const openid = fundedPlayer();
    const billNo = `old_${openid}`;
    await call(cloud(), 'pay', { amt: 40, billNo }, { openid });
    cloud().backend.advanceClock(48 * 3600 + 1);
    try {
      const r = await call(cloud(), 'cancelPay', { billNo }, { openid });
      expect(!r.ok && r.error.code).toBe('BILL_ALREADY_CONFIRMED');
      expect(balanceOf(cloud(), openid)).toBe(60);
    } finally {
      cloud().backend.advanceClock(-(48 * 3600 + 1));
    }
  });

  test('an unknown bill is BILL_NOT_FOUND', async () => {
    const r = await call(cloud(), 'cancelPay', { billNo: 'never_made' }, { openid: newOpenid() });
    expect(!r.ok && r.error.code).toBe('BILL_NOT_FOUND');
  });
});

describe('scripted faults', () => {
  test('-1 without applying: MIDAS_BUSY, outcome unknown, and the same bill number then goes through once', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'pay', fault: { kind: 'busy' } });
    const r = await call(cloud(), 'pay', { amt: 10 }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'MIDAS_BUSY', retryable: true, outcome: 'unknown' } });
    const billNo = !r.ok ? r.error.billNo : undefined;
    expect(billNo).toMatch(/^mc_/);
    expect(balanceOf(cloud(), openid)).toBe(100);
    const retry = await call(cloud(), 'pay', { amt: 10, billNo }, { openid });
    expect(retry).toMatchObject({ ok: true, data: { billNo, balance: 90 } });
  });

  test('applied then -1 (the seeds’ ambiguous case): the coins moved once, the retry cannot move them again', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'pay', fault: { kind: 'applyThenBusy' } });
    const r = await call(cloud(), 'pay', { amt: 10 }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'MIDAS_BUSY', outcome: 'unknown' } });
    expect(balanceOf(cloud(), openid)).toBe(90);
    const retry = await call(cloud(), 'pay', { amt: 10, billNo: !r.ok ? r.error.billNo : '' }, { openid });
    expect(!retry.ok && retry.error.code).toBe('BILL_ALREADY_EXISTS');
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('a delay past the caller’s timeout: UPSTREAM_TIMEOUT within the function timeout, outcome unknown', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'pay', fault: { kind: 'delay', ms: 1200 } });
    const inv = await cloud().invoke('pay', { amt: 10 }, { openid }, { MIDAS_CALL_TIMEOUT_MS: '400' });
    // No invocation error: the function answered before the platform's 3 s timeout killed it.
    expect(inv.error).toBeUndefined();
    expect(inv.result).toMatchObject({ ok: false, error: { code: 'UPSTREAM_TIMEOUT', retryable: true, outcome: 'unknown' } });
    await new Promise((r) => setTimeout(r, 1200));
    // The call went through after the caller gave up: exactly why the outcome is "unknown".
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('90016 is BILL_IN_PROGRESS, retryable, nothing applied', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'cancelPay', fault: { kind: 'inProgress' } });
    const paid = await call(cloud(), 'pay', { amt: 10 }, { openid });
    const billNo = paid.ok ? String(paid.data.billNo) : '';
    const r = await call(cloud(), 'cancelPay', { billNo }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'BILL_IN_PROGRESS', retryable: true } });
    expect(balanceOf(cloud(), openid)).toBe(90);
    expect((await call(cloud(), 'cancelPay', { billNo }, { openid })).ok).toBe(true);
    expect(balanceOf(cloud(), openid)).toBe(100);
  });

  test('an empty 200 answer is not taken for success: UPSTREAM_BAD_RESPONSE, outcome unknown', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'pay', fault: { kind: 'empty' } });
    const r = await call(cloud(), 'pay', { amt: 10 }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'UPSTREAM_BAD_RESPONSE', retryable: true, outcome: 'unknown' } });
  });

  test('an empty answer to getBalance is an error too, not a balance of nothing', async () => {
    cloud().injectFault({ op: 'getBalance', fault: { kind: 'empty' } });
    const r = await call(cloud(), 'getBalance', {}, { openid: newOpenid() });
    expect(r).toMatchObject({ ok: false, error: { code: 'UPSTREAM_BAD_RESPONSE', retryable: true } });
    expect(!r.ok && r.error.outcome).toBeUndefined();
  });

  test('a gateway failure is UPSTREAM_UNAVAILABLE', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'present', fault: { kind: 'gatewayError' } });
    const r = await call(cloud(), 'present', { toOpenid: openid, presentCounts: 1 }, { source: 'scf' });
    expect(r).toMatchObject({ ok: false, error: { code: 'UPSTREAM_UNAVAILABLE', retryable: true, outcome: 'unknown' } });
    expect(balanceOf(cloud(), openid)).toBe(100);
  });
});

describe('configuration', () => {
  test('a missing variable is named in the answer, at every call', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await call(cloud(), 'getBalance', {}, { openid: newOpenid() }, { MIDAS_OFFER_ID: '' });
      expect(r).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', field: 'MIDAS_OFFER_ID' } });
    }
  });
});
