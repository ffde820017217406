import { cgiPath, OPERATION_NAMES, MIDAS_ENVS, allParams, toCamelCase, type OperationName } from '../../../shared/midas-v1/operation-table';
import { midasMpSig, midasSig, sigSource } from '../../../shared/midas-v1/signing';
import { signaturesEqual } from '../../../shared/edge/hmac';

// SPEC §2, official example.
const SECRET = 'zNLgAGgqsEWJOg1nFVaO5r7fAlIQxr1u';
const SESSION_KEY = 'V7Q38/i2KXaqrQyl2Yx9Hg==';
const PARAMS = { openid: 'odkx20ENSNa2w5y3g_qOkOvBNM1g', appid: 'wx1234567', offer_id: '12345678', ts: 1507530737, zone_id: '1', pf: 'android' };
const OFFICIAL_SIG = '1ad64e8dcb2ec1dc486b7fdf01f4a15159fc623dc3422470e51cf6870734726b';
const OFFICIAL_MP_SIG = 'ff4c5bb39dea1002a8f03be0438724e1a8bcea5ebce8f221f9b9fea3bcf3bf76';

describe('midasSig', () => {
  test('reproduces the official getbalance vector', () => {
    expect(midasSig(PARAMS, '/cgi-bin/midas/getbalance', SECRET)).toBe(OFFICIAL_SIG);
  });

  test('ignores sig, mp_sig and access_token if they are present', () => {
    const withExtras = { ...PARAMS, sig: 'x', mp_sig: 'y', access_token: 'ACCESSTOKEN' };
    expect(midasSig(withExtras, '/cgi-bin/midas/getbalance', SECRET)).toBe(OFFICIAL_SIG);
  });

  test('does not depend on the order params are given in', () => {
    const reversed = Object.fromEntries(Object.entries(PARAMS).reverse());
    expect(midasSig(reversed, '/cgi-bin/midas/getbalance', SECRET)).toBe(OFFICIAL_SIG);
  });

  test('signs the path: the sandbox path gives another sig', () => {
    expect(midasSig(PARAMS, '/cgi-bin/midas/sandbox/getbalance', SECRET)).not.toBe(OFFICIAL_SIG);
  });

  test('signs every param: one more param gives another sig (a sent but unsigned param is a 90011)', () => {
    expect(midasSig({ ...PARAMS, user_ip: '1.2.3.4' }, '/cgi-bin/midas/getbalance', SECRET)).not.toBe(OFFICIAL_SIG);
  });

  test('is lowercase hex of 64 characters', () => {
    expect(midasSig(PARAMS, '/cgi-bin/midas/getbalance', SECRET)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('midasMpSig', () => {
  test('reproduces the official vector (access_token and sig signed, session_key used as is)', () => {
    const sent = { ...PARAMS, access_token: 'ACCESSTOKEN', sig: OFFICIAL_SIG };
    expect(midasMpSig(sent, '/cgi-bin/midas/getbalance', SESSION_KEY)).toBe(OFFICIAL_MP_SIG);
  });

  test('ignores mp_sig itself', () => {
    const sent = { ...PARAMS, access_token: 'ACCESSTOKEN', sig: OFFICIAL_SIG, mp_sig: 'whatever' };
    expect(midasMpSig(sent, '/cgi-bin/midas/getbalance', SESSION_KEY)).toBe(OFFICIAL_MP_SIG);
  });
});

describe('the signed string of every operation', () => {
  const values: Record<string, string | number> = {
    openid: 'o1', appid: 'wx1234567', offer_id: '12345678', ts: 1507530737, zone_id: '1', pf: 'android',
    user_ip: '1.2.3.4', amt: 10, bill_no: 'B_1', pay_item: 'sword', app_remark: 'r', present_counts: 5,
  };
  const expected: Record<OperationName, string> = {
    getBalance: 'appid=wx1234567&offer_id=12345678&openid=o1&pf=android&ts=1507530737&user_ip=1.2.3.4&zone_id=1',
    pay: 'amt=10&app_remark=r&appid=wx1234567&bill_no=B_1&offer_id=12345678&openid=o1&pay_item=sword&pf=android&ts=1507530737&user_ip=1.2.3.4&zone_id=1',
    cancelPay: 'appid=wx1234567&bill_no=B_1&offer_id=12345678&openid=o1&pay_item=sword&pf=android&ts=1507530737&user_ip=1.2.3.4&zone_id=1',
    present: 'appid=wx1234567&bill_no=B_1&offer_id=12345678&openid=o1&pf=android&present_counts=5&ts=1507530737&user_ip=1.2.3.4&zone_id=1',
  };
  for (const op of OPERATION_NAMES) {
    for (const env of MIDAS_ENVS) {
      test(`${op} (${env})`, () => {
        const params = Object.fromEntries(allParams(op).map((p) => [p.wire, values[p.wire]!]));
        expect(sigSource(params, cgiPath(op, env), 'SECRET')).toBe(`${expected[op]}&org_loc=${cgiPath(op, env)}&method=POST&secret=SECRET`);
      });
    }
  }
});

describe('agreement with wx-server-sdk', () => {
  // The SDK computes the sig of a cloud call itself from the camelCase names it is given.
  // Our emulator verifies with midasSig: both must agree for every op, or every call is a 90011.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('wx-server-sdk') as { signature(o: object): { compute(path: string, method: string, secret: string, values: object): string } };
  for (const op of OPERATION_NAMES) {
    test(op, () => {
      const params: Record<string, string | number> = {};
      for (const p of allParams(op)) params[p.wire] = p.type === 'integer' ? 42 : `v_${p.wire}`;
      const names = Object.keys(params).map(toCamelCase);
      const sdkSig = sdk.signature({ type: 'midas', params: names, secret: SECRET }).compute(cgiPath(op, 'sandbox'), 'POST', SECRET, params);
      expect(sdkSig).toBe(midasSig(params, cgiPath(op, 'sandbox'), SECRET));
    });
  }
});

describe('signaturesEqual', () => {
  test('true only for the same string', () => {
    expect(signaturesEqual(OFFICIAL_SIG, OFFICIAL_SIG)).toBe(true);
    expect(signaturesEqual(OFFICIAL_SIG, OFFICIAL_SIG.toUpperCase())).toBe(false);
    expect(signaturesEqual(OFFICIAL_SIG, OFFICIAL_SIG.slice(1))).toBe(false);
    expect(signaturesEqual(OFFICIAL_SIG, { sig: OFFICIAL_SIG })).toBe(false);
  });
});
