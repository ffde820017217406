/**
 * A stateful Midas v1 backend: accounts, bills and their history, signatures checked the way
 * WeChat checks them, and faults that tests can script. Everything it knows about the API
 * (names, paths, params, answers) comes from the operations table in shared/.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'fs';
import { BILL_NO_PATTERN, BILL_VALIDITY_SECONDS, MAX_COINS_PER_CALL, ZONE_ID_PATTERN } from '../../shared/midas-v1/api-limits';
import {
  MIDAS_ENVS,
  OPERATION_NAMES,
  PF_ANDROID,
  allParams,
  cgiPath,
  type MidasEnv,
  type OperationName,
} from '../../shared/midas-v1/operation-table';
import { midasSig, type SignableParams } from '../../shared/midas-v1/signing';
import { signaturesEqual } from '../../shared/edge/hmac';
import { FaultQueue } from './fault-queue';

export interface MidasApp {
  appid: string;
  offerId: string;
  secrets: Record<MidasEnv, string>;
}

/** A scripted failure (SPEC §2 and the seeds' ambiguous case). */
export type Fault =
  /** -1 without applying anything */
  | { kind: 'busy' }
  /** apply the call, then answer -1: the coins moved but the caller is told "system busy" */
  | { kind: 'applyThenBusy' }
  /** wait, then apply and answer: longer than the caller's timeout, the caller cannot know */
  | { kind: 'delay'; ms: number }
  /** 90016 "order in progress", nothing applied */
  | { kind: 'inProgress' }
  /** apply, then answer HTTP 200 with an empty body */
  | { kind: 'empty' }
  /** the gateway answers with its JSON error shape, nothing applied */
  | { kind: 'gatewayError' };

export interface FaultRule {
  fault: Fault;
  op?: OperationName;
  env?: MidasEnv;
  /** How many matching calls it hits (default 1). */
  times?: number;
}

/** The kinds of {@link Fault}. */
export const FAULT_KINDS = ['busy', 'applyThenBusy', 'delay', 'inProgress', 'empty', 'gatewayError'] as const satisfies readonly Fault['kind'][];

