// The local cloud's console: one view per subject (navigation by #hash), in Chinese or English,
// reading /__emulator/state once a second and streaming the logs, driving the cloud through its
// routes. Purchases run the mini-game package (/client/index.mjs) exactly as a game runs it, with
// a `wx` that reaches this local cloud. No framework: a few helpers.
import { createLocalWx, createMidasClient } from '/client/index.mjs';

const $ = (sel) => document.querySelector(sel);

const TEXT = {
  en: {
    localCloud: 'local cloud', sampleGame: 'Sample game ↗', navPlayers: 'Players', navFunctions: 'Run a function', navOrders: 'Order ledger', navClient: 'Client orders & pushes', navFaults: 'Faults', navTimers: 'Timers', navLogs: 'Logs', navSettings: 'Settings & data',
    players: 'Players and balances', newOpenid: 'openid of the new player (empty: a random one)', createPlayer: 'Create player',
    thPlayer: 'Player', thGeneration: 'Generation', thEnv: 'Env', thZone: 'Zone', thBalance: 'Balance', thBought: 'Bought', thGifted: 'Gifted', thInventory: 'Inventory',
    actAsPlayer: 'Act as a player', player: 'Player', coinsToTopUp: 'Coins', env: 'Environment', generation: 'Generation', inUse: 'in use', topUp: 'Top up', item: 'Item', quantity: 'Quantity', buyItem: 'Buy item', itemForCoins: 'Item for coins', buyWithCoins: 'Buy with coins', coinPack: 'Coin pack', buyCoins: 'Buy coins',
    buyHint: "Buying runs the mini-game package itself: wx.login → login → signPayment → the payment sheet → WeChat's push → delivery. Buying with coins: buyWithCoins → the ledger's pay → the server's grant.",
    activity: 'Activity', runFunction: 'Run a function', runHint: 'Any function, as a player (wx.cloud.callFunction from the game) or as a trusted caller (another cloud function, a timer). The request is JSON; the answer is shown as the function gave it.',
    function: 'Function', caller: 'Caller', callerPlayer: 'the player chosen under Players', callerScf: 'another cloud function (trusted)', callerTimer: 'a timer (trusted)', request: 'Request (JSON)', run: 'Run',
    ledger: 'Order ledger', ledgerWhat: '(pay, present, cancel, refund; coin purchases with their grant)', thCreated: 'Created', thKind: 'Kind', thItem: 'Item', thCoins: 'Coins', thState: 'State', thGrant: 'Grant', thHistory: 'History', thBill: 'Bill', thError: 'Last error',
    clientOrders: 'Client orders', clientWhat: '(bought on the payment sheet)', thWhat: 'What', thPrice: 'Price', pushes: 'Pushes from WeChat', pushesWhat: '(to paymentNotify)', thPush: 'Push', thEvent: 'Event', thFault: 'Fault', thAttempts: 'Attempts',
    faults: 'Scripted faults', faultTarget: 'Where', targetMidas: 'Midas (the generation in use)', targetPush: "WeChat's pushes", targetDatabase: 'Cloud database', faultKind: 'Kind', operation: 'Operation', anyOperation: 'any', anyEnv: 'either', collection: 'Collection', anyCollection: 'any', action: 'Write', anyWrite: 'any', delayMs: 'Delay (ms)', times: 'Times', addFault: 'Add fault', clearAll: 'Clear all',
    timers: 'Timers', timersHint: 'The reconcilers look at orders untouched for 60 s (younger ones may still be in flight). "Run now" runs a timer as it fires; tick the box to take young orders too, as npm run orders -- resolve does.', youngOrders: 'include orders younger than 60 s',
    logs: 'Function logs', live: 'live', filter: 'Filter', search: 'Search', follow: 'follow', settings: 'Settings in force', thName: 'Name', thValue: 'Value', data: 'Local data', dataHint: 'Everything this local cloud holds (database, Midas accounts, WeChat\u2019s sessions, pushes, players) in one file: export it to share a reproduction; import replaces what is here.', export: 'Export', import: 'Import', curl: 'From a terminal',
    nothingYet: 'nothing yet', noFaults: 'none: everything answers normally', timersOff: 'timers are off', runNow: (fn) => `Run ${fn} now`, fired: (n, next) => `fired ${n}×, next ${next}`, refund: 'Refund', replay: 'Replay', secret: '(set, not shown)',
    created: (id) => `player ${id} created`, toppedUp: (n, b) => `topped up ${n} coins: balance ${b}`, buys: (p, q, id) => `${p} buys ${q} × ${id}…`, delivered: (o) => ` delivered (order ${o})`, pending: (o) => ` paid, delivery pending (order ${o})`,
    spends: (p, q, id) => `${p} spends coins on ${q} × ${id}…`, deliveredFor: (c, b) => ` delivered for ${c} coins: balance ${b}`, buysCoins: (p, q) => `${p} buys ${q} coins…`, arrived: (b) => ` arrived: balance ${b}`, notArrived: ' paid, coins not arrived yet',
    faultAdded: (t) => `fault added: ${t}`, faultsCleared: 'faults cleared', replayed: (id, r) => `push ${id} replayed: ${r}`, refunded: (o) => `order ${o} refunded by WeChat; the refund is pushed to paymentNotify`,
    running: (fn) => `running ${fn}…`, done: ' done', failed: (m) => `failed: ${m}`, createFirst: 'create a player first', imported: 'local state imported', badJson: 'the request is not JSON',
    examined: (r) => `examined ${r.examined}; resolved ${(r.resolved ?? r.delivered ?? []).length}${r.expired ? `, expired ${r.expired.length}` : ''}${r.skipped?.length ? `; left for later ${r.skipped.length}` : ''}${r.waiting?.length ? `; waiting ${r.waiting.length}` : ''}`,
    youngHint: 'Orders younger than 60 s are left for a later run (they may still be in flight): tick "include orders younger than 60 s" to take them now.',
    flagHints: {
      refund_not_revocable: 'WeChat refunded it and the item cannot be taken back: decide by hand (npm run orders -- flagged)',
      cancel_not_revocable: 'the coins went back and the item cannot be taken back: decide by hand (npm run orders -- flagged)',
      cancel_expired: 'the cancel came too late to send: the coins were not given back and the item stays; give the coins with present if the cancel still stands',
      refund_expired: 'whether the refund went through is not known: check the player’s balance (getBalance) and make good with present if needed',
      purchase_expired: 'whether the pay went through is not known: check the player’s balance, then grant or give the coins back by hand',
      push_mismatch: 'the push does not match the order (player, product, price or environment): nothing was delivered; check it by hand',
      refund_mismatch: 'the refund push does not match the order: nothing was taken back; check it by hand',
      unknown_product: 'a mall item that is not in the catalogue: add it to the catalogue, or grant it by hand',
    },
    curlV2: 'With MIDAS_API=v2 a player logs in first (a wx.login code, then the login function):',
  },
  zh: {
    localCloud: '本地云', sampleGame: '示例小游戏 ↗', navPlayers: '玩家', navFunctions: '运行云函数', navOrders: '订单账本', navClient: '客户端订单与推送', navFaults: '故障', navTimers: '定时器', navLogs: '日志', navSettings: '设置与数据',
    players: '玩家与余额', newOpenid: '新玩家的 openid（留空则随机生成）', createPlayer: '创建玩家',
    thPlayer: '玩家', thGeneration: '版本', thEnv: '环境', thZone: '分区', thBalance: '余额', thBought: '购买', thGifted: '赠送', thInventory: '背包',
    actAsPlayer: '扮演玩家', player: '玩家', coinsToTopUp: '代币', env: '环境', generation: '版本', inUse: '当前使用', topUp: '充值', item: '道具', quantity: '数量', buyItem: '购买道具', itemForCoins: '代币道具', buyWithCoins: '用代币购买', coinPack: '代币包', buyCoins: '购买代币',
    buyHint: '购买直接运行小游戏包：wx.login → login → signPayment → 支付面板 → 微信推送 → 发货。用代币购买：buyWithCoins → 账本扣代币 → 服务端发放。',
    activity: '操作记录', runFunction: '运行云函数', runHint: '任意云函数，可以作为玩家（游戏里的 wx.cloud.callFunction）或可信调用方（另一个云函数、定时器）调用。请求为 JSON；回答按云函数返回的原样显示。',
    function: '云函数', caller: '调用方', callerPlayer: '“玩家”页选中的玩家', callerScf: '另一个云函数（可信）', callerTimer: '定时器（可信）', request: '请求（JSON）', run: '运行',
    ledger: '订单账本', ledgerWhat: '（扣费、赠送、撤销、退款；代币购买及其发放）', thCreated: '创建时间', thKind: '类型', thItem: '道具', thCoins: '代币', thState: '状态', thGrant: '发放', thHistory: '历史', thBill: '单号', thError: '最近错误',
    clientOrders: '客户端订单', clientWhat: '（在支付面板购买）', thWhat: '内容', thPrice: '价格', pushes: '微信推送', pushesWhat: '（推送到 paymentNotify）', thPush: '推送', thEvent: '事件', thFault: '故障', thAttempts: '尝试',
    faults: '脚本化故障', faultTarget: '位置', targetMidas: '米大师（当前版本）', targetPush: '微信推送', targetDatabase: '云数据库', faultKind: '类型', operation: '操作', anyOperation: '任意', anyEnv: '任意', collection: '集合', anyCollection: '任意', action: '写操作', anyWrite: '任意', delayMs: '延迟（毫秒）', times: '次数', addFault: '添加故障', clearAll: '全部清除',
    timers: '定时器', timersHint: '对账任务只处理 60 秒内没有变化的订单（更新的订单可能仍在处理中）。“立即运行”按定时器触发的方式运行；勾选后也处理新订单，与 npm run orders -- resolve 相同。', youngOrders: '包括 60 秒内的新订单',
    logs: '云函数日志', live: '实时', filter: '筛选', search: '搜索', follow: '跟随', settings: '当前设置', thName: '名称', thValue: '值', data: '本地数据', dataHint: '本地云保存的全部内容（数据库、米大师账户、微信会话、推送、玩家）导出为一个文件，便于分享复现；导入会替换当前内容。', export: '导出', import: '导入', curl: '在终端里',
    nothingYet: '暂无', noFaults: '无：一切正常响应', timersOff: '定时器已关闭', runNow: (fn) => `立即运行 ${fn}`, fired: (n, next) => `已触发 ${n} 次，下次 ${next}`, refund: '退款', replay: '重发', secret: '（已设置，不显示）',
    created: (id) => `已创建玩家 ${id}`, toppedUp: (n, b) => `已充值 ${n} 代币：余额 ${b}`, buys: (p, q, id) => `${p} 购买 ${q} × ${id}…`, delivered: (o) => ` 已发货（订单 ${o}）`, pending: (o) => ` 已支付，等待发货（订单 ${o}）`,
    spends: (p, q, id) => `${p} 用代币购买 ${q} × ${id}…`, deliveredFor: (c, b) => ` 已发放，花费 ${c} 代币：余额 ${b}`, buysCoins: (p, q) => `${p} 购买 ${q} 代币…`, arrived: (b) => ` 已到账：余额 ${b}`, notArrived: ' 已支付，代币尚未到账',
    faultAdded: (t) => `已添加故障：${t}`, faultsCleared: '已清除故障', replayed: (id, r) => `推送 ${id} 已重发：${r}`, refunded: (o) => `订单 ${o} 已由微信退款；退款已推送到 paymentNotify`,
    running: (fn) => `正在运行 ${fn}…`, done: ' 完成', failed: (m) => `失败：${m}`, createFirst: '请先创建玩家', imported: '本地数据已导入', badJson: '请求不是 JSON',
    examined: (r) => `检查 ${r.examined}；处理 ${(r.resolved ?? r.delivered ?? []).length}${r.expired ? `，过期 ${r.expired.length}` : ''}${r.skipped?.length ? `；留待下次 ${r.skipped.length}` : ''}${r.waiting?.length ? `；等待 ${r.waiting.length}` : ''}`,
    youngHint: '60 秒内的新订单留给之后的运行（它们可能仍在处理中）：勾选“包括 60 秒内的新订单”即可立即处理。',
    flagHints: {
      refund_not_revocable: '微信已退款，但道具无法收回：请人工处理（npm run orders -- flagged）',
      cancel_not_revocable: '代币已退回，但道具无法收回：请人工处理（npm run orders -- flagged）',
      cancel_expired: '撤销来得太晚，已无法发送：代币没有退回，道具保留；如仍需撤销，请用 present 补发代币',
      refund_expired: '退款是否成功未知：请查看玩家余额（getBalance），需要时用 present 补发',
      purchase_expired: '扣款是否成功未知：请查看玩家余额，再人工发放道具或退回代币',
      push_mismatch: '推送与订单不符（玩家、商品、价格或环境）：没有发货，请人工核对',
      refund_mismatch: '退款推送与订单不符：没有收回道具，请人工核对',
      unknown_product: '商城道具不在商品目录中：请加入目录，或人工发放',
    },
    curlV2: 'MIDAS_API=v2 时玩家需要先登录（wx.login 的 code，再调用 login 云函数）：',
  },
};

