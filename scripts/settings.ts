/**
 * The functions' settings as an operator gives them to `npm start` and to the deploy: the
 * environment, then a `.env` file at the project root (the environment wins). Only variables the
 * functions read are taken; secrets are never printed, only whether they are set.
 */
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import { parseEnv } from 'util';
import { DELIVERY_CONFIG_VARIABLES } from '../shared/delivery/settings';
import { loadDeliveryConfig } from '../shared/delivery/settings';
import { CONFIG_VARIABLES, loadConfig } from '../shared/midas-v1/settings';
import { V2_CONFIG_VARIABLES, loadV2Config } from '../shared/virtual-payment/settings';
import { YSDK_CONFIG_VARIABLES, loadYsdkConfig } from '../shared/ysdk/balance';

/** Every variable any function reads, with what it means. */
export const SETTINGS: Readonly<Record<string, string>> = { ...CONFIG_VARIABLES, ...V2_CONFIG_VARIABLES, ...DELIVERY_CONFIG_VARIABLES, ...YSDK_CONFIG_VARIABLES };

/** Variables whose values are secrets: never printed, never committed. */
export function isSecret(name: string): boolean {
  return /SECRET|APPKEY|TOKEN|AES_KEY/.test(name);
}

export type Source = 'environment' | '.env';

export interface OperatorSettings {
  values: Record<string, string>;
  sources: Record<string, Source>;
  /** Names in .env that no function reads (likely a typo). */
  unknown: string[];
}

/** The settings from `env` and `<root>/.env`; a malformed .env is an error naming the file. */
export function operatorSettings(root: string, env: NodeJS.ProcessEnv = process.env): OperatorSettings {
  const file = path.join(root, '.env');
  let dotenv: Record<string, string> = {};
  if (existsSync(file)) {
    try {
      dotenv = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch (e) {
      throw new Error(`${file} could not be read: ${(e as Error).message}`);
    }
  }
  const values: Record<string, string> = {};
  const sources: Record<string, Source> = {};
  for (const name of Object.keys(SETTINGS)) {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') {
      values[name] = fromEnv;
      sources[name] = 'environment';
    } else if (dotenv[name] !== undefined && dotenv[name] !== '') {
      values[name] = dotenv[name]!;
      sources[name] = '.env';
    }
  }
  const unknown = Object.keys(dotenv).filter((n) => !(n in SETTINGS) && /^(MIDAS|WX|YSDK)_/.test(n));
  return { values, sources, unknown };
}

/**
 * Checks `env` with every function's own settings reader: the first bad variable is thrown as the
 * error a deployed function answers (`configuration: MIDAS_ENV must be …`).
 */
export function checkSettings(env: Record<string, string>): void {
  loadConfig(env);
  loadV2Config(env);
  loadDeliveryConfig(env);
  loadYsdkConfig(env);
}

/** `NAME=value` lines of the settings in force; secrets as `(set)`; where each came from. */
export function describeSettings(inForce: Record<string, string>, sources: Record<string, string>): string[] {
  return Object.keys(SETTINGS)
    .filter((n) => inForce[n] !== undefined)
    .map((n) => `${n}=${isSecret(n) ? '(set, not shown)' : inForce[n]}  [${sources[n] ?? 'local cloud default'}]`);
}
