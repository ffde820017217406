/**
 * `npm run deploy [-- --dry-run | --check] [--only a,b] [--except c] [--settings path]`
 *
 * Makes the built functions and the collections they use live in a CloudBase environment through
 * the Tencent Cloud API, then reads everything back and prints what is live. It either does all
 * of it or says exactly what it did and did not do, and exits non-zero; it never prints success
 * for something it did not read back. A second run changes nothing that is already right.
 *
 * - Settings: the environment, then `.env` (or the file `--settings` names); every setting each function needs
 *   is checked first, by the function's own rules, and every problem is listed at once.
 * - Credentials: TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY and optionally
 *   TENCENTCLOUD_SESSIONTOKEN; the environment TCB_ENV_ID; the region TENCENTCLOUD_REGION
 *   (default ap-shanghai). Nothing interactive, nothing written to disk.
 * - `--dry-run`: prints the plan and calls nothing. `--check`: reads the live environment and
 *   reports drift from the plan, changing nothing; exits 1 on drift.
 */
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import { FUNCTIONS_DIR, readDefinition, type FunctionEntry } from './build-lib';
import { FUNCTION_TABLE, ROOT } from '../test/emulator/paths';
import { DEPLOY_SETTINGS, isSecret, SETTINGS, settingsFrom, variablesNeeded } from './settings';
import { describeProblems, pairProblems, precheck } from './deploy/precheck';
import { makePlan, type Plan } from './deploy/plan';
import { apply, DeployFailed, drift, findEnvironment, readLive, type LiveState } from './deploy/apply';
import { ApiCallError, TencentCloud } from './deploy/tencent-cloud';

class UsageError extends Error {}

interface Args {
  mode: 'deploy' | 'dry-run' | 'check';
  only?: string[];
  except: string[];
  envFile: string;
}

