/**
 * Browser tests drive Debian's Chromium (`apt-get install -y chromium`) with playwright-core.
 * Without a Chromium they are skipped, so `npm test` runs anywhere; with REQUIRE_BROWSER=1 (as
 * `.ci/run` sets after installing it) a missing browser fails them instead.
 */
import { existsSync, mkdirSync } from 'fs';
import path from 'path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from '../emulator/paths';

export const SCREENSHOTS = path.join(ROOT, 'build', 'screenshots');

export function chromiumPath(): string | undefined {
  return [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
}

/** `describe` when a browser is there; otherwise skipped, or failed under REQUIRE_BROWSER=1. */
export function describeInBrowser(name: string, body: () => void): void {
  if (chromiumPath()) {
    describe(name, body);
  } else if (process.env.REQUIRE_BROWSER === '1') {
    describe(name, () => {
      test('needs Chromium', () => {
        throw new Error('REQUIRE_BROWSER=1 but no Chromium found: apt-get install -y chromium (or set CHROMIUM_PATH)');
      });
    });
  } else {
    // eslint-disable-next-line no-console
    console.warn(`${name}: skipped, no Chromium on this machine (apt-get install -y chromium; npm run test:browser)`);
    describe.skip(name, body);
  }
}

/** A headless Chromium that reaches nothing beyond loopback. */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath()!,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** A page that records its own errors (an uncaught exception or a console error fails the test). */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A whole scenario in a browser on a loaded 2-core machine: generous, and no measure of speed. */
export const BROWSER_TEST_TIMEOUT_MS = 90_000;
