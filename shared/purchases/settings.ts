/**
 * The settings of the functions that move coins and may grant or take back a coin purchase
 * (`buyWithCoins`, `cancelPay`, `reconcile`): the deployment's Midas settings and where the
 * default fulfilment keeps inventories.
 */
import { collectionName } from '../edge/collections';
import { fail, read, type Env } from '../edge/settings';
import { loadConfig, type MidasConfig } from '../midas-v1/settings';

export interface CoinConfig extends MidasConfig {
  inventoryCollection: string;
}

export function loadCoinConfig(env: Env = process.env): CoinConfig {
  const inventoryCollection = collectionName(env, 'inventory');
  return { ...loadConfig(env), inventoryCollection };
}
