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
    await page.getByText('cloud env local-env').waitFor();

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

    const row = page.locator('#client-orders tbody tr').filter({ hasText: 'sword_basic' });
    await row.locator('.state.DELIVERED').waitFor();
    await page.locator(`#players tr[data-openid="${openid}"] .inventory`).filter({ hasText: 'sword_basic 1' }).waitFor();
    await page.locator('#pushes .state.acknowledged').first().waitFor();
    await page.locator('#logs').filter({ hasText: 'paymentNotify' }).waitFor();
    expect(await row.locator('.history').innerText()).toMatch(/PENDING .*→ PAID .*→ DELIVERED/);

    // What the console showed is what the cloud holds.
    const orders = await cloud.database.all('midas_client_orders');
    expect(orders.filter((o) => o.openid === openid).map((o) => [o.productId, o.state])).toEqual([['sword_basic', 'DELIVERED']]);
    await screenshot(page, 'console-after-purchase');

    // Spending coins in one click: the server charges the catalogue's 60 coins and grants a second sword.
    await page.getByLabel('product for coins').selectOption('sword_basic');
    await page.getByRole('button', { name: 'Buy with coins' }).click();
    await page.locator('#activity li.ok').filter({ hasText: 'delivered for 60 coins: balance 190' }).waitFor({ timeout: 20_000 });
    await page.locator(`#players tr[data-openid="${openid}"] .inventory`).filter({ hasText: 'sword_basic 2' }).waitFor();
    const coinRow = page.locator('#ledger tbody tr').filter({ hasText: '1 × sword_basic' });
    await coinRow.locator('.grant .state.DELIVERED').waitFor();
    expect(cloud.backend.balance({ env: 'sandbox', openid })).toBe(190);
    await screenshot(page, 'console-after-coin-purchase');

    // WeChat refunds it: the refund is pushed; a sword is not revocable, so the order is flagged for an operator.
    await row.getByRole('button', { name: 'Refund' }).click();
    await row.locator('.state.REFUNDED').waitFor();
    await row.locator('.flag').waitFor();
    expect((await cloud.database.all('midas_client_orders')).find((o) => o.openid === openid)).toMatchObject({ state: 'REFUNDED', flags: [expect.objectContaining({ reason: 'refund_not_revocable' })] });

    await page.getByLabel('fault kind').selectOption('busy');
    await page.getByLabel('operation').selectOption('pay');
    await page.getByRole('button', { name: 'Add fault' }).click();
    await page.locator('#faults li').filter({ hasText: 'Midas v1: busy on pay ×1' }).waitFor();
    expect(cloud.backend.pendingFaults()).toEqual([{ rule: { fault: { kind: 'busy' }, op: 'pay', times: 1 }, left: 1 }]);
    await screenshot(page, 'console-fault');
    await page.getByRole('button', { name: 'Clear all' }).click();
    await page.locator('#faults li').filter({ hasText: 'none' }).waitFor();
    expect(cloud.backend.pendingFaults()).toEqual([]);

    await page.getByRole('button', { name: 'Run reconcile now' }).click();
    await page.locator('#activity li').filter({ hasText: /running reconcile… done/ }).waitFor();
    expect(errors).toEqual([]);
  }, BROWSER_TEST_TIMEOUT_MS);
});
