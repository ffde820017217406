// One function instance, the way the cloud platform runs it: a Node process that loads the
// built bundle once (cold start) and then answers one invocation at a time. The player
// context reaches wx-server-sdk only through environment variables set per invocation.
'use strict';

const bundle = process.argv[2];
const PER_INVOCATION_KEYS = ['WX_OPENID', 'WX_APPID', 'WX_UNIONID', 'WX_CLIENTIP', 'WX_CLIENTIPV6', 'WX_API_TOKEN', 'TCB_SOURCE', 'TRIGGER_SRC'];

// An instance's own clock: machines of a cloud do not agree on the time. EMULATOR_CLOCK_OFFSET_MS
// moves this instance's Date.now (what our code reads) by that much.
const clockOffset = Number(process.env.EMULATOR_CLOCK_OFFSET_MS || 0);
if (clockOffset) {
  const realNow = Date.now;
  Date.now = () => realNow() + clockOffset;
}

const started = process.hrtime.bigint();
let mod;
try {
  mod = require(bundle);
} catch (e) {
  process.send({ type: 'loadError', message: String((e && e.message) || e) });
  process.exit(1);
}
const loadMs = Number(process.hrtime.bigint() - started) / 1e6;

let busy = false;
process.on('message', async (msg) => {
  if (!msg || msg.type !== 'invoke') return;
  if (busy) {
    process.send({ type: 'result', id: msg.id, ok: false, error: { message: 'instance is busy' } });
    return;
  }
  busy = true;
  for (const k of PER_INVOCATION_KEYS) delete process.env[k];
  for (const [k, v] of Object.entries(msg.env)) process.env[k] = v;
  const t0 = process.hrtime.bigint();
  try {
    const result = await mod.main(msg.event, msg.context);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.send({ type: 'result', id: msg.id, ok: true, result: result === undefined ? null : result, ms });
  } catch (e) {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.send({ type: 'result', id: msg.id, ok: false, error: { message: String((e && e.message) || e) }, ms });
  } finally {
    busy = false;
  }
});

process.send({ type: 'ready', loadMs });
