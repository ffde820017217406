/**
 * The sample mini-game (game.js, as devtools opens it) in a real browser against the local cloud:
 * a player taps "Buy … coins" and "Buy Basic sword" on the canvas and sees the coins arrive and
 * the sword delivered. The page's `wx` is createLocalWx plus a canvas and touches.
 */
import type { Browser, Page } from 'playwright-core';
import { LocalCloud } from '../emulator/local-cloud';
import { newOpenid } from '../integration/helpers';
import { BROWSER_TEST_TIMEOUT_MS, describeInBrowser, launch, openPage, screenshot } from './browser';

type Shop = { state: { status: string; shownStatus?: string; failed: boolean; busy: boolean; balance: number | null; inventory: Record<string, number> }; inventoryText: () => string; buttons: () => { label: string; x: number; y: number; w: number; h: number }[] };

async function shop(page: Page): Promise<Shop['state']> {
  return page.evaluate(() => (globalThis as unknown as { shop: Shop }).shop.state);
}

/** Taps the canvas at the centre of the button whose label starts with `label`. */
async function tap(page: Page, label: string): Promise<void> {
  const buttons = await page.evaluate(() => (globalThis as unknown as { shop: Shop }).shop.buttons());
  const b = buttons.find((x) => x.label.startsWith(label));
  if (!b) throw new Error(`no button "${label}" among ${buttons.map((x) => x.label).join(' | ')}`);
  const box = (await page.locator('#screen').boundingBox())!;
  await page.mouse.click(box.x + b.x + b.w / 2, box.y + b.y + b.h / 2);
}

