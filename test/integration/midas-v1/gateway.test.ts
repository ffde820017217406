/**
 * The local gateway against the real wx-server-sdk in this process: the trap of SPEC §2 is
 * real and the emulator sees it, so "no leaks" elsewhere is an assertion that can fail.
 */
import { LocalCloud } from '../../emulator/local-cloud';
import type { WxCloud } from '../../../shared/edge/wx-server-sdk';

let local: LocalCloud;
let cloud: WxCloud;

beforeAll(async () => {
  local = await LocalCloud.start();
  // What the platform sets for a function; here for this test process only.
  Object.assign(process.env, local.runner['platformEnv']('getBalance', {}), { WX_OPENID: 'oInProcess01', WX_APPID: local.app.appid });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cloud = require('wx-server-sdk') as WxCloud;
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
});

afterAll(() => local.close());

const params = () => ({ openid: 'oInProcess01', appid: local.app.appid, offerId: local.app.offerId, ts: Math.floor(Date.now() / 1000), zoneId: '1', pf: 'android' });

test('a correctly named call is signed by the SDK and accepted', async () => {
  const sig = cloud.signature({ type: 'midas', params: Object.keys(params()), secret: local.app.secrets.sandbox });
  const r = await cloud.openapi.midas!.getBalanceSandbox!({ ...params(), sig });
  expect(r).toMatchObject({ errCode: 0, balance: 0 });
  expect(local.backend.secretLeaks).toEqual([]);
});

test('a misspelled name sends the signature object, secret included, and the emulator flags it', async () => {
  const sig = cloud.signature({ type: 'midas', params: Object.keys(params()), secret: local.app.secrets.sandbox });
  await expect(cloud.openapi.midas!.getbalanceSandbox!({ ...params(), sig })).rejects.toMatchObject({ errCode: -604101 });
  expect(local.backend.secretLeaks).toEqual([{ op: 'midas.getbalanceSandbox' }]);
});

test('a param sent but not signed is a 90011', async () => {
  const sig = cloud.signature({ type: 'midas', params: Object.keys(params()), secret: local.app.secrets.sandbox });
  await expect(cloud.openapi.midas!.getBalanceSandbox!({ ...params(), userIp: '1.2.3.4', sig })).rejects.toMatchObject({ errCode: 90011 });
});

test('a missing required param is a 90018', async () => {
  const { pf: _pf, ...rest } = params();
  const sig = cloud.signature({ type: 'midas', params: Object.keys(rest), secret: local.app.secrets.sandbox });
  await expect(cloud.openapi.midas!.getBalanceSandbox!({ ...rest, sig })).rejects.toMatchObject({ errCode: 90018 });
});

test('an empty 200 answer resolves as success with no fields (SPEC §7)', async () => {
  local.injectFault({ op: 'getBalance', fault: { kind: 'empty' } });
  const sig = cloud.signature({ type: 'midas', params: Object.keys(params()), secret: local.app.secrets.sandbox });
  const r = await cloud.openapi.midas!.getBalanceSandbox!({ ...params(), sig });
  expect(r.balance).toBeUndefined();
  expect(r.errCode).toBe(0);
});
