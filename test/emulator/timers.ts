/**
 * Timer triggers, as the platform fires them: each function's config.json `triggers` of type
 * `timer` with WeChat's 7-field cron (second minute hour day month weekday year). The first six
 * fields go to croner (a maintained cron library); the year field, which croner does not take,
 * is checked here at each firing.
 */
import { Cron } from 'croner';
import { existsSync, readFileSync, readdirSync } from 'fs';
import path from 'path';

export interface TimerSpec {
  fn: string;
  name: string;
  config: string;
}

/** The timer triggers in every function's config.json under `functionsDir`. */
export function timerTriggers(functionsDir: string): TimerSpec[] {
  const specs: TimerSpec[] = [];
  for (const d of readdirSync(functionsDir, { withFileTypes: true })) {
    const file = path.join(functionsDir, d.name, 'config.json');
    if (!d.isDirectory() || !existsSync(file)) continue;
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as { triggers?: { name?: string; type?: string; config?: string }[] };
    for (const t of cfg.triggers ?? []) {
      if (t.type === 'timer' && typeof t.config === 'string') specs.push({ fn: d.name, name: String(t.name ?? 'timer'), config: t.config });
    }
  }
  return specs;
}

/** Whether `year` matches a cron year field: `*`, `2026`, `2026-2028`, `2026/2`, `*\/2`, and lists of these. */
export function yearMatches(field: string, year: number): boolean {
  return field.split(',').some((part) => {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo = 1970;
    let hi = 2199;
    if (range !== '*') {
      const [a, b] = (range ?? '').split('-');
      lo = Number(a);
      hi = b === undefined ? (stepText === undefined ? lo : 2199) : Number(b);
    }
    if (![lo, hi, step].every(Number.isInteger) || step < 1) throw new Error(`bad year field "${field}"`);
    return year >= lo && year <= hi && (year - lo) % step === 0;
  });
}

/** Splits a WeChat cron into croner's 6 fields and the year field; throws naming the problem. */
export function parseWechatCron(expr: string): { pattern: string; year: string } {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 7) throw new Error(`timer trigger "${expr}" must have 7 fields (second minute hour day month weekday year)`);
  const year = fields[6]!;
  yearMatches(year, 2000);
  const pattern = fields.slice(0, 6).join(' ');
  new Cron(pattern, { paused: true }).stop(); // throws on a bad pattern
  return { pattern, year };
}

export interface RunningTimer extends TimerSpec {
  /** The next time it fires (ISO), if any. */
  next(): string | undefined;
  fired: number;
}

/** Starts every timer; `fire` is called at each matching second. Returns them, with `stop`. */
export function startTimers(specs: TimerSpec[], fire: (spec: TimerSpec) => void): { timers: RunningTimer[]; stop: () => void } {
  const jobs: Cron[] = [];
  const timers = specs.map((spec) => {
    const { pattern, year } = parseWechatCron(spec.config);
    const t: RunningTimer = { ...spec, fired: 0, next: () => job.nextRun()?.toISOString() };
    const job = new Cron(pattern, { catch: true }, () => {
      if (!yearMatches(year, new Date().getFullYear())) return;
      t.fired += 1;
      fire(spec);
    });
    jobs.push(job);
    return t;
  });
  return { timers, stop: () => jobs.forEach((j) => j.stop()) };
}
