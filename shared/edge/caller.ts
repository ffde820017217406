/**
 * Who is calling, as the platform says (never the event), and who may call what: a function's
 * wiring names one of the policies below.
 */
import { MidasCloudError } from './errors';

/** Who is calling, as the platform says (never the event). */
export interface Caller {
  openid?: string;
  appid?: string;
  clientIp?: string;
  /** The SOURCE chain, e.g. ['wx_client'] or ['wx_client', 'scf'] when a function called us. */
  source: string[];
}

function str(v: string | number | undefined): string | undefined {
  // getWXContext() turns all-digit values into numbers; identities are strings.
  return v === undefined || v === '' ? undefined : String(v);
}

export function callerFromContext(ctx: Record<string, string | number | undefined>): Caller {
  const caller: Caller = {
    source: (str(ctx.SOURCE) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
  const openid = str(ctx.OPENID);
  const appid = str(ctx.APPID);
  const clientIp = str(ctx.CLIENTIP);
  if (openid) caller.openid = openid;
  if (appid) caller.appid = appid;
  if (clientIp) caller.clientIp = clientIp;
  return caller;
}

/** Immediate callers that are our own code rather than a player: a timer, another cloud function. */
const TRUSTED_SOURCES = new Set(['wx_trigger', 'scf']);

/** SOURCE values of calls made by a WeChat client (the mini-game, devtools, the HTTP API). */
const CLIENT_SOURCES = new Set(['wx_client', 'wx_devtools', 'wx_http', 'wx_unknown', 'wx_localdebug', 'wx_crawler']);

const lastHop = (caller: Caller) => caller.source[caller.source.length - 1];

/**
 * Whether the caller may use a trusted-only function: the last hop of SOURCE is a timer or a
 * cloud function, or the caller is a player on the operator allowlist.
 */
export function isTrustedCaller(caller: Caller, operators: ReadonlySet<string>): boolean {
  const last = lastHop(caller);
  if (last !== undefined && TRUSTED_SOURCES.has(last)) return true;
  return caller.openid !== undefined && operators.has(caller.openid);
}

/** Whether the immediate caller is a WeChat client rather than a trigger, a function or an admin API call. */
export function isClientCall(caller: Caller): boolean {
  const last = lastHop(caller);
  return last !== undefined && CLIENT_SOURCES.has(last);
}

/** Settings that name operators: players allowed what is otherwise for our own code. */
export interface HasOperators {
  operatorOpenids: ReadonlySet<string>;
}

/** Who may call a function, given its settings. A function whose definition names none is open to anyone. */
export type CallerPolicy<S> = (caller: Caller, settings: S) => boolean;

/** A timer, another cloud function, or an operator's own account (gifts). */
export const trustedOnly: CallerPolicy<HasOperators> = (caller, s) => isTrustedCaller(caller, s.operatorOpenids);

/** Anything but a WeChat client, or an operator (the reconciler also runs from an admin API call or the operator script). */
export const notPlayers: CallerPolicy<HasOperators> = (caller, s) => !isClientCall(caller) || isTrustedCaller(caller, s.operatorOpenids);

export function forbidden(name: string): MidasCloudError {
  return new MidasCloudError('FORBIDDEN', `${name} may only be called by a timer, another cloud function or an operator`);
}
