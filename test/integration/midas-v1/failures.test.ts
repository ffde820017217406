/**
 * Failure paths through the built bundles: definite business failures, scripted faults of
 * the backend (SPEC §2's ambiguous cases), configuration errors. Each outcome is the
 * documented one, and money is never lost or doubled.
 */
import { GENERIC_MESSAGE } from '../../../shared/edge/errors';
import { balanceOf, billOf, call, newOpenid, useLocalCloud } from '../helpers';

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

  test('a balance too low is INSUFFICIENT_BALANCE, sent once (a definite answer is not retried)', async () => {
    const openid = fundedPlayer(5);
    const r = await call(cloud(), 'pay', { amt: 6 }, { openid });
    expect(r).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_BALANCE', retryable: false, outcome: 'not_applied' } });
    expect(balanceOf(cloud(), openid)).toBe(5);
    expect(cloud().backend.journal.filter((j) => j.params.openid === openid)).toHaveLength(1);
  });

  test('a repeated idempotency key never deducts twice and answers the first outcome', async () => {
    const openid = fundedPlayer();
    const first = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'buy-1' }, { openid });
    const second = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'buy-1' }, { openid });
    expect(first.ok).toBe(true);
    expect(second).toEqual(first);
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

async function paidBill(openid: string, amt: number): Promise<string> {
  const r = await call(cloud(), 'pay', { amt }, { openid });
  if (!r.ok) throw new Error(`pay failed: ${r.error.code}`);
  return String((r.data as { billNo: string }).billNo);
}

/** How many calls carried a bill, and how many times Midas applied it. */
function billHistory(billNo: string) {
  const calls = cloud().backend.journal.filter((j) => j.params.bill_no === billNo);
  return { sent: calls.length, applied: calls.filter((j) => j.applied).length, errcodes: calls.map((j) => j.errcode) };
}

