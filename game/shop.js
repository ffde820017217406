// The shop screen, drawn on the mini-game's canvas: balance and inventory at the top, a button
// per coin pack and per item, a status line. Every purchase is one call of the mini-game helper:
// buyItem resolves once the server has delivered the item (or says it is paid and on its way),
// buyCoins once the coins are in the balance, buyWithCoins once the server has granted what the
// coins bought. What the player reads is short, in Chinese or English (the phone's language),
// and fits the screen; the server's own words go to the console, never to the player.
var client = require('../build/midas-client/index.js');

var COLORS = { bg: '#f4f5f7', ink: '#1d2330', muted: '#6b7385', button: '#07c160', buttonBusy: '#9fdcbc', card: '#ffffff', bad: '#b3261e', coinButton: '#d48806' };

var TEXT = {
  en: {
    shop: 'Shop',
    coins: 'Coins: ',
    inventory: 'Inventory: ',
    empty: 'empty',
    buyCoins: function (q, price) { return 'Buy ' + q + ' coins  ' + price; },
    buyItem: function (name, price) { return 'Buy ' + name + '  ' + price; },
    forCoins: function (n) { return n + ' coins'; },
    refresh: 'Refresh',
    loading: 'Loading the shop…',
    refreshing: 'Refreshing…',
    ready: 'Ready',
    paying: function (what) { return 'Paying for ' + what + '…'; },
    spending: function (n, name) { return 'Spending ' + n + ' coins on ' + name + '…'; },
    paidDelivering: function (name) { return 'Paid. Delivering ' + name + '…'; },
    delivered: function (name) { return 'Delivered: ' + name; },
    onItsWay: function (name) { return 'Paid: ' + name + ' is on its way'; },
    coinsArrived: function (q) { return q + ' coins arrived'; },
    coinsOnTheirWay: 'Paid: the coins are on their way',
    nCoins: function (q) { return q + ' coins'; },
    cancelled: 'Payment cancelled',
    notEnough: 'Not enough coins',
    refused: 'Could not buy that: your coins were returned',
    busy: 'Busy right now. Please try again',
    payFailed: 'Payment failed. Please try again',
    loadFailed: 'Could not load the shop. Tap Refresh',
    failed: 'Something went wrong. Please try again',
    names: { gems: 'Gems', vipDays: 'VIP days' },
  },
  zh: {
    shop: '商店',
    coins: '代币：',
    inventory: '背包：',
    empty: '空',
    buyCoins: function (q, price) { return '购买 ' + q + ' 代币  ' + price; },
    buyItem: function (name, price) { return '购买' + name + '  ' + price; },
    forCoins: function (n) { return n + ' 代币'; },
    refresh: '刷新',
    loading: '正在加载商店…',
    refreshing: '正在刷新…',
    ready: '就绪',
    paying: function (what) { return '正在支付：' + what + '…'; },
    spending: function (n, name) { return '正在花费 ' + n + ' 代币购买' + name + '…'; },
    paidDelivering: function (name) { return '已支付，正在发放' + name + '…'; },
    delivered: function (name) { return '已到账：' + name; },
    onItsWay: function (name) { return '已支付：' + name + '稍后到账'; },
    coinsArrived: function (q) { return q + ' 代币已到账'; },
    coinsOnTheirWay: '已支付：代币稍后到账',
    nCoins: function (q) { return q + ' 代币'; },
    cancelled: '已取消支付',
    notEnough: '代币不足',
    refused: '无法购买，代币已退回',
    busy: '系统繁忙，请稍后再试',
    payFailed: '支付失败，请重试',
    loadFailed: '商店加载失败，请点“刷新”',
    failed: '出了点问题，请稍后再试',
    names: { gems: '宝石', vipDays: 'VIP 天数', sword_basic: '基础剑', gems_60: '60 宝石', vip_month: 'VIP 月卡', potion_heal: '治疗药水' },
  },
};

