/**
 * Property-based tests at the edge: every function, built and run in the local cloud, is fed
 * generated events (wrong types, missing and unknown fields, 1 MB strings, `__proto__` and
 * `constructor` keys, NaN, Infinity, nested junk, arrays, null), and for each:
 * - the answer has the documented shape (no exception reaches the platform);
 * - an event refused as invalid sent nothing to Midas, WeChat or YSDK; and, seen from the other
 *   side, Midas never received a call it refuses as malformed (90018) nor YSDK a malformed
 *   request (1001): whatever is invalid is caught before it is sent;
 * - no secret, session_key, openkey or signature appears in any answer or log line.
 *
 * FUZZ_RUNS raises the number of events per function (default 20); FUZZ_SEED replays a run.
 * fast-check prints the seed and the shrunk event of a failure.
 */
import fc from 'fast-check';
import { ERROR_CODES } from '../../../shared/edge/errors';
import { newOpenid, useLocalCloud } from '../helpers';

const RUNS = Number(process.env.FUZZ_RUNS ?? 20);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const OPERATOR = newOpenid();
const cloud = useLocalCloud({ functionEnv: { MIDAS_OPERATOR_OPENIDS: OPERATOR } });

const MB = 'x'.repeat(1 << 20);

/** The fields each function knows, so generated events reach every check, not only the first. */
const FIELDS: Record<string, string[]> = {
  getBalance: ['zoneId'],
  pay: ['amt', 'payItem', 'appRemark', 'zoneId', 'idempotencyKey'],
  present: ['toOpenid', 'presentCounts', 'zoneId', 'idempotencyKey', 'reason'],
  cancelPay: ['billNo'],
  reconcile: ['orderIds', 'Type', 'TriggerName', 'Time', 'Message'],
  login: ['code'],
  signPayment: ['kind', 'productId', 'quantity', 'zoneId', 'attach'],
  catalogue: [],
  ysdkBalance: ['login', 'openid', 'openkey', 'pf', 'pfkey', 'zoneId', 'userIp', 'accountType', 'afterTopUp'],
  myOrders: ['outTradeNo'],
  buyWithCoins: ['productId', 'quantity', 'idempotencyKey', 'zoneId'],
};

/** Who calls: a player, or our own code for the trusted-only functions. */
function callerOf(fn: string, openid: string) {
  return fn === 'present' || fn === 'reconcile' ? { source: 'scf' } : { openid };
}

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, NaN, Infinity, -Infinity, 0, -1, 1.5, 1e21, 2 ** 53, true, false, '', ' ', MB, '1', '1_x', 'item', 'coins', 'qq', 'sword_basic', '__proto__', 'a&b=c', '\u0000\n'),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

/** An object with own keys as given (`__proto__` included, as JSON.parse would make it). */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

function eventsFor(fn: string): fc.Arbitrary<unknown> {
  const key = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...FIELDS[fn]!, ...(FIELDS[fn]!.length === 0 ? ['x'] : [])) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'openid', 'userIp', 'price', 'userInfo') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  return fc.oneof(
    { weight: 1, arbitrary: junk },
    { weight: 4, arbitrary: fc.array(fc.tuple(key, junk), { maxLength: 5 }).map(objectOf) },
  );
}

function secretsNow(openid: string): string[] {
  const c = cloud();
  const env = c.functionEnv;
  const secrets = ['MIDAS_SECRET', 'MIDAS_SANDBOX_SECRET', 'MIDAS_APPKEY', 'MIDAS_SANDBOX_APPKEY', 'WX_APP_SECRET', 'YSDK_APPKEY', 'YSDK_SANDBOX_APPKEY'].map((k) => env[k]!);
  const sessionKey = c.wechat.currentSessionKey(openid);
  return [...secrets, ...(sessionKey ? [sessionKey] : []), ...c.backend.signatures].filter((s) => s.length >= 8);
}

function upstreamCalls(): number {
  const c = cloud();
  return c.gateway.calls.length + c.backend.journal.length + c.wechat.codeExchanges + c.ysdk.journal.length;
}

describe.each(Object.keys(FIELDS))('%s with generated events', (fn) => {
  const openid = newOpenid();
  let openkey = '';

  beforeAll(async () => {
    // A player with coins, a login (a session_key on record) and a YSDK token: the secrets that
    // must never leak exist.
    cloud().backend.topUp({ env: 'sandbox', openid }, 1000);
    const code = cloud().wechat.wxLogin(openid);
    await cloud().invoke('login', { code }, { openid });
    openkey = cloud().ysdk.login(openid, 'qq');
  });

  test('answers in the documented shape, sends nothing when refused, leaks nothing', async () => {
    await fc.assert(
      fc.asyncProperty(eventsFor(fn), async (event) => {
        const before = upstreamCalls();
        const journalBefore = cloud().backend.journal.length;
        const ysdkBefore = cloud().ysdk.journal.length;
        const logsBefore = cloud().runner.logs.length;
        const inv = await cloud().invoke(fn, event, callerOf(fn, openid));
        // No exception, timeout or crash reaches the platform.
        expect(inv.error).toBeUndefined();
        const r = inv.result as { ok: unknown; data?: unknown; error?: Record<string, unknown> };
        expect(typeof r).toBe('object');
        if (r.ok === true) {
          expect(typeof r.data).toBe('object');
        } else {
          expect(r.ok).toBe(false);
          const e = r.error!;
          expect(Object.keys(ERROR_CODES)).toContain(e.code);
          expect(typeof e.message).toBe('string');
          expect(typeof e.retryable).toBe('boolean');
          expect(Object.keys(e).every((k) => ['code', 'message', 'retryable', 'field', 'outcome', 'billNo'].includes(k))).toBe(true);
          if (e.code === 'VALIDATION_FAILED') {
            // Refused: it names the field, and nothing went upstream.
            expect(typeof e.field).toBe('string');
            expect(upstreamCalls()).toBe(before);
          }
        }
        expect(cloud().backend.journal.slice(journalBefore).filter((j) => j.errcode === 90018)).toEqual([]);
        expect(cloud().ysdk.journal.slice(ysdkBefore).filter((j) => j.ret === 1001)).toEqual([]);
        const text = JSON.stringify(r) + cloud().runner.logs.slice(logsBefore);
        for (const s of [...secretsNow(openid), openkey]) expect(text.includes(s)).toBe(false);
      }),
      { numRuns: RUNS, ...(SEED !== undefined && { seed: SEED }) },
    );
  }, 120_000);
});

