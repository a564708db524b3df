/**
 * A real browser for the console's tests: Debian's Chromium, headless, driven by playwright-core,
 * with a fresh profile per test file and nothing reaching outside the machine.
 *
 * A missing Chromium fails the test naming it, unless the user opted out with THALO_SKIP_BROWSER=1
 * (README, "Tests"), as test/services.ts does for the brokers. `.ci/run` installs it when missing.
 * THALO_CHROMIUM names another binary.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.THALO_CHROMIUM ?? '/usr/bin/chromium';
export const SKIP_VARIABLE = 'THALO_SKIP_BROWSER';
/** Where each test's screenshot goes (ignored by git). */
export const SCREENSHOTS = resolve('.tmp/console-screenshots');

export function browserSkipped(): boolean {
  return process.env[SKIP_VARIABLE] === '1';
}

/** The flags the issue names, plus no QUIC or sync: nothing leaves the machine. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  /** A new page of `viewport` size that records the URL of every request it makes in `seen`. */
  page(viewport?: { width: number; height: number }): Promise<Page & { seen: string[] }>;
  close(): Promise<void>;
}

/** Launch Chromium with a fresh profile (`--user-data-dir`), or fail naming what is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: install it (apt-get install chromium; .ci/run does), point THALO_CHROMIUM at it, or set ${SKIP_VARIABLE}=1 to skip the console's browser tests`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'thalo-chromium-'));
  // launchPersistentContext is Playwright's way to give Chromium its --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async page(viewport = { width: 1280, height: 800 }) {
      const page = (await context.newPage()) as Page & { seen: string[] };
      page.seen = [];
      page.on('request', (request) => page.seen.push(request.url()));
      await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Save `page` as `<name>.png` under SCREENSHOTS. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}
