import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, watchPage } from '../support/browser.js';
import { ensureClientBuilt, startTestServer, type TestServer } from '../support/server.js';
import { publishBatch } from '../../db/repositories/publish.js';
import { evaluateBuiltin } from '../../workers/jobs/rules.js';
import { candidateCount, formValues, pickTps, rng, type TpsInfo } from '../ingest-helpers.js';

/**
 * Live without reload: the dashboard is open on Kotawaringin Barat (reached by clicking down from the
 * national map) when a TPS result is published through the real publish path; the totals, the
 * progress line, the child row and the map colour follow through Socket.IO, and the page never
 * reloads. Also: the reconnecting state is visible when the server goes away.
 */
const CONTEST = 'pkwkp-62';
let server: TestServer;
let browser: Browser;
let page: Page;
let tps: TpsInfo[];
let n: number;

const idInt = (v: number) => new Intl.NumberFormat('id-ID').format(v);

beforeAll(async () => {
  ensureClientBuilt();
  server = await startTestServer();
  tps = await pickTps(server.db.sql, '6201', 2);
  n = await candidateCount(server.db.sql, CONTEST);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  watchPage(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

// A shared 2-core machine under load can be slow: generous timeouts, no speed assertions here.
describe('live dashboard', { timeout: 180_000 }, () => {
  it('shows a published form on the open page without a reload', async () => {
    await page.goto(`${server.url}/wilayah/00`);
    await page.waitForSelector('.area-map[data-painted="00"]');
    for (const code of ['62', '6201']) {
      await page.locator(`.area-map path[data-code="${code}"]`).dispatchEvent('click');
      await page.waitForSelector(`.area-map[data-painted="${code}"]`);
    }
    await page.waitForSelector('[data-testid="live-status"][data-status="live"]');
    expect(new URL(page.url()).searchParams.get('kontes')).toBe(CONTEST);
    await expect.poll(() => page.getByTestId('suara-sah').textContent()).toBe('0');
    const kec = tps[0].kecCode;
    const fillBefore = await page.locator(`.area-map path[data-code="${kec}"]`).getAttribute('fill');
    // A marker on window survives only if the page is never reloaded.
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    const values = formValues(tps[0], n, rng(42));
    const [out] = await publishBatch(server.db.sql, [{ tpsCode: tps[0].code, contestId: CONTEST, stage: 'kpps', values, actorId: null, actor: 'e2e' }], evaluateBuiltin);
    expect(out.outcome).toBe('created');
    expect(out).toMatchObject({ status: 'published' });

    await expect.poll(() => page.getByTestId('suara-sah').textContent(), { timeout: 15_000 }).toBe(idInt(values.suara_sah));
    expect(await page.getByTestId('progress').textContent()).toMatch(/^1 dari [\d.]+ TPS/);
    // The kecamatan row and the map colour follow.
    const row = page.locator(`[data-testid="child-table"] tr[data-code="${kec}"]`);
    await expect.poll(() => row.locator('td').nth(2).textContent()).toMatch(/^1 \(/);
    await expect.poll(() => page.locator(`.area-map path[data-code="${kec}"]`).getAttribute('fill')).not.toBe(fillBefore);
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    await screenshot(page, '04-kab-live-after-publish');

    // A second form: numbers add up on screen exactly as published.
    const v2 = formValues(tps[1], n, rng(43));
    await publishBatch(server.db.sql, [{ tpsCode: tps[1].code, contestId: CONTEST, stage: 'kpps', values: v2, actorId: null, actor: 'e2e' }], evaluateBuiltin);
    await expect.poll(() => page.getByTestId('suara-sah').textContent(), { timeout: 15_000 }).toBe(idInt(values.suara_sah + v2.suara_sah));
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
  });

  it('shows the reconnecting state when the server goes away', async () => {
    await server.api.close();
    await page.waitForSelector('[data-testid="live-status"][data-status="reconnecting"]', { timeout: 15_000 });
    expect(await page.getByTestId('live-status').textContent()).toMatch(/Menyambung ulang/);
    await screenshot(page, '05-reconnecting');
  });
});
