/**
 * The server-owned catalogue (shared/virtual-payment/catalogue.json): product ids, prices in fen, names and what
 * each grants, and the price of one game coin. Prices are only ever read from here, never from a
 * client. The file is checked when the functions are built, so a bad edit fails the build.
 */
import type { CatalogueResponse } from '../contract/answers';
import { MAX_COINS_PER_CALL } from '../midas-v1/api-limits';
import raw from './catalogue.json';

export interface Product {
  productId: string;
  name: string;
  /** Unit price in fen (1/100 CNY), as configured in the Virtual Payment 2.0 console: sold for money (signPayment). */
  priceFen?: number;
  /** Unit price in whole game coins: sold for coins (buyWithCoins). A product has one price or both. */
  coinPrice?: number;
  /** What one unit adds to the player's inventory: counter name → whole number. */
  grants: Record<string, number>;
  /** Whether a refund takes the grants back (otherwise a refund is flagged for an operator). */
  revocable: boolean;
}

export interface Catalogue {
  coinPriceFen: number;
  products: ReadonlyMap<string, Product>;
}

/** The prices (CNY) a coin top-up may total (SPEC §3, wx.requestMidasPayment). */
export const PRICE_TIERS_CNY = [1, 3, 6, 8, 12, 18, 25, 30, 40, 45, 50, 60, 68, 73, 78, 88, 98, 108, 118, 128, 148, 168, 188, 198, 328, 648] as const;

export const PRODUCT_ID_PATTERN = /^[0-9A-Za-z_-]{1,64}$/;
/** The most units of one product in one purchase. */
export const MAX_ITEM_QUANTITY = 100;

/** Checks a catalogue document; throws an Error naming the first problem. */
export function parseCatalogue(doc: unknown): Catalogue {
  const d = doc as { coinPriceFen?: unknown; products?: unknown };
  if (!Number.isSafeInteger(d?.coinPriceFen) || (d.coinPriceFen as number) <= 0) throw new Error('catalogue: coinPriceFen must be a positive whole number of fen');
  if (!Array.isArray(d.products)) throw new Error('catalogue: products must be a list');
  const products = new Map<string, Product>();
  d.products.forEach((p: Partial<Product>, i: number) => {
    const where = `catalogue: products[${i}]`;
    if (typeof p.productId !== 'string' || !PRODUCT_ID_PATTERN.test(p.productId)) throw new Error(`${where}.productId must be 1 to 64 characters of 0-9 A-Z a-z _ -`);
    if (products.has(p.productId)) throw new Error(`${where}.productId ${p.productId} is listed twice`);
    if (typeof p.name !== 'string' || p.name.length === 0 || p.name.length > 64) throw new Error(`${where}.name must be 1 to 64 characters`);
    if (p.priceFen !== undefined && (!Number.isSafeInteger(p.priceFen) || p.priceFen <= 0)) throw new Error(`${where}.priceFen must be a positive whole number of fen`);
    if (p.coinPrice !== undefined && (!Number.isSafeInteger(p.coinPrice) || p.coinPrice <= 0 || p.coinPrice * MAX_ITEM_QUANTITY > MAX_COINS_PER_CALL)) {
      throw new Error(`${where}.coinPrice must be a whole number of coins from 1 to ${MAX_COINS_PER_CALL / MAX_ITEM_QUANTITY}`);
    }
    if (p.priceFen === undefined && p.coinPrice === undefined) throw new Error(`${where} needs a price: priceFen (money), coinPrice (coins) or both`);
    if (typeof p.grants !== 'object' || p.grants === null || Array.isArray(p.grants)) throw new Error(`${where}.grants must be an object`);
    for (const [k, n] of Object.entries(p.grants)) {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(k) || !Number.isSafeInteger(n) || (n as number) < 1) throw new Error(`${where}.grants.${k} must be a counter name with a whole number of at least 1`);
    }
    if (p.revocable !== undefined && typeof p.revocable !== 'boolean') throw new Error(`${where}.revocable must be true or false`);
    products.set(p.productId, {
      productId: p.productId,
      name: p.name,
      ...(p.priceFen !== undefined && { priceFen: p.priceFen }),
      ...(p.coinPrice !== undefined && { coinPrice: p.coinPrice }),
      grants: p.grants as Record<string, number>,
      revocable: p.revocable ?? false,
    });
  });
  return { coinPriceFen: d.coinPriceFen as number, products };
}

let loaded: Catalogue | undefined;

/** The catalogue this build carries. */
export function catalogue(): Catalogue {
  return (loaded ??= parseCatalogue(raw));
}

/** The coin quantities whose total is one of the price tiers, for a coin unit price in fen. */
export function validCoinQuantities(coinPriceFen: number): number[] {
  return PRICE_TIERS_CNY.map((cny) => (cny * 100) / coinPriceFen).filter((q) => Number.isSafeInteger(q) && q > 0);
}

/** `catalogue`: what a game's shop shows, and the coin quantities that make a price tier. */
export function describeCatalogue(cat: Catalogue = catalogue()): CatalogueResponse {
  return {
    products: [...cat.products.values()].map(({ productId, name, priceFen, coinPrice, grants }) => ({ productId, name, ...(priceFen !== undefined && { priceFen }), ...(coinPrice !== undefined && { coinPrice }), grants })),
    coinPriceFen: cat.coinPriceFen,
    coinQuantities: validCoinQuantities(cat.coinPriceFen),
  };
}

export type { CatalogueResponse };
