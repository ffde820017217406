/**
 * The emulated Tencent Cloud API checks TC3-HMAC-SHA256 signatures; the check is tested against
 * the worked example in Tencent Cloud's own API documentation (DescribeInstances on cvm, with the
 * documentation's masked SecretKey as the literal key), step by step.
 */
import { createHash } from 'crypto';
import { canonicalRequest, parseAuthorization, stringToSign, tc3Date, tc3Signature } from '../../emulator/tencent-cloud/tc3';

const example = {
  method: 'POST',
  path: '/',
  query: '',
  headers: { 'content-type': 'application/json; charset=utf-8', host: 'cvm.tencentcloudapi.com' },
  signedHeaders: ['content-type', 'host'],
  body: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
  timestamp: 1551113065,
  service: 'cvm',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3*******',
};

test('the documentation’s example: body hash, canonical request hash, date and signature', () => {
  expect(createHash('sha256').update(example.body).digest('hex')).toBe('35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
  const canonical = canonicalRequest(example);
  expect(canonical).toBe('POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
  expect(tc3Date(example.timestamp)).toBe('2019-02-25');
  expect(stringToSign(canonical, example.timestamp, 'cvm')).toBe('TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
  expect(tc3Signature(example)).toBe('2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c');
});

test('any change of key, body, time, service or a signed header changes the signature', () => {
  const good = tc3Signature(example);
  expect(tc3Signature({ ...example, secretKey: 'Gu5t9xGARNpq86cd98joQYCN3******x' })).not.toBe(good);
  expect(tc3Signature({ ...example, body: example.body.replace('1', '2') })).not.toBe(good);
  expect(tc3Signature({ ...example, timestamp: example.timestamp + 1 })).not.toBe(good);
  expect(tc3Signature({ ...example, service: 'scf' })).not.toBe(good);
  expect(tc3Signature({ ...example, headers: { ...example.headers, host: 'scf.tencentcloudapi.com' } })).not.toBe(good);
  // Header values are compared lower-case and trimmed, as Tencent Cloud does.
  expect(tc3Signature({ ...example, headers: { ...example.headers, 'content-type': ' Application/JSON; charset=utf-8 ' } })).toBe(good);
});

test('the Authorization header is read into its parts; anything else is not', () => {
  const header = 'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c';
  expect(parseAuthorization(header)).toEqual({ secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******', date: '2019-02-25', service: 'cvm', signedHeaders: ['content-type', 'host'], signature: '2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c' });
  expect(parseAuthorization(header.replace('TC3-HMAC-SHA256', 'HMAC-SHA256'))).toBeUndefined();
  expect(parseAuthorization(undefined)).toBeUndefined();
});
