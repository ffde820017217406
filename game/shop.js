// The shop screen, drawn on the mini-game's canvas: balance and inventory at the top, a button
// per coin pack and per item, a status line. Every purchase is one call of the mini-game helper:
// buyItem resolves once the server has delivered the item (or says it is paid and on its way),
// buyCoins once the coins are in the balance, buyWithCoins once the server has granted what the
// coins bought.
var client = require('../build/midas-client/index.js');

var COLORS = { bg: '#f4f5f7', ink: '#1d2330', muted: '#6b7385', button: '#07c160', buttonBusy: '#9fdcbc', card: '#ffffff', bad: '#b3261e', coinButton: '#d48806' };

function yuan(fen) {
  return '¥' + (fen / 100).toFixed(2);
}

/** What a failed purchase tells the player. */
function failureText(e) {
  if (e instanceof client.MidasClientError) {
    if (e.code === 'PAYMENT_CANCELLED') return 'Payment cancelled';
    if (e.code === 'INSUFFICIENT_BALANCE') return 'Not enough coins';
    return 'Could not pay: ' + e.message + (e.retryable ? ' (try again)' : '');
  }
  return 'Something went wrong: ' + (e && e.message ? e.message : String(e));
}

function startShop(wx, options) {
  options = options || {};
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
  var state = { status: 'Loading the shop…', failed: false, busy: false, balance: null, inventory: {}, products: [], coinQuantities: [], coinPriceFen: 0 };
  var buttons = [];

  function layout() {
    buttons = [];
    var y = 150;
    var coins = state.coinQuantities.slice(0, 2);
    coins.forEach(function (q) {
      buttons.push({ label: 'Buy ' + q + ' coins  ' + yuan(q * state.coinPriceFen), x: 20, y: y, w: W - 40, h: 40, onTap: function () { buyCoins(q); } });
      y += 48;
    });
    y += 16;
    // A product sold for money, for coins, or both: a button for each way to pay.
    state.products.forEach(function (p) {
      if (p.priceFen !== undefined) {
        buttons.push({ label: 'Buy ' + p.name + '  ' + yuan(p.priceFen), x: 20, y: y, w: W - 40, h: 40, onTap: function () { buyItem(p); } });
        y += 48;
      }
      if (p.coinPrice !== undefined) {
        buttons.push({ label: 'Buy ' + p.name + '  ' + p.coinPrice + ' coins', x: 20, y: y, w: W - 40, h: 40, coins: true, onTap: function () { buyWithCoins(p); } });
        y += 48;
      }
    });
    buttons.push({ label: 'Refresh', x: 20, y: y + 8, w: W - 40, h: 40, secondary: true, onTap: function () { run('Refreshing…', function () { return refresh().then(function () { return 'Ready'; }); }); } });
  }

  function draw() {
    ctx.fillStyle = COLORS.bg;
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = COLORS.ink;
    ctx.font = 'bold 22px sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillText('Shop', 20, 36);
    ctx.font = '16px sans-serif';
    ctx.fillText('Coins: ' + (state.balance === null ? '…' : state.balance), 20, 76);
    var items = Object.keys(state.inventory).map(function (k) { return k + ' ' + state.inventory[k]; }).join(', ');
    ctx.fillStyle = COLORS.muted;
    ctx.font = '14px sans-serif';
    ctx.fillText('Inventory: ' + (items || 'empty'), 20, 104);
    buttons.forEach(function (b) {
      ctx.fillStyle = b.secondary ? COLORS.card : state.busy ? COLORS.buttonBusy : b.coins ? COLORS.coinButton : COLORS.button;
      ctx.fillRect(b.x, b.y, b.w, b.h);
      ctx.fillStyle = b.secondary ? COLORS.ink : '#ffffff';
      ctx.font = '16px sans-serif';
      ctx.fillText(b.label, b.x + 14, b.y + b.h / 2);
    });
    ctx.fillStyle = state.failed ? COLORS.bad : COLORS.ink;
    ctx.font = '15px sans-serif';
    ctx.fillText(state.status, 20, H - 40);
  }

  function refresh() {
    return Promise.all([midas.getBalance(), midas.myOrders()]).then(function (r) {
      state.balance = r[0].balance;
      state.inventory = r[1].inventory || {};
    });
  }

  /** One thing at a time; the status line says what is happening, then how it ended. */
  function run(label, work) {
    if (state.busy) return Promise.resolve();
    state.busy = true;
    state.failed = false;
    state.status = label;
    draw();
    return work()
      .then(function (done) { state.status = done; })
      .catch(function (e) { state.failed = true; state.status = failureText(e); })
      .then(function () { state.busy = false; draw(); });
  }

  function buyItem(p) {
    return run('Paying for ' + p.name + '…', function () {
      return midas.buyItem(p.productId).then(function (r) {
        return refresh().then(function () {
          return r.delivered ? 'Delivered: ' + p.name : 'Paid: ' + p.name + ' is on its way';
        });
      });
    });
  }

  function buyWithCoins(p) {
    return run('Spending ' + p.coinPrice + ' coins on ' + p.name + '…', function () {
      return midas.buyWithCoins(p.productId).then(function (r) {
        return refresh().then(function () {
          return r.state === 'DELIVERED' ? 'Delivered: ' + p.name : 'Paid: ' + p.name + ' is on its way';
        });
      });
    });
  }

  function buyCoins(q) {
    return run('Paying for ' + q + ' coins…', function () {
      return midas.buyCoins(q).then(function (r) {
        state.balance = r.balance.balance;
        return r.arrived ? q + ' coins arrived' : 'Paid: the coins are on their way';
      });
    });
  }

  wx.onTouchStart(function (e) {
    var t = (e.touches && e.touches[0]) || (e.changedTouches && e.changedTouches[0]);
    if (!t) return;
    var b = buttons.filter(function (b) { return t.clientX >= b.x && t.clientX <= b.x + b.w && t.clientY >= b.y && t.clientY <= b.y + b.h; })[0];
    if (b) b.onTap();
  });

  // What is on screen, for debugging and for the browser test (which taps buttons by label).
  GameGlobal.shop = {
    state: state,
    buttons: function () { return buttons.map(function (b) { return { label: b.label, x: b.x, y: b.y, w: b.w, h: b.h }; }); },
  };

  layout();
  draw();
  run('Loading the shop…', function () {
    return midas.catalogue().then(function (cat) {
      state.products = cat.products;
      state.coinQuantities = cat.coinQuantities;
      state.coinPriceFen = cat.coinPriceFen;
      layout();
      return refresh().then(function () { return 'Ready'; });
    });
  });
}

module.exports = { startShop: startShop };
