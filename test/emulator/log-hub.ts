/**
 * What the local cloud has to say, as it happens: each line a function logs, each invocation
 * (who called, how long, what came back) and the cloud's own events (a timer fired, a push sent).
 * `npm start` prints them; the console streams them. The last lines are kept for late readers.
 */
export interface LogLine {
  seq: number;
  /** Unix ms. */
  at: number;
  /** The function, or `cloud` for the local cloud's own events. */
  fn: string;
  kind: 'log' | 'call' | 'cloud';
  text: string;
}

const KEEP = 2000;

export class LogHub {
  private lines: LogLine[] = [];
  private seq = 0;
  private subscribers = new Set<(line: LogLine) => void>();

  add(fn: string, kind: LogLine['kind'], text: string): LogLine {
    const line: LogLine = { seq: ++this.seq, at: Date.now(), fn, kind, text };
    this.lines.push(line);
    if (this.lines.length > KEEP) this.lines.splice(0, this.lines.length - KEEP);
    for (const s of this.subscribers) s(line);
    return line;
  }

  /** Lines after `seq` still kept. */
  since(seq = 0): LogLine[] {
    return this.lines.filter((l) => l.seq > seq);
  }

  /** Calls `fn` with every new line; returns the unsubscribe. */
  subscribe(fn: (line: LogLine) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}

/**
 * A function's log line made readable: our functions log one JSON object per line
 * (`{"fn":"pay","event":"failure","code":"BALANCE_NOT_ENOUGH",…}`), shown as
 * `failure code=BALANCE_NOT_ENOUGH …`; anything else is shown as written.
 */
export function readableLogLine(line: string): string {
  const text = line.trim();
  if (!text.startsWith('{')) return text;
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return text;
    const { fn: _fn, event, ...rest } = o;
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return [typeof event === 'string' ? event : '', ...fields].filter(Boolean).join(' ');
  } catch {
    return text;
  }
}

/** One line for a terminal: time, function, text. */
export function formatLogLine(l: LogLine): string {
  const t = new Date(l.at).toISOString().slice(11, 23);
  const mark = l.kind === 'call' ? '→' : l.kind === 'cloud' ? '•' : ' ';
  return `${t} ${mark} ${l.fn.padEnd(17)} ${l.text}`;
}