async function until(page: Page, what: string, check: (s: Shop['state']) => boolean): Promise<Shop['state']> {
  const end = Date.now() + 20_000;
  for (;;) {
    const s = await shop(page);
    if (!s.busy && check(s)) return s;
    if (Date.now() > end) throw new Error(`${what}: the shop says ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeInBrowser('the sample mini-game in a browser', () => {
  let cloud: LocalCloud;
  let browser: Browser;
  beforeAll(async () => {
    cloud = await LocalCloud.start();
    browser = await launch();
  }, BROWSER_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await cloud?.close();
  });

  test('the shop shows the balance; buying coins and an item by tapping works end to end', async () => {
    const openid = newOpenid();
    cloud.backend.topUp({ env: 'sandbox', openid }, 40);
    const { page, errors } = await openPage(browser, `${cloud.url}/game/?openid=${openid}&lang=en`);
    let s = await until(page, 'the shop loads', (x) => x.status === 'Ready');
    expect(s.balance).toBe(40);
    expect(s.inventory).toEqual({});
    const labels = (await page.evaluate(() => (globalThis as unknown as { shop: Shop }).shop.buttons())).map((b) => b.label);
    expect(labels).toEqual([
      'Buy 10 coins  ¥1.00',
      'Buy 30 coins  ¥3.00',
      'Buy Basic sword  ¥6.00',
      'Buy Basic sword  60 coins',
      'Buy 60 gems  ¥6.00',
      'Buy 60 gems  50 coins',
      'Buy VIP month card  ¥30.00',
      'Buy Healing potion  5 coins',
      'Refresh',
    ]);

    await tap(page, 'Buy 10 coins');
    s = await until(page, 'the coins arrive', (x) => x.status === '10 coins arrived');
    expect(s.balance).toBe(50);
    expect(cloud.backend.balance({ env: 'sandbox', openid })).toBe(50);

    await tap(page, 'Buy Basic sword');
    s = await until(page, 'the sword is delivered', (x) => x.status === 'Delivered: Basic sword');
    expect(s.inventory).toEqual({ sword_basic: 1 });
    const orders = await cloud.database.all('midas_client_orders');
    expect(orders.filter((o) => o.openid === openid).map((o) => [o.kind, o.state]).sort()).toEqual([['coins', 'DELIVERED'], ['item', 'DELIVERED']]);

    // Spending coins: the potion for 5 is granted by the server; the sword for 60 is too dear.
    await tap(page, 'Buy Healing potion  5 coins');
    s = await until(page, 'the potion is delivered', (x) => x.status === 'Delivered: Healing potion');
    expect(s.balance).toBe(45);
    expect(s.inventory).toEqual({ sword_basic: 1, potion_heal: 1 });
    expect(cloud.backend.balance({ env: 'sandbox', openid })).toBe(45);
    await tap(page, 'Buy Basic sword  60 coins');
    s = await until(page, 'the player is told the coins are too few', (x) => x.failed);
    expect(s.status).toBe('Not enough coins');
    expect(s.inventory).toEqual({ sword_basic: 1, potion_heal: 1 });
    await screenshot(page, 'sample-game-after-purchases');
    expect(errors).toEqual([]);
  }, BROWSER_TEST_TIMEOUT_MS);

  test('a player who closes the payment sheet is told it was cancelled, and nothing is charged', async () => {
    const openid = newOpenid();
    const { page, errors } = await openPage(browser, `${cloud.url}/game/?openid=${openid}&lang=en`);
    await until(page, 'the shop loads', (x) => x.status === 'Ready');
    // The player closes the sheet: the local WeChat answers -2, as the real sheet does on cancel.
    await page.evaluate(() => {
      const w = (globalThis as unknown as { wx: Record<string, unknown> }).wx;
      w.requestMidasPaymentGameItem = (o: { fail?: (r: { errCode: number; errMsg: string }) => void }) => o.fail?.({ errCode: -2, errMsg: 'requestMidasPaymentGameItem:fail cancel' });
    });
    const sheets = cloud.wechat.sheetJournal.length;
    await tap(page, 'Buy 60 gems');
    const s = await until(page, 'the cancel is shown', (x) => x.failed);
    expect(s.status).toBe('Payment cancelled');
    expect(cloud.wechat.sheetJournal.length).toBe(sheets);
    expect((await cloud.database.all('midas_client_orders')).filter((o) => o.openid === openid).map((o) => o.state)).toEqual(['PENDING']);
    expect(errors).toEqual([]);
  }, BROWSER_TEST_TIMEOUT_MS);

  test('in Chinese (the phone’s language): product names, not inventory ids; short messages that fit', async () => {
    const openid = newOpenid();
    cloud.backend.topUp({ env: 'sandbox', openid }, 40);
    const { page, errors } = await openPage(browser, `${cloud.url}/game/?openid=${openid}&lang=zh_CN`);
    let s = await until(page, 'the shop loads', (x) => x.status === '就绪');
    const labels = (await page.evaluate(() => (globalThis as unknown as { shop: Shop }).shop.buttons())).map((b) => b.label);
    expect(labels).toEqual(expect.arrayContaining(['购买 10 代币  ¥1.00', '购买基础剑  ¥6.00', '购买基础剑  60 代币', '购买治疗药水  5 代币', '刷新']));
    await tap(page, '购买治疗药水');
    s = await until(page, 'the potion is delivered', (x) => x.status === '已到账：治疗药水');
    expect(s.inventory).toEqual({ potion_heal: 1 });
    expect(await page.evaluate(() => (globalThis as unknown as { shop: Shop }).shop.inventoryText())).toBe('背包：治疗药水 1');
    expect(s.shownStatus).toBe(s.status);
    await screenshot(page, 'sample-game-zh');
    expect(errors).toEqual([]);
  }, BROWSER_TEST_TIMEOUT_MS);

  test('Midas busy on a balance read says so in the player’s words, not the server’s', async () => {
    const openid = newOpenid();
    const { page, errors } = await openPage(browser, `${cloud.url}/game/?openid=${openid}&lang=en`);
    await until(page, 'the shop loads', (x) => x.status === 'Ready');
    cloud.injectFault({ op: 'getBalance', fault: { kind: 'busy' }, times: 50 });
    try {
      await tap(page, 'Refresh');
      const s = await until(page, 'the failure is shown', (x) => x.failed);
      expect(s.status).toBe('Could not load the shop. Tap Refresh');
      expect(s.shownStatus).toBe(s.status);
    } finally {
      cloud.clearFaults();
    }
    expect(errors.filter((e) => !e.includes('shop:'))).toEqual([]);
  }, BROWSER_TEST_TIMEOUT_MS);

  test('when WeChat’s push is lost, the player is told at once that they paid, then that the item is on its way', async () => {
    const openid = newOpenid();
    const { page, errors } = await openPage(browser, `${cloud.url}/game/?openid=${openid}&lang=en`);
    await until(page, 'the shop loads', (x) => x.status === 'Ready');
    cloud.pushes.injectFault({ kind: 'drop' });
    await tap(page, 'Buy 60 gems');
    const end = Date.now() + 8000;
    let seen = '';
    while (Date.now() < end && seen !== 'Paid. Delivering 60 gems…') {
      seen = (await shop(page)).status;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toBe('Paid. Delivering 60 gems…');
    const s = await until(page, 'the wait ends', (x) => !x.busy && x.status !== seen);
    expect(s.status).toBe('Paid: 60 gems is on its way');
    expect(s.failed).toBe(false);
    expect(errors).toEqual([]);
  }, BROWSER_TEST_TIMEOUT_MS);
});
