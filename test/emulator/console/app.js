// The local cloud's console: reads /__emulator/state once a second, streams the logs, and drives
// the cloud through its routes. Purchases run the mini-game package (/client/index.mjs) exactly
// as a game runs it, with a `wx` that reaches this local cloud. No framework: a few helpers.
import { createLocalWx, createMidasClient } from '/client/index.mjs';

const $ = (sel) => document.querySelector(sel);

/** An element with attributes and children (strings become text: never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}

const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '');
const short = (id) => (id && id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id ?? '');
const state = (s) => h('span', { class: `state ${s}` }, s);
const history = (list) => h('span', { class: 'history' }, (list ?? []).map((x) => `${x.state}${x.via ? ` (${x.via})` : ''} ${time(x.at)}`).join(' → '));

async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ?? `${path} answered ${res.status}`);
  return data;
}

function activity(text, kind = '') {
  const li = h('li', { class: kind }, `${new Date().toLocaleTimeString()} ${text}`);
  $('#activity').prepend(li);
  return li;
}

let current = null;
/** The catalogue, asked for once (as the first player) and kept. */
let catalogue = null;

function fillTable(sel, rows) {
  const body = $(`${sel} tbody`);
  body.replaceChildren(...rows);
  if (rows.length === 0) body.append(h('tr', {}, h('td', { colspan: 12, class: 'muted' }, 'nothing yet')));
}

