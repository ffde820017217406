import { isMidasCloudError } from '../../../shared/edge/errors';
import { MAX_COINS_PER_CALL } from '../../../shared/midas-v1/api-limits';
import type { OperationName } from '../../../shared/midas-v1/operation-table';
import { validateEvent, validateRefundEvent } from '../../../shared/midas-v1/event-validation';

/** The field named by the VALIDATION_FAILED that `event` raises, or 'ok'. */
function fieldAtFault(op: OperationName, event: unknown): string {
  try {
    validateEvent(op, event);
    return 'ok';
  } catch (e) {
    if (isMidasCloudError(e) && e.code === 'VALIDATION_FAILED') return e.field ?? '?';
    throw e;
  }
}

describe('validateEvent', () => {
  describe('amounts', () => {
    test.each([
      [1, 'ok'],
      [MAX_COINS_PER_CALL, 'ok'],
      [0, 'amt'],
      [-5, 'amt'],
      [1.5, 'amt'],
      [MAX_COINS_PER_CALL + 1, 'amt'],
      ['10', 'amt'],
      [Number.NaN, 'amt'],
    ])('pay amt %p → %s', (amt, expected) => {
      expect(fieldAtFault('pay', { amt })).toBe(expected);
    });

    test('a missing amt is named as required', () => {
      expect(() => validateEvent('pay', {})).toThrow('amt is required');
    });

    test('present_counts has the same bounds', () => {
      expect(fieldAtFault('present', { toOpenid: 'oPlayer0001', presentCounts: 0 })).toBe('presentCounts');
      expect(fieldAtFault('present', { toOpenid: 'oPlayer0001', presentCounts: 3 })).toBe('ok');
    });
  });

  describe('bill numbers', () => {
    test.each([
      ['a'.repeat(63), 'ok'],
      ['Bill_no-123', 'ok'],
      ['a'.repeat(64), 'billNo'],
      ['', 'billNo'],
      ['bill*1', 'billNo'],
      ['bill@1', 'billNo'],
      ['bill 1', 'billNo'],
      ['账单', 'billNo'],
    ])('%p → %s', (billNo, expected) => {
      expect(fieldAtFault('cancelPay', { billNo })).toBe(expected);
    });

    test('cancelPay requires it; pay and present refuse it (the ledger makes it)', () => {
      expect(fieldAtFault('cancelPay', {})).toBe('billNo');
      expect(fieldAtFault('pay', { amt: 1 })).toBe('ok');
      expect(fieldAtFault('pay', { amt: 1, billNo: 'B1' })).toBe('billNo');
      expect(fieldAtFault('present', { toOpenid: 'oPlayer0001', presentCounts: 1, billNo: 'B1' })).toBe('billNo');
    });

    test('cancelPay takes the zone from the paid order, not the event', () => {
      expect(fieldAtFault('cancelPay', { billNo: 'B1', zoneId: '2' })).toBe('zoneId');
    });
  });

  describe('zones', () => {
    test.each([
      ['1', 'ok'],
      ['12_role-9', 'ok'],
      ['x', 'zoneId'],
      ['1_', 'zoneId'],
      [1, 'zoneId'],
    ])('%p → %s', (zoneId, expected) => {
      expect(fieldAtFault('getBalance', { zoneId })).toBe(expected);
    });
  });

  describe('idempotency keys and reasons', () => {
    test.each([
      ['buy-42:sword.1', 'ok'],
      ['x'.repeat(64), 'ok'],
      ['x'.repeat(65), 'idempotencyKey'],
      ['has space', 'idempotencyKey'],
      ['', 'idempotencyKey'],
    ])('pay idempotencyKey %p → %s', (idempotencyKey, expected) => {
      expect(fieldAtFault('pay', { amt: 1, idempotencyKey })).toBe(expected);
    });

    test('present takes a reason, pay does not', () => {
      expect(fieldAtFault('present', { toOpenid: 'oPlayer0001', presentCounts: 1, reason: 'daily login' })).toBe('ok');
      expect(fieldAtFault('pay', { amt: 1, reason: 'x' })).toBe('reason');
    });
  });

  describe('free text', () => {
    test('payItem refuses & and = (they would blur the signed string) and control characters', () => {
      expect(fieldAtFault('pay', { amt: 1, payItem: '宝剑 x1' })).toBe('ok');
      expect(fieldAtFault('pay', { amt: 1, payItem: 'a&b=c' })).toBe('payItem');
      expect(fieldAtFault('pay', { amt: 1, payItem: 'a\nb' })).toBe('payItem');
      expect(fieldAtFault('pay', { amt: 1, appRemark: 'x'.repeat(129) })).toBe('appRemark');
    });
  });

  describe('unknown fields and identity', () => {
    test.each(['openid', 'openId', 'appid', 'clientIp'])('%s in the event is refused, naming it', (key) => {
      expect(() => validateEvent('pay', { amt: 1, [key]: 'oVictim000001' })).toThrow(/platform context/);
      expect(fieldAtFault('pay', { amt: 1, [key]: 'oVictim000001' })).toBe(key);
    });

    test('any other unknown field is refused', () => {
      expect(fieldAtFault('getBalance', { price: 1 })).toBe('price');
    });

    test('a toOpenid is refused where the player is the caller', () => {
      expect(fieldAtFault('pay', { amt: 1, toOpenid: 'oVictim000001' })).toBe('toOpenid');
    });

    test('the platform’s userInfo is not input and is dropped', () => {
      expect(validateEvent('getBalance', { userInfo: { openId: 'oX00000', appId: 'wx1' } })).toEqual({});
    });

    test('present needs a recipient', () => {
      expect(fieldAtFault('present', { presentCounts: 1 })).toBe('toOpenid');
      expect(fieldAtFault('present', { presentCounts: 1, toOpenid: 'no' })).toBe('toOpenid');
    });
  });

  test.each([null, undefined])('%p is an empty request', (event) => {
    expect(fieldAtFault('getBalance', event)).toBe('ok');
  });

  test.each([['a string'], [[1, 2]], [42]])('%p is refused as not an object', (event) => {
    expect(fieldAtFault('getBalance', event)).toBe('(event)');
  });
});

describe('names of built-in object members are not fields', () => {
  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])('2.0 cancelPay refuses %s, naming it', (name) => {
    // JSON.parse makes `__proto__` an own key, as a request body does.
    const event = JSON.parse(`{"billNo": "B1", ${JSON.stringify(name)}: 1}`);
    expect(() => validateRefundEvent(event)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', field: name }));
  });
});
