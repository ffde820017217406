import { PRICE_TIERS_CNY, parseCatalogue, validCoinQuantities } from '../../../shared/virtual-payment/catalogue';
import { clientPaySig, userSignature, v2PaySig } from '../../../shared/virtual-payment/signing';
import { hmacSha256Hex } from '../../../shared/edge/hmac';
import { newOutTradeNo } from '../../../shared/virtual-payment/sign-payment';

describe('Virtual Payment 2.0 signatures', () => {
  // SPEC §5, official example.
  const body = '{"offer_id": "12345678", "openid": "oUrsfxxxxxxxxxx", "ts": 1668136271, "zone_id": "1", "env": 0}';

  test('pay_sig reproduces the official vector (uri & body, byte for byte)', () => {
    expect(v2PaySig('/wxa/game/getbalance', body, '12345')).toBe('11bac6388871d29c055c7d16fbe42e8d646855b666faf89b15c815218b1b23bd');
  });

  test('the user-state signature reproduces the official vector (session_key used as is)', () => {
    expect(userSignature(body, '9hAb/NEYUlkaMBEsmFgzig==')).toBe('42fe1d3341fb1c8bd6f5014ba735ab04eacc80a2deb3ab4669eab4700b5b6729');
  });

  test('a single byte more (spacing) gives another signature', () => {
    expect(v2PaySig('/wxa/game/getbalance', body.replace(', "env"', ',"env"'), '12345')).not.toBe('11bac6388871d29c055c7d16fbe42e8d646855b666faf89b15c815218b1b23bd');
  });

  test('paySig is HMAC-SHA256(AppKey, method & signData), lowercase hex, and depends on the method', () => {
    const signData = '{"mode":"goods","offerId":"123","buyQuantity":1,"env":0,"currencyType":"CNY","platform":"android","zoneId":"1","productId":"testproductId","goodsPrice":10,"outTradeNo":"xxxxxx","attach":"testdata"}';
    const item = clientPaySig('requestMidasPaymentGameItem', signData, 'appkey-0001');
    expect(item).toBe(hmacSha256Hex('appkey-0001', `requestMidasPaymentGameItem&${signData}`));
    expect(item).toMatch(/^[0-9a-f]{64}$/);
    expect(clientPaySig('requestMidasPayment', signData, 'appkey-0001')).not.toBe(item);
  });
});

describe('catalogue', () => {
  test('the shipped catalogue is valid', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cat = parseCatalogue(require('../../../shared/virtual-payment/catalogue.json'));
    expect(cat.products.size).toBeGreaterThan(0);
  });

  test.each([
    [{ coinPriceFen: 0, products: [] }, 'coinPriceFen'],
    [{ coinPriceFen: 10, products: [{ productId: 'a b', name: 'x', priceFen: 1, grants: {} }] }, 'productId'],
    [{ coinPriceFen: 10, products: [{ productId: 'a', name: 'x', priceFen: 1.5, grants: {} }] }, 'priceFen'],
    [{ coinPriceFen: 10, products: [{ productId: 'a', name: 'x', priceFen: 1, grants: {} }, { productId: 'a', name: 'y', priceFen: 2, grants: {} }] }, 'twice'],
  ])('%p is refused (%s)', (doc, what) => {
    expect(() => parseCatalogue(doc)).toThrow(what);
  });

  test('coin quantities are exactly those whose total is a price tier', () => {
    const q = validCoinQuantities(10); // 0.1 CNY a coin
    expect(q.slice(0, 4)).toEqual([10, 30, 60, 80]);
    expect(q).toHaveLength(PRICE_TIERS_CNY.length);
    expect(validCoinQuantities(700)).toEqual([14, 24]); // 98 and 168 CNY are the only multiples of 7
    expect(validCoinQuantities(300)).toEqual([1, 2, 4, 6, 10, 15, 20, 26, 36, 56, 66, 216]);
  });
});

test('outTradeNo fits the client API: ≤ 32 chars of the allowed set, never starting with _', () => {
  for (let i = 0; i < 200; i++) expect(newOutTradeNo()).toMatch(/^[0-9A-Za-z\-|*@][0-9A-Za-z_\-|*@]{0,31}$/);
});
