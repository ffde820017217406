/**
 * `npm run deploy [-- --dry-run] [--only a,b] [--except c]`: uploads the built functions (all by default) with @cloudbase/cli (`tcb`), with
 * its runtime, timeout, timer trigger and environment variables as the function table says.
 *
 * Values come from the operator's environment, then `.env` (as `npm start` reads them), never from
 * a committed file: cloudbaserc.json holds only `{{env.NAME}}` placeholders. For the upload this
 * writes `cloudbaserc.deploy.json` (the variables that have a value) and `.env.midas-deploy` (their
 * values, mode 0600), runs `tcb --mode midas-deploy`, which fills the placeholders from it, and
 * deletes both. Each function's settings are checked first with its own reader: a bad or missing
 * one stops the deploy before anything is uploaded, with the error the function would give.
 * `TCB_ENV_ID` (or `.env`) names the cloud environment; `tcb login` must have been run once.
 */
import { spawnSync } from 'child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import path from 'path';
import { parseEnv } from 'util';
import { cloudbaserc, FUNCTIONS_DIR, readDefinition, type FunctionEntry } from './build-lib';
import { FUNCTION_TABLE, ROOT } from '../test/emulator/paths';
import { isSecret, operatorSettings } from './settings';
import { describeProblems, precheck } from './deploy/precheck';

export const DEPLOY_MODE = 'midas-deploy';
const DEPLOY_CONFIG = path.join(ROOT, 'cloudbaserc.deploy.json');
const DEPLOY_ENV_FILE = path.join(ROOT, `.env.${DEPLOY_MODE}`);

class DeployError extends Error {}

function envId(): string {
  const fromEnv = process.env.TCB_ENV_ID;
  const file = path.join(ROOT, '.env');
  const fromFile = existsSync(file) ? (parseEnv(readFileSync(file, 'utf8')) as Record<string, string>).TCB_ENV_ID : undefined;
  const id = fromEnv || fromFile;
  if (!id) throw new DeployError('TCB_ENV_ID is not set: the id of the cloud environment to deploy to (WeChat devtools → 云开发 → 设置), in the environment or .env');
  if (!/^[a-z0-9][a-z0-9-]{2,63}$/.test(id)) throw new DeployError(`TCB_ENV_ID must be a cloud environment id such as prod-1a2b3c (got ${JSON.stringify(id)})`);
  return id;
}

/** A `.env` line; values are written so that dotenv reads them back as they are. */
function envLine(name: string, value: string): string {
  if (/[\n\r]/.test(value)) throw new DeployError(`${name} has a line break in its value, which an env file cannot carry`);
  return `${name}=${value.includes("'") ? JSON.stringify(value) : `'${value}'`}`;
}

async function main(): Promise<void> {
  const dryRun = process.argv.includes('--dry-run');
  if (!existsSync(FUNCTION_TABLE)) throw new DeployError('no function table: run npm run build first');
  const all = JSON.parse(readFileSync(FUNCTION_TABLE, 'utf8')) as Record<string, FunctionEntry>;
  const list = (flag: string) => {
    const i = process.argv.indexOf(flag);
    if (i === -1) return undefined;
    const names = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
    const unknown = names.filter((n) => !(n in all));
    if (!names.length || unknown.length) throw new DeployError(`${flag} takes function names separated by commas, of: ${Object.keys(all).join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
    return names;
  };
  const only = list('--only');
  const except = list('--except') ?? [];
  const table = Object.fromEntries(Object.entries(all).filter(([n]) => (!only || only.includes(n)) && !except.includes(n)));
  if (Object.keys(table).length === 0) throw new DeployError('no function left to deploy');
  const id = envId();
  const given = operatorSettings(ROOT);

  // Each function's settings, by the function's own rules, all at once, before anything is uploaded.
  const definitions = await Promise.all(Object.keys(table).map((name) => readDefinition(path.join(FUNCTIONS_DIR, name))));
  const problems = precheck(definitions, given.values);
  if (problems.length) {
    throw new DeployError(`not deployed: ${problems.length} setting${problems.length === 1 ? '' : 's'} to fix first (in the environment or .env):\n  ${describeProblems(problems, Object.keys(table)).join('\n  ')}`);
  }

  const config = cloudbaserc(table);
  for (const f of config.functions) {
    f.envVariables = Object.fromEntries(Object.entries(f.envVariables).filter(([v]) => given.values[v] !== undefined));
  }
  const used = [...new Set(config.functions.flatMap((f) => Object.keys(f.envVariables)))];

  console.log(`Deploying ${config.functions.length} functions to ${id} (${config.functions[0]?.runtime}):`);
  for (const f of config.functions) {
    const vars = Object.keys(f.envVariables).map((v) => `${v}${isSecret(v) ? ' (secret)' : `=${given.values[v]}`}`);
    console.log(`  ${f.name.padEnd(17)} timeout ${String(f.timeout).padStart(3)} s${f.triggers ? `, timer "${f.triggers[0]!.config}"` : ''}\n      ${vars.join(', ') || 'no variables'}`);
  }
  const args = ['--config-file', path.basename(DEPLOY_CONFIG), '--mode', DEPLOY_MODE, 'fn', 'deploy', '--all', '--force', '--yes', '-e', id];
  const tcb = process.env.TCB_BIN ?? path.join(ROOT, 'node_modules', '.bin', 'tcb');
  if (dryRun) {
    console.log(`\n--dry-run: would run tcb ${args.join(' ')}`);
    return;
  }
  try {
    writeFileSync(DEPLOY_CONFIG, JSON.stringify(config, null, 2) + '\n');
    writeFileSync(DEPLOY_ENV_FILE, [`TCB_ENV_ID=${id}`, ...used.map((v) => envLine(v, given.values[v]!))].join('\n') + '\n', { mode: 0o600 });
    const r = spawnSync(tcb, args, { cwd: ROOT, stdio: 'inherit' });
    if (r.error) throw new DeployError(`could not run ${tcb}: ${r.error.message}`);
    if (r.status !== 0) throw new DeployError(`tcb ended with status ${r.status}: see its output above (tcb login first if it asks for a login)`);
  } finally {
    rmSync(DEPLOY_ENV_FILE, { force: true });
    rmSync(DEPLOY_CONFIG, { force: true });
  }
  console.log(`Deployed. Timer triggers come with each function; set collection permissions in the console (see README).`);
}

main().catch((e: unknown) => {
  console.error(`npm run deploy: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
