/**
 * Making a plan live, and reading back what is live. Every change is a step that either is done
 * (and read back) or fails and stops the run, so a failed run says exactly what it did and did not
 * do, and a second run does what is left: a step finds what is already right and changes nothing.
 */
import type { IndexDeclaration } from '../../shared/edge/collections';
import { codeHashIn, type CollectionPlan, type FunctionPlan, type Plan } from './plan';
import { ApiCallError, type TencentCloud } from './tencent-cloud';

interface LiveFunction {
  FunctionName: string;
  Runtime: string;
  Handler: string;
  Timeout: number;
  MemorySize: number;
  Description?: string;
  Status: string;
  StatusDesc?: string;
  StatusReasons?: { ErrorCode: string; ErrorMessage: string }[];
  Environment?: { Variables?: { Key: string; Value: string }[] };
  Triggers?: { TriggerName: string; Type: string; TriggerDesc: string }[];
}

interface LiveIndex {
  Name: string;
  Keys: { Name: string; Direction: string }[];
}

/** What is live of one function or collection, as read back. */
export interface LiveState {
  functions: Map<string, LiveFunction>;
  collections: Map<string, { acl: string; indexes: LiveIndex[] }>;
}

/** A step of a run and how it ended. */
export interface Step {
  what: string;
  outcome: 'done' | 'unchanged' | 'failed';
  detail?: string;
}

export class DeployFailed extends Error {
  constructor(
    message: string,
    readonly steps: Step[],
  ) {
    super(message);
  }
}

export interface ApplyOptions {
  /** How long a function may stay Creating or Updating (ms). */
  activeWaitMs?: number;
  pollMs?: number;
  log?: (line: string) => void;
}

const sameVariables = (live: LiveFunction, want: Record<string, string>): boolean => {
  const have = Object.fromEntries((live.Environment?.Variables ?? []).map((v) => [v.Key, v.Value]));
  const keys = new Set([...Object.keys(have), ...Object.keys(want)]);
  return [...keys].every((k) => have[k] === want[k]);
};

const sameKeys = (live: LiveIndex, want: IndexDeclaration): boolean =>
  live.Keys.length === want.keys.length && want.keys.every(([field, dir], i) => live.Keys[i]!.Name === field && Number(live.Keys[i]!.Direction) === dir);

/** What differs between a plan and what is live: one line per difference (empty when all is right). */
export function drift(plan: Plan, live: LiveState): string[] {
  const out: string[] = [];
  for (const f of plan.functions) {
    const l = live.functions.get(f.name);
    if (!l) {
      out.push(`function ${f.name}: missing`);
      continue;
    }
    if (l.Status !== 'Active') out.push(`function ${f.name}: status ${l.Status}${l.StatusDesc ? ` (${l.StatusDesc})` : ''}`);
    if (l.Runtime !== f.runtime) out.push(`function ${f.name}: runtime ${l.Runtime}, not ${f.runtime}`);
    if (l.Handler !== f.handler) out.push(`function ${f.name}: handler ${l.Handler}, not ${f.handler}`);
    if (l.Timeout !== f.timeout) out.push(`function ${f.name}: timeout ${l.Timeout} s, not ${f.timeout} s`);
    if (l.MemorySize !== f.memory) out.push(`function ${f.name}: memory ${l.MemorySize} MB, not ${f.memory} MB`);
    if (codeHashIn(l.Description) !== f.codeHash) out.push(`function ${f.name}: code is not this build's`);
    if (!sameVariables(l, f.variables)) {
      const have = new Map((l.Environment?.Variables ?? []).map((v) => [v.Key, v.Value]));
      const differ = [...new Set([...have.keys(), ...Object.keys(f.variables)])].filter((k) => have.get(k) !== f.variables[k]).sort();
      out.push(`function ${f.name}: settings differ (${differ.join(', ')})`);
    }
    for (const t of f.triggers) {
      const lt = (l.Triggers ?? []).find((x) => x.TriggerName === t.name && x.Type === 'timer');
      if (!lt) out.push(`function ${f.name}: timer ${t.name} missing`);
      else if (lt.TriggerDesc !== t.config) out.push(`function ${f.name}: timer ${t.name} is "${lt.TriggerDesc}", not "${t.config}"`);
    }
  }
  for (const c of plan.collections) {
    const l = live.collections.get(c.name);
    if (!l) {
      out.push(`collection ${c.name}: missing`);
      continue;
    }
    if (l.acl !== c.acl) out.push(`collection ${c.name}: permission ${l.acl}, not ${c.acl} (game clients can reach it)`);
    for (const i of c.indexes) {
      const li = l.indexes.find((x) => x.Name === i.name);
      if (!li) out.push(`collection ${c.name}: index ${i.name} missing`);
      else if (!sameKeys(li, i)) out.push(`collection ${c.name}: index ${i.name} has other keys`);
    }
  }
  return out;
}