let lang = localStorage.getItem('lang') || (/^zh/i.test(navigator.language) ? 'zh' : 'en');
const t = (key, ...args) => {
  const v = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  return typeof v === 'function' ? v(...args) : v;
};

function applyLanguage() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  $('#lang-switch').textContent = lang === 'zh' ? 'English' : '中文';
  if (current) render(current);
  renderActivity();
  $('#logs').replaceChildren();
  lines.forEach(showLine);
}

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

/** Times on a 24-hour clock, in the page's language. */
const time = (ms) => (ms ? new Date(ms).toLocaleTimeString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '');
const short = (id) => (id && id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id ?? '');
const state = (s) => h('span', { class: `state ${s}` }, s);
const history = (list) => h('span', { class: 'history' }, (list ?? []).map((x) => `${x.state}${x.via ? ` (${x.via})` : ''} ${time(x.at)}`).join(' → '));

async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ?? data.errMsg ?? `${path} answered ${res.status}`);
  return data;
}

// The activity list outlives a reload (the last 50 entries, in this browser).
const ACTIVITY_KEY = 'midas-cloud-activity';
let activities = JSON.parse(localStorage.getItem(ACTIVITY_KEY) || '[]');
function renderActivity() {
  $('#activity').replaceChildren(...activities.map((a) => h('li', { class: a.kind }, `${time(a.at)} ${a.text}`)));
}
/** Adds an entry; returns a function that completes it (text added, kind: ok, pending or error). */
function activity(text, kind = '') {
  const entry = { at: Date.now(), text, kind };
  activities = [entry, ...activities].slice(0, 50);
  const save = () => {
    localStorage.setItem(ACTIVITY_KEY, JSON.stringify(activities));
    renderActivity();
  };
  save();
  return (more, k) => {
    entry.text += more;
    if (k) entry.kind = k;
    save();
  };
}