/** Failures that pass: the player can simply try again. */
var TRANSIENT = ['MIDAS_BUSY', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_BAD_RESPONSE', 'LEDGER_UNAVAILABLE', 'CLOUD_CALL_FAILED', 'BILL_IN_PROGRESS', 'SESSION_EXPIRED', 'WX_LOGIN_FAILED'];

function yuan(fen) {
  return '¥' + (fen / 100).toFixed(2);
}

/** The phone's language: Chinese for zh*, English otherwise. */
function languageOf(wx) {
  var info = wx.getSystemInfoSync ? wx.getSystemInfoSync() : {};
  return /^zh/i.test(String(info.language || '')) ? 'zh' : 'en';
}

/** What a failure tells the player: short, in their language, never the server's words. */
function failureText(t, e, paying) {
  var code = e && e.code;
  if (code === 'PAYMENT_CANCELLED') return t.cancelled;
  if (code === 'INSUFFICIENT_BALANCE') return t.notEnough;
  if (code === 'GRANT_REFUSED') return t.refused;
  if (!paying) return t.loadFailed;
  if (TRANSIENT.indexOf(code) !== -1) return t.busy;
  if (code === 'PAYMENT_FAILED') return t.payFailed;
  return t.failed;
}

/** `text` cut with … so that it fits `width` pixels in the current font. */
function fit(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  var s = text;
  while (s.length > 1 && ctx.measureText(s + '…').width > width) s = s.slice(0, -1);
  return s + '…';
}

function startShop(wx, options) {
  options = options || {};
  var lang = options.language || languageOf(wx);
  var t = TEXT[lang];
  var info = wx.getWindowInfo ? wx.getWindowInfo() : wx.getSystemInfoSync();
  var W = info.windowWidth;
  var H = info.windowHeight;
  var dpr = info.pixelRatio || 1;
  var canvas = wx.createCanvas();
  canvas.width = W * dpr;
  canvas.height = H * dpr;
  var ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);

  var midas = client.createMidasClient(wx, options.client);
  var state = { language: lang, status: t.loading, failed: false, busy: false, balance: null, inventory: {}, products: [], coinQuantities: [], coinPriceFen: 0 };
  var buttons = [];

  /** A product's name as the player reads it. */
  function nameOf(p) {
    return (lang === 'zh' && t.names[p.productId]) || p.name;
  }

  /** An inventory counter as the player reads it: the product that grants it, or its own name. */
  function counterName(key) {
    if (t.names[key]) return t.names[key];
    var p = state.products.filter(function (x) { return x.productId === key; })[0];
    return p ? nameOf(p) : key;
  }

  function layout() {
    buttons = [];
    var y = 150;
    var coins = state.coinQuantities.slice(0, 2);
    coins.forEach(function (q) {
      buttons.push({ label: t.buyCoins(q, yuan(q * state.coinPriceFen)), x: 20, y: y, w: W - 40, h: 40, onTap: function () { buyCoins(q); } });
      y += 48;
    });
    y += 16;
    // A product sold for money, for coins, or both: a button for each way to pay.
    state.products.forEach(function (p) {
      if (p.priceFen !== undefined) {
        buttons.push({ label: t.buyItem(nameOf(p), yuan(p.priceFen)), x: 20, y: y, w: W - 40, h: 40, onTap: function () { buyItem(p); } });
        y += 48;
      }
      if (p.coinPrice !== undefined) {
        buttons.push({ label: t.buyItem(nameOf(p), t.forCoins(p.coinPrice)), x: 20, y: y, w: W - 40, h: 40, coins: true, onTap: function () { buyWithCoins(p); } });
        y += 48;
      }
    });
    buttons.push({ label: t.refresh, x: 20, y: y + 8, w: W - 40, h: 40, secondary: true, onTap: function () { run(t.refreshing, false, function () { return refresh().then(function () { return t.ready; }); }); } });
  }

  function inventoryText() {
    var items = Object.keys(state.inventory).map(function (k) { return counterName(k) + ' ' + state.inventory[k]; }).join(lang === 'zh' ? '，' : ', ');
    return t.inventory + (items || t.empty);
  }

  function draw() {
    ctx.fillStyle = COLORS.bg;
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = COLORS.ink;
    ctx.font = 'bold 22px sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillText(t.shop, 20, 36);
    ctx.font = '16px sans-serif';
    ctx.fillText(t.coins + (state.balance === null ? '…' : state.balance), 20, 76);
    ctx.fillStyle = COLORS.muted;
    ctx.font = '14px sans-serif';
    ctx.fillText(fit(ctx, inventoryText(), W - 40), 20, 104);
    buttons.forEach(function (b) {
      ctx.fillStyle = b.secondary ? COLORS.card : state.busy ? COLORS.buttonBusy : b.coins ? COLORS.coinButton : COLORS.button;
      ctx.fillRect(b.x, b.y, b.w, b.h);
      ctx.fillStyle = b.secondary ? COLORS.ink : '#ffffff';
      ctx.font = '16px sans-serif';
      ctx.fillText(fit(ctx, b.label, b.w - 28), b.x + 14, b.y + b.h / 2);
    });
    ctx.fillStyle = state.failed ? COLORS.bad : COLORS.ink;
    ctx.font = '15px sans-serif';
    state.shownStatus = fit(ctx, state.status, W - 40);
    ctx.fillText(state.shownStatus, 20, H - 40);
  }

  function refresh() {
    return Promise.all([midas.getBalance(), midas.myOrders()]).then(function (r) {
      state.balance = r[0].balance;
      state.inventory = r[1].inventory || {};
    });
  }

  /** Shows a step of the work now (e.g. "Paid. Delivering…"). */
  function say(text) {
    state.status = text;
    draw();
  }

  /** One thing at a time; the status line says what is happening, then how it ended. */
  function run(label, paying, work) {
    if (state.busy) return Promise.resolve();
    state.busy = true;
    state.failed = false;
    say(label);
    return work()
      .then(function (done) { state.status = done; })
      .catch(function (e) {
        state.failed = true;
        state.status = failureText(t, e, paying);
        // The details are for the developer, not the player.
        if (typeof console !== 'undefined') console.warn('shop:', e && e.code, e && e.message);
      })
      .then(function () { state.busy = false; draw(); });
  }

  function buyItem(p) {
    var name = nameOf(p);
    return run(t.paying(name), true, function () {
      return midas.buyItem(p.productId, 1, { onPaid: function () { say(t.paidDelivering(name)); } }).then(function (r) {
        return refresh().then(function () {
          return r.delivered ? t.delivered(name) : t.onItsWay(name);
        });
      });
    });
  }

  function buyWithCoins(p) {
    var name = nameOf(p);
    return run(t.spending(p.coinPrice, name), true, function () {
      return midas.buyWithCoins(p.productId).then(function (r) {
        return refresh().then(function () {
          return r.state === 'DELIVERED' ? t.delivered(name) : t.onItsWay(name);
        });
      });
    });
  }

  function buyCoins(q) {
    return run(t.paying(t.nCoins(q)), true, function () {
      return midas.buyCoins(q, { onPaid: function () { say(t.coinsOnTheirWay); } }).then(function (r) {
        state.balance = r.balance.balance;
        return r.arrived ? t.coinsArrived(q) : t.coinsOnTheirWay;
      });
    });
  }

  wx.onTouchStart(function (e) {
    var touch = (e.touches && e.touches[0]) || (e.changedTouches && e.changedTouches[0]);
    if (!touch) return;
    var b = buttons.filter(function (b) { return touch.clientX >= b.x && touch.clientX <= b.x + b.w && touch.clientY >= b.y && touch.clientY <= b.y + b.h; })[0];
    if (b) b.onTap();
  });

  // What is on screen, for debugging and for the browser test (which taps buttons by label).
  GameGlobal.shop = {
    state: state,
    inventoryText: inventoryText,
    buttons: function () { return buttons.map(function (b) { return { label: b.label, x: b.x, y: b.y, w: b.w, h: b.h }; }); },
  };

  layout();
  draw();
  run(t.loading, false, function () {
    return midas.catalogue().then(function (cat) {
      state.products = cat.products;
      state.coinQuantities = cat.coinQuantities;
      state.coinPriceFen = cat.coinPriceFen;
      layout();
      return refresh().then(function () { return t.ready; });
    });
  });
}

module.exports = { startShop: startShop };
