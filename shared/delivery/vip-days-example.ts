/**
 * A worked example of a game's own fulfilment (README, "Your own fulfilment"): the VIP month card
 * extends a `vipUntil` date in the game's own collection `game_players`, instead of adding to a
 * counter. Tested in test/integration/delivery/own-fulfilment.test.ts.
 *
 * The rules every fulfilment keeps: the change and its marker (`orders.<outTradeNo>`) are one
 * conditional write, so a repeat or a concurrent copy changes nothing; a lost race reads again.
 */
import { inCollection } from '../edge/collections';
import type { Fulfilment } from './fulfilment';

const DAY_MS = 86_400_000;
const COLLECTION = 'game_players';

export const vipDaysFulfilment: Fulfilment = {
  async grant(order, ctx) {
    const days = (ctx.catalogue.products.get(order.productId ?? '')?.grants.vipDays ?? 0) * order.quantity;
    const db = ctx.cloud.database();
    const _ = db.command;
    const players = db.collection(COLLECTION);
    const id = `${order.env}:${order.openid}`;
    // The collection is made on first use; a player's document once (it exists already: fine).
    await inCollection(db, COLLECTION, () => players.add({ data: { _id: id, vipUntil: 0, orders: {} } })).catch(() => undefined);
    for (let tries = 0; tries < 10; tries++) {
      const doc = (await players.where({ _id: id }).limit(1).get()).data[0] as { vipUntil: number; orders: Record<string, number> };
      if (doc.orders[order._id] !== undefined) return; // granted before
      const from = Math.max(doc.vipUntil, ctx.now());
      // Only if nothing changed since the read, and this order was not granted meanwhile.
      const r = await players
        .where({ _id: id, vipUntil: doc.vipUntil, [`orders.${order._id}`]: _.exists(false) })
        .update({ data: { vipUntil: from + days * DAY_MS, [`orders.${order._id}`]: ctx.now() } });
      if (r.stats.updated === 1) return;
    }
    throw new Error('vipDaysFulfilment: too much contention on one player; the push will be sent again');
  },
  async revoke(order, ctx) {
    const doc = (await ctx.cloud.database().collection(COLLECTION).where({ _id: `${order.env}:${order.openid}` }).limit(1).get()).data[0] as { orders?: Record<string, number> } | undefined;
    if (doc?.orders?.[order._id] === undefined) return 'not_granted';
    // Days already enjoyed cannot be taken back: an operator decides.
    return 'not_revocable';
  },
};
