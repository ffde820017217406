/**
 * The functions' settings as an operator gives them to `npm start` and to the deploy: the
 * environment, then a `.env` file at the project root (the environment wins). Only variables the
 * functions read are taken; secrets are never printed, only whether they are set.
 */
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import { parseEnv } from 'util';
import { DELIVERY_CONFIG_VARIABLES, loadDeliveryConfig } from '../shared/delivery/settings';
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

/** Names the deploy reads besides the functions' settings. */
export const DEPLOY_SETTINGS = ['TCB_ENV_ID', 'TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY', 'TENCENTCLOUD_SESSIONTOKEN', 'TENCENTCLOUD_REGION'] as const;

/**
 * Reads an env file strictly: every line is empty, a `#` comment or `NAME=value` (Node's own
 * reader skips anything else without a word, so a mistyped line would silently not apply). Every
 * bad line is named at once, with its number; a known setting written in other case
 * (`midas_env`) is named with its right spelling. Values are then read as Node reads them (quotes).
 */
export function readEnvFile(file: string): Record<string, string> {
  const text = readFileSync(file, 'utf8');
  const known = new Map([...Object.keys(SETTINGS), ...DEPLOY_SETTINGS, 'PORT', 'LOCAL_PLAYER_OPENID', 'LOCAL_CLOUD_DIR'].map((n) => [n.toLowerCase(), n]));
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    // Never the line itself: it may hold a secret.
    if (!m) {
      problems.push(`line ${i + 1} ${line.startsWith('=') ? 'has no name before =' : line.includes('=') ? 'has a name that is not letters, digits and _' : 'is not NAME=value'}`);
      return;
    }
    const right = known.get(m[1]!.toLowerCase());
    if (right !== undefined && right !== m[1]) problems.push(`line ${i + 1}: ${m[1]} must be written ${right} (names are case-sensitive)`);
  });
  if (problems.length) throw new Error(`${file} has lines that are not settings:\n  ${problems.join('\n  ')}`);
  return parseEnv(text) as Record<string, string>;
}

/** The settings from `env` and `<root>/.env`; a malformed .env is an error naming the file and its bad lines. */
export function operatorSettings(root: string, env: NodeJS.ProcessEnv = process.env): OperatorSettings {
  return settingsFrom(path.join(root, '.env'), env);
}

/** The named settings from `env`, then the env file `file` (when it exists; read strictly). */
export function settingsFrom(file: string, env: NodeJS.ProcessEnv = process.env, names: readonly string[] = Object.keys(SETTINGS)): OperatorSettings {
  const dotenv: Record<string, string> = existsSync(file) ? readEnvFile(file) : {};
  const values: Record<string, string> = {};
  const sources: Record<string, Source> = {};
  for (const name of names) {
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

/** A complete, valid configuration with made-up values: only for learning which variables a reader reads. */
const PROBE_VALUES: Record<string, string> = {
  MIDAS_OFFER_ID: '1450012345',
  MIDAS_APPID: 'wx51dc10ca1c0ffee0',
  MIDAS_SECRET: 'probe-secret-0000000001',
  MIDAS_SANDBOX_SECRET: 'probe-secret-0000000002',
  MIDAS_APPKEY: 'probe-appkey-000000001',
  MIDAS_SANDBOX_APPKEY: 'probe-appkey-000000002',
  WX_APP_SECRET: 'probe-appsecret-0000001',
  WX_PUSH_TOKEN: 'probeToken1',
  WX_PUSH_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  YSDK_OFFER_ID: '1450099999',
  YSDK_APPKEY: 'probe-ysdk-appkey-0001',
  YSDK_SANDBOX_APPKEY: 'probe-ysdk-appkey-0002',
};

type Reader = (env: Record<string, string | undefined>) => unknown;

/** Runs a settings reader on `values`, adding the name of every variable it reads to `names`. */
function recordReads(readSettings: Reader, values: Record<string, string | undefined>, names: Set<string>): void {
  const recording = new Proxy({ ...values }, {
    get(target, key) {
      if (typeof key === 'string') names.add(key);
      return target[key as string];
    },
    // A reader that copies the environment ({...env}) would hide which variables it reads.
    ownKeys() {
      throw new Error('a settings reader enumerated the environment; read variables by name');
    },
  });
  readSettings(recording);
}

/**
 * The variables a settings reader reads, in every mode it has (sandbox and production, v1 and
 * 2.0): it is run on a complete made-up configuration whose reads are recorded. Nothing is kept
 * but the names.
 */
export function variablesRead(readSettings: Reader): string[] {
  const names = new Set<string>();
  for (const MIDAS_ENV of ['sandbox', 'production']) {
    for (const MIDAS_API of ['v1', 'v2']) recordReads(readSettings, { ...PROBE_VALUES, MIDAS_ENV, MIDAS_API, YSDK_ENV: MIDAS_ENV }, names);
  }
  return Object.keys(SETTINGS).filter((n) => names.has(n));
}

/**
 * The variables a function reads at its cold start with these settings, and that have a value:
 * what a deploy gives it. A function of one environment and one Midas generation gets no key of
 * the other (a production `pay` with MIDAS_API=v1 holds neither a sandbox secret nor the AppSecret).
 * The settings must be valid for the reader (the pre-check has said so).
 */
export function variablesNeeded(readSettings: Reader, values: Record<string, string | undefined>): string[] {
  const names = new Set<string>();
  recordReads(readSettings, values, names);
  return Object.keys(SETTINGS).filter((n) => names.has(n) && values[n] !== undefined && values[n] !== '');
}
