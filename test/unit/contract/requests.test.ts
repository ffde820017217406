/**
 * The contract's request types and the fields the functions accept are one list: each request
 * type's keys (checked by the compiler to be all of them and only them) are what the function's
 * own validation accepts, and its required keys are what the function requires.
 */
import type { BuyWithCoinsRequest, CancelPayRequest, GetBalanceRequest, LoginRequest, MyOrdersRequest, PayRequest, PresentRequest, ReconcileRequest, SignPaymentRequest, YsdkBalanceRequest } from '../../../shared/contract/answers';
import { MY_ORDERS_FIELDS } from '../../../shared/delivery/fulfilment';
import { RECONCILE_FIELDS } from '../../../shared/ledger/reconciler';
import { eventFields, REFUND_FIELDS } from '../../../shared/midas-v1/event-validation';
import { BUY_WITH_COINS_FIELDS } from '../../../shared/purchases/coin-purchase';
import { LOGIN_FIELDS } from '../../../shared/virtual-payment/login';
import { SIGN_PAYMENT_FIELDS } from '../../../shared/virtual-payment/sign-payment';
import { YSDK_BALANCE_FIELDS } from '../../../shared/ysdk/balance';

type KeysOf<T> = T extends unknown ? keyof T : never;
/** `keys`, which the compiler checks to be every key of T (of every member of a union) and nothing else. */
function allKeysOf<T>() {
  return <const K extends readonly KeysOf<T>[]>(keys: K & (Exclude<KeysOf<T>, K[number]> extends never ? unknown : { missing: Exclude<KeysOf<T>, K[number]> })): string[] => [...keys].map(String).sort();
}
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
function requiredKeysOf<T>() {
  return <const K extends readonly RequiredKeys<T>[]>(keys: K & (Exclude<RequiredKeys<T>, K[number]> extends never ? unknown : { missing: Exclude<RequiredKeys<T>, K[number]> })): string[] => [...keys].map(String).sort();
}

const sorted = (xs: readonly string[]) => [...xs].sort();

test('Midas v1 operations: the event fields of the operation table', () => {
  const v1 = (op: 'getBalance' | 'pay' | 'present' | 'cancelPay') => ({ all: sorted(eventFields(op).map((f) => f.field)), required: sorted(eventFields(op).filter((f) => f.required).map((f) => f.field)) });
  expect(v1('getBalance')).toEqual({ all: allKeysOf<GetBalanceRequest>()(['zoneId']), required: [] });
  expect(v1('pay')).toEqual({ all: allKeysOf<PayRequest>()(['amt', 'zoneId', 'payItem', 'appRemark', 'idempotencyKey']), required: requiredKeysOf<PayRequest>()(['amt']) });
  expect(v1('present')).toEqual({ all: allKeysOf<PresentRequest>()(['toOpenid', 'presentCounts', 'zoneId', 'idempotencyKey', 'reason']), required: requiredKeysOf<PresentRequest>()(['toOpenid', 'presentCounts']) });
  // v1 cancels by bill number only; amount and idempotencyKey are 2.0's (a partial refund).
  expect(v1('cancelPay').all).toEqual(['billNo']);
  expect(sorted(REFUND_FIELDS)).toEqual(allKeysOf<CancelPayRequest>()(['billNo', 'amount', 'idempotencyKey']));
  expect(requiredKeysOf<CancelPayRequest>()(['billNo'])).toEqual(v1('cancelPay').required);
});

test('the other functions: each one’s own list of accepted fields', () => {
  expect(sorted(SIGN_PAYMENT_FIELDS)).toEqual(allKeysOf<SignPaymentRequest>()(['kind', 'productId', 'quantity', 'zoneId', 'attach']));
  expect(sorted(LOGIN_FIELDS)).toEqual(allKeysOf<LoginRequest>()(['code']));
  expect(sorted(BUY_WITH_COINS_FIELDS)).toEqual(allKeysOf<BuyWithCoinsRequest>()(['productId', 'quantity', 'idempotencyKey', 'zoneId']));
  expect(requiredKeysOf<BuyWithCoinsRequest>()(['productId', 'idempotencyKey'])).toEqual(['idempotencyKey', 'productId']);
  expect(sorted(MY_ORDERS_FIELDS)).toEqual(allKeysOf<MyOrdersRequest>()(['outTradeNo']));
  expect(sorted(RECONCILE_FIELDS)).toEqual(allKeysOf<ReconcileRequest>()(['orderIds']));
  expect(sorted(YSDK_BALANCE_FIELDS)).toEqual(allKeysOf<YsdkBalanceRequest>()(['login', 'openid', 'openkey', 'pf', 'pfkey', 'zoneId', 'userIp', 'accountType', 'afterTopUp']));
});
