// Runs the sample mini-game in a browser: the `wx` a mini-game has, made of a canvas, pointer
// events and createLocalWx (the mini-game package's `wx` for the local cloud), then game.js as
// built for the web (build/game-web/game.js). The player is ?openid=… (the seeded one by default),
// the phone's language ?lang=… (the browser's by default).
import { createLocalWx } from '/client/index.mjs';

const openid = new URLSearchParams(location.search).get('openid') || 'oLocalPlayer_000000000000001';
document.getElementById('player').textContent = openid;
const language = (new URLSearchParams(location.search).get('lang') || navigator.language || 'en').replace('-', '_');
if (/^zh/i.test(language)) {
  document.documentElement.lang = 'zh-CN';
  document.getElementById('caption').textContent = '示例小游戏（game.js）在浏览器中运行，玩家';
  document.getElementById('console-link').textContent = '控制台';
}
const local = createLocalWx({ url: location.origin, openid });
const screen = document.getElementById('screen');
const touchStart = [];
let screenGiven = false;

const wx = {
  ...local,
  cloud: { ...local.cloud, init() {} },
  getWindowInfo: () => ({ windowWidth: 375, windowHeight: 667, pixelRatio: window.devicePixelRatio || 1 }),
  // The phone's language: ?lang=zh_CN or en, or the browser's.
  getSystemInfoSync: () => ({ windowWidth: 375, windowHeight: 667, pixelRatio: window.devicePixelRatio || 1, platform: 'devtools', language }),
  // The first canvas of a mini-game is the screen; later ones are off screen.
  createCanvas() {
    if (screenGiven) return document.createElement('canvas');
    screenGiven = true;
    return screen;
  },
  onTouchStart(cb) {
    touchStart.push(cb);
  },
};

screen.addEventListener('pointerdown', (e) => {
  const r = screen.getBoundingClientRect();
  const t = { identifier: 0, clientX: e.clientX - r.left, clientY: e.clientY - r.top };
  for (const cb of touchStart) cb({ touches: [t], changedTouches: [t], timeStamp: e.timeStamp });
});

window.wx = wx;
window.GameGlobal = window;
const script = document.createElement('script');
script.src = '/game/game.js';
document.body.append(script);
