import { decrypt, encrypt } from '@wecom/crypto';
import { createDecipheriv, createHash } from 'crypto';
import { payEventSig, payEventSigValid, pushFromObject, sha1Sorted } from '../../../shared/delivery/push';

describe('PayEventSig', () => {
  // SPEC §5 vector.
  const payload = '{"OpenId":"to_user_openid","OutTradeNo":"xxxxxxx","WeChatPayInfo":{"MchOrderNo":"xxxxxxx","TransactionId":"xxxxxxx"},"Env":0,"CoinInfo":{"ZoneId":"1","TotalPrice":100,"BuyQuantity":1,"OrigPrice":100}}';

  test('reproduces the SPEC vector over the payload exactly as received', () => {
    expect(payEventSig('minigame_coin_deliver_completed', payload, '12345')).toBe('4624e9b832eca479457e668dd49b64133a0439101a6a0e89e648e0d3840e6e0f');
  });

  test('a push is valid only with the right AppKey and the untouched payload', () => {
    const sig = payEventSig('minigame_coin_deliver_completed', payload, '12345');
    const push = pushFromObject({ Event: 'minigame_coin_deliver_completed', MiniGame: { Payload: payload, PayEventSig: sig } });
    expect(payEventSigValid(push, '12345')).toBe(true);
    expect(payEventSigValid(push, '12346')).toBe(false);
    const reserialised = pushFromObject({ Event: 'minigame_coin_deliver_completed', MiniGame: { Payload: JSON.stringify(JSON.parse(payload), null, 1), PayEventSig: sig } });
    expect(payEventSigValid(reserialised, '12345')).toBe(false);
    // The flattened form carries no signature and is never valid on its own.
    expect(payEventSigValid(pushFromObject({ Event: 'minigame_coin_deliver_completed', OpenId: 'o', Env: 0 }), '12345')).toBe(false);
  });
});

describe('WeChat message encryption (safe mode) through @wecom/crypto', () => {
  // Tencent's official sample (WXBizMsgCrypt tests): key, appid, random, message, ciphertext.
  const key = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
  const appid = 'wxb11529c136998cb6';
  const vector = 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==';

  test('encrypts the official vector byte for byte, and decrypts it', () => {
    expect(encrypt(key, '我是中文abcd123', appid, Buffer.from('aaaabbbbccccdddd'))).toBe(vector);
    expect(decrypt(key, vector)).toMatchObject({ message: '我是中文abcd123', id: appid });
  });

  test('a message padded by more than 16 bytes (PKCS#7, block 32) decrypts, where Node’s own unpadding fails', () => {
    const message = 'x'.repeat(27); // 16 + 4 + 27 + 18 = 65 bytes: 31 bytes of padding
    const c = encrypt(key, message, appid);
    expect(decrypt(key, c)).toMatchObject({ message, id: appid });
    const k = Buffer.from(`${key}=`, 'base64');
    const node = createDecipheriv('aes-256-cbc', k, k.subarray(0, 16));
    expect(() => Buffer.concat([node.update(c, 'base64'), node.final()])).toThrow();
  });

  test('the URL check and msg_signature are sha1 over the strings sorted as strings (digits before letters), joined', () => {
    expect(sha1Sorted(['pamtest', '1409304348', 'xxxxxx'])).toBe(createHash('sha1').update('1409304348pamtestxxxxxx').digest('hex'));
    expect(sha1Sorted(['xxxxxx', 'pamtest', '1409304348'])).toBe(sha1Sorted(['pamtest', '1409304348', 'xxxxxx']));
    expect(sha1Sorted(['pamtest', '1409304349', 'xxxxxx'])).not.toBe(sha1Sorted(['pamtest', '1409304348', 'xxxxxx']));
  });
});
