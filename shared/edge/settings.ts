/**
 * Reading a function's settings from environment variables, once per cold start. A missing or
 * malformed variable is an error that names it (never its value: some of them are secrets).
 */
import { MidasCloudError } from './errors';

export type Env = Readonly<Record<string, string | undefined>>;

/** Set while {@link settingsProblems} reads: every problem is noted and reading goes on. */
let noting: Map<string, string> | undefined;

/** A configuration error naming the variable (never its value: it may be a secret). */
export function fail(variable: string, problem: string): never {
  if (noting) {
    if (!noting.has(variable)) noting.set(variable, problem);
    return undefined as never; // the pre-check goes on to the next variable
  }
  throw new MidasCloudError('CONFIG_INVALID', `configuration: ${variable} ${problem}`, { field: variable });
}

/** One variable a function cannot start with, and why. */
export interface SettingProblem {
  variable: string;
  problem: string;
}

/**
 * Every problem of a settings reader at once (a function raises only the first, at its first
 * call): the same rules, read through to the end. What a problem leaves unread (a value that
 * depends on a bad one) is read with what is there; the first problem of each variable counts.
 */
export function settingsProblems(readSettings: () => unknown): SettingProblem[] {
  const found = new Map<string, string>();
  const outer = noting;
  noting = found;
  try {
    readSettings();
  } catch (e) {
    // A reader stumbling over a value a noted problem left unset: the noted problem is the cause.
    if (found.size === 0) throw e;
  } finally {
    noting = outer;
  }
  return [...found].map(([variable, problem]) => ({ variable, problem }));
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
