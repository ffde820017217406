/**
 * The settings of the functions that move coins and may grant or take back a coin purchase
 * (`buyWithCoins`, `cancelPay`, `reconcile`): the deployment's Midas settings and where the
 * default fulfilment keeps inventories.
 */
import { fail, read, type Env } from '../edge/settings';
import { loadConfig, type MidasConfig } from '../midas-v1/settings';

export interface CoinConfig extends MidasConfig {
  inventoryCollection: string;
}

export function loadCoinConfig(env: Env = process.env): CoinConfig {
  const inventoryCollection = read(env, 'MIDAS_INVENTORY_COLLECTION') ?? 'midas_inventory';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(inventoryCollection)) fail('MIDAS_INVENTORY_COLLECTION', 'must be 1 to 64 characters of A-Z a-z 0-9 _ -');
  return { ...loadConfig(env), inventoryCollection };
}
