/**
 * The console in a real browser: a person creates a player, tops up, buys an item in one click
 * and sees it delivered (client order DELIVERED, the inventory, the push acknowledged, the logs),
 * then scripts a fault and clears it. Screenshots go to build/screenshots/.
 */
import type { Browser } from 'playwright-core';
import { LocalCloud } from '../emulator/local-cloud';
import { BROWSER_TEST_TIMEOUT_MS, describeInBrowser, launch, openPage, screenshot } from './browser';

describeInBrowser('the web console', () => {
  let cloud: LocalCloud;
  let browser: Browser;
  beforeAll(async () => {
    cloud = await LocalCloud.start({ timers: true });
    browser = await launch();
  }, BROWSER_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await cloud?.close();
  });

  test('a purchase made from the console is delivered, and the console shows it', async () => {
    const { page, errors } = await openPage(browser, `${cloud.url}/`);
    await page.evaluate(() => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('lang', 'en'));
    await page.reload();
    await page.getByText('Midas sandbox').waitFor();

    const openid = 'oBrowserPlayer_00000000000001';
    await page.getByLabel('openid of the new player').fill(openid);
    await page.getByRole('button', { name: 'Create player' }).click();
    await page.locator(`#players tr[data-openid="${openid}"]`).first().waitFor();
    await page.getByLabel('player', { exact: true }).selectOption(openid);

    await page.getByLabel('coins to top up').fill('250');
    await page.getByRole('button', { name: 'Top up' }).click();
    await page.locator(`#players tr.in-use[data-openid="${openid}"][data-env="sandbox"][data-api="v1"] .balance`).filter({ hasText: '250' }).waitFor();
    // Both environments of both generations are listed; only the one in use holds the top-up.
    expect(await page.locator(`#players tr[data-openid="${openid}"]`).evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-api')}/${r.getAttribute('data-env')}=${r.querySelector('.balance')!.textContent}`))).toEqual(['v1/sandbox=250', 'v2/sandbox=0', 'v1/production=0', 'v2/production=0']);
    expect(cloud.backend.balance({ env: 'sandbox', openid })).toBe(250);

    await page.getByLabel('product', { exact: true }).selectOption('sword_basic');
    await page.getByRole('button', { name: 'Buy item' }).click();
    await page.locator('#activity li.ok').filter({ hasText: 'delivered' }).waitFor({ timeout: 20_000 });
    await page.locator(`#players tr[data-openid="${openid}"] .inventory`).filter({ hasText: 'sword_basic 1' }).waitFor();

    await page.getByRole('link', { name: 'Client orders & pushes' }).click();
    const row = page.locator('#client-orders tbody tr').filter({ hasText: 'Basic sword' });
    await row.locator('.state.DELIVERED').waitFor();
    await page.locator('#pushes .state.acknowledged').first().waitFor();
    expect(await row.locator('.history').innerText()).toMatch(/PENDING .*→ PAID .*→ DELIVERED/);
    // 24-hour times.
    expect(await row.locator('td').first().innerText()).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    await page.getByRole('link', { name: 'Logs' }).click();
    await page.locator('#logs').filter({ hasText: 'paymentNotify' }).waitFor();
    await page.getByRole('link', { name: 'Players' }).click();

    // What the console showed is what the cloud holds.
    const orders = await cloud.database.all('midas_client_orders');
    expect(orders.filter((o) => o.openid === openid).map((o) => [o.productId, o.state])).toEqual([['sword_basic', 'DELIVERED']]);
    await screenshot(page, 'console-players');

    // Spending coins in one click: the server charges the catalogue's 60 coins and grants a second sword.
    await page.getByLabel('product for coins').selectOption('sword_basic');
    await page.getByRole('button', { name: 'Buy with coins' }).click();
    await page.locator('#activity li.ok').filter({ hasText: 'delivered for 60 coins: balance 190' }).waitFor({ timeout: 20_000 });
    await page.locator(`#players tr[data-openid="${openid}"] .inventory`).filter({ hasText: 'sword_basic 2' }).waitFor();
    await page.getByRole('link', { name: 'Order ledger' }).click();
    const coinRow = page.locator('#ledger tbody tr').filter({ hasText: '1 × sword_basic' });
    await coinRow.locator('.grant .state.DELIVERED').waitFor();
    // Search: by the player's openid (shown shortened, kept whole in the title) and by a state.
    await page.getByLabel('search the ledger').fill(openid);
    await coinRow.waitFor();
    await page.getByLabel('search the ledger').fill('no such order anywhere');
    await page.locator('#ledger tbody td.muted').filter({ hasText: 'nothing yet' }).waitFor();
    await page.getByLabel('search the ledger').fill('');
    expect(cloud.backend.balance({ env: 'sandbox', openid })).toBe(190);
    await screenshot(page, 'console-ledger');

    // WeChat refunds it: the refund is pushed; a sword is not revocable, so the order is flagged for an operator, who is told what to do.
    await page.getByRole('link', { name: 'Client orders & pushes' }).click();
    await row.getByRole('button', { name: 'Refund' }).click();
    await row.locator('.state.REFUNDED').waitFor();
    await row.locator('.flag').filter({ hasText: 'npm run orders -- flagged' }).waitFor();
    expect((await cloud.database.all('midas_client_orders')).find((o) => o.openid === openid)).toMatchObject({ state: 'REFUNDED', flags: [expect.objectContaining({ reason: 'refund_not_revocable' })] });

    await page.getByRole('link', { name: 'Faults' }).click();
    // Only the fields that apply are shown: no delay for busy, no collection for Midas.
    expect(await page.getByLabel('delay in ms').isVisible()).toBe(false);
    expect(await page.getByLabel('collection').isVisible()).toBe(false);
    await page.getByLabel('fault kind').selectOption('busy');
    await page.getByLabel('operation').selectOption('pay');
    await page.getByRole('button', { name: 'Add fault' }).click();
    await page.locator('#faults li').filter({ hasText: 'Midas v1: busy on pay ×1' }).waitFor();
    // To the generation in use only: nothing waits forever on 2.0.
    expect(cloud.backend.pendingFaults()).toEqual([{ rule: { fault: { kind: 'busy' }, op: 'pay', times: 1 }, left: 1 }]);
    expect(cloud.wxa.pendingFaults()).toEqual([]);
    await page.getByLabel('fault target').selectOption('database');
    expect(await page.getByLabel('operation').isVisible()).toBe(false);
    await page.getByLabel('collection').selectOption('midas_orders');
    await page.getByLabel('database write').selectOption('database.modifyDocument');
    await page.getByRole('button', { name: 'Add fault' }).click();
    await page.locator('#faults li').filter({ hasText: 'database: refuse on midas_orders (database.modifyDocument) ×1' }).waitFor();
    await screenshot(page, 'console-faults');
    await page.getByRole('button', { name: 'Clear all' }).click();
    await page.locator('#faults li').filter({ hasText: 'none' }).waitFor();
    expect(cloud.backend.pendingFaults()).toEqual([]);

    await page.getByRole('link', { name: 'Timers' }).click();
    await page.getByRole('button', { name: 'Run reconcile now' }).click();
    await page.locator('#timer-answer').filter({ hasText: /reconcile: examined \d+/ }).waitFor();

    // Any function, as a trusted caller: present 50 coins to the player.
    await page.getByRole('link', { name: 'Run a function' }).click();
    await page.getByLabel('function').selectOption('present');
    await page.getByLabel('caller').selectOption('scf');
    await page.getByLabel('request').fill(JSON.stringify({ toOpenid: openid, presentCounts: 50, idempotencyKey: 'console-gift' }));
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('#function-answer').filter({ hasText: '"state": "COMPLETED"' }).waitFor();
    expect(cloud.backend.balance({ env: 'sandbox', openid })).toBe(240);
    // A trusted cancel of the sword bought with coins: the coins go back, the sword cannot, and the
    // ledger tells the operator what that means.
    const coinOrder = ((await cloud.database.all('midas_orders')) as { billNo: string; purchase?: unknown; openid: string }[]).find((o) => o.purchase && o.openid === openid)!;
    await page.getByLabel('function').selectOption('cancelPay');
    await page.getByLabel('request').fill(JSON.stringify({ billNo: coinOrder.billNo }));
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('#function-answer').filter({ hasText: '"state": "CANCELLED"' }).waitFor();
    expect(cloud.backend.balance({ env: 'sandbox', openid })).toBe(300);
    await page.getByRole('link', { name: 'Order ledger' }).click();
    await coinRow.locator('.flag .hint').filter({ hasText: 'the coins went back and the item cannot be taken back' }).waitFor();
    await page.getByRole('link', { name: 'Run a function' }).click();
    await page.getByLabel('function').selectOption('present');
    // As a player it is refused, and the activity shows it as an error, after a reload too.
    await page.getByLabel('caller').selectOption('player');
    await page.getByLabel('request').fill(JSON.stringify({ toOpenid: openid, presentCounts: 50 }));
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('#function-answer').filter({ hasText: 'FORBIDDEN' }).waitFor();
    await page.reload();
    await page.getByRole('link', { name: 'Players' }).click();
    await page.locator('#activity li.error').filter({ hasText: 'present' }).waitFor();
    expect(errors).toEqual([]);
  }, BROWSER_TEST_TIMEOUT_MS);

  test('in Chinese, and at 420 px nothing spills out of its card', async () => {
    const { page, errors } = await openPage(browser, `${cloud.url}/#client`);
    await page.evaluate(() => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('lang', 'zh'));
    await page.setViewportSize({ width: 420, height: 900 });
    await page.reload();
    await page.getByRole('link', { name: '客户端订单与推送' }).waitFor();
    expect(await page.locator('#view-client h2').first().innerText()).toContain('客户端订单');
    // The switch back to English, and to Chinese again.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('link', { name: 'Client orders & pushes' }).waitFor();
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('link', { name: '玩家' }).click();
    // Nothing wider than the window: tables scroll inside their card.
    const overflow = await page.evaluate(() => {
      const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
      return g.document.documentElement.scrollWidth - g.innerWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'console-zh-420');
    expect(errors).toEqual([]);
  }, BROWSER_TEST_TIMEOUT_MS);
});
