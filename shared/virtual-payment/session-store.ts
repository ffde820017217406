/**
 * The players' session_keys, kept server-side by `login` (one document per openid, the newest
 * key only) and read by every 2.0 call that needs the user-state `signature`. A key WeChat calls
 * stale (90010/90016) is dropped, unless a newer login replaced it meanwhile.
 */
import { isMissingCollection } from '../edge/collections';
import { MidasCloudError } from '../edge/errors';
import type { WxCloud } from '../edge/wx-server-sdk';

export interface SessionStore {
  collection: string;
  maxAgeMs: number;
}

const RELOGIN = 'log in again (wx.login, then the login function) and retry';

function storeError(e: unknown): MidasCloudError {
  return new MidasCloudError('LEDGER_UNAVAILABLE', 'the cloud database is not available', { cause: e, outcome: 'not_applied' });
}

/**
 * The newest session_key of `openid`; SESSION_EXPIRED (asking for a login) when there is none or
 * it is too old. `whose` words the message for a gift's recipient.
 */
export async function readSessionKey(cloud: WxCloud, store: SessionStore, openid: string, now: number, whose: 'player' | 'recipient' = 'player'): Promise<string> {
  let doc: { sessionKey?: unknown; updatedAt?: unknown } | undefined;
  try {
    const r = await cloud.database().collection(store.collection).where({ _id: openid }).limit(1).get();
    doc = r.data[0];
  } catch (e) {
    if (!isMissingCollection(e)) throw storeError(e);
  }
  const fix =
    whose === 'recipient'
      ? 'a 2.0 gift is signed with the recipient’s session_key: the recipient must open the game and log in (wx.login, then the login function) before the gift can be sent'
      : RELOGIN;
  const who = whose === 'recipient' ? 'the recipient' : 'this player';
  if (!doc || typeof doc.sessionKey !== 'string') throw new MidasCloudError('SESSION_EXPIRED', `no login on record for ${who}: ${fix}`, { outcome: 'not_applied' });
  if (now - Number(doc.updatedAt) > store.maxAgeMs) throw new MidasCloudError('SESSION_EXPIRED', `the login of ${who} is too old: ${fix}`, { outcome: 'not_applied' });
  return doc.sessionKey;
}

/** Drops `staleKey` of `openid` (only if it is still the stored one: a newer login stays). */
export async function dropSessionKey(cloud: WxCloud, store: SessionStore, openid: string, staleKey: string): Promise<void> {
  try {
    await cloud.database().collection(store.collection).where({ _id: openid, sessionKey: staleKey }).remove();
  } catch {
    // Best effort: the next call with the stale key is refused again and tries again.
  }
}