/** Reads what is live of the plan's functions and collections (nothing is changed). */
export async function readLive(api: TencentCloud, plan: Plan): Promise<LiveState> {
  const live: LiveState = { functions: new Map(), collections: new Map() };
  for (const f of plan.functions) {
    const l = await getFunction(api, f.name);
    if (l) live.functions.set(f.name, l);
  }
  for (const c of plan.collections) {
    const indexes = await describeTable(api, c.name);
    if (!indexes) continue;
    const { AclTag } = await api.call<{ AclTag: string }>('tcb', 'DescribeDatabaseACL', { EnvId: api.envId, CollectionName: c.name });
    live.collections.set(c.name, { acl: AclTag, indexes });
  }
  return live;
}

async function getFunction(api: TencentCloud, name: string): Promise<LiveFunction | undefined> {
  try {
    return await api.call<LiveFunction>('scf', 'GetFunction', { FunctionName: name, Namespace: api.envId });
  } catch (e) {
    if (e instanceof ApiCallError && e.code.startsWith('ResourceNotFound.Function')) return undefined;
    throw e;
  }
}

async function describeTable(api: TencentCloud, name: string): Promise<LiveIndex[] | undefined> {
  try {
    return (await api.call<{ Indexes: LiveIndex[] }>('tcb', 'DescribeTable', { EnvId: api.envId, TableName: name })).Indexes ?? [];
  } catch (e) {
    if (e instanceof ApiCallError && e.code.startsWith('ResourceNotFound')) return undefined;
    throw e;
  }
}

/** The environment, as the account sees it: its database instance (for the collection calls). */
export async function findEnvironment(api: TencentCloud): Promise<{ databaseInstance?: string }> {
  const { EnvList } = await api.call<{ EnvList: { EnvId: string; Databases?: { InstanceId: string }[] }[] }>('tcb', 'DescribeEnvs', { EnvId: api.envId });
  const env = (EnvList ?? []).find((e) => e.EnvId === api.envId);
  if (!env) throw new ApiCallError('DescribeEnvs', 'ResourceNotFound.Env', `no environment ${api.envId} in this account and region (${api.region}): check TCB_ENV_ID and TENCENTCLOUD_REGION`);
  return { ...(env.Databases?.[0] && { databaseInstance: env.Databases[0].InstanceId }) };
}

/** Makes the plan live, step by step; throws DeployFailed at the first step that fails. */
export async function apply(api: TencentCloud, plan: Plan, opts: ApplyOptions = {}): Promise<Step[]> {
  const steps: Step[] = [];
  const log = opts.log ?? (() => undefined);
  const step = async (what: string, run: () => Promise<'done' | 'unchanged'>) => {
    try {
      const outcome = await run();
      steps.push({ what, outcome });
      log(`  ${outcome === 'done' ? '✓' : '='} ${what}${outcome === 'unchanged' ? ' (already right)' : ''}`);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      steps.push({ what, outcome: 'failed', detail });
      log(`  ✗ ${what}: ${detail}`);
      throw new DeployFailed(`${what} failed: ${detail}`, steps);
    }
  };

  let databaseInstance: string | undefined;
  await step(`environment ${api.envId}`, async () => {
    databaseInstance = (await findEnvironment(api)).databaseInstance;
    return 'unchanged';
  });
  const mongo = databaseInstance ? { MongoConnector: { DatabaseName: databaseInstance, InstanceId: 'flexdb' } } : {};

  for (const c of plan.collections) await applyCollection(api, c, mongo, step);
  for (const f of plan.functions) await applyFunction(api, f, step, opts);
  return steps;
}

type StepRunner = (what: string, run: () => Promise<'done' | 'unchanged'>) => Promise<void>;

async function applyCollection(api: TencentCloud, c: CollectionPlan, mongo: Record<string, unknown>, step: StepRunner): Promise<void> {
  let indexes: LiveIndex[] = [];
  await step(`collection ${c.name}`, async () => {
    const found = await describeTable(api, c.name);
    if (found) {
      indexes = found;
      return 'unchanged';
    }
    await api.call('tcb', 'CreateTable', { EnvId: api.envId, TableName: c.name, ...mongo });
    indexes = (await describeTable(api, c.name)) ?? [];
    return 'done';
  });
  await step(`collection ${c.name}: permission ${c.acl}`, async () => {
    const { AclTag } = await api.call<{ AclTag: string }>('tcb', 'DescribeDatabaseACL', { EnvId: api.envId, CollectionName: c.name });
    if (AclTag === c.acl) return 'unchanged';
    await api.call('tcb', 'ModifyDatabaseACL', { EnvId: api.envId, CollectionName: c.name, AclTag: c.acl });
    const back = await api.call<{ AclTag: string }>('tcb', 'DescribeDatabaseACL', { EnvId: api.envId, CollectionName: c.name });
    if (back.AclTag !== c.acl) throw new Error(`read back ${back.AclTag}`);
    return 'done';
  });
  if (c.indexes.length === 0) return;
  await step(`collection ${c.name}: indexes ${c.indexes.map((i) => i.name).join(', ')}`, async () => {
    const wrong = c.indexes.filter((i) => indexes.some((l) => l.Name === i.name && !sameKeys(l, i)));
    const missing = c.indexes.filter((i) => !indexes.some((l) => l.Name === i.name));
    if (wrong.length === 0 && missing.length === 0) return 'unchanged';
    await api.call('tcb', 'UpdateTable', {
      EnvId: api.envId,
      TableName: c.name,
      ...mongo,
      ...(wrong.length && { DropIndexes: wrong.map((i) => ({ IndexName: i.name })) }),
      CreateIndexes: [...wrong, ...missing].map((i) => ({
        IndexName: i.name,
        MgoKeySchema: { MgoIndexKeys: i.keys.map(([Name, d]) => ({ Name, Direction: String(d) })), MgoIsUnique: false },
      })),
    });
    const back = (await describeTable(api, c.name)) ?? [];
    const still = c.indexes.filter((i) => !back.some((l) => l.Name === i.name && sameKeys(l, i)));
    if (still.length) throw new Error(`read back without ${still.map((i) => i.name).join(', ')}`);
    return 'done';
  });
}

