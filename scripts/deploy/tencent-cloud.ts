/**
 * The Tencent Cloud API calls of the deploy, made with @cloudbase/manager-node (the maintained
 * library Tencent's own CloudBase CLI is built on): it signs with TC3-HMAC-SHA256, talks only to
 * `https://<service>.tencentcloudapi.com` and honours `http_proxy`. Its generic call is used, not
 * its deploy helpers, which swallow trigger errors and do not treat a failed status as failure:
 * every step here is checked by reading it back.
 */
import CloudBase from '@cloudbase/manager-node';

export interface Credentials {
  secretId: string;
  secretKey: string;
  sessionToken?: string;
}

/** An answer of the API that is an error: its code (`AuthFailure.SignatureFailure`…) and message. */
export class ApiCallError extends Error {
  constructor(
    readonly action: string,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(`${action}: ${code}: ${message}`);
  }
}

export const VERSIONS = { scf: '2018-04-16', tcb: '2018-06-08' } as const;
export type Service = keyof typeof VERSIONS;

/** Calls the API; a throttled call is tried again a few times before it fails. */
export class TencentCloud {
  private readonly app: InstanceType<typeof CloudBase>;
  /** Every action called, in order (for the report of what was done). */
  readonly log: { service: Service; action: string; ok: boolean }[] = [];

  constructor(
    credentials: Credentials,
    readonly envId: string,
    readonly region: string,
    private readonly retryDelaysMs = [500, 1500, 3000],
  ) {
    this.app = new CloudBase({
      secretId: credentials.secretId,
      secretKey: credentials.secretKey,
      ...(credentials.sessionToken && { token: credentials.sessionToken }),
      envId,
      region,
    });
  }

  async call<T = Record<string, unknown>>(service: Service, action: string, params: Record<string, unknown>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = (await this.app.commonService(service, VERSIONS[service]).call({ Action: action, Param: params })) as T;
        this.log.push({ service, action, ok: true });
        return answer;
      } catch (e) {
        const err = e as { code?: string; message?: string; requestId?: string };
        const code = err.code ?? 'NetworkError';
        if (code === 'RequestLimitExceeded' && attempt < this.retryDelaysMs.length) {
          await new Promise((r) => setTimeout(r, this.retryDelaysMs[attempt]));
          continue;
        }
        this.log.push({ service, action, ok: false });
        // manager-node prefixes the action to the message; keep the API's own words.
        const message = String(err.message ?? e).replace(/^\[[A-Za-z]+\]\s*/, '');
        throw new ApiCallError(action, code, message, err.requestId);
      }
    }
  }
}
