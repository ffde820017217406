/**
 * Reading a function's settings from environment variables, once per cold start. A missing or
 * malformed variable is an error that names it (never its value: some of them are secrets).
 */
import { MidasCloudError } from './errors';

export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration error naming the variable (never its value: it may be a secret). */
export function fail(variable: string, problem: string): never {
  throw new MidasCloudError('CONFIG_INVALID', `configuration: ${variable} ${problem}`, { field: variable });
}

/** `env` with some variables given other values, read through rather than copied (so every read reaches `env`). */
export function withVariables(env: Env, values: Readonly<Record<string, string>>): Env {
  return new Proxy(env, { get: (target, key) => (typeof key === 'string' && Object.prototype.hasOwnProperty.call(values, key) ? values[key] : target[key as string]) });
}

/** A variable's trimmed value; undefined when unset or blank. */
export function read(env: Env, variable: string): string | undefined {
  const v = env[variable];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export const SECRET_PATTERN = /^[\x21-\x7e]{8,128}$/;

/** A secret variable: required, 8 to 128 printable characters. */
export function readSecret(env: Env, variable: string, why?: string): string {
  const secret = read(env, variable);
  if (!secret) fail(variable, `is not set${why ? ` (${why})` : ''}`);
  if (!SECRET_PATTERN.test(secret)) fail(variable, 'is malformed (8 to 128 printable characters, no spaces)');
  return secret;
}

/** A whole number of milliseconds within bounds, or the fallback when unset. */
export function millis(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = read(env, variable);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || n < min || n > max) fail(variable, `must be a whole number of milliseconds from ${min} to ${max}`);
  return n;
}
