/**
 * A stand-in for `wx` that reaches the local cloud (`npm start`) over HTTP, so a game's own code
 * runs against it from a browser page or from Node 18+: `wx.cloud.callFunction` → /callFunction,
 * `wx.login` → /__wx/login, the payment sheets → /__wx/requestMidasPayment(GameItem), as the
 * player `openid`. Not for a real phone: there, use the real `wx`.
 *
 * @example
 * const wx = createLocalWx({ url: 'http://127.0.0.1:8787', openid: 'oLocalPlayer_000000000000001' });
 * const midas = createMidasClient(wx);
 */
import { MidasClientError, type MidasWx } from './midas-client';

/** The part of fetch this needs (browsers and Node 18+ have it), declared here so no DOM or Node types are required. */
declare const fetch: (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{ json(): Promise<unknown> }>;

export interface LocalWxOptions {
  /** The local cloud's address, as `npm start` prints it. */
  url: string;
  /** The player this `wx` is the phone of. */
  openid: string;
  /** The player closes the payment sheet instead of paying. */
  cancelPayments?: boolean;
}

type Callbacks<S, F> = { success?: (r: S) => void; fail?: (r: F) => void; complete?: () => void };

export function createLocalWx(options: LocalWxOptions): MidasWx {
  const base = options.url.replace(/\/$/, '');
  const post = async (path: string, body: object): Promise<Record<string, unknown>> => {
    try {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return (await res.json()) as Record<string, unknown>;
    } catch (e) {
      throw new MidasClientError('CLOUD_CALL_FAILED', `the local cloud at ${base} did not answer (is npm start running?): ${e instanceof Error ? e.message : String(e)}`, true);
    }
  };
  const sheet =
    (method: 'requestMidasPaymentGameItem' | 'requestMidasPayment') =>
    (o: Record<string, unknown> & Callbacks<{ errMsg: string }, { errCode: number; errMsg: string }>) => {
      const { success, fail, complete, ...fields } = o;
      if (options.cancelPayments) {
        fail?.({ errCode: -2, errMsg: `${method}:fail cancel` });
        complete?.();
        return;
      }
      void post(`/__wx/${method}`, { openid: options.openid, ...fields })
        .then((r) => (r.errCode === 0 ? success?.({ errMsg: `${method}:ok` }) : fail?.({ errCode: Number(r.errCode), errMsg: String(r.errMsg) })))
        .catch((e: unknown) => fail?.({ errCode: -1, errMsg: `${method}:fail ${String(e)}` }))
        .finally(() => complete?.());
    };
  const wx = {
    cloud: {
      async callFunction({ name, data }: { name: string; data?: object }) {
        const r = await post('/callFunction', { name, data: data ?? {}, player: { openid: options.openid } });
        if (r.errCode) throw new MidasClientError('CLOUD_CALL_FAILED', `${name}: ${String(r.errMsg)}`, true);
        return { result: r.result, errMsg: 'cloud.callFunction:ok', requestID: 'local' };
      },
    },
    login(o: Callbacks<{ code: string; errMsg: string }, { errMsg: string }>) {
      void post('/__wx/login', { openid: options.openid })
        .then((r) => o.success?.({ code: String(r.code), errMsg: 'login:ok' }))
        .catch((e: unknown) => o.fail?.({ errMsg: `login:fail ${String(e)}` }))
        .finally(() => o.complete?.());
    },
    requestMidasPaymentGameItem: sheet('requestMidasPaymentGameItem'),
    requestMidasPayment: sheet('requestMidasPayment'),
  };
  return wx as unknown as MidasWx;
}
