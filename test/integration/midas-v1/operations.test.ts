/**
 * Every op through the BUILT bundles and the real wx-server-sdk, against the local cloud.
 */
import type { MidasEnv } from '../../../shared/midas-v1/operation-table';
import { balanceOf, billOf, call, newOpenid, useLocalCloud } from '../helpers';

const cloud = useLocalCloud();

describe.each<MidasEnv>(['sandbox', 'production'])('in %s', (env) => {
  const fnEnv = () => ({ MIDAS_ENV: env });

  test('getBalance reports every field of the account', async () => {
    const openid = newOpenid();
    cloud().backend.topUp({ env, openid }, 120);
    const r = await call(cloud(), 'getBalance', {}, { openid }, fnEnv());
    expect(r).toEqual({
      ok: true,
      data: { balance: 120, genBalance: 0, firstSave: 2, saveAmt: 120, saveSum: 120, costSum: 0, presentSum: 0 },
    });
  });

  test('present from another cloud function gifts coins to the named player', async () => {
    const openid = newOpenid();
    const r = await call(cloud(), 'present', { toOpenid: openid, presentCounts: 25 }, { source: 'wx_client,scf', openid: newOpenid() }, fnEnv());
    expect(r.ok).toBe(true);
    expect(r.ok && r.data).toMatchObject({ state: 'COMPLETED', balance: 25, billNo: expect.stringMatching(/^[0-9A-Za-z_-]{1,63}$/) });
    expect(cloud().backend.account({ env, openid })).toMatchObject({ gen: 25, presentSum: 25 });
  });

  test('pay deducts gifted coins first and reports them', async () => {
    const openid = newOpenid();
    cloud().backend.topUp({ env, openid }, 100);
    await call(cloud(), 'present', { toOpenid: openid, presentCounts: 10 }, { source: 'scf' }, fnEnv());
    const r = await call(cloud(), 'pay', { amt: 30, payItem: 'sword' }, { openid, clientIp: '203.0.113.7' }, fnEnv());
    expect(r.ok && r.data).toMatchObject({ balance: 80, usedGenAmt: 10 });
    expect(cloud().backend.account({ env, openid })).toMatchObject({ paid: 80, gen: 0, costSum: 30 });
    const sent = cloud().backend.journal.filter((j) => j.op === 'pay' && j.params.openid === openid);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ env, params: { user_ip: '203.0.113.7', pay_item: 'sword', amt: 30 } });
  });

  test('cancelPay gives back the coins of the player’s own paid order', async () => {
    const openid = newOpenid();
    cloud().backend.topUp({ env, openid }, 50);
    const paid = await call(cloud(), 'pay', { amt: 20 }, { openid }, fnEnv());
    expect(paid).toMatchObject({ ok: true, data: { state: 'COMPLETED', resolving: false, amount: 20, balance: 30 } });
    const billNo = paid.ok ? String((paid.data as { billNo: string }).billNo) : '';
    expect(balanceOf(cloud(), openid, env)).toBe(30);
    const cancelled = await call(cloud(), 'cancelPay', { billNo }, { source: 'scf' }, fnEnv());
    expect(cancelled).toMatchObject({ ok: true, data: { billNo, state: 'CANCELLED', resolving: false } });
    expect(balanceOf(cloud(), openid, env)).toBe(50);
    expect(cloud().backend.account({ env, openid }).costSum).toBe(0);
  });

  test('calls use the environment’s own API names (config.json grants both)', async () => {
    const openid = newOpenid();
    await call(cloud(), 'getBalance', {}, { openid }, fnEnv());
    const last = cloud().gateway.calls[cloud().gateway.calls.length - 1];
    expect(last).toEqual({ fn: 'getBalance', apiName: env === 'sandbox' ? 'midas.getBalanceSandbox' : 'midas.getBalance', permitted: true });
  });
});

test('sandbox and production accounts are apart', async () => {
  const openid = newOpenid();
  cloud().backend.topUp({ env: 'sandbox', openid }, 10);
  const prod = await call(cloud(), 'getBalance', {}, { openid }, { MIDAS_ENV: 'production' });
  expect(prod.ok && prod.data.balance).toBe(0);
});

test('zones are apart, and zoneId picks one', async () => {
  const openid = newOpenid();
  cloud().backend.topUp({ env: 'sandbox', openid, zoneId: '2_hero' }, 7);
  const z1 = await call(cloud(), 'getBalance', {}, { openid });
  const z2 = await call(cloud(), 'getBalance', { zoneId: '2_hero' }, { openid });
  expect([z1.ok && z1.data.balance, z2.ok && z2.data.balance]).toEqual([0, 7]);
});

test('no secret is ever sent in clear (the misspelled-name trap never fires)', () => {
  expect(cloud().backend.secretLeaks).toEqual([]);
});
