// In a real browser (Debian's chromium, driven by playwright-core; no browser download): a small
// search and `lbt serve` started from the command line, the run page opened once, and the step
// count and a chart advancing without a reload, with no console error. LBT_SCREENSHOTS=DIR keeps
// screenshots there (outside the repository) to look at.
//
// No race with the search's pace: once its first step is logged the search is paused (SIGSTOP)
// while the page opens and draws, and let go (SIGCONT) once the page's first numbers are read, so
// the page surely sees it advance on a slow or loaded machine as on a fast one. Every wait polls
// for a condition with a generous limit; none is a fixed sleep.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const env = { ...process.env, LBT_NUM_THREADS: '1' };
const shots = process.env.LBT_SCREENSHOTS;

function lbt(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

const hasStep = (run: string) => {
  const f = join(run, 'metrics.jsonl');
  return existsSync(f) && readFileSync(f, 'utf8').includes('"kind":"step"');
};

/** The URL `lbt serve` prints once it listens. */
function servedUrl(p: ChildProcess): Promise<string> {
  return new Promise((ok, fail) => {
    let out = '';
    p.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /lbt serve: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) ok(m[1] as string);
    });
    p.on('exit', (code) => fail(new Error(`lbt serve exited (${code}): ${out}`)));
  });
}

const until = async (what: string, ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test('the run page of a running search: step count and charts advance without a reload, no console error', {
  timeout: 15 * 60_000,
  skip: !existsSync(CHROMIUM) && process.env.LBT_SKIP_BROWSER === '1' ? 'no chromium (LBT_SKIP_BROWSER=1)' : false,
}, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: bash scripts/setup.sh installs Debian's chromium`);
  const runs = mkdtempSync(join(tmpdir(), 'lbt-browser-'));
  const run = join(runs, 'live');
  const server = lbt(['serve', runs, '--port', '0']);
  const search = lbt([
    ...['search', '--scale', 'smoke', '--set', 'epochs=3', '--set', 'stepsPerEpoch=4', '--set', 'dataset.trainSize=32'],
    ...['--set', 'logEvery=1', '--no-retrain', '--no-report', '--quiet', '--out', run],
  ]);
  let searchDone = false;
  search.on('exit', () => (searchDone = true));
  const userDataDir = mkdtempSync(join(tmpdir(), 'lbt-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    timeout: 5 * 60_000,
  });
  try {
    const url = await servedUrl(server);
    await until('the first logged step', () => searchDone || hasStep(run), 10 * 60_000);
    assert.ok(!searchDone, `the search ended early (exit ${search.exitCode})`);
    assert.ok(search.kill('SIGSTOP'), 'the search is paused while the page opens');
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(5 * 60_000);
    page.setDefaultNavigationTimeout(5 * 60_000);
    await page.setViewportSize({ width: 1400, height: 1000 });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/run/0/live`);
    await page.evaluate(() => {
      (window as unknown as { loadedOnce: string }).loadedOnce = 'yes';
    });
    const step = () => page.getAttribute('#status', 'data-step').then(Number);
    const points = () => page.locator('#view-curves .mark-symbol path').count();
    await page.waitForSelector('#view-curves:not([hidden]) svg');
    await page.waitForSelector('#view-arch-normal:not([hidden]) svg');
    await page.waitForFunction(() => Number(document.querySelector('#status')?.getAttribute('data-step')) >= 1);
    const [step0, points0] = [await step(), await points()];
    assert.equal(await page.getAttribute('#status', 'data-state'), 'running');
    assert.ok(points0 > 0, 'the curves have the first step’s points');
    if (shots) mkdirSync(shots, { recursive: true });
    if (shots) await page.screenshot({ path: join(shots, 'run-early.png'), fullPage: true });
    assert.ok(search.kill('SIGCONT'), 'the search goes on');
    await page.waitForFunction((s) => Number(document.querySelector('#status')?.getAttribute('data-step')) > s, step0);
    await until('the search to finish', () => searchDone, 10 * 60_000);
    assert.equal(search.exitCode, 0);
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'completed');
    assert.equal(await step(), 12, 'the last step: 3 epochs × 4 steps');
    assert.ok((await points()) > points0, `the curves gained points without a reload (${points0} → ${await points()})`);
    assert.equal(await page.textContent('#state'), 'finished');
    assert.match((await page.textContent('#progress')) ?? '', /^step 12\/12 \(100%\) · epoch 3\/3$/);
    assert.ok(await page.locator('#cells svg').count(), 'the derived cells are drawn');
    assert.equal(await page.evaluate(() => (window as unknown as { loadedOnce?: string }).loadedOnce), 'yes', 'never reloaded');
    if (shots) await page.screenshot({ path: join(shots, 'run-done.png'), fullPage: true });
    // the list page shows the run finished
    await page.goto(`${url}/`);
    assert.match((await page.textContent('body')) ?? '', /finished/);
    assert.deepEqual(errors, [], 'no console errors');
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    if (!searchDone) search.kill('SIGKILL'); // also ends a paused one
  }
});
