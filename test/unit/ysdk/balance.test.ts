import { isMidasCloudError } from '../../../shared/edge/errors';
import { balanceRequest, loadYsdkConfig, validateYsdkPlayer } from '../../../shared/ysdk/balance';
import { v3Encode, v3Sig, v3SigSource } from '../../../shared/ysdk/openapi-v3-signing';

describe('OpenAPI V3.0 signature', () => {
  test('reproduces the official example (GET /v3/user/get_info)', () => {
    const params = { openid: '11111111111111111', openkey: '2222222222222222', appid: '123456', pf: 'qzone', format: 'json', userip: '112.90.139.30' };
    expect(v3Sig('GET', '/v3/user/get_info', params, '228bf094169a40a3bd188ba37ebe8723')).toBe('FdJkiDYwMj5Aj1UG2RUPc83iokk=');
  });

  test('builds the source string of the seed’s get_balance_m example', () => {
    const params = { appid: '15499', format: 'json', openid: '00000000000000000000000014BDF6E4', openkey: 'AB43BF3DC5C3C79D358CC5318E41CF59', pf: 'myapp_m_qq-00000000-android-00000000-ysdk' };
    // The seed prints the source up to here (it is cut inside the next param).
    expect(v3SigSource('GET', '/v3/r/mpay/get_balance_m', params)).toBe(
      'GET&%2Fv3%2Fr%2Fmpay%2Fget_balance_m&appid%3D15499%26format%3Djson%26openid%3D00000000000000000000000014BDF6E4%26openkey%3DAB43BF3DC5C3C79D358CC5318E41CF59%26pf%3Dmyapp_m_qq-00000000-android-00000000-ysdk',
    );
  });

  test('leaves sig itself out of the source', () => {
    expect(v3SigSource('GET', '/p', { a: '1', sig: 'x' })).toBe('GET&%2Fp&a%3D1');
  });

  test.each([
    [' ', '%20'],
    ['*', '%2A'],
    ['~', '%7E'],
    ['!', '%21'],
    ["'()", '%27%28%29'],
    ['中', '%E4%B8%AD'],
    ['é', '%C3%A9'],
    ['+/=', '%2B%2F%3D'],
    ['AZaz09-_.', 'AZaz09-_.'],
  ])('v3Encode(%p) is %p, where encodeURIComponent differs for some', (raw, encoded) => {
    expect(v3Encode(raw)).toBe(encoded);
  });

  test('values are raw in the joined k=v string, which is encoded once (SPEC §6)', () => {
    expect(v3SigSource('GET', '/p', { zoneid: '1_a b', pf: 'x*y' })).toBe('GET&%2Fp&pf%3Dx%2Ay%26zoneid%3D1_a%20b');
  });

  test('a different key gives a different sig', () => {
    const p = { a: '1' };
    expect(v3Sig('GET', '/p', p, 'key-one-123')).not.toBe(v3Sig('GET', '/p', p, 'key-two-123'));
  });
});

describe('validateYsdkPlayer', () => {
  const good = { login: 'qq', openid: 'ABCDEF0123456789ABCDEF0123456789', openkey: 'AB43BF3DC5C3C79D358CC5318E41CF59', pf: 'myapp_m_qq-00000000-android-00000000-ysdk', pfkey: 'abc123' };

  function field(input: Record<string, unknown>): string {
    try {
      validateYsdkPlayer(input);
      return 'ok';
    } catch (e) {
      if (isMidasCloudError(e)) return `${e.field}: ${e.message}`;
      throw e;
    }
  }

  test('accepts a QQ and a WeChat login, zone 1 by default', () => {
    expect(validateYsdkPlayer(good)).toMatchObject({ login: 'qq', zoneId: '1' });
    expect(field({ ...good, login: 'wx', zoneId: '2_角色', userIp: '1.2.3.4', accountType: 'security' })).toBe('ok');
  });

  test.each([
    [{ login: 'weibo' }, 'login'],
    [{ openid: 'has space' }, 'openid'],
    [{ openkey: 'short' }, 'openkey'],
    [{ openkey: 'has a space inside it' }, 'openkey'],
    [{ pf: undefined }, 'pf'],
    [{ pfkey: 'a/b' }, 'pfkey'],
    [{ zoneId: 'x' }, 'zoneId'],
    [{ userIp: 'here' }, 'userIp'],
    [{ accountType: 'gold' }, 'accountType'],
    [{ extra: 1 }, 'extra'],
  ])('%p is refused naming %s', (patch, name) => {
    expect(field({ ...good, ...patch })).toMatch(new RegExp(`^${name}: `));
  });

  test('an openkey error never contains the openkey', () => {
    const secretish = 'TOKEN WITH SPACES 0123456789';
    expect(field({ ...good, openkey: secretish })).not.toContain(secretish);
  });
});

