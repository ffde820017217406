/**
 * The fulfilment `paymentNotify` and `deliveryReconcile` use: what a paid order gives the player.
 * The default keeps counters in `midas_inventory`. A game with its own inventory replaces this one
 * line with its own {@link Fulfilment} (see vip-days-example.ts and the README).
 */
import { inventoryFulfilment, type Fulfilment } from './fulfilment';

export const gameFulfilment: Fulfilment = inventoryFulfilment;
