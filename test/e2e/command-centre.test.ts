import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, watchPage } from '../support/browser.js';
import { ensureClientBuilt, startTestServer, type TestServer } from '../support/server.js';
import { publishBatch } from '../../db/repositories/publish.js';
import { evaluateBuiltin } from '../../workers/jobs/rules.js';
import { candidateCount, formValues, pickTps, rng } from '../ingest-helpers.js';

/**
 * The command centre's screens: the "belum masuk" list (TPS not yet in, time since polls closed,
 * sortable, linked to TPS pages, following publishes live) and the practice view behind its banner.
 */
let server: TestServer;
let browser: Browser;
let page: Page;
let watched: { errors: string[] };
const CONTEST = 'pkwkk-6201';

beforeAll(async () => {
  ensureClientBuilt();
  server = await startTestServer();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  watched = watchPage(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const missingCodes = (p: Page) => p.locator('[data-testid="missing-table"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')));

describe('command centre', { timeout: 180_000 }, () => {
  it('lists the TPS not yet in with the time since polls closed, and drops one when its form is published', async () => {
    const [{ n }] = await server.db.sql<{ n: number }[]>`select count(*)::int as n from tps where kec_code = '620101'`;
    await page.goto(`${server.url}/wilayah/620101?kontes=${CONTEST}`);
    await page.waitForSelector('.area-map[data-painted="620101"]');
    const list = page.getByTestId('missing-tps');
    await expect.poll(() => list.getAttribute('data-total'), { timeout: 30_000 }).toBe(String(n));
    // Polls closed at 13:00 WIB on polling day (Kalimantan Tengah): long ago, counted in days.
    expect(await page.getByTestId('missing-summary').textContent()).toMatch(/TPS ditutup .*13[.:]00 WIB/);
    expect(await page.getByTestId('missing-since').textContent()).toMatch(/^\d[\d.]* hr \d+ j sejak TPS ditutup$/);
    const codes = await missingCodes(page);
    expect(codes).toHaveLength(n);
    // Default order: oldest first, then by TPS code.
    expect(codes).toEqual([...codes].sort());
    // Every row links to its TPS page.
    const href = await page.locator(`[data-testid="missing-table"] tr[data-code="${codes[0]}"] a`).getAttribute('href');
    expect(href).toBe(`/tps/${codes[0]}?kontes=${CONTEST}`);
    // Sortable by desa name.
    await page.locator('[data-testid="missing-table"] th button[data-sort="desa"]').click();
    const names = await page.locator('[data-testid="missing-table"] tbody tr td:nth-child(2)').evaluateAll((tds) => tds.map((td) => td.firstChild?.textContent ?? ''));
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, 'id')));
    await screenshot(page, '13-missing-tps');

    // A form published now: the TPS leaves the list without a reload.
    const [tps] = await pickTps(server.db.sql, '620101', 1);
    const values = formValues(tps, await candidateCount(server.db.sql, CONTEST), rng(11));
    const [out] = await publishBatch(server.db.sql, [{ tpsCode: tps.code, contestId: CONTEST, stage: 'kpps', values, actorId: null, actor: 'e2e' }], evaluateBuiltin);
    expect(out).toMatchObject({ status: 'published' });
    await expect.poll(() => list.getAttribute('data-total'), { timeout: 30_000 }).toBe(String(n - 1));
    expect(await missingCodes(page)).not.toContain(tps.code);
  });

  it('shows the practice election behind a LATIHAN / PRACTICE banner, never mixed with real races', async () => {
    // The practice mirror is made on first use of the practice API.
    expect((await fetch(`${server.url}/api/practice`)).status).toBe(200);
    await page.goto(`${server.url}/wilayah/00`);
    await page.waitForSelector('.area-map[data-painted="00"]');
    expect(await page.getByTestId('practice-banner').count()).toBe(0);
    await page.getByTestId('nav-practice').click();
    await page.waitForSelector('[data-testid="practice-banner"]');
    expect(await page.getByTestId('practice-banner').textContent()).toMatch(/LATIHAN \/ PRACTICE/);
    await page.waitForSelector('.area-map[data-painted="00"]');
    await page.locator('.area-map path[data-code="62"]').dispatchEvent('click');
    await page.waitForSelector('.area-map[data-painted="62"]');
    // Still practice after drilling down: banner, practice race ids only, names marked LATIHAN.
    expect(new URL(page.url()).searchParams.get('latihan')).toBe('1');
    await page.waitForSelector('[data-testid="practice-banner"]');
    await expect.poll(() => page.locator('.contest-tabs [aria-selected="true"]').getAttribute('data-contest')).toBe('latihan-pkwkp-62');
    expect(await page.locator('.contest-tabs [aria-selected="true"]').textContent()).toMatch(/LATIHAN/);
    const tabs = await page.locator('.contest-tabs [data-contest], [data-testid="contest-select"] option').evaluateAll((els) => els.map((e) => e.getAttribute('data-contest') ?? (e as HTMLOptionElement).value));
    expect(tabs.length).toBeGreaterThan(0);
    expect(tabs.every((c) => c.startsWith('latihan-'))).toBe(true);
    await expect.poll(() => page.getByTestId('missing-tps').getAttribute('data-total'), { timeout: 30_000 }).toMatch(/^\d+$/);
    await screenshot(page, '14-practice');
    // The way out leads back to the real results, without the banner.
    await page.locator('[data-testid="practice-banner"] a').click();
    await page.waitForSelector('.area-map[data-painted="62"]');
    expect(await page.getByTestId('practice-banner').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('latihan')).toBeNull();
  });

  it('fits a phone: missing list and practice banner without sideways scrolling', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await phone.goto(`${server.url}/wilayah/620101?kontes=${CONTEST}&latihan=1`);
    await phone.waitForSelector('.area-map[data-painted="620101"]');
    await phone.waitForSelector('[data-testid="practice-banner"]');
    await screenshot(phone, '15-phone-practice-kecamatan');
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.close();
  });

  it('logged no page errors', () => {
    expect(watched.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });
});
