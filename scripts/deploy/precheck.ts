/**
 * The deploy's pre-check: every setting each function needs, by the rules the function itself
 * applies at its first call (its own settings reader, read through to the end), all at once,
 * before anything is uploaded.
 */
import type { SettingProblem } from '../../shared/edge/settings';

export interface FunctionSettings {
  name: string;
  settingsProblems: (env: Record<string, string | undefined>) => SettingProblem[];
}

export interface PrecheckProblem extends SettingProblem {
  /** The functions that cannot start with it. */
  functions: string[];
}

/** Every problem of `values` for `functions`, one per variable and reason, naming the functions it stops. */
export function precheck(functions: readonly FunctionSettings[], values: Record<string, string>): PrecheckProblem[] {
  const byKey = new Map<string, PrecheckProblem>();
  for (const f of functions) {
    for (const p of f.settingsProblems({ ...values })) {
      const key = `${p.variable}\n${p.problem}`;
      const entry = byKey.get(key) ?? { ...p, functions: [] };
      entry.functions.push(f.name);
      byKey.set(key, entry);
    }
  }
  return [...byKey.values()].sort((a, b) => a.variable.localeCompare(b.variable));
}

/** The problems as lines an operator reads: the variable, why, and which functions need it. */
export function describeProblems(problems: readonly PrecheckProblem[], all: readonly string[]): string[] {
  return problems.map((p) => {
    const who = p.functions.length === all.length ? 'every function' : p.functions.join(', ');
    return `${p.variable} ${p.problem}  [${who}]`;
  });
}

/** A function as the function table describes it: its timeout and the variables it reads. */
export interface FunctionLimits {
  name: string;
  timeoutSeconds: number;
  variables: readonly string[];
}

/** What a payment may take is kept this far under the function's timeout (the answer must still get out). */
const TIMEOUT_MARGIN_MS = 300;
const DEFAULT_TIME_BUDGET_MS = 2500;

/**
 * Settings that are each valid but cannot work together with a function's timeout: a time budget
 * as long as the timeout lets the platform stop a payment in the middle, leaving it PENDING until
 * the reconciler finds it.
 */
export function pairProblems(functions: readonly FunctionLimits[], values: Record<string, string | undefined>): PrecheckProblem[] {
  const raw = values.MIDAS_TIME_BUDGET_MS;
  const budget = raw === undefined || raw.trim() === '' ? DEFAULT_TIME_BUDGET_MS : Number(raw);
  if (!Number.isFinite(budget)) return []; // malformed: the settings reader names it
  const tooLong = functions.filter((f) => f.variables.includes('MIDAS_TIME_BUDGET_MS') && budget > f.timeoutSeconds * 1000 - TIMEOUT_MARGIN_MS);
  const byTimeout = new Map<number, string[]>();
  for (const f of tooLong) byTimeout.set(f.timeoutSeconds, [...(byTimeout.get(f.timeoutSeconds) ?? []), f.name]);
  return [...byTimeout].map(([t, names]) => ({
    variable: 'MIDAS_TIME_BUDGET_MS',
    problem: `is ${budget} ms, which cannot work with a function timeout of ${t} s: the platform would stop a payment in the middle. Keep it at most ${t * 1000 - TIMEOUT_MARGIN_MS} ms, or raise those functions' timeoutSeconds`,
    functions: names,
  }));
}