function parseArgs(argv: string[], names: string[]): Args {
  const args: Args = { mode: 'deploy', except: [], envFile: path.join(ROOT, '.env') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const list = () => {
      const given = value().split(',').filter(Boolean);
      const unknown = given.filter((n) => !names.includes(n));
      if (!given.length || unknown.length) throw new UsageError(`${a} takes function names separated by commas, of: ${names.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
      return given;
    };
    if (a === '--dry-run' || a === '--check') {
      if (args.mode !== 'deploy') throw new UsageError('--dry-run and --check do not go together');
      args.mode = a === '--dry-run' ? 'dry-run' : 'check';
    } else if (a === '--only') args.only = list();
    else if (a === '--except') args.except = list();
    else if (a === '--settings') args.envFile = path.resolve(value());
    else throw new UsageError(`unknown option ${a} (options: --dry-run, --check, --only a,b, --except c, --settings path)`);
  }
  return args;
}

/** The settings and credentials: the environment first, then the env file. */
function readValues(envFile: string): Record<string, string> {
  try {
    const { values } = settingsFrom(envFile, process.env, [...Object.keys(SETTINGS), ...DEPLOY_SETTINGS]);
    // Deployed as read, without the blanks around them (the functions would trim them anyway).
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v !== ''));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** What the API cannot do, printed at the end of every run. */
function manualSteps(table: Record<string, FunctionEntry>): string[] {
  const withOpenapi = Object.entries(table).filter(([, f]) => f.openapi.length > 0).map(([name]) => name);
  const pushTo = 'paymentNotify' in table;
  return [
    'Still to do by hand (the Tencent Cloud API cannot):',
    ...(withOpenapi.length
      ? [`  1. Cloud-call permissions: open this project in WeChat devtools and upload the config.json of ${withOpenapi.join(', ')}`,
         '     (right-click the function folder → 上传并部署, or 更新云调用权限). Until then their Midas calls answer -604101.']
      : []),
    ...(pushTo
      ? [`  ${withOpenapi.length ? 2 : 1}. Message push: devtools → 云开发 → 设置 → 其他设置 → 消息推送, mode 云函数, function paymentNotify,`,
         '     for the virtual-payment events (or an HTTP route with WX_PUSH_TOKEN / WX_PUSH_AES_KEY). Without it nothing is delivered on time;',
         '     deliveryReconcile still finds paid orders every minute.']
      : []),
  ];
}

function printPlan(plan: Plan, envId: string | undefined): void {
  console.log(`Plan for ${envId ?? '(TCB_ENV_ID not set)'}: ${plan.functions.length} functions, ${plan.collections.length} collections`);
  for (const f of plan.functions) {
    const vars = Object.keys(f.variables).map((v) => (isSecret(v) ? `${v} (secret)` : `${v}=${f.variables[v]}`));
    console.log(`  function ${f.name.padEnd(17)} ${f.runtime}, ${f.handler}, timeout ${f.timeout} s, ${f.memory} MB, code ${f.codeHash.slice(0, 12)} (${f.zip.length} bytes zipped)`);
    if (f.triggers.length) console.log(`      timers: ${f.triggers.map((t) => `${t.name} "${t.config}"`).join(', ')}`);
    console.log(`      settings: ${vars.join(', ') || 'none'}`);
  }
  for (const c of plan.collections) {
    console.log(`  collection ${c.name.padEnd(20)} ${c.acl}; indexes: ${c.indexes.map((i) => `${i.name} (${i.keys.map(([k, d]) => `${k} ${d === 1 ? 'asc' : 'desc'}`).join(', ')})`).join('; ') || 'none beyond _id'}`);
  }
}

function printLive(plan: Plan, live: LiveState): void {
  console.log('\nLive now (read back):');
  console.log(`  ${'function'.padEnd(18)} ${'runtime'.padEnd(12)} ${'timeout'.padStart(7)} ${'memory'.padStart(7)} ${'settings'.padStart(8)}  ${'code'.padEnd(12)} ${'status'.padEnd(8)} timers`);
  for (const f of plan.functions) {
    const l = live.functions.get(f.name);
    if (!l) {
      console.log(`  ${f.name.padEnd(18)} (missing)`);
      continue;
    }
    const code = /code sha256 ([0-9a-f]{12})/.exec(l.Description ?? '')?.[1] ?? '(unknown)';
    const timers = (l.Triggers ?? []).map((t) => `${t.TriggerName} "${t.TriggerDesc}"`).join(', ') || '-';
    console.log(`  ${f.name.padEnd(18)} ${l.Runtime.padEnd(12)} ${`${l.Timeout} s`.padStart(7)} ${`${l.MemorySize} MB`.padStart(7)} ${String(l.Environment?.Variables?.length ?? 0).padStart(8)}  ${code.padEnd(12)} ${l.Status.padEnd(8)} ${timers}`);
  }
  console.log(`  ${'collection'.padEnd(22)} ${'permission'.padEnd(11)} indexes`);
  for (const c of plan.collections) {
    const l = live.collections.get(c.name);
    console.log(`  ${c.name.padEnd(22)} ${(l?.acl ?? '(missing)').padEnd(11)} ${l ? l.indexes.map((i) => i.Name).join(', ') : ''}`);
  }
}

async function main(): Promise<number> {
  if (!existsSync(FUNCTION_TABLE)) throw new UsageError('no function table: run npm run build first');
  const all = JSON.parse(readFileSync(FUNCTION_TABLE, 'utf8')) as Record<string, FunctionEntry>;
  const args = parseArgs(process.argv.slice(2), Object.keys(all));
  const table = Object.fromEntries(Object.entries(all).filter(([n]) => (!args.only || args.only.includes(n)) && !args.except.includes(n)));
  if (Object.keys(table).length === 0) throw new UsageError('no function left to deploy');
  const values = readValues(args.envFile);

  // Everything that must be right before anything is uploaded, listed at once.
  const definitions = await Promise.all(Object.keys(table).map((name) => readDefinition(path.join(FUNCTIONS_DIR, name))));
  const limits = definitions.map((d) => ({ name: d.name, timeoutSeconds: d.manifest.timeoutSeconds, variables: d.variables }));
  const problems = describeProblems([...precheck(definitions, values), ...pairProblems(limits, values)], Object.keys(table));
  const envId = values.TCB_ENV_ID;
  if (envId !== undefined && !/^[a-z0-9][a-z0-9-]{2,63}$/.test(envId)) problems.push(`TCB_ENV_ID must be a cloud environment id such as prod-1a2b3c`);
  if (args.mode !== 'dry-run') {
    if (envId === undefined) problems.push('TCB_ENV_ID is not set (the id of the CloudBase environment: devtools → 云开发 → 设置)');
    if (!values.TENCENTCLOUD_SECRETID) problems.push('TENCENTCLOUD_SECRETID is not set (an API key of the account: console.cloud.tencent.com/cam/capi)');
    if (!values.TENCENTCLOUD_SECRETKEY) problems.push('TENCENTCLOUD_SECRETKEY is not set (the SecretKey of that API key)');
  }
  if (problems.length) {
    console.error(`npm run deploy: nothing was changed: ${problems.length} setting${problems.length === 1 ? '' : 's'} to fix first (in the environment or ${path.relative(process.cwd(), args.envFile) || args.envFile}):\n  ${problems.join('\n  ')}`);
    if (definitions.some((d) => d.name === 'ysdkBalance') && problems.some((p) => p.includes('[ysdkBalance]'))) console.error('  (a game without Android leaves YSDK out: --except ysdkBalance)');
    console.log(manualSteps(table).join('\n'));
    return 1;
  }

  // Each function gets the settings it reads in this environment and generation, no more.
  const needed = Object.fromEntries(definitions.map((d) => [d.name, { ...table[d.name]!, variables: variablesNeeded(d.readSettings, values) }]));
  const plan = makePlan(needed, FUNCTIONS_DIR, values);
  if (args.mode === 'dry-run') {
    printPlan(plan, envId);
    console.log('\n--dry-run: nothing was called or changed.\n');
    console.log(manualSteps(table).join('\n'));
    return 0;
  }

  const region = values.TENCENTCLOUD_REGION ?? 'ap-shanghai';
  const api = new TencentCloud(
    { secretId: values.TENCENTCLOUD_SECRETID!, secretKey: values.TENCENTCLOUD_SECRETKEY!, ...(values.TENCENTCLOUD_SESSIONTOKEN && { sessionToken: values.TENCENTCLOUD_SESSIONTOKEN }) },
    envId!,
    region,
    ...(process.env.DEPLOY_RETRY_DELAYS_MS ? [process.env.DEPLOY_RETRY_DELAYS_MS.split(',').map(Number)] : []),
  );
  const waits = { activeWaitMs: Number(process.env.DEPLOY_ACTIVE_WAIT_MS ?? 180_000), pollMs: Number(process.env.DEPLOY_POLL_MS ?? 1000) };

  if (args.mode === 'check') {
    try {
      await findEnvironment(api);
      const live = await readLive(api, plan);
      printLive(plan, live);
      const found = drift(plan, live);
      if (found.length) {
        console.error(`\nDrift: ${found.length} difference${found.length === 1 ? '' : 's'} from this build and these settings (npm run deploy fixes them):\n  ${found.join('\n  ')}`);
        return 1;
      }
      console.log(`\nNo drift: ${plan.functions.length} functions and ${plan.collections.length} collections are live as planned. Nothing was changed.`);
      return 0;
    } catch (e) {
      console.error(`\nnpm run deploy --check: could not read ${envId}: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
  }

  console.log(`Deploying to ${envId} (${region}): ${plan.functions.length} functions, ${plan.collections.length} collections`);
  let exit = 0;
  try {
    const steps = await apply(api, plan, { ...waits, log: (l) => console.log(l) });
    const live = await readLive(api, plan);
    printLive(plan, live);
    const found = drift(plan, live);
    if (found.length) {
      console.error(`\nNOT deployed as planned: read back, ${found.length} thing${found.length === 1 ? '' : 's'} differ:\n  ${found.join('\n  ')}`);
      exit = 1;
    } else {
      const changed = steps.filter((s) => s.outcome === 'done').length;
      console.log(`\nDeployed: every function and collection is live as planned (${changed} change${changed === 1 ? '' : 's'}, ${steps.length - changed} already right).`);
    }
  } catch (e) {
    exit = 1;
    if (e instanceof DeployFailed) {
      const done = e.steps.filter((s) => s.outcome === 'done').map((s) => s.what);
      console.error(`\nNOT deployed: ${e.message}`);
      console.error(done.length ? `Done before it (and kept):\n  ${done.join('\n  ')}` : 'Nothing was changed before it.');
      console.error('Everything after it was not done. Fix the cause and run npm run deploy again: what is already right is left as it is.');
      const cause = e.steps.at(-1)?.detail ?? '';
      if (/AuthFailure/.test(cause)) console.error('(AuthFailure: check TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY / TENCENTCLOUD_SESSIONTOKEN.)');
    } else if (e instanceof ApiCallError) {
      console.error(`\nNOT deployed: ${e.message}`);
    } else {
      throw e;
    }
  }
  console.log(`\n${manualSteps(table).join('\n')}`);
  return exit;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`npm run deploy: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
