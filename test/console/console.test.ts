/**
 * The console in a real browser (Chromium, headless) against `thalo-runtime` as a process: what
 * the issue asks a user to be able to do, each test ending with a screenshot under
 * .tmp/console-screenshots/. Every request the page makes must go to the runtime itself.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, spawnRuntime, tempRoot, thalo } from '../server/runtime-process.js';
import type { RuntimeProcess, StartOptions } from '../server/runtime-process.js';
import { browserSkipped, launchBrowser, screenshot } from './browser.js';
import type { Browser } from './browser.js';

/** A projection that appends each position it handles to a file: a reset shows as positions seen twice. */
const RECORDER = (file: string) => `import { appendFileSync } from 'node:fs';
export default {
  name: 'recorder',
  handle(events) {
    appendFileSync(${JSON.stringify(file)}, events.map((e) => e.position + '\\n').join(''));
  },
};
`;

function positionsIn(file: string): number[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

/** Every request of `page` went to `url`'s origin. */
function expectOnlyOrigin(page: Page & { seen: string[] }, url: string): void {
  const origin = new URL(url).origin;
  expect(page.seen.length).toBeGreaterThan(0);
  expect(page.seen.filter((r) => new URL(r).origin !== origin)).toEqual([]);
}

/**
 * The runtime as a process, given a minute to listen: on a loaded 2-core machine a start next to
 * Chromium's once took longer than the helper's 10 s.
 */
async function startRuntime(options: StartOptions): Promise<RuntimeProcess> {
  const spawned = spawnRuntime(options);
  const listening = await spawned.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('listening on'), 60_000);
  return { ...spawned, url: listening.url as string };
}

