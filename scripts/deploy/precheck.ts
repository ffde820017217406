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