describe('balanceRequest', () => {
  const config = loadYsdkConfig({ YSDK_OFFER_ID: '15499', YSDK_SANDBOX_APPKEY: 'sandbox-appkey-1' });
  const player = validateYsdkPlayer({ login: 'wx', openid: 'oWx0001', openkey: 'ACCESS_TOKEN_1', pf: 'wechat_wx-2001-android-2011', pfkey: 'pfkey1', zoneId: '1_r 1' });

  test('sends the session cookies of the login and org_loc, URL-encoded', () => {
    expect(balanceRequest(player, config, 1700000000).cookie).toBe('session_id=hy_gameid; session_type=wc_actoken; org_loc=%2Fmpay%2Fget_balance_m');
    const qq = { ...player, login: 'qq' as const };
    expect(balanceRequest(qq, config, 1700000000).cookie).toContain('session_id=openid; session_type=kp_actoken');
  });

  test('signs what it sends: every param, the sandbox AppKey', () => {
    const { query } = balanceRequest(player, config, 1700000000);
    const params = Object.fromEntries(query.split('&').map((kv) => kv.split('=').map(decodeURIComponent) as [string, string]));
    const { sig, ...rest } = params;
    expect(Object.keys(rest).sort()).toEqual(['appid', 'format', 'openid', 'openkey', 'pf', 'pfkey', 'ts', 'zoneid']);
    expect(rest).toMatchObject({ appid: '15499', ts: '1700000000', zoneid: '1_r 1', format: 'json' });
    expect(sig).toBe(v3Sig('GET', '/v3/r/mpay/get_balance_m', rest, 'sandbox-appkey-1'));
  });

  test('the production environment needs its own key and host', () => {
    expect(() => loadYsdkConfig({ YSDK_ENV: 'production', YSDK_OFFER_ID: '1', YSDK_SANDBOX_APPKEY: 'sandbox-appkey-1' })).toThrow('YSDK_APPKEY');
    expect(loadYsdkConfig({ YSDK_ENV: 'production', YSDK_OFFER_ID: '1', YSDK_APPKEY: 'prod-appkey-123' }).baseUrl).toBe('https://ysdk.qq.com');
    expect(config.baseUrl).toBe('https://ysdktest.qq.com');
  });

  test('the poll after a top-up, with its last request, ends inside the function timeout (150 s)', () => {
    const base = { YSDK_OFFER_ID: '15499', YSDK_SANDBOX_APPKEY: 'sandbox-appkey-1' };
    expect(loadYsdkConfig({ ...base, YSDK_POLL_MAX_MS: '143000', YSDK_TIMEOUT_MS: '2000' }).pollMaxMs).toBe(143_000);
    expect(() => loadYsdkConfig({ ...base, YSDK_POLL_MAX_MS: '143001', YSDK_TIMEOUT_MS: '2000' })).toThrow('configuration: YSDK_POLL_MAX_MS must be a whole number of milliseconds from 0 to 143000');
    expect(() => loadYsdkConfig({ ...base, YSDK_POLL_MAX_MS: '120000', YSDK_TIMEOUT_MS: '30000' })).toThrow(/YSDK_POLL_MAX_MS .* from 0 to 115000/);
  });
});