function render(s) {
  current = s;
  $('#cloud-info').textContent = `${s.cloud.url} · cloud env ${s.cloud.envId} · Midas ${s.cloud.midasEnv} · ${s.cloud.midasApi === 'v2' ? 'Virtual Payment 2.0' : 'Midas v1'} · appid ${s.cloud.appid} · offer ${s.cloud.offerId}`;

  const inventoryOf = new Map(s.inventory.map((i) => [String(i._id), i]));
  fillTable(
    '#players',
    s.players.flatMap((p) => {
      const inv = inventoryOf.get(`${s.cloud.midasEnv}:${p.openid}`);
      const invText = inv ? Object.entries(inv.counters ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') : '';
      const accounts = p.accounts.length ? p.accounts : [{}];
      return accounts.map((a, i) =>
        h('tr', { 'data-openid': p.openid, 'data-api': a.api, 'data-env': a.env, 'data-zone': a.zoneId, class: a.inUse ? 'in-use' : '', title: a.inUse ? 'the environment and generation the functions use' : '' },
          h('td', { class: 'id' }, i === 0 ? p.openid : ''),
          h('td', {}, a.api === 'v2' ? '2.0' : (a.api ?? '')),
          h('td', {}, a.env ?? ''),
          h('td', {}, a.zoneId ?? ''),
          h('td', { class: 'num balance' }, a.balance ?? ''),
          h('td', { class: 'num' }, a.paid ?? ''),
          h('td', { class: 'num' }, a.gifted ?? ''),
          h('td', { class: 'inventory' }, i === 0 ? invText : '')),
      );
    }),
  );

  // The list is rebuilt only when the players change, so an open drop-down stays open.
  const sel = $('#act-player');
  const ids = s.players.map((p) => p.openid).join(',');
  if (sel.dataset.ids !== ids) {
    const chosen = sel.value;
    sel.replaceChildren(...s.players.map((p) => h('option', { value: p.openid }, p.openid)));
    if (chosen && s.players.some((p) => p.openid === chosen)) sel.value = chosen;
    sel.dataset.ids = ids;
  }
  $('#game-link').href = `/game/?openid=${encodeURIComponent(sel.value)}`;

  fillTable('#ledger', s.ledger.map((o) =>
    h('tr', { 'data-order': o._id },
      h('td', {}, time(o.createdAt)),
      h('td', {}, o.kind ?? ''),
      h('td', { class: 'id', title: o.openid }, short(o.openid)),
      h('td', {}, o.purchase ? `${o.purchase.quantity} × ${o.purchase.productId}` : (o.item ?? '')),
      h('td', { class: 'num' }, o.amount ?? ''),
      h('td', {}, o.env ?? ''),
      h('td', {}, state(o.state)),
      h('td', { class: 'grant' }, o.grant ? state(o.grant) : '', ...(o.flags ?? []).map((f) => h('div', { class: 'flag' }, `flagged: ${f.reason}`))),
      h('td', {}, history(o.history)),
      h('td', { class: 'id', title: o.billNo }, short(o.billNo)),
      h('td', {}, o.lastError ? o.lastError.code : ''))));

  fillTable('#client-orders', s.clientOrders.map((o) =>
    h('tr', { 'data-order': o._id },
      h('td', {}, time(o.createdAt)),
      h('td', { class: 'id', title: o._id }, short(o._id)),
      h('td', { class: 'id', title: o.openid }, short(o.openid)),
      h('td', {}, o.kind === 'item' ? `${o.quantity} × ${o.productId}` : `${o.quantity} coins`),
      h('td', { class: 'num' }, `¥${(o.totalFen / 100).toFixed(2)}`),
      h('td', {}, o.env),
      h('td', {}, state(o.state), ...[...(o.flags ?? []), ...(o.flag ? [o.flag] : [])].map((f) => h('div', { class: 'flag', title: f.detail ?? '' }, `flagged: ${f.reason}`))),
      h('td', {}, history(o.history)),
      h('td', {}, o.state === 'DELIVERED' || o.state === 'PAID' ? h('button', { class: 'secondary', title: 'WeChat refunds the payment and pushes the refund', onclick: () => refund(o._id) }, 'Refund') : null))));

  fillTable('#pushes', s.pushes.map((p) =>
    h('tr', { 'data-push': p.id },
      h('td', { class: 'id' }, p.id, p.isMock ? ' (mock)' : ''),
      h('td', {}, p.event),
      h('td', { class: 'id', title: p.outTradeNo }, short(p.outTradeNo)),
      h('td', {}, state(p.state)),
      h('td', {}, p.fault ?? ''),
      h('td', {}, h('span', { class: 'history' }, p.attempts.map((a) => `${time(a.at)} ${JSON.stringify(a.reply)}`).join(' · ') || 'none')),
      h('td', {}, h('button', { class: 'secondary', onclick: () => replay(p.id) }, 'Replay')))));

  const faults = [
    ...s.faults.midas.map((f) => `Midas v1: ${describeFault(f.rule.fault, f.rule)} ×${f.left}`),
    ...s.faults.wxa.map((f) => `Midas 2.0: ${describeFault(f.rule.fault, f.rule)} ×${f.left}`),
    ...s.faults.pushes.map((f) => `push: ${describeFault(f.rule, {})} ×${f.left}`),
    ...s.faults.database.map((f) => `database: ${f.rule.kind}${f.rule.collection ? ` on ${f.rule.collection}` : ''}${f.rule.action ? ` (${f.rule.action})` : ''} ×${f.left}`),
  ];
  $('#faults').replaceChildren(...(faults.length ? faults.map((f) => h('li', {}, f)) : [h('li', { class: 'muted' }, 'none: everything answers normally')]));

  $('#timers').replaceChildren(
    ...(s.timers.length
      ? s.timers.map((t) => h('li', {}, h('code', {}, t.config), ` ${t.fn} (fired ${t.fired}×, next ${t.next ? new Date(t.next).toLocaleTimeString() : '—'}) `, h('button', { class: 'secondary', onclick: () => fire(t.fn) }, `Run ${t.fn} now`)))
      : [h('li', { class: 'muted' }, 'timers are off')]),
  );
}

function describeFault(fault, rule) {
  return `${fault.kind}${fault.ms ? ` ${fault.ms} ms` : ''}${rule.op ? ` on ${rule.op}` : ''}${rule.env ? ` (${rule.env})` : ''}`;
}

async function refresh() {
  try {
    render(await api('/__emulator/state'));
    if (!catalogue && current.players.length) {
      catalogue = loadCatalogue();
      catalogue.catch(() => (catalogue = null));
    }
  } catch (e) {
    $('#cloud-info').textContent = `cannot reach the local cloud: ${e.message}`;
  }
}

async function loadCatalogue() {
  const openid = current.players[0].openid;
  const midas = createMidasClient(createLocalWx({ url: location.origin, openid }));
  const cat = await midas.catalogue();
  $('#buy-item [name=productId]').replaceChildren(...cat.products.filter((p) => p.priceFen !== undefined).map((p) => h('option', { value: p.productId }, `${p.name} · ¥${(p.priceFen / 100).toFixed(2)}`)));
  $('#buy-with-coins [name=productId]').replaceChildren(...cat.products.filter((p) => p.coinPrice !== undefined).map((p) => h('option', { value: p.productId }, `${p.name} · ${p.coinPrice} coins`)));
  $('#buy-coins [name=quantity]').replaceChildren(...cat.coinQuantities.map((q) => h('option', { value: q }, `${q} coins · ¥${((q * cat.coinPriceFen) / 100).toFixed(2)}`)));
}

function player() {
  const openid = $('#act-player').value;
  if (!openid) throw new Error('create a player first');
  return openid;
}

/** A button's work, with the button disabled meanwhile and the outcome in the activity list. */
function action(form, run) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await run(new FormData(form));
    } catch (e) {
      activity(`failed: ${e.message}`, 'error');
    } finally {
      button.disabled = false;
      void refresh();
    }
  });
}

function client(openid) {
  return createMidasClient(createLocalWx({ url: location.origin, openid }), { deliveryPollMs: 300, deliveryWaitMs: 15000, pollIntervalMs: 500, pollMaxMs: 15000 });
}

action($('#create-player'), async (f) => {
  const openid = String(f.get('openid') ?? '').trim();
  const r = await api('/__emulator/players', openid ? { openid } : {});
  activity(`player ${r.openid} created`);
  await refresh();
  $('#act-player').value = r.openid;
});

action($('#topup'), async (f) => {
  const body = { openid: player(), coins: Number(f.get('coins')) };
  if (f.get('env')) body.env = f.get('env');
  if (f.get('api')) body.api = f.get('api');
  const r = await api('/__emulator/topup', body);
  activity(`topped up ${body.coins} coins: balance ${r.balance}`);
});