describe('cancelPay rules', () => {
  test('players never cancel: neither the payer nor another player (FORBIDDEN, nothing sent); an operator may', async () => {
    const payer = fundedPlayer();
    const billNo = await paidBill(payer, 40);
    for (const openid of [payer, newOpenid()]) {
      expect(await call(cloud(), 'cancelPay', { billNo }, { openid })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    expect(balanceOf(cloud(), payer)).toBe(60);
    expect(cloud().backend.journal.some((j) => j.op === 'cancelPay' && j.params.bill_no === billNo)).toBe(false);
    const operator = newOpenid();
    const byOperator = await call(cloud(), 'cancelPay', { billNo }, { openid: operator }, { MIDAS_OPERATOR_OPENIDS: operator });
    expect(byOperator).toMatchObject({ ok: true, data: { state: 'CANCELLED' } });
    expect(balanceOf(cloud(), payer)).toBe(100);
  });

  test('a second cancel is BILL_ALREADY_CANCELLED and gives nothing back twice', async () => {
    const openid = fundedPlayer();
    const billNo = await paidBill(openid, 40);
    await call(cloud(), 'cancelPay', { billNo }, { source: 'scf' });
    const again = await call(cloud(), 'cancelPay', { billNo }, { source: 'scf' });
    expect(!again.ok && again.error.code).toBe('BILL_ALREADY_CANCELLED');
    expect(balanceOf(cloud(), openid)).toBe(100);
  });

  test('a bill Midas holds as confirmed (past 48 h) stays paid', async () => {
    const openid = fundedPlayer();
    const billNo = await paidBill(openid, 40);
    cloud().backend.advanceClock(48 * 3600 + 1);
    try {
      const r = await call(cloud(), 'cancelPay', { billNo }, { source: 'scf' });
      expect(!r.ok && r.error.code).toBe('BILL_ALREADY_CONFIRMED');
      expect(balanceOf(cloud(), openid)).toBe(60);
      const order = (await cloud().database.all('midas_orders')).find((o) => o._id === billNo);
      expect(order).toMatchObject({ state: 'COMPLETED', lastError: { code: 'BILL_ALREADY_CONFIRMED', upstreamCode: 90014 } });
    } finally {
      cloud().backend.advanceClock(-(48 * 3600 + 1));
    }
  });

  test('an order older than 48 hours in the ledger is refused before anything is sent', async () => {
    const openid = fundedPlayer();
    const billNo = await paidBill(openid, 40);
    await cloud().database.handle('database.modifyDocument', {
      collectionName: 'midas_orders', query: JSON.stringify({ _id: billNo }), multi: false, merge: true,
      data: JSON.stringify({ $set: { createdAt: Date.now() - 49 * 3600 * 1000 } }),
    });
    const r = await call(cloud(), 'cancelPay', { billNo }, { source: 'scf' });
    expect(!r.ok && r.error.code).toBe('BILL_ALREADY_CONFIRMED');
    expect(cloud().backend.journal.some((j) => j.op === 'cancelPay' && j.params.bill_no === billNo)).toBe(false);
  });

  test('an order that is not paid cannot be cancelled', async () => {
    const openid = fundedPlayer(5);
    const r = await call(cloud(), 'pay', { amt: 6, idempotencyKey: 'too-much-for-cancel' }, { openid });
    const billNo = String(!r.ok && r.error.billNo);
    const c = await call(cloud(), 'cancelPay', { billNo }, { source: 'scf' });
    expect(!c.ok && c.error.code).toBe('ORDER_NOT_CANCELLABLE');
  });

  test('an unknown bill is BILL_NOT_FOUND', async () => {
    const r = await call(cloud(), 'cancelPay', { billNo: 'never_made' }, { source: 'scf' });
    expect(!r.ok && r.error.code).toBe('BILL_NOT_FOUND');
  });
});

describe('scripted faults: retried with the same bill number inside the time budget', () => {
  test('-1 without applying: retried, charged once', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'pay', fault: { kind: 'busy' } });
    const r = await call(cloud(), 'pay', { amt: 10 }, { openid });
    expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED', balance: 90 } });
    expect(billHistory(billOf(r))).toMatchObject({ sent: 2, applied: 1, errcodes: [-1, 0] });
    const order = (await cloud().database.all('midas_orders')).find((o) => o._id === billOf(r));
    expect(order).toMatchObject({ state: 'COMPLETED', attempts: 2, lastError: null, leaseId: '' });
  });

  test('applied then -1 (the seeds’ ambiguous case): the retry finds it applied (90012), charged once', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'pay', fault: { kind: 'applyThenBusy' } });
    const r = await call(cloud(), 'pay', { amt: 10 }, { openid });
    expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(balanceOf(cloud(), openid)).toBe(90);
    expect(billHistory(billOf(r))).toMatchObject({ applied: 1, errcodes: [-1, 90012] });
  });

  test('a delay past the call timeout: the retry carries the same bill, charged once', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'pay', fault: { kind: 'delay', ms: 900 } });
    const inv = await cloud().invoke('pay', { amt: 10 }, { openid }, { MIDAS_CALL_TIMEOUT_MS: '300' });
    // No invocation error: the function answered before the platform's 3 s timeout killed it.
    expect(inv.error).toBeUndefined();
    expect(inv.result).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    await new Promise((r) => setTimeout(r, 1000)); // let the delayed first call land
    expect(billHistory(billOf(inv.result))).toMatchObject({ applied: 1 });
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('90016 on a cancel is retried; the cancel lands once', async () => {
    const openid = fundedPlayer();
    const billNo = await paidBill(openid, 10);
    cloud().injectFault({ op: 'cancelPay', fault: { kind: 'inProgress' } });
    const r = await call(cloud(), 'cancelPay', { billNo }, { source: 'scf' });
    expect(r).toMatchObject({ ok: true, data: { state: 'CANCELLED' } });
    expect(balanceOf(cloud(), openid)).toBe(100);
  });

  test('an empty 200 answer is not taken for success: the retry learns the truth (90012)', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'pay', fault: { kind: 'empty' } });
    const r = await call(cloud(), 'pay', { amt: 10 }, { openid });
    expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED' } });
    expect(billHistory(billOf(r))).toMatchObject({ applied: 1, errcodes: [0, 90012] });
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('an empty answer to getBalance is an error, not a balance of nothing', async () => {
    cloud().injectFault({ op: 'getBalance', fault: { kind: 'empty' } });
    const r = await call(cloud(), 'getBalance', {}, { openid: newOpenid() });
    expect(r).toMatchObject({ ok: false, error: { code: 'UPSTREAM_BAD_RESPONSE', retryable: true } });
    expect(!r.ok && r.error.outcome).toBeUndefined();
  });

  test('a gateway failure on present is retried', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'present', fault: { kind: 'gatewayError' } });
    const r = await call(cloud(), 'present', { toOpenid: openid, presentCounts: 1 }, { source: 'scf' });
    expect(r).toMatchObject({ ok: true, data: { state: 'COMPLETED', balance: 101 } });
  });

  test('a fault that outlasts the budget leaves the order UNKNOWN: told it is being resolved, not failed', async () => {
    const openid = fundedPlayer();
    cloud().injectFault({ op: 'pay', fault: { kind: 'busy' }, times: 1000 });
    const r = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'stuck-1' }, { openid }, { MIDAS_TIME_BUDGET_MS: '600' });
    expect(r).toMatchObject({ ok: true, data: { state: 'UNKNOWN', resolving: true } });
    cloud().backend.clearFaults();
    // The same key again: this invocation takes the order over and resolves it with the same bill.
    const again = await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'stuck-1' }, { openid });
    expect(again).toMatchObject({ ok: true, data: { state: 'COMPLETED', billNo: billOf(r) } });
    expect(balanceOf(cloud(), openid)).toBe(90);
  });

  test('definite failures are final: the same key answers the same failure and sends nothing', async () => {
    const openid = fundedPlayer(5);
    const first = await call(cloud(), 'pay', { amt: 6, idempotencyKey: 'too-much' }, { openid });
    expect(first).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_BALANCE', outcome: 'not_applied' } });
    const sent = cloud().backend.journal.length;
    cloud().backend.topUp({ env: 'sandbox', openid }, 100);
    const again = await call(cloud(), 'pay', { amt: 6, idempotencyKey: 'too-much' }, { openid });
    expect(again).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_BALANCE' } });
    expect(cloud().backend.journal.length).toBe(sent);
  });

  test('the same key for a different purchase is refused', async () => {
    const openid = fundedPlayer();
    await call(cloud(), 'pay', { amt: 10, idempotencyKey: 'k-1' }, { openid });
    const other = await call(cloud(), 'pay', { amt: 20, idempotencyKey: 'k-1' }, { openid });
    expect(other).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' } });
    expect(balanceOf(cloud(), openid)).toBe(90);
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
