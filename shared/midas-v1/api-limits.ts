/**
 * The API's limits on values, shared by validation (our functions) and the emulator (what
 * Midas answers with 90018). Written once so the two cannot drift apart.
 */

/** bill_no: ≤ 63 chars of the safe charset (SPEC §2; `*@` allowed by one doc only, so refused). */
export const BILL_NO_PATTERN = /^[0-9A-Za-z_-]{1,63}$/;
/** zone_id: a zone number, optionally `_<role id>` (SPEC §2). */
export const ZONE_ID_PATTERN = /^[0-9]{1,10}(_[0-9A-Za-z_-]{1,64})?$/;
/** openid: what WeChat issues (28 chars of base64url in practice); kept loose but bounded. */
export const OPENID_PATTERN = /^[0-9A-Za-z_-]{6,64}$/;
/** appid of a mini-game. */
export const APPID_PATTERN = /^wx[0-9A-Za-z]{6,32}$/;
/** offer_id assigned by Midas: digits. */
export const OFFER_ID_PATTERN = /^[0-9]{1,20}$/;
/** A dotted IPv4 or an IPv6 literal, as the platform gives CLIENTIP. */
export const IP_PATTERN = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]{2,39})$/;
/** Free text that is signed raw: no control characters, and no `&`/`=` that would blur the signed string. */
export const FREE_TEXT_PATTERN = /^[^\u0000-\u001f\u007f&=]+$/;

/** The most coins one call may move: far above any real purchase, far below any overflow. */
export const MAX_COINS_PER_CALL = 1_000_000;
export const MAX_PAY_ITEM_LENGTH = 64;
export const MAX_APP_REMARK_LENGTH = 128;

/** How long a pay bill can be cancelled (SPEC §2: valid 48 h). */
export const BILL_VALIDITY_SECONDS = 48 * 3600;
