/**
 * What the ledger needs of a Midas generation: the call record it keeps in an order (sent the
 * same on every attempt), an optional check before an order is written, and one send. The ledger's
 * exactly-once rules are the same for both; Midas v1 (cloud calls) is in shared/midas-v1/coin-api.ts, Virtual Payment 2.0
 * (`/wxa/game/*`) is in shared/wxa-game/coin-api.ts. The ledger never picks one: a function's
 * wiring hands it in (shared/wiring/coin-api.ts).
 */

/** The coin-moving calls: v1 cancels a pay by its own bill; 2.0 refunds it with a bill of its own. */
export type CoinOp = 'pay' | 'present' | 'cancelPay' | 'refund';

/** What an order's call is made of, whatever the generation. */
export interface CallBase {
  openid: string;
  appid: string;
  userIp?: string;
  zoneId: string;
  billNo: string;
  amount: number;
  payItem?: string;
  appRemark?: string;
}

export type CallRecord = Record<string, string | number>;

export interface CoinApi {
  readonly api: 'v1' | 'v2';
  /** The call record of a new pay or present. */
  callOf(kind: 'pay' | 'present', base: CallBase): CallRecord;
  /** Anything that must hold before a new order is written (2.0: the player's login). */
  prepare?(kind: 'pay' | 'present' | 'refund', openid: string): Promise<void>;
  /** One signed call; the answer's balance and gifted coins used, v1 names. Throws MidasCloudError. */
  send(op: CoinOp, call: CallRecord, timeoutMs: number): Promise<{ balance?: unknown; usedGenAmt?: unknown }>;
}