/** Throws, naming the field, unless `rule` is a fault rule this backend knows. */
export function checkFaultRule(rule: unknown): asserts rule is FaultRule {
  const r = rule as Partial<FaultRule> | null;
  if (r === null || typeof r !== 'object') throw new Error('a fault rule is an object: {fault: {kind}, op?, env?, times?}');
  const kind = (r.fault as { kind?: unknown } | undefined)?.kind;
  if (!(FAULT_KINDS as readonly unknown[]).includes(kind)) throw new Error(`fault.kind must be one of ${FAULT_KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
  if (kind === 'delay' && !(Number.isSafeInteger((r.fault as { ms?: unknown }).ms) && (r.fault as { ms: number }).ms > 0)) throw new Error('fault.ms must be a positive whole number of milliseconds for a delay');
  if (r.op !== undefined && !(OPERATION_NAMES as readonly unknown[]).includes(r.op)) throw new Error(`op must be one of ${OPERATION_NAMES.join(', ')} (got ${JSON.stringify(r.op)})`);
  if (r.env !== undefined && !(MIDAS_ENVS as readonly unknown[]).includes(r.env)) throw new Error(`env must be one of ${MIDAS_ENVS.join(', ')} (got ${JSON.stringify(r.env)})`);
  if (r.times !== undefined && !(Number.isSafeInteger(r.times) && r.times > 0)) throw new Error('times must be a positive whole number');
}

export interface Account {
  /** Coins bought with money. */
  paid: number;
  /** Coins gifted by present. */
  gen: number;
  /** Coins ever bought (top-ups). */
  saveAmt: number;
  /** Coins spent, net of cancellations. */
  costSum: number;
  /** Coins ever gifted. */
  presentSum: number;
}

export interface Bill {
  kind: 'pay' | 'present';
  env: MidasEnv;
  appid: string;
  offerId: string;
  zoneId: string;
  openid: string;
  billNo: string;
  amount: number;
  /** For pay: how many of the coins were gifted ones (restored as such on cancel). */
  usedGen: number;
  createdAt: number;
  state: 'done' | 'cancelled';
}

export interface JournalEntry {
  op: OperationName;
  env: MidasEnv;
  /** Params as received, without sig. */
  params: Record<string, unknown>;
  errcode: number;
  /** Whether the call changed state (it may have, and still answered a failure). */
  applied: boolean;
  fault?: Fault['kind'];
}

/** What the gateway sends back for one call. */
export type BackendAnswer =
  | { kind: 'json'; json: Record<string, unknown> }
  | { kind: 'empty' }
  | { kind: 'gatewayError'; code: string; message: string };

export interface AccountKey {
  env: MidasEnv;
  openid: string;
  zoneId?: string;
  appid?: string;
  offerId?: string;
}

const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  90000: 'order not exist',
  90011: 'sig invalid',
  90012: 'order already exist',
  90013: 'balance not enough',
  90014: 'order already confirmed',
  90015: 'order already rollback',
  90016: 'order in process',
  90017: 'no permission',
  90018: 'invalid param',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What both emulated Midas generations (v1 here, 2.0 in wxa-game.ts) share: a clock tests can
 * move (bill validity, token expiry), and the scripted faults, named by v1 operation.
 */
export abstract class ScriptedMidas {
  private clockOffset = 0;
  private readonly faults = new FaultQueue<FaultRule>();

  /** Unix seconds, movable by {@link advanceClock}. */
  now(): number {
    return Math.floor(Date.now() / 1000) + this.clockOffset;
  }

  advanceClock(seconds: number): void {
    this.clockOffset += seconds;
  }

  injectFault(rule: FaultRule): void {
    checkFaultRule(rule);
    this.faults.add(rule, rule.times ?? 1);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  pendingFaults(): { rule: FaultRule; left: number }[] {
    return this.faults.list();
  }

  /** The next fault for a call of `op` in `env` (an operation with no v1 name only meets rules naming none). */
  protected takeFault(op: OperationName | undefined, env: MidasEnv): Fault | undefined {
    return this.faults.take((f) => (!f.op || f.op === op) && (!f.env || f.env === env))?.fault;
  }
}

export class MidasBackend extends ScriptedMidas {
  readonly accounts = new Map<string, Account>();
  readonly bills = new Map<string, Bill>();
  readonly journal: JournalEntry[] = [];
  /** Calls whose sig was not a hex string: wx-server-sdk serialised a signature object, secret included. */
  readonly secretLeaks: { op?: string; env?: MidasEnv }[] = [];
  /** Every `sig` received, so tests can check none reaches an answer or a log line. */
  readonly signatures: string[] = [];
  private stateFile?: string;

  constructor(readonly apps: MidasApp[]) {
    super();
  }

  /**
   * Keeps accounts and bills in `file` (loaded now, rewritten after every change), so they
   * survive a restart of `npm start` together with the cloud database.
   */
  persistTo(file: string): void {
    this.stateFile = file;
    if (!existsSync(file)) return;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { accounts: [string, Account][]; bills: [string, Bill][] };
    for (const [k, v] of saved.accounts) this.accounts.set(k, v);
    for (const [k, v] of saved.bills) this.bills.set(k, v);
  }

  /** Accounts and bills, for an export of the local cloud. */
  snapshot(): { accounts: [string, Account][]; bills: [string, Bill][] } {
    return { accounts: [...this.accounts], bills: [...this.bills] };
  }

  /** Replaces accounts and bills (an import). */
  replace(s: ReturnType<MidasBackend['snapshot']>): void {
    this.accounts.clear();
    this.bills.clear();
    for (const [k, v] of s.accounts) this.accounts.set(k, v);
    for (const [k, v] of s.bills) this.bills.set(k, v);
    this.save();
  }

  private save(): void {
    if (!this.stateFile) return;
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ accounts: [...this.accounts], bills: [...this.bills] }));
    renameSync(tmp, this.stateFile);
  }

  private app(appid?: string, offerId?: string): MidasApp {
    const app = this.apps.find((a) => (!appid || a.appid === appid) && (!offerId || a.offerId === offerId)) ?? this.apps[0];
    if (!app) throw new Error('no Midas app configured');
    return app;
  }

  private accountId(env: MidasEnv, appid: string, offerId: string, zoneId: string, openid: string): string {
    return [env, appid, offerId, zoneId, openid].join('|');
  }

  /** The account of a player; created empty on first sight, as Midas does. */
  account(key: AccountKey): Account {
    const app = this.app(key.appid, key.offerId);
    const id = this.accountId(key.env, key.appid ?? app.appid, key.offerId ?? app.offerId, key.zoneId ?? '1', key.openid);
    let a = this.accounts.get(id);
    if (!a) {
      a = { paid: 0, gen: 0, saveAmt: 0, costSum: 0, presentSum: 0 };
      this.accounts.set(id, a);
    }
    return a;
  }

  /** A top-up as `wx.requestMidasPayment` would make it: paid coins. */
  topUp(key: AccountKey, coins: number): Account {
    if (!Number.isSafeInteger(coins) || coins <= 0) throw new Error('coins must be a positive integer');
    const a = this.account(key);
    a.paid += coins;
    a.saveAmt += coins;
    this.save();
    return a;
  }

  balance(key: AccountKey): number {
    const a = this.account(key);
    return a.paid + a.gen;
  }

  private billId(env: MidasEnv, appid: string, billNo: string): string {
    return [env, appid, billNo].join('|');
  }

  bill(env: MidasEnv, billNo: string, appid?: string): Bill | undefined {
    return this.bills.get(this.billId(env, appid ?? this.app().appid, billNo));
  }

  /**
   * Handles one call of `op` in `env` with the params as sent (snake_case, `sig` included).
   */
  async handle(op: OperationName, env: MidasEnv, params: Record<string, unknown>): Promise<BackendAnswer> {
    const { sig, ...unsigned } = params;
    if (typeof sig === 'string') this.signatures.push(sig);
    const record = (errcode: number, applied: boolean, fault?: Fault['kind']) => {
      this.journal.push({ op, env, params: unsigned, errcode, applied, ...(fault && { fault }) });
    };
    const fault = this.takeFault(op, env);
    if (fault?.kind === 'busy' || fault?.kind === 'inProgress') {
      const errcode = fault.kind === 'busy' ? -1 : 90016;
      record(errcode, false, fault.kind);
      return this.error(errcode);
    }
    if (fault?.kind === 'gatewayError') {
      record(-1, false, fault.kind);
      return { kind: 'gatewayError', code: 'SYS_ERR', message: 'emulated gateway failure' };
    }
    if (fault?.kind === 'delay') await sleep(fault.ms);

    const json = this.apply(op, env, unsigned, sig);
    const errcode = typeof json.errcode === 'number' ? json.errcode : 0;
    const applied = errcode === 0 && op !== 'getBalance';
    if (applied) this.save();
    if (fault?.kind === 'applyThenBusy') {
      record(-1, applied, fault.kind);
      return this.error(-1);
    }
    record(errcode, applied, fault?.kind);
    if (fault?.kind === 'empty') return { kind: 'empty' };
    return { kind: 'json', json };
  }

  private error(errcode: number): BackendAnswer {
    return { kind: 'json', json: { errcode, errmsg: ERRMSG[errcode] ?? 'error' } };
  }

  private fail(errcode: number): Record<string, unknown> {
    return { errcode, errmsg: ERRMSG[errcode] ?? 'error' };
  }

  /** Checks params and sig, then applies the call. Returns the WeChat JSON answer. */
  private apply(op: OperationName, env: MidasEnv, params: Record<string, unknown>, sig: unknown): Record<string, unknown> {
    // 1. Shape: every required param, nothing unknown, the right JSON types.
    const specs = allParams(op);
    for (const p of specs) {
      const v = params[p.wire];
      if (v === undefined) {
        if (p.required) return this.fail(90018);
        continue;
      }
      if (p.type === 'integer' ? !Number.isSafeInteger(v) : typeof v !== 'string') return this.fail(90018);
    }
    for (const k of Object.keys(params)) {
      if (!specs.some((p) => p.wire === k)) return this.fail(90018);
    }
    // 2. The app: offer and appid must be one registered app.
    const app = this.apps.find((a) => a.appid === params.appid && a.offerId === params.offer_id);
    if (!app) return this.fail(90017);
    // 3. sig over every param sent, the path of this API, this environment's secret.
    if (typeof sig !== 'string') {
      if (sig !== undefined) this.secretLeaks.push({ op, env });
      return this.fail(90011);
    }
    const expected = midasSig(params as SignableParams, cgiPath(op, env), app.secrets[env]);
    if (!signaturesEqual(expected, sig)) return this.fail(90011);
    // 4. Values.
    const zoneId = params.zone_id as string;
    if (params.pf !== PF_ANDROID || !ZONE_ID_PATTERN.test(zoneId)) return this.fail(90018);
    if (params.bill_no !== undefined && !BILL_NO_PATTERN.test(params.bill_no as string)) return this.fail(90018);
    for (const k of ['amt', 'present_counts']) {
      const n = params[k];
      if (n !== undefined && ((n as number) <= 0 || (n as number) > MAX_COINS_PER_CALL)) return this.fail(90018);
    }

    const openid = params.openid as string;
    const key = { env, appid: app.appid, offerId: app.offerId, zoneId, openid };
    const account = this.account(key);
    const billNo = params.bill_no as string;
    const billId = this.billId(env, app.appid, billNo);
    const ok = (fields: Record<string, unknown>) => ({ errcode: 0, errmsg: 'ok', ...fields });

    switch (op) {
      case 'getBalance':
        return ok({
          balance: account.paid + account.gen,
          gen_balance: account.gen,
          // 1: the player qualifies for a first top-up (has never topped up); 2: does not.
          first_save: account.saveAmt === 0 ? 1 : 2,
          save_amt: account.saveAmt,
          save_sum: account.saveAmt + account.presentSum,
          cost_sum: account.costSum,
          present_sum: account.presentSum,
        });
      case 'pay': {
        if (this.bills.has(billId)) return this.fail(90012);
        const amt = params.amt as number;
        if (account.paid + account.gen < amt) return this.fail(90013);
        // Gifted coins are spent first; a cancel gives back exactly what was taken.
        const usedGen = Math.min(account.gen, amt);
        account.gen -= usedGen;
        account.paid -= amt - usedGen;
        account.costSum += amt;
        this.bills.set(billId, { kind: 'pay', env, appid: app.appid, offerId: app.offerId, zoneId, openid, billNo, amount: amt, usedGen, createdAt: this.now(), state: 'done' });
        return ok({ bill_no: billNo, balance: account.paid + account.gen, used_gen_amt: usedGen });
      }
      case 'present': {
        if (this.bills.has(billId)) return this.fail(90012);
        const n = params.present_counts as number;
        account.gen += n;
        account.presentSum += n;
        this.bills.set(billId, { kind: 'present', env, appid: app.appid, offerId: app.offerId, zoneId, openid, billNo, amount: n, usedGen: 0, createdAt: this.now(), state: 'done' });
        return ok({ bill_no: billNo, balance: account.paid + account.gen });
      }
      case 'cancelPay': {
        const bill = this.bills.get(billId);
        // Another player's bill, a gift, another zone: for this caller the order does not exist.
        if (!bill || bill.kind !== 'pay' || bill.openid !== openid || bill.zoneId !== zoneId) return this.fail(90000);
        if (bill.state === 'cancelled') return this.fail(90015);
        if (this.now() - bill.createdAt > BILL_VALIDITY_SECONDS) return this.fail(90014);
        bill.state = 'cancelled';
        account.gen += bill.usedGen;
        account.paid += bill.amount - bill.usedGen;
        account.costSum -= bill.amount;
        return ok({ bill_no: billNo });
      }
    }
  }

}
