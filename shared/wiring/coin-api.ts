/**
 * The one place that picks the Midas generation of a deployment (MIDAS_API) for the ledger:
 * the functions' wiring calls this and hands the ledger what it returns, so the ledger itself
 * knows neither generation.
 */
import type { Caller } from '../edge/caller';
import { gameFulfilment } from '../delivery/game-fulfilment';
import type { CoinApi } from '../ledger/coin-api';
import { paymentDeps, type PaymentDeps } from '../ledger/exactly-once';
import { purchaseSettler } from '../purchases/coin-purchase';
import type { CoinConfig } from '../purchases/settings';
import { v1CoinApi } from '../midas-v1/coin-api';
import type { MidasConfig } from '../midas-v1/settings';
import type { WxCloud } from '../edge/wx-server-sdk';
import { v2CoinApi } from '../wxa-game/coin-api';

export function coinApiFor(ctx: { cloud: WxCloud; settings: MidasConfig }): CoinApi {
  return ctx.settings.api === 'v2' ? v2CoinApi({ cloud: ctx.cloud, config: ctx.settings }) : v1CoinApi({ cloud: ctx.cloud, config: ctx.settings });
}

/**
 * What a coin-moving function hands the ledger: the generation of MIDAS_API and, for functions
 * that may finish or cancel a coin purchase, the game's fulfilment (`gameFulfilment`).
 */
export function coinPaymentDeps(ctx: { cloud: WxCloud; caller: Caller; settings: CoinConfig; log: (entry: Record<string, unknown>) => void }): PaymentDeps & { purchases: NonNullable<PaymentDeps['purchases']> } {
  const purchases = purchaseSettler({ cloud: ctx.cloud, fulfilment: gameFulfilment, config: { inventoryCollection: ctx.settings.inventoryCollection }, log: ctx.log });
  return { ...paymentDeps(ctx, coinApiFor(ctx), purchases), purchases };
}
