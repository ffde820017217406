import { GENERIC_MESSAGE, MidasCloudError, fromCloudCallError, toClientError } from '../../../shared/edge/errors';

describe('fromCloudCallError', () => {
  test.each([
    [90000, 'BILL_NOT_FOUND', false],
    [90009, 'MIDAS_SIGNATURE_REJECTED', false],
    [90010, 'SESSION_EXPIRED', false],
    [90011, 'MIDAS_SIGNATURE_REJECTED', false],
    [90012, 'BILL_ALREADY_EXISTS', false],
    [90013, 'INSUFFICIENT_BALANCE', false],
    [90014, 'BILL_ALREADY_CONFIRMED', false],
    [90015, 'BILL_ALREADY_CANCELLED', false],
    [90016, 'BILL_IN_PROGRESS', true],
    [90017, 'MIDAS_PERMISSION_DENIED', false],
    [90018, 'MIDAS_BAD_PARAMS', false],
    [-604101, 'OPENAPI_PERMISSION_DENIED', false],
  ])('errCode %i → %s (retryable %p), definitely not applied', (errCode, code, retryable) => {
    const e = fromCloudCallError({ errCode, errMsg: 'openapi.midas.pay:fail x' }, true);
    expect(e).toMatchObject({ code, retryable, upstreamCode: errCode, outcome: 'not_applied' });
  });

  test.each([
    [{ errCode: -1, errMsg: 'openapi.midas.pay:fail system error' }, 'MIDAS_BUSY'],
    [{ errCode: -501001, errMsg: 'openapi.midas.pay:fail resource system error' }, 'UPSTREAM_UNAVAILABLE'],
    [{ errCode: -604102, errMsg: 'timeout' }, 'UPSTREAM_TIMEOUT'],
    [new Error('socket hang up'), 'UPSTREAM_UNAVAILABLE'],
    ['a thrown string', 'UPSTREAM_UNAVAILABLE'],
  ])('%p → %s: retryable; for a coin-moving call the outcome is unknown', (thrown, code) => {
    expect(fromCloudCallError(thrown, true)).toMatchObject({ code, retryable: true, outcome: 'unknown' });
    expect(fromCloudCallError(thrown, false).outcome).toBeUndefined();
  });
});

describe('toClientError', () => {
  test('an exposed error keeps its message, field and bill number', () => {
    const e = new MidasCloudError('VALIDATION_FAILED', 'amt is required', { field: 'amt' });
    e.billNo = 'B1';
    expect(toClientError(e)).toEqual({ code: 'VALIDATION_FAILED', message: 'amt is required', retryable: false, field: 'amt', billNo: 'B1' });
  });

  test('an integration fault reaches the client as a generic message', () => {
    const e = fromCloudCallError({ errCode: 90011, errMsg: 'sig invalid' }, false);
    expect(toClientError(e)).toEqual({ code: 'MIDAS_SIGNATURE_REJECTED', message: GENERIC_MESSAGE, retryable: false, outcome: 'not_applied' });
  });

  test('anything unexpected is INTERNAL with nothing of its own text', () => {
    const c = toClientError(new TypeError('secret=abc leaked in a message'));
    expect(c).toEqual({ code: 'INTERNAL', message: GENERIC_MESSAGE, retryable: false });
  });
});