// One browser for the file, each test in pages of its own.
let browser: Browser;
beforeAll(async () => {
  if (!browserSkipped()) browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(browserSkipped())('the console in a browser', () => {
  let runtime: RuntimeProcess;
  let recorded: string;

  beforeAll(async () => {
    const root = tempRoot();
    recorded = join(root.root, 'recorded');
    const projection = join(root.root, 'recorder.mjs');
    writeFileSync(projection, RECORDER(recorded));
    runtime = await startRuntime({ root, args: ['--projection', projection] });
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('shows a command executed by the CLI in the live tail within a second', async () => {
    const page = await browser.page();
    await page.goto(`${runtime.url}/`);
    await page.getByTestId('tail-state').and(page.locator('[data-live="true"]')).waitFor();
    const run = await thalo(['execute', 'counter', 'cli-1', 'Increment', '{"amount":2}', '--url', runtime.url, '--json']);
    expect(run.code, run.stderr).toBe(0);
    // The CLI exits once the command's events are durable: the tail has a second from then.
    const durable = performance.now();
    const position = JSON.parse(run.stdout).events[0].position as number;
    const row = page.locator(`[data-testid="tail"] tr[data-position="${position}"]`);
    await row.waitFor({ timeout: 1_000 });
    const seenAfterMs = performance.now() - durable;
    console.log(`live tail: the CLI's event shown ${seenAfterMs.toFixed(0)} ms after the CLI exited`);
    await expect(row.textContent()).resolves.toContain('counter-cli-1');
    // Paused, a new event is held back; resumed, it shows.
    await page.getByRole('button', { name: 'Pause' }).click();
    const second = await execute(runtime.url, 'counter', 'cli-1', 'Increment', { amount: 3 });
    await page.getByText('1 new while paused').waitFor();
    expect(await page.locator(`tr[data-position="${second.body.events[0].position}"]`).count()).toBe(0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator(`tr[data-position="${second.body.events[0].position}"]`).waitFor();
    // Filtered by aggregate: the counter's rows go, a todo's stays.
    await execute(runtime.url, 'todos', 'list-1', 'AddTodo', { id: 't1', title: 'milk' });
    await page.locator('input[name="tail-aggregate"]').fill('todos');
    await page.locator('[data-testid="tail"] tbody tr', { hasText: 'todos-list-1' }).waitFor();
    expect(await page.locator('[data-testid="tail"] tbody tr', { hasText: 'counter-' }).count()).toBe(0);
    await page.locator('input[name="tail-aggregate"]').fill('');
    await screenshot(page, 'overview-live-tail');

    // Some load for the figures and charts: commands, a rejection and a conflict, over a few readings.
    const until = Date.now() + 5_000;
    for (let i = 0; Date.now() < until; i++) {
      await execute(runtime.url, 'counter', `load-${i % 7}`, 'Increment', { amount: 1 });
      if (i % 10 === 0) await execute(runtime.url, 'bank_account', 'nobody', 'Deposit', { amount: 1 });
      if (i % 15 === 0)
        await execute(runtime.url, 'counter', `load-${i % 7}`, 'Increment', { amount: 1 }, { 'thalo-expected-version': '0' });
    }
    const head = (await execute(runtime.url, 'counter', 'load-0', 'Increment', { amount: 1 })).body.events[0].position as number;
    await page.locator('[data-testid="head"]', { hasText: new RegExp(`^${head}$`) }).waitFor({ timeout: 10_000 });
    const figures = await page.locator('.figures').innerText();
    expect(figures).toMatch(/Commands\/s\s+[1-9]/);
    expect(figures).not.toMatch(/Rejections \/ conflicts\s+0 \/ 0/);
    await screenshot(page, 'overview-charts');
    expectOnlyOrigin(page, runtime.url);
    await page.close();
  });

  it("finds the CLI's stream by id prefix, and steps its state back one version", async () => {
    const page = await browser.page();
    // The page's first, unfiltered list is held back until after the search has been answered:
    // its late answer must not replace the search's streams.
    let answered!: () => void;
    const lateAnswer = new Promise<void>((resolve) => (answered = resolve));
    await page.route(
      (url) => url.pathname === '/v1/streams' && !url.searchParams.has('prefix'),
      async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        // The page has aborted the request by now, so there may be nothing to continue.
        await route.continue().catch(() => undefined);
        answered();
      },
    );
    await page.goto(`${runtime.url}/#/streams`);
    await page.locator('select[name="aggregate"]').selectOption('counter');
    await page.locator('input[name="prefix"]').fill('cli-');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.getByTestId('streams').locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
    await lateAnswer;
    await page.waitForTimeout(500);
    expect(await rows.count()).toBe(1);
    const link = page.getByTestId('streams').getByRole('link', { name: 'counter-cli-1' });
    expect(await link.count()).toBe(1);
    await screenshot(page, 'streams-by-prefix');
    await link.click();

    // Two increments (2, then 3): the latest state is count 5 at seq 2.
    const state = page.getByTestId('state');
    await page.locator('[data-testid="state"][data-seq="2"]').waitFor();
    expect(await state.textContent()).toContain('count: 5');
    await page.getByRole('button', { name: '◀ Back' }).click();
    await page.locator('[data-testid="state"][data-seq="1"]').waitFor();
    expect(await state.textContent()).toContain('count: 2');
    // What seq 1 changed: count from 0 to 2.
    expect(await page.getByTestId('changes').textContent()).toMatch(/count.*0.*2/);
    expect(await page.getByTestId('events').locator('li').count()).toBe(2);
    await screenshot(page, 'stream-state-back');

    // A command caused by the stream's first event links back to it.
    const first = (await execute(runtime.url, 'counter', 'caused', 'Increment', { amount: 1 }, { 'thalo-correlation-id': 'corr-9' })).body
      .events[0];
    await execute(
      runtime.url,
      'counter',
      'caused',
      'Increment',
      { amount: 1 },
      { 'thalo-causation-id': first.id, 'thalo-correlation-id': 'corr-9' },
    );
    await page.goto(`${runtime.url}/#/streams/counter/caused`);
    const second = page.locator('[data-testid="events"] li[data-seq="2"]');
    await second.getByText('Metadata').click();
    await second.getByRole('link', { name: first.id }).click();
    await expect.poll(() => page.evaluate('document.activeElement?.dataset.seq')).toBe('1');
    expectOnlyOrigin(page, runtime.url);
    await page.close();
  });

  it('sends a command from the form and shows its events, then a rejection with its data', async () => {
    const page = await browser.page();
    await page.goto(`${runtime.url}/#/send`);
    await page.locator('select[name="aggregate"]').selectOption('bank_account');
    await page.locator('input[name="id"]').fill('web-1');
    await page.locator('select[name="command"]').selectOption('OpenAccount');
    await page.locator('textarea[name="payload"]').fill('{"initial_balance": 50}');
    await page.locator('input[name="expected"]').fill('no_stream');
    await page.getByRole('button', { name: 'Send' }).click();
    const result = page.getByTestId('result');
    await result.waitFor();
    expect(await result.textContent()).toContain('AccountOpened');
    expect(await result.textContent()).toContain('initial_balance: 50');

    await page.locator('select[name="command"]').selectOption('Withdraw');
    await page.locator('textarea[name="payload"]').fill('{"amount": 80}');
    await page.locator('input[name="expected"]').fill('');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('rejection').waitFor();
    expect(await page.getByTestId('rejection').textContent()).toContain('INSUFFICIENT_FUNDS');
    const error = page.locator('.error[data-code="COMMAND_REJECTED"]');
    // As shown: innerText leaves out what a folded part hides.
    const text = await error.innerText();
    // The rejection's data, as the aggregate gave it: the balance and the amount asked for.
    expect(text).toMatch(/balance:\s*50/);
    expect(text).toMatch(/requested:\s*80/);
    await screenshot(page, 'send-rejection');
    // Nothing was written by the rejection.
    expect((await execute(runtime.url, 'bank_account', 'web-1', 'Deposit', { amount: 1 })).body.version).toBe(2);
    expectOnlyOrigin(page, runtime.url);
    await page.close();
  });

  it('resets a projection after a confirmation, and it replays the log', async () => {
    const page = await browser.page();
    await page.goto(`${runtime.url}/#/projections`);
    const row = page.locator('[data-testid="projections"] tr[data-name="recorder"]');
    await row.waitFor();
    const head = (await execute(runtime.url, 'counter', 'proj', 'Increment', { amount: 1 })).body.events[0].position as number;
    await expect.poll(() => positionsIn(recorded).at(-1), { timeout: 10_000 }).toBe(head);
    const before = positionsIn(recorded).length;
    await row.getByRole('button', { name: 'Reset…' }).click();
    // Nothing happens before the confirmation.
    await row.getByRole('button', { name: 'Confirm reset of recorder' }).waitFor();
    expect(positionsIn(recorded)).toHaveLength(before);
    await screenshot(page, 'projection-reset-confirm');
    await row.getByRole('button', { name: 'Confirm reset of recorder' }).click();
    // Replayed from position 1: every position is seen a second time.
    await expect.poll(() => positionsIn(recorded).length, { timeout: 10_000 }).toBe(before + head);
    expect(positionsIn(recorded).slice(before)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    await page
      .locator(`[data-testid="projections"] tr[data-name="recorder"] [data-testid="position"]`, { hasText: String(head) })
      .waitFor();
    expectOnlyOrigin(page, runtime.url);
    await page.close();
  });

  it('shows the modules and refuses an upload that is not wasm, with the reason', async () => {
    const page = await browser.page();
    await page.goto(`${runtime.url}/#/modules`);
    await page.getByTestId('modules').getByRole('cell', { name: 'bank_account', exact: true }).waitFor();
    await page
      .locator('input[type="file"]')
      .setInputFiles({ name: 'broken.wasm', mimeType: 'application/wasm', buffer: Buffer.from('not wasm') });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('.error[data-code="MODULE_INVALID"]').waitFor();
    const counter = readFileSync(join('modules', 'counter.wasm'));
    await page.locator('input[type="file"]').setInputFiles({ name: 'counter2.wasm', mimeType: 'application/wasm', buffer: counter });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('status').getByText('counter2').waitFor();
    await page.getByTestId('modules').getByRole('cell', { name: 'counter2', exact: true }).waitFor();
    await screenshot(page, 'modules-upload');
    await page.close();
  });

  it('is keyboard reachable and readable on a phone-sized screen', async () => {
    const page = await browser.page({ width: 390, height: 844 });
    await page.goto(`${runtime.url}/`);
    await page.getByText('Log head').waitFor();
    // Tab from the top of the page to "Send a command", and open it with Enter.
    let reached = false;
    for (let i = 0; i < 12 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await page.evaluate('document.activeElement?.textContent')) === 'Send a command';
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.locator('select[name="aggregate"]').waitFor();
    // Nothing wider than the screen.
    for (const hash of ['#/overview', '#/send', '#/streams/counter/cli-1']) {
      await page.goto(`${runtime.url}/${hash}`);
      await page.locator('main h1').waitFor();
      await page.waitForTimeout(300);
      const widths = (await page.evaluate('({ page: document.documentElement.scrollWidth, screen: window.innerWidth })')) as {
        page: number;
        screen: number;
      };
      expect(widths.page, hash).toBeLessThanOrEqual(widths.screen);
    }
    await screenshot(page, 'phone-stream');
    await page.close();
  });
});

describe.skipIf(browserSkipped())('the console with a token', () => {
  let runtime: RuntimeProcess;

  beforeAll(async () => {
    runtime = await startRuntime({ args: ['--token', 'open-sesame'] });
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('refuses without the token and admits with it, keeping it for the tab only', async () => {
    const page = await browser.page();
    await page.goto(`${runtime.url}/`);
    const prompt = page.getByRole('dialog', { name: 'This runtime needs its token' });
    await prompt.waitFor();
    await screenshot(page, 'token-prompt');
    await page.locator('input[name="token"]').fill('wrong');
    await page.getByRole('button', { name: 'Use this token' }).click();
    await page.getByText('The runtime refused the token given').waitFor();
    await page.locator('input[name="token"]').fill('open-sesame');
    await page.getByRole('button', { name: 'Use this token' }).click();
    await page.getByTestId('tail-state').and(page.locator('[data-live="true"]')).waitFor();
    await page.locator('[data-testid="head"]', { hasText: '0' }).waitFor();
    expect(await prompt.count()).toBe(0);
    const storage = await page.evaluate("({ session: sessionStorage.getItem('thalo.token'), local: localStorage.length })");
    expect(storage).toEqual({ session: 'open-sesame', local: 0 });
    await screenshot(page, 'token-admitted');
    // A new tab starts without it.
    const other = await browser.page();
    await other.goto(`${runtime.url}/#/streams`);
    await other.getByRole('dialog', { name: 'This runtime needs its token' }).waitFor();
    await other.close();
    await page.close();
  });
});