action($('#buy-item'), async (f) => {
  const openid = player();
  const productId = String(f.get('productId'));
  const quantity = Number(f.get('quantity'));
  const li = activity(`${short(openid)} buys ${quantity} × ${productId}…`);
  const r = await client(openid).buyItem(productId, quantity);
  li.textContent += r.delivered ? ` delivered (order ${short(r.outTradeNo)})` : ` paid, delivery pending (order ${short(r.outTradeNo)})`;
  li.className = r.delivered ? 'ok' : 'pending';
});

action($('#buy-with-coins'), async (f) => {
  const openid = player();
  const productId = String(f.get('productId'));
  const quantity = Number(f.get('quantity'));
  const li = activity(`${short(openid)} spends coins on ${quantity} × ${productId}…`);
  const r = await client(openid).buyWithCoins(productId, quantity);
  li.textContent += r.state === 'DELIVERED' ? ` delivered for ${r.coins} coins: balance ${r.balance ?? '?'}` : ` ${r.state.toLowerCase()} (order ${short(r.orderId)})`;
  li.className = r.state === 'DELIVERED' ? 'ok' : 'pending';
});

action($('#buy-coins'), async (f) => {
  const openid = player();
  const quantity = Number(f.get('quantity'));
  const li = activity(`${short(openid)} buys ${quantity} coins…`);
  const r = await client(openid).buyCoins(quantity);
  li.textContent += r.arrived ? ` arrived: balance ${r.balance.balance}` : ' paid, coins not arrived yet';
  li.className = r.arrived ? 'ok' : 'pending';
});

const KINDS = {
  midas: ['busy', 'applyThenBusy', 'delay', 'inProgress', 'empty', 'gatewayError'],
  push: ['drop', 'duplicate', 'delay', 'reorder'],
  database: ['refuse', 'lostAnswer'],
};
function fillKinds() {
  const target = $('#add-fault [name=target]').value;
  $('#add-fault [name=kind]').replaceChildren(...KINDS[target].map((k) => h('option', {}, k)));
}
$('#add-fault [name=target]').addEventListener('change', fillKinds);
fillKinds();

action($('#add-fault'), async (f) => {
  const target = f.get('target');
  const kind = f.get('kind');
  const times = Number(f.get('times')) || 1;
  const ms = Number(f.get('ms'));
  if (target === 'midas') {
    const rule = { fault: kind === 'delay' ? { kind, ms } : { kind }, times };
    if (f.get('op')) rule.op = f.get('op');
    if (f.get('env')) rule.env = f.get('env');
    await api('/__emulator/faults', rule);
  } else if (target === 'push') {
    await api('/__emulator/pushes/faults', { fault: kind === 'delay' ? { kind, ms } : { kind }, times });
  } else {
    await api('/__emulator/database/faults', { kind, times });
  }
  activity(`fault added: ${target} ${kind} ×${times}`);
});

$('#clear-faults').addEventListener('click', async () => {
  await api('/__emulator/faults/clear', {});
  activity('faults cleared');
  void refresh();
});

async function replay(id) {
  try {
    const r = await api('/__emulator/pushes/replay', { id });
    activity(`push ${id} replayed: ${JSON.stringify(r.reply)}`);
  } catch (e) {
    activity(`replay failed: ${e.message}`, 'error');
  }
  void refresh();
}

async function refund(outTradeNo) {
  try {
    await api('/__emulator/refund', { outTradeNo });
    activity(`order ${short(outTradeNo)} refunded by WeChat; the refund is pushed to paymentNotify`);
  } catch (e) {
    activity(`refund failed: ${e.message}`, 'error');
  }
  void refresh();
}

async function fire(fn) {
  const li = activity(`running ${fn}…`);
  try {
    const r = await api('/__emulator/timers/fire', { fn });
    li.textContent += r.error ? ` failed: ${r.error}` : ` done: ${JSON.stringify(r.result?.data ?? r.result)}`;
  } catch (e) {
    li.textContent += ` failed: ${e.message}`;
  }
  void refresh();
}

// Live logs (server-sent events; the browser reconnects by itself, resuming after the last line seen).
const logs = $('#logs');
const lines = [];
function showLine(l) {
  const filter = $('#log-filter').value.trim().toLowerCase();
  if (filter && !`${l.fn} ${l.text}`.toLowerCase().includes(filter)) return;
  logs.append(h('div', { class: l.kind }, `${new Date(l.at).toLocaleTimeString()} `, h('span', { class: 'fn' }, l.fn.padEnd(17)), ` ${l.text}`));
  if ($('#log-follow').checked) logs.scrollTop = logs.scrollHeight;
}
const stream = new EventSource('/__emulator/logs/stream');
stream.onmessage = (ev) => {
  const l = JSON.parse(ev.data);
  lines.push(l);
  if (lines.length > 2000) lines.shift();
  showLine(l);
};
$('#log-filter').addEventListener('input', () => {
  logs.replaceChildren();
  lines.forEach(showLine);
});

void refresh();
setInterval(() => {
  if (document.visibilityState === 'visible') void refresh();
}, 1000);