let current = null;
/** The catalogue, asked for once (as the first player) and kept. */
let catalogue = null;
let catalogueData = null;

function fillTable(sel, rows) {
  const body = $(`${sel} tbody`);
  // A search box above the table keeps only the rows that hold its text (a player, a bill, a state…).
  const filter = document.querySelector(`.table-filter[data-table="${sel}"]`)?.value.trim().toLowerCase();
  const shown = filter ? rows.filter((r) => r.textContent.toLowerCase().includes(filter) || [...r.querySelectorAll('[title]')].some((e) => e.title.toLowerCase().includes(filter))) : rows;
  body.replaceChildren(...shown);
  if (shown.length === 0) body.append(h('tr', {}, h('td', { colspan: 12, class: 'muted' }, t('nothingYet'))));
}
for (const input of document.querySelectorAll('.table-filter')) input.addEventListener('input', () => current && render(current));

function flags(o) {
  return [...(o.flags ?? []), ...(o.flag ? [o.flag] : [])].map((f) =>
    h('div', { class: 'flag', title: f.detail ?? '' }, `flagged: ${f.reason}`, t('flagHints')[f.reason] ? h('div', { class: 'hint' }, t('flagHints')[f.reason]) : null));
}

function render(s) {
  current = s;
  $('#cloud-info').textContent = `${s.cloud.url} · ${s.cloud.envId} · Midas ${s.cloud.midasEnv} · ${s.cloud.midasApi === 'v2' ? 'Virtual Payment 2.0' : 'Midas v1'} · appid ${s.cloud.appid} · offer ${s.cloud.offerId}`;

  const inventoryOf = new Map(s.inventory.map((i) => [String(i._id), i]));
  const productName = (id) => catalogueData?.products.find((p) => p.productId === id)?.name ?? id;
  fillTable(
    '#players',
    s.players.flatMap((p) => {
      const inv = inventoryOf.get(`${s.cloud.midasEnv}:${p.openid}`);
      const invText = inv ? Object.entries(inv.counters ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') : '';
      const accounts = p.accounts.length ? p.accounts : [{}];
      return accounts.map((a, i) =>
        h('tr', { 'data-openid': p.openid, 'data-api': a.api, 'data-env': a.env, 'data-zone': a.zoneId, class: a.inUse ? 'in-use' : '' },
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
  $('#game-link').href = `/game/?openid=${encodeURIComponent(sel.value)}&lang=${lang === 'zh' ? 'zh_CN' : 'en'}`;

  const fnSel = $('#run-function [name=fn]');
  if (fnSel.dataset.fns !== s.functions.join(',')) {
    fnSel.replaceChildren(...s.functions.map((f) => h('option', { value: f }, f)));
    fnSel.dataset.fns = s.functions.join(',');
  }
  const collSel = $('#add-fault [name=collection]');
  if (collSel.dataset.names !== s.collections.join(',')) {
    collSel.replaceChildren(h('option', { value: '' }, t('anyCollection')), ...s.collections.map((c) => h('option', { value: c }, c)));
    collSel.dataset.names = s.collections.join(',');
  }

  fillTable('#ledger', s.ledger.map((o) =>
    h('tr', { 'data-order': o._id },
      h('td', {}, time(o.createdAt)),
      h('td', {}, o.kind ?? ''),
      h('td', { class: 'id', title: o.openid }, short(o.openid)),
      h('td', {}, o.purchase ? `${o.purchase.quantity} × ${o.purchase.productId}` : (o.item ?? '')),
      h('td', { class: 'num' }, o.amount ?? ''),
      h('td', {}, o.env ?? ''),
      h('td', {}, state(o.state)),
      h('td', { class: 'grant' }, o.grant ? state(o.grant) : '', ...flags(o)),
      h('td', {}, history(o.history)),
      h('td', { class: 'id', title: o.billNo }, short(o.billNo)),
      h('td', { class: o.lastError ? 'error-text' : '' }, o.lastError ? o.lastError.code : ''))));

  fillTable('#client-orders', s.clientOrders.map((o) =>
    h('tr', { 'data-order': o._id },
      h('td', {}, time(o.createdAt)),
      h('td', { class: 'id', title: o._id }, short(o._id)),
      h('td', { class: 'id', title: o.openid }, short(o.openid)),
      h('td', {}, o.kind === 'item' ? `${o.quantity} × ${productName(o.productId)}` : `${o.quantity} coins`),
      h('td', { class: 'num' }, `¥${(o.totalFen / 100).toFixed(2)}`),
      h('td', {}, o.env),
      h('td', {}, state(o.state), ...flags(o)),
      h('td', {}, history(o.history)),
      h('td', {}, o.state === 'DELIVERED' || o.state === 'PAID' ? h('button', { class: 'secondary', onclick: () => refund(o._id) }, t('refund')) : null))));

  fillTable('#pushes', s.pushes.map((p) =>
    h('tr', { 'data-push': p.id },
      h('td', { class: 'id' }, p.id, p.isMock ? ' (mock)' : ''),
      h('td', {}, p.event),
      h('td', { class: 'id', title: p.outTradeNo }, short(p.outTradeNo)),
      h('td', {}, state(p.state)),
      h('td', {}, p.fault ?? ''),
      h('td', {}, h('span', { class: 'history' }, p.attempts.map((a) => `${time(a.at)} ${JSON.stringify(a.reply)}`).join(' · ') || '—')),
      h('td', {}, h('button', { class: 'secondary', onclick: () => replay(p.id) }, t('replay'))))));

  const faults = [
    ...s.faults.midas.map((f) => `Midas v1: ${describeFault(f.rule.fault, f.rule)} ×${f.left}`),
    ...s.faults.wxa.map((f) => `Midas 2.0: ${describeFault(f.rule.fault, f.rule)} ×${f.left}`),
    ...s.faults.pushes.map((f) => `push: ${describeFault(f.rule, {})} ×${f.left}`),
    ...s.faults.database.map((f) => `database: ${f.rule.kind}${f.rule.collection ? ` on ${f.rule.collection}` : ''}${f.rule.action ? ` (${f.rule.action})` : ''} ×${f.left}`),
  ];
  $('#faults').replaceChildren(...(faults.length ? faults.map((f) => h('li', {}, f)) : [h('li', { class: 'muted' }, t('noFaults'))]));

  $('#timers').replaceChildren(
    ...(s.timers.length
      ? s.timers.map((x) => h('li', {}, h('code', {}, x.config), ` ${x.fn} (${t('fired', x.fired, x.next ? time(x.next) : '—')}) `, h('button', { class: 'secondary', onclick: () => fire(x.fn) }, t('runNow', x.fn))))
      : [h('li', { class: 'muted' }, t('timersOff'))]),
  );

  fillTable('#settings', (s.settings ?? []).map((x) => h('tr', {}, h('td', { class: 'id' }, x.name), h('td', { class: 'id' }, x.value === null ? t('secret') : x.value))));
  const first = s.players[0]?.openid ?? 'oLocalPlayer_000000000000001';
  const curl = (name, data, player = { openid: first }) => `curl -s ${location.origin}/callFunction -H 'content-type: application/json' -d '${JSON.stringify({ name, data, player })}'`;
  $('#curl').textContent = [
    ...(s.cloud.midasApi === 'v2'
      ? [t('curlV2'), `code=$(curl -s ${location.origin}/__wx/login -H 'content-type: application/json' -d '{"openid":"${first}"}' | sed 's/.*"code":"\\([^"]*\\)".*/\\1/')`, `curl -s ${location.origin}/callFunction -H 'content-type: application/json' -d '{"name":"login","data":{"code":"'$code'"},"player":{"openid":"${first}"}}'`, '']
      : []),
    curl('getBalance', {}),
    curl('pay', { amt: 30, payItem: 'sword', idempotencyKey: 'buy-sword-1' }),
    curl('present', { toOpenid: first, presentCounts: 50 }, { source: 'scf' }),
  ].join('\n');
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
  catalogueData = cat;
  $('#buy-item [name=productId]').replaceChildren(...cat.products.filter((p) => p.priceFen !== undefined).map((p) => h('option', { value: p.productId }, `${p.name} · ¥${(p.priceFen / 100).toFixed(2)}`)));
  $('#buy-with-coins [name=productId]').replaceChildren(...cat.products.filter((p) => p.coinPrice !== undefined).map((p) => h('option', { value: p.productId }, `${p.name} · ${p.coinPrice}`)));
  $('#buy-coins [name=quantity]').replaceChildren(...cat.coinQuantities.map((q) => h('option', { value: q }, `${q} · ¥${((q * cat.coinPriceFen) / 100).toFixed(2)}`)));
}

function player() {
  const openid = $('#act-player').value;
  if (!openid) throw new Error(t('createFirst'));
  return openid;
}

/** A button's work, with the button disabled meanwhile and a failure in the activity list, as an error. */
function action(form, run) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await run(new FormData(form));
    } catch (e) {
      activity(t('failed', e.message), 'error');
    } finally {
      button.disabled = false;
      void refresh();
    }
  });
}

function client(openid) {
  return createMidasClient(createLocalWx({ url: location.origin, openid }), { deliveryPollMs: 1000, deliveryWaitMs: 15000, pollIntervalMs: 1000, pollMaxMs: 15000 });
}

action($('#create-player'), async (f) => {
  const openid = String(f.get('openid') ?? '').trim();
  const r = await api('/__emulator/players', openid ? { openid } : {});
  activity(t('created', r.openid), 'ok');
  await refresh();
  $('#act-player').value = r.openid;
});

action($('#topup'), async (f) => {
  const body = { openid: player(), coins: Number(f.get('coins')) };
  if (f.get('env')) body.env = f.get('env');
  if (f.get('api')) body.api = f.get('api');
  const r = await api('/__emulator/topup', body);
  activity(t('toppedUp', body.coins, r.balance), 'ok');
});

action($('#buy-item'), async (f) => {
  const openid = player();
  const productId = String(f.get('productId'));
  const quantity = Number(f.get('quantity'));
  const done = activity(t('buys', short(openid), quantity, productId));
  try {
    const r = await client(openid).buyItem(productId, quantity);
    done(r.delivered ? t('delivered', short(r.outTradeNo)) : t('pending', short(r.outTradeNo)), r.delivered ? 'ok' : 'pending');
  } catch (e) {
    done(` ${t('failed', `${e.code ?? ''} ${e.message}`)}`, 'error');
  }
});

action($('#buy-with-coins'), async (f) => {
  const openid = player();
  const productId = String(f.get('productId'));
  const quantity = Number(f.get('quantity'));
  const done = activity(t('spends', short(openid), quantity, productId));
  try {
    const r = await client(openid).buyWithCoins(productId, quantity);
    done(r.state === 'DELIVERED' ? t('deliveredFor', r.coins, r.balance ?? '?') : ` ${r.state} (${short(r.orderId)})`, r.state === 'DELIVERED' ? 'ok' : 'pending');
  } catch (e) {
    done(` ${t('failed', `${e.code ?? ''} ${e.message}`)}`, 'error');
  }
});

action($('#buy-coins'), async (f) => {
  const openid = player();
  const quantity = Number(f.get('quantity'));
  const done = activity(t('buysCoins', short(openid), quantity));
  try {
    const r = await client(openid).buyCoins(quantity);
    done(r.arrived ? t('arrived', r.balance.balance) : t('notArrived'), r.arrived ? 'ok' : 'pending');
  } catch (e) {
    done(` ${t('failed', `${e.code ?? ''} ${e.message}`)}`, 'error');
  }
});

action($('#run-function'), async (f) => {
  const name = String(f.get('fn'));
  let data;
  try {
    data = JSON.parse(String(f.get('data') || '{}'));
  } catch {
    throw new Error(t('badJson'));
  }
  const caller = String(f.get('caller'));
  const who = caller === 'player' ? { openid: player() } : { source: caller };
  const r = await api('/callFunction', { name, data, player: who });
  $('#function-answer').textContent = JSON.stringify(r.result ?? r, null, 2);
  const ok = r.result?.ok !== false && !r.errCode;
  activity(`${name} (${caller === 'player' ? short(who.openid) : caller}): ${ok ? 'ok' : (r.result?.error?.code ?? r.errMsg)}`, ok ? 'ok' : 'error');
});

const KINDS = {
  midas: ['busy', 'applyThenBusy', 'delay', 'inProgress', 'empty', 'gatewayError'],
  push: ['drop', 'duplicate', 'delay', 'reorder'],
  database: ['refuse', 'lostAnswer'],
};
/** Only the fields that apply to the chosen target and kind are shown. */
function faultFields() {
  const target = $('#add-fault [name=target]').value;
  const kind = $('#add-fault [name=kind]').value;
  for (const el of document.querySelectorAll('#add-fault [data-for]')) {
    const show = el.dataset.for === 'delay' ? kind === 'delay' : el.dataset.for === target;
    el.hidden = !show;
  }
}
function fillKinds() {
  const target = $('#add-fault [name=target]').value;
  $('#add-fault [name=kind]').replaceChildren(...KINDS[target].map((k) => h('option', {}, k)));
  faultFields();
}
$('#add-fault [name=target]').addEventListener('change', fillKinds);
$('#add-fault [name=kind]').addEventListener('change', faultFields);
fillKinds();

action($('#add-fault'), async (f) => {
  const target = f.get('target');
  const kind = f.get('kind');
  const times = Number(f.get('times')) || 1;
  const ms = Number(f.get('ms'));
  if (target === 'midas') {
    // To the generation the functions use: a fault nobody can meet would wait forever.
    const rule = { fault: kind === 'delay' ? { kind, ms } : { kind }, times, api: current?.cloud.midasApi ?? 'v1' };
    if (f.get('op')) rule.op = f.get('op');
    if (f.get('env')) rule.env = f.get('env');
    await api('/__emulator/faults', rule);
  } else if (target === 'push') {
    await api('/__emulator/pushes/faults', { fault: kind === 'delay' ? { kind, ms } : { kind }, times });
  } else {
    const rule = { kind, times };
    if (f.get('collection')) rule.collection = f.get('collection');
    if (f.get('action')) rule.action = f.get('action');
    await api('/__emulator/database/faults', rule);
  }
  activity(t('faultAdded', `${target} ${kind} ×${times}`), 'ok');
});

$('#clear-faults').addEventListener('click', async () => {
  await api('/__emulator/faults/clear', {});
  activity(t('faultsCleared'), 'ok');
  void refresh();
});

async function replay(id) {
  try {
    const r = await api('/__emulator/pushes/replay', { id });
    activity(t('replayed', id, JSON.stringify(r.reply)), 'ok');
  } catch (e) {
    activity(t('failed', e.message), 'error');
  }
  void refresh();
}

async function refund(outTradeNo) {
  try {
    await api('/__emulator/refund', { outTradeNo });
    activity(t('refunded', short(outTradeNo)), 'ok');
  } catch (e) {
    activity(t('failed', e.message), 'error');
  }
  void refresh();
}

async function fire(fn) {
  const youngOrders = $('#young-orders').checked;
  const done = activity(t('running', fn));
  try {
    const r = await api('/__emulator/timers/fire', { fn, youngOrders });
    if (r.error) {
      done(` ${t('failed', r.error)}`, 'error');
      return;
    }
    const report = r.result?.data ?? r.result ?? {};
    const said = `${t('done')}: ${t('examined', report)}`;
    done(said, r.result?.ok === false ? 'error' : 'ok');
    $('#timer-answer').textContent = `${fn}: ${t('examined', report)}${report.examined === 0 && !youngOrders ? `\n${t('youngHint')}` : ''}\n${JSON.stringify(report, null, 2)}`;
  } catch (e) {
    done(` ${t('failed', e.message)}`, 'error');
  }
  void refresh();
}

$('#import').addEventListener('change', async (ev) => {
  const file = ev.target.files[0];
  if (!file) return;
  try {
    await api('/__emulator/import', JSON.parse(await file.text()));
    activity(t('imported'), 'ok');
  } catch (e) {
    activity(t('failed', e.message), 'error');
  }
  ev.target.value = '';
  void refresh();
});

// Views: one per subject, chosen by the #hash (so a view can be linked and survives a reload).
function showView() {
  const view = (location.hash || '#players').slice(1);
  const known = [...document.querySelectorAll('nav#views a')].some((a) => a.dataset.view === view) ? view : 'players';
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.dataset.view !== known;
  for (const a of document.querySelectorAll('nav#views a')) a.classList.toggle('active', a.dataset.view === known);
}
window.addEventListener('hashchange', showView);

$('#lang-switch').addEventListener('click', () => {
  lang = lang === 'zh' ? 'en' : 'zh';
  localStorage.setItem('lang', lang);
  applyLanguage();
});

// Live logs (server-sent events; the browser reconnects by itself, resuming after the last line seen).
const logs = $('#logs');
const lines = [];
function showLine(l) {
  const filter = $('#log-filter').value.trim().toLowerCase();
  if (filter && !`${l.fn} ${l.text}`.toLowerCase().includes(filter)) return;
  const error = /failure|error|refused|forged|fail/i.test(l.text);
  logs.append(h('div', { class: `${l.kind}${error ? ' error' : ''}` }, `${time(l.at)} `, h('span', { class: 'fn' }, l.fn.padEnd(17)), ` ${l.text}`));
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

showView();
applyLanguage();
void refresh();
setInterval(() => {
  if (document.visibilityState === 'visible') void refresh();
}, 1000);