describe('paymentNotify with generated events (it answers in WeChat’s shape, not ours)', () => {
  const fields = ['Event', 'MiniGame', 'OpenId', 'OutTradeNo', 'Env', 'GoodsInfo', 'CoinInfo', 'IsMock', 'httpMethod', 'queryStringParameters', 'body'];
  const junkPush = fc.oneof(
    junk,
    fc.array(fc.tuple(fc.constantFrom(...fields, '__proto__', 'constructor'), junk), { maxLength: 6 }).map(objectOf),
    // The right event names with junk inside, so the parsing past the name is reached.
    fc.tuple(fc.constantFrom('minigame_game_pay_goods_deliver_notify', 'minigame_coin_deliver_completed', 'minigame_pay_refund_succ_notify'), junk, junk).map(([Event, Payload, PayEventSig]) => ({ Event, MiniGame: { Payload, PayEventSig } })),
  );

  test('never fails the platform, answers {ErrCode} or an HTTP response, and delivers nothing', async () => {
    await fc.assert(
      fc.asyncProperty(junkPush, async (event) => {
        const inv = await cloud().invoke('paymentNotify', event, { source: 'wx_push' });
        expect(inv.error).toBeUndefined();
        const r = inv.result as { ErrCode?: unknown; statusCode?: unknown };
        expect(typeof r.ErrCode === 'number' || typeof r.statusCode === 'number').toBe(true);
        expect((await cloud().database.all('midas_inventory')).length).toBe(0);
        for (const s of secretsNow('')) expect(JSON.stringify(r).includes(s)).toBe(false);
      }),
      { numRuns: RUNS * 2, ...(SEED !== undefined && { seed: SEED }) },
    );
  }, 120_000);

  /** Values a push may carry that a database would read as operators or choke on: `$` keys, dots, deep nesting. */
  const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      junk,
      fc.constantFrom<unknown>({ $ne: null }, { $gt: '' }, { 'a.b': 1 }, { $where: 'sleep(1)' }, JSON.parse('{"__proto__": {"x": 1}}')),
      fc.dictionary(fc.constantFrom('$ne', '$set', '$inc', 'a.b', '$', '_id', 'ProductId'), tie('value'), { maxKeys: 3 }),
    ),
  })).value;
  const deep = fc.integer({ min: 10, max: 60 }).map((n) => {
    let v: unknown = { $ne: null };
    for (let i = 0; i < n; i++) v = { [`$k${i % 3}`]: v };
    return v;
  });

  test('signed pushes for a real order with nested and $-keyed values: answered in WeChat’s shape, never an error repeated forever, nothing delivered', async () => {
    const openid = newOpenid();
    await cloud().invoke('login', { code: cloud().wechat.wxLogin(openid) }, { openid });
    const signed = (await cloud().invoke('signPayment', { kind: 'item', productId: 'gems_60' }, { openid })).result as { data: { outTradeNo: string } };
    const otn = signed.data.outTradeNo;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('ProductId', 'Quantity', 'OrigPrice', 'ZoneId'), fc.oneof(hostileValue, deep), async (field, value) => {
        // A value that says what the order says is no mismatch: that push is right, and delivers.
        const agrees = { ProductId: value === 'gems_60', Quantity: value === 1, OrigPrice: value === 600, ZoneId: value === undefined || value === '1' || value === 1 }[field]!;
        fc.pre(!agrees);
        const goods: Record<string, unknown> = { ProductId: 'gems_60', Quantity: 1, ZoneId: '1', OrigPrice: 600, ActualPrice: 600, [field]: value };
        const envelope = cloud().pushes.envelope('minigame_game_pay_goods_deliver_notify', { OpenId: openid, Env: 1, OutTradeNo: otn, GoodsInfo: goods });
        const inv = await cloud().invoke('paymentNotify', envelope, { source: 'wx_push' });
        expect(inv.error).toBeUndefined();
        const r = inv.result as { ErrCode: number; ErrMsg: string };
        expect(typeof r.ErrCode).toBe('number');
        // A mismatch is flagged and acknowledged: never INTERNAL or "database unavailable", which WeChat would retry forever.
        expect(['INTERNAL', 'LEDGER_UNAVAILABLE']).not.toContain(r.ErrMsg);
        const inventory = (await cloud().database.all('midas_inventory')).find((d) => d._id === `sandbox:${openid}`);
        expect(inventory).toBeUndefined();
      }),
      { numRuns: RUNS * 2, ...(SEED !== undefined && { seed: SEED }) },
    );
    const order = (await cloud().database.all('midas_client_orders')).find((o) => o._id === otn) as { state: string; flags?: { detail?: string }[] };
    expect(order.state).toBe('PENDING');
    expect((order.flags ?? []).length).toBeGreaterThan(0);
    for (const f of order.flags ?? []) expect((f.detail ?? '').length).toBeLessThanOrEqual(501);
  }, 120_000);
});
