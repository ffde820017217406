import { randomBytes } from 'crypto';
import type { WxCloud } from '../../shared/edge/wx-server-sdk';
import type { FunctionResponse } from '../../shared/edge/function';
import type { MidasEnv } from '../../shared/midas-v1/operation-table';
import { LEFT_OUT_MESSAGE } from '../../scripts/build-lib';
import { LocalCloud, type LocalCloudOptions } from '../emulator/local-cloud';
import type { Invocation, Player } from '../emulator/runner';

/** A fresh openid per test, so tests never share an account. */
export function newOpenid(): string {
  return `oTest${randomBytes(9).toString('base64url')}`;
}

/** Starts a local cloud for a test file and closes it after. */
export function useLocalCloud(opts: LocalCloudOptions = {}): () => LocalCloud {
  let cloud: LocalCloud | undefined;
  beforeAll(async () => {
    cloud = await LocalCloud.start(opts);
  });
  afterAll(async () => {
    // No path these tests took reached a part of the SDK the build left out (scripts/build-lib.ts).
    const reached = cloud?.runner.logs.split('\n').filter((l) => l.includes(LEFT_OUT_MESSAGE)) ?? [];
    await cloud?.close();
    expect(reached).toEqual([]);
  });
  return () => {
    if (!cloud) throw new Error('local cloud not started');
    return cloud;
  };
}

/** The function's answer; fails the test if the invocation itself failed (an exception reached the platform). */
export function answer(inv: Invocation): FunctionResponse {
  if (inv.error) throw new Error(`invocation failed: ${inv.error.kind}: ${inv.error.message}`);
  return inv.result as FunctionResponse;
}

export async function call(cloud: LocalCloud, fn: string, data: unknown, player: Player, functionEnv?: Record<string, string>): Promise<FunctionResponse> {
  return answer(await cloud.invoke(fn, data, player, functionEnv));
}

export function balanceOf(cloud: LocalCloud, openid: string, env: MidasEnv = 'sandbox', zoneId = '1'): number {
  return cloud.backend.balance({ env, openid, zoneId });
}

/** The bill number of a successful pay/present answer. */
export function billOf(r: unknown): string {
  return String((r as { data: { billNo: string } }).data.billNo);
}

/** Waits until `check` holds (polling), or fails after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A local cloud for a test file and the real wx-server-sdk in this process pointed at it, as a
 * function of `fn` sees it: for tests that call the core (handlePush, buyWithCoins) directly.
 * Pushes are not sent by the local cloud: such tests hand them over themselves.
 */
export function useInProcessSdk(opts: LocalCloudOptions, fn: string): () => { local: LocalCloud; cloud: WxCloud } {
  let local: LocalCloud | undefined;
  let cloud: WxCloud | undefined;
  beforeAll(async () => {
    local = await LocalCloud.start(opts);
    local.pushes.enabled = false;
    Object.assign(process.env, local.runner['platformEnv'](fn, {}));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cloud = require('wx-server-sdk') as WxCloud;
    cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
  });
  afterAll(() => local?.close());
  return () => {
    if (!local || !cloud) throw new Error('local cloud not started');
    return { local, cloud };
  };
}