/** Waits until a function is Active; a failed status is an error with the platform's reasons. */
async function waitActive(api: TencentCloud, name: string, opts: ApplyOptions): Promise<LiveFunction> {
  const deadline = Date.now() + (opts.activeWaitMs ?? 180_000);
  for (;;) {
    const f = await getFunction(api, name);
    if (!f) throw new Error(`${name} is gone`);
    if (f.Status === 'Active') return f;
    if (f.Status !== 'Creating' && f.Status !== 'Updating') {
      const why = (f.StatusReasons ?? []).map((r) => `${r.ErrorCode}: ${r.ErrorMessage}`).join('; ') || f.StatusDesc || 'no reason given';
      throw new Error(`status ${f.Status} (${why})`);
    }
    if (Date.now() > deadline) throw new Error(`still ${f.Status} after ${Math.round((opts.activeWaitMs ?? 180_000) / 1000)} s`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
}

async function applyFunction(api: TencentCloud, f: FunctionPlan, step: StepRunner, opts: ApplyOptions): Promise<void> {
  const ns = { FunctionName: f.name, Namespace: api.envId };
  const environment = { Variables: Object.entries(f.variables).map(([Key, Value]) => ({ Key, Value })) };
  let live: LiveFunction | undefined;

  await step(`function ${f.name}: code`, async () => {
    live = await getFunction(api, f.name);
    if (!live) {
      await api.call('scf', 'CreateFunction', {
        ...ns, Runtime: f.runtime, Handler: f.handler, Timeout: f.timeout, MemorySize: f.memory, Description: f.description,
        Environment: environment, Code: { ZipFile: f.zip.toString('base64') }, InstallDependency: 'FALSE',
      });
      live = await waitActive(api, f.name, opts);
      return 'done';
    }
    if (live.Status === 'Creating' || live.Status === 'Updating') live = await waitActive(api, f.name, opts);
    if (live.Runtime !== f.runtime) {
      throw new Error(`it runs on ${live.Runtime}; these bundles need ${f.runtime}, and the runtime of a function cannot be changed: delete ${f.name} in the CloudBase console, then deploy again`);
    }
    if (codeHashIn(live.Description) === f.codeHash && live.Handler === f.handler && live.Status === 'Active') return 'unchanged';
    await api.call('scf', 'UpdateFunctionCode', { ...ns, Handler: f.handler, ZipFile: f.zip.toString('base64'), InstallDependency: 'FALSE' });
    live = await waitActive(api, f.name, opts);
    return 'done';
  });

  await step(`function ${f.name}: timeout ${f.timeout} s, memory ${f.memory} MB, ${Object.keys(f.variables).length} settings`, async () => {
    const l = live!;
    if (l.Timeout === f.timeout && l.MemorySize === f.memory && l.Description === f.description && sameVariables(l, f.variables)) return 'unchanged';
    await api.call('scf', 'UpdateFunctionConfiguration', { ...ns, Timeout: f.timeout, MemorySize: f.memory, Description: f.description, Environment: environment });
    live = await waitActive(api, f.name, opts);
    return 'done';
  });

  for (const t of f.triggers) {
    await step(`function ${f.name}: timer ${t.name} "${t.config}"`, async () => {
      const existing = (live!.Triggers ?? []).find((x) => x.TriggerName === t.name);
      if (existing && existing.Type === 'timer' && existing.TriggerDesc === t.config) return 'unchanged';
      if (existing) await api.call('scf', 'DeleteTrigger', { ...ns, TriggerName: t.name, Type: existing.Type });
      await api.call('scf', 'CreateTrigger', { ...ns, TriggerName: t.name, Type: 'timer', TriggerDesc: t.config, Enable: 'OPEN' });
      return 'done';
    });
  }
}
