// The sample mini-game: a shop with the player's balance, coins to buy and items to buy, on the
// mini-game package (build/midas-client, made by `npm run build`). WeChat devtools opens this
// folder as a mini-game project (project.config.json); the local cloud serves the same game in a
// browser at http://127.0.0.1:8787/game/ with a `wx` that reaches it.
var shop = require('./game/shop.js');

// Your cloud environment id (WeChat devtools → 云开发); empty: the default environment.
var CLOUD_ENV = '';

if (wx.cloud && wx.cloud.init) wx.cloud.init(CLOUD_ENV ? { env: CLOUD_ENV } : {});
shop.startShop(wx);
