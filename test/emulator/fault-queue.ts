/**
 * Scripted faults, shared by every part of the local cloud that can be told to misbehave (Midas
 * v1, the 2.0 server APIs, the cloud database, WeChat's pushes): each rule hits the next `times`
 * matching calls, in the order the rules were added.
 */
export class FaultQueue<R> {
  private rules: { rule: R; left: number }[] = [];

  add(rule: R, times = 1): void {
    this.rules.push({ rule, left: times });
  }

  /** The rules still waiting, with how many calls each will still hit. */
  list(): { rule: R; left: number }[] {
    return this.rules.map((r) => ({ rule: r.rule, left: r.left }));
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule that `matches` this call, used up by one. */
  take(matches: (rule: R) => boolean = () => true): R | undefined {
    const i = this.rules.findIndex((r) => r.left > 0 && matches(r.rule));
    if (i === -1) return undefined;
    const r = this.rules[i]!;
    r.left -= 1;
    if (r.left === 0) this.rules.splice(i, 1);
    return r.rule;
  }
}
