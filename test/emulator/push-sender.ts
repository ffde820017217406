/**
 * WeChat's side of virtual-payment pushes, for local runs: after the payment sheet succeeds (or a
 * refund), the push goes to the game's function until it answers `{ErrCode: 0}`, on WeChat's retry
 * schedule (SPEC §5) compressed by `timeScale`. Scripted faults drop, duplicate, delay or reorder
 * pushes; mock pushes are sent as the console's test button does; any push can be replayed.
 */
import { randomBytes } from 'crypto';
import type { MidasEnv } from '../../shared/midas-v1/operation-table';
import { payEventSig } from '../../shared/delivery/push';
import { FaultQueue } from './fault-queue';

/** Delays before each re-send (ms), after the first send: items 15 times, other events 13. */
export const RETRY_SCHEDULE_MS = {
  item: [15e3, 15e3, 30e3, 180e3, 600e3, 1200e3, 1800e3, 1800e3, 1800e3, 3600e3, 3 * 3600e3, 3 * 3600e3, 3 * 3600e3, 6 * 3600e3, 6 * 3600e3],
  other: [15e3, 15e3, 30e3, 180e3, 600e3, 1200e3, 1800e3, 1800e3, 1800e3, 3600e3, 2 * 3600e3, 2 * 3600e3, 2 * 3600e3],
};

export type PushFault =
  /** the push never arrives (every attempt lost) */
  | { kind: 'drop' }
  /** two copies arrive at once */
  | { kind: 'duplicate' }
  /** the first attempt arrives this much later */
  | { kind: 'delay'; ms: number }
  /** held back until the next push has been sent, then sent */
  | { kind: 'reorder' };

export const PUSH_FAULT_KINDS = ['drop', 'duplicate', 'delay', 'reorder'] as const satisfies readonly PushFault['kind'][];

export interface PushRecord {
  id: string;
  event: string;
  outTradeNo?: string;
  envelope: Record<string, unknown>;
  isMock: boolean;
  fault?: PushFault['kind'];
  attempts: { at: number; reply: unknown }[];
  state: 'sending' | 'acknowledged' | 'gave_up' | 'dropped';
}

export interface PushSenderOptions {
  appid: string;
  appKeys: Record<MidasEnv, string>;
  /** Calls the game's push function with the push; returns its reply. */
  deliver: (envelope: Record<string, unknown>) => Promise<unknown>;
  /** 1 = real time; 0.001 makes 15 s into 15 ms. */
  timeScale: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PushSender {
  readonly pushes: PushRecord[] = [];
  private faults = new FaultQueue<PushFault>();
  private held: PushRecord[] = [];
  private running = new Set<Promise<void>>();
  enabled = true;
  private stopped = false;

  /** Stops sending (the local cloud is closing). */
  stop(): void {
    this.stopped = true;
  }

  constructor(private readonly opts: PushSenderOptions) {}

  /**
   * What survives a restart: every push and what became of it. One still being sent when the
   * local cloud stopped is kept as sent so far (`gave_up` is WeChat's word for it: the game's
   * deliveryReconcile finds the order).
   */
  snapshot(): PushRecord[] {
    return this.pushes.map((p) => ({ ...p, ...(p.state === 'sending' && { state: 'gave_up' as const }) }));
  }

  restore(saved: PushRecord[]): void {
    this.pushes.length = 0;
    this.pushes.push(...saved);
  }

  injectFault(fault: PushFault, times = 1): void {
    const kind = (fault as { kind?: unknown } | undefined)?.kind;
    if (!(PUSH_FAULT_KINDS as readonly unknown[]).includes(kind)) throw new Error(`fault.kind must be one of ${PUSH_FAULT_KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
    if (kind === 'delay' && !(Number.isSafeInteger((fault as { ms?: unknown }).ms) && (fault as { ms: number }).ms > 0)) throw new Error('fault.ms must be a positive whole number of milliseconds for a delay');
    if (!(Number.isSafeInteger(times) && times > 0)) throw new Error('times must be a positive whole number');
    this.faults.add(fault, times);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  pendingFaults(): { rule: PushFault; left: number }[] {
    return this.faults.list();
  }

  /** Builds the envelope of a push, signed with the AppKey of the payload's env. */
  envelope(event: string, payload: Record<string, unknown>, isMock = false): Record<string, unknown> {
    const env: MidasEnv = payload.Env === 0 ? 'production' : 'sandbox';
    const raw = JSON.stringify(payload);
    return {
      ToUserName: 'gh_local_game',
      FromUserName: String(payload.OpenId ?? 'oWeChatPlatform'),
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'event',
      Event: event,
      MiniGame: { Payload: raw, PayEventSig: payEventSig(event, raw, this.opts.appKeys[env]), IsMock: isMock },
    };
  }

  /** Sends a push (with any scripted fault) and keeps re-sending it until it is acknowledged. */
  push(event: string, payload: Record<string, unknown>, isMock = false): PushRecord {
    const fault = this.faults.take();
    const rec: PushRecord = {
      id: randomBytes(6).toString('hex'),
      event,
      ...(typeof payload.OutTradeNo === 'string' && { outTradeNo: payload.OutTradeNo }),
      envelope: this.envelope(event, payload, isMock),
      isMock,
      ...(fault && { fault: fault.kind }),
      attempts: [],
      state: fault?.kind === 'drop' ? 'dropped' : 'sending',
    };
    this.pushes.push(rec);
    if (!this.enabled || fault?.kind === 'drop') return rec;
    if (fault?.kind === 'reorder') {
      this.held.push(rec);
      return rec;
    }
    this.track(this.run(rec, fault?.kind === 'delay' ? fault.ms : 0));
    if (fault?.kind === 'duplicate') void this.attempt(rec);
    // A push held back goes after this one.
    for (const h of this.held.splice(0)) this.track(this.run(h, 1));
    return rec;
  }

  /** Sends one push again, once, as WeChat's console can. */
  async replay(id: string): Promise<unknown> {
    const rec = this.pushes.find((p) => p.id === id);
    if (!rec) throw new Error(`no push ${id}`);
    return this.attempt(rec);
  }

  /** Waits until every push being sent has been acknowledged or given up. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }


  private async attempt(rec: PushRecord): Promise<unknown> {
    if (this.stopped) return { error: 'stopped' };
    let reply: unknown;
    try {
      reply = await this.opts.deliver(rec.envelope);
    } catch (e) {
      reply = { error: (e as Error).message };
    }
    rec.attempts.push({ at: Date.now(), reply });
    const ok = (reply as { ErrCode?: unknown } | undefined)?.ErrCode === 0;
    if (ok) rec.state = 'acknowledged';
    return reply;
  }

  private async run(rec: PushRecord, firstDelayMs: number): Promise<void> {
    if (firstDelayMs > 0) await sleep(firstDelayMs);
    const schedule = rec.event.includes('goods') || rec.event.includes('h5') ? RETRY_SCHEDULE_MS.item : RETRY_SCHEDULE_MS.other;
    await this.attempt(rec);
    for (const wait of schedule) {
      if (rec.state === 'acknowledged' || this.stopped) return;
      await sleep(Math.max(1, wait * this.opts.timeScale));
      await this.attempt(rec);
    }
    if (rec.state !== 'acknowledged') rec.state = 'gave_up';
  }
}
