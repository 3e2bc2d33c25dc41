import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { launchBrowser, screenshot, watchPage } from '../support/browser.js';
import { ensureClientBuilt, startTestServer, type TestServer } from '../support/server.js';
import { createUserWithToken } from '../../db/repositories/tokens.js';
import type { ReadInput } from '../../workers/jobs/handlers.js';
import type { PageReading } from '../../workers/reader/types.js';
import { templateById } from '../../workers/reader/template/index.js';
import { candidateCount, formValues, pickTps, readingFor, rng, type TpsInfo } from '../ingest-helpers.js';
import { publishBatch } from '../../db/repositories/publish.js';
import { evaluateBuiltin } from '../../workers/jobs/rules.js';

/**
 * Evidence and review through the browser, on the real pipeline (HTTP upload → queue → reading →
 * publish → Socket.IO). The form reader is replaced by a seam keyed by the photo's SHA-256: what is
 * under test is the dashboard, not handwriting recognition.
 *  - a READ_OK form: its TPS page shows the photo, each field with its digit boxes, rules, versions, audit;
 *  - a NEEDS_REVIEW form: a reviewer corrects it from the keyboard in the review queue, a second person
 *    approves where the two-person rule asks for it, and the open desa map follows without reload;
 *  - the embeds load with no login and show the same numbers.
 */
const CONTEST = 'pkwkp-62';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const idInt = (v: number) => new Intl.NumberFormat('id-ID').format(v);

/** A page with one row of digit boxes per field; returns the photo and each box's rectangle. */
async function formPhoto(seed: number, fields: Record<string, number>): Promise<{ photo: Buffer; roi: Record<string, [number, number, number, number][]> }> {
  const roi: Record<string, [number, number, number, number][]> = {};
  let y = 120;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const digits = String(v).padStart(3, ' ').split('');
    roi[k] = digits.map((_, i) => [700 + i * 70, y, 60, 80]);
    digits.forEach((d, i) => {
      parts.push(`<rect x="${700 + i * 70}" y="${y}" width="60" height="80" fill="none" stroke="#222" stroke-width="3"/>`);
      if (d !== ' ') parts.push(`<text x="${712 + i * 70}" y="${y + 64}" font-size="64" font-family="DejaVu Sans">${d}</text>`);
    });
    parts.push(`<text x="80" y="${y + 55}" font-size="36" font-family="DejaVu Sans">${k}</text>`);
    y += 110;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1240" height="1754"><rect width="100%" height="100%" fill="#f4f1e8"/><text x="80" y="80" font-size="40">C.HASIL-KWK ${seed}</text>${parts.join('')}</svg>`;
  return { photo: await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer(), roi };
}

/** A reading with per-box probabilities: each box puts most mass on its digit. */
function withBoxes(reading: PageReading, roi: Record<string, [number, number, number, number][]>, unsure: string[] = []): PageReading {
  const fields = { ...reading.fields };
  for (const [k, f] of Object.entries(fields)) {
    const digits = String(f.value).padStart(3, ' ').split('');
    const boxes = digits.map((d) => {
      const p = new Array(12).fill(0.002);
      const top = unsure.includes(k) ? 0.55 : 0.97;
      p[d === ' ' ? 11 : Number(d)] = top;
      if (unsure.includes(k) && d !== ' ') p[(Number(d) + 6) % 10] = 0.4;
      return p;
    });
    fields[k] = { ...f, p: unsure.includes(k) ? 0.55 : 0.99, boxes, roi: roi[k] ?? [] } as typeof f;
  }
  // Where the page sat in the photo, as the real reader records it: the server cuts review crops
  // through this frame. Corners at the template's fiducial centres × 12 px/mm make the frame the
  // photo's own pixel grid, so the ROIs above are photo pixels.
  const templateId = `c-hasil-kwk-perolehan-${n}-v1`;
  const corners = templateById(templateId)!.fiducials.corners.map((c) => [(c.x + c.w / 2) * 12, (c.y + c.h / 2) * 12]);
  return { ...reading, templateId, fields, ...({ frame: { pxPerMm: 12, corners } } as object) };
}

let server: TestServer;
let browser: Browser;
let page: Page;
let okTps: TpsInfo;
let reviewTps: TpsInfo;
let n: number;
const readings = new Map<string, PageReading>();

beforeAll(async () => {
  ensureClientBuilt();
  server = await startTestServer({
    workers: {
      reader: async (input: ReadInput) => {
        // The stored copy is re-encoded (SECURITY.md); its file name is the original upload's SHA-256.
        const r = readings.get(/([0-9a-f]{64})\.[a-z]+$/.exec(input.path)?.[1] ?? '');
        if (!r) throw new Error('test reader: unknown photo');
        return r;
      },
    },
  });
  [okTps, reviewTps] = await pickTps(server.db.sql, '6201', 2);
  n = await candidateCount(server.db.sql, CONTEST);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  watchPage(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function upload(tps: TpsInfo, photo: Buffer): Promise<number> {
  const { token } = await createUserWithToken(server.db.sql, { name: `KPPS ${tps.code}`, role: 'kpps', scopeCode: tps.code });
  const form = new FormData();
  form.append('tps', tps.code);
  form.append('contest', CONTEST);
  form.append('photo', new Blob([new Uint8Array(photo)]), 'page.jpg');
  const res = await fetch(`${server.url}/api/submissions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: number }).id;
}

async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A shared 2-core machine under load can be slow: generous timeouts, no speed assertions here.
describe('TPS page, review queue, embeds', { timeout: 180_000 }, () => {
  let okValues: Record<string, number>;

  it('opens the TPS page of a published form with its photo, fields, rules, versions and audit', async () => {
    okValues = formValues(okTps, n, rng(101));
    const votes = Object.fromEntries(Object.entries(okValues).filter(([k]) => k.startsWith('suara_')));
    const { photo, roi } = await formPhoto(101, votes);
    readings.set(sha(photo), withBoxes(readingFor(okValues, 'perolehan'), roi));
    await upload(okTps, photo);
    await waitFor(async () => (await server.db.sql`select 1 from tps_results where tps_code = ${okTps.code} and is_current and status = 'published'`)[0], 'publish');

    await page.goto(`${server.url}/tps/${okTps.code}?kontes=${CONTEST}`);
    await page.waitForSelector('[data-testid="tps-page"]');
    const img = page.getByTestId('tps-photo').first();
    await img.scrollIntoViewIfNeeded();
    await expect.poll(() => img.evaluate((e) => (e as HTMLImageElement).naturalWidth)).toBe(1240);
    expect(await page.getByTestId('tps-suara-sah').textContent()).toBe(idInt(okValues.suara_sah));
    const row = page.locator('[data-testid="reading-fields"] tr[data-field="suara_paslon_1"]');
    expect(await row.locator('td').nth(1).textContent()).toBe(idInt(okValues.suara_paslon_1));
    // One box per digit, each with its crop cut upright from the stored photo by the server, and its top probabilities.
    expect(await row.locator('.box').count()).toBe(3);
    const crop = row.locator('.box img.box-crop').first();
    await crop.scrollIntoViewIfNeeded();
    await expect.poll(() => crop.evaluate((e) => (e as HTMLImageElement).naturalWidth)).toBe(60);
    expect(await page.getByTestId('rules').textContent()).toMatch(/PASS/);
    expect(await page.locator('[data-testid="versions"] tbody tr').count()).toBe(1);
    expect(await page.locator('[data-testid="audit"] tbody tr').count()).toBeGreaterThanOrEqual(1);
    await screenshot(page, '06-tps-page');
  });

  it('corrects a NEEDS_REVIEW form from the keyboard and the open map follows', async () => {
    const truth = formValues(reviewTps, n, rng(202));
    const misread = { ...truth, suara_paslon_1: truth.suara_paslon_1 + 100 }; // hundreds box 0↔1 ambiguity
    const votes = Object.fromEntries(Object.entries(truth).filter(([k]) => k.startsWith('suara_')));
    const { photo, roi } = await formPhoto(202, votes);
    readings.set(sha(photo), withBoxes(readingFor(misread, 'perolehan', 'NEEDS_REVIEW'), roi, ['suara_paslon_1']));
    // Bawaslu's feed is open on the kab/kota before the form arrives: the finding must appear live.
    const feed = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    await feed.goto(`${server.url}/anomali?wilayah=6201`);
    await feed.waitForSelector('[data-testid="live-status"][data-status="live"]');
    await feed.waitForTimeout(1500); // let the room subscriptions settle
    await upload(reviewTps, photo);
    // The review queue is for KPU staff and Bawaslu (SECURITY.md): the check signs in as Bawaslu.
    const watcherToken = (await createUserWithToken(server.db.sql, { name: 'Bawaslu watcher', role: 'bawaslu', scopeCode: null })).token;
    await waitFor(async () => {
      const r = await fetch(`${server.url}/api/review-queue?contest=${CONTEST}&area=62`, { headers: { authorization: `Bearer ${watcherToken}` } });
      const body = (await r.json()) as { items: { tpsCode: string }[] };
      return body.items.some((i) => i.tpsCode === reviewTps.code);
    }, 'the review queue item');

    const anomalyRow = feed.locator('[data-testid="anomalies"] tbody tr', { hasText: reviewTps.code }).first();
    await anomalyRow.waitFor({ timeout: 20_000 });
    expect(await anomalyRow.textContent()).toMatch(/H1/);
    await screenshot(feed, '12-anomaly-feed');
    await anomalyRow.locator('a').click();
    await feed.waitForSelector('[data-testid="tps-page"]');
    expect(new URL(feed.url()).pathname).toBe(`/tps/${reviewTps.code}`);
    await feed.close();

    // A second window watches the desa of the TPS: its row must follow the correction live.
    const watcher = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await watcher.goto(`${server.url}/wilayah/${reviewTps.desaCode}?kontes=${CONTEST}`);
    await watcher.waitForSelector(`[data-testid="tps-list"] tr[data-code="${reviewTps.code}"]`);
    await watcher.waitForSelector('[data-testid="live-status"][data-status="live"]');
    const statusBefore = await watcher.locator(`[data-testid="tps-list"] tr[data-code="${reviewTps.code}"] .status-pill`).textContent();
    expect(statusBefore).not.toBe('Terbit');
    const sahBefore = (await watcher.getByTestId('suara-sah').textContent()) ?? '';

    const reviewer = await createUserWithToken(server.db.sql, { name: 'Reviewer KPU', role: 'kpu_reviewer', scopeCode: '62' });
    await page.goto(`${server.url}/tinjau?kontes=${CONTEST}&area=62`);
    await page.getByTestId('token-input').fill(reviewer.token);
    await page.getByTestId('token-input').press('Enter');
    const item = page.locator(`[data-testid="queue"] li[data-tps="${reviewTps.code}"]`);
    await item.waitFor();
    // Keyboard only: move to the item with J/K, E to edit, type, Ctrl+Enter to save.
    const items = await page.locator('[data-testid="queue"] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-tps')));
    const target = items.indexOf(reviewTps.code);
    await page.locator('body').click({ position: { x: 5, y: 200 } });
    for (let i = 0; i < target; i++) await page.keyboard.press('j');
    await expect.poll(() => item.getAttribute('aria-selected')).toBe('true');
    await page.waitForSelector('[data-testid="edit-grid"] input[data-field="suara_paslon_1"]');
    const input = page.locator('[data-testid="edit-grid"] input[data-field="suara_paslon_1"]');
    expect(await input.inputValue()).toBe(String(misread.suara_paslon_1));
    await screenshot(page, '07-review-queue');
    await page.keyboard.press('e');
    await input.focus();
    await input.fill(String(truth.suara_paslon_1));
    await page.getByTestId('reason').fill('ratusan paslon 1 dibaca ulang dari foto: 0 bukan 1');
    await page.keyboard.press('Control+Enter');
    const notice = page.getByTestId('review-notice');
    await expect.poll(() => notice.textContent(), { timeout: 15_000 }).toMatch(/koreksi #\d+/);

    if (/menunggu/i.test((await notice.textContent()) ?? '')) {
      // The two-person rule: a second person with another role approves with A.
      const approver = await createUserWithToken(server.db.sql, { name: 'Operator KPU', role: 'kpu_operator', scopeCode: '62' });
      await page.evaluate((tok) => localStorage.setItem('rekap.token', tok), approver.token);
      await page.reload();
      await item.click();
      await page.waitForSelector('[data-testid="approve"]');
      await page.locator('body').click({ position: { x: 5, y: 200 } });
      await page.keyboard.press('a');
      await expect.poll(() => notice.textContent(), { timeout: 15_000 }).toMatch(/Disetujui/);
    }
    const cur = await waitFor(async () => (await server.db.sql`select status, stage, values from tps_results where tps_code = ${reviewTps.code} and contest_id = ${CONTEST} and is_current`)[0], 'corrected result');
    expect(cur).toMatchObject({ status: 'published', stage: 'reviewer' });
    expect(cur.values.suara_paslon_1).toBe(truth.suara_paslon_1);

    // The open desa map followed, without a reload.
    const tpsRow = watcher.locator(`[data-testid="tps-list"] tr[data-code="${reviewTps.code}"]`);
    await expect.poll(() => tpsRow.locator('.status-pill').textContent(), { timeout: 15_000 }).toBe('Terbit');
    await expect.poll(() => watcher.getByTestId('suara-sah').textContent()).not.toBe(sahBefore);
    // The desa total grew by exactly the corrected form's valid votes (other TPS of the desa may be in it).
    expect(await watcher.getByTestId('suara-sah').textContent()).toBe(idInt(Number(sahBefore.replace(/\./g, '')) + truth.suara_sah));
    await screenshot(watcher, '08-desa-after-review');
    await watcher.close();
  });

  it('a new quarantine anywhere in the officer\'s area reaches the open queue at once (operator room)', async () => {
    // A reviewer of the whole province opens the queue without an area: the page joins the operator
    // room of the officer's scope. Then a form from another kab/kota, not in the list, is quarantined.
    const [other] = await pickTps(server.db.sql, '6202', 1);
    const officer = await createUserWithToken(server.db.sql, { name: 'Reviewer provinsi', role: 'kpu_reviewer', scopeCode: '62' });
    const p = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    watchPage(p);
    await p.goto(`${server.url}/tinjau?kontes=${CONTEST}`);
    await p.getByTestId('token-input').fill(officer.token);
    await p.getByTestId('token-input').press('Enter');
    await p.waitForSelector('[data-testid="queue"], [data-testid="queue-empty"]');
    expect(await p.locator(`[data-testid="queue"] li[data-tps="${other!.code}"]`).count()).toBe(0);
    await p.waitForTimeout(1000); // the operator room joined
    const values = formValues(other!, n, rng(303));
    values.suara_paslon_1! += 50; // Σ paslon ≠ suara sah: H1 quarantines it
    const [out] = await publishBatch(server.db.sql, [{ tpsCode: other!.code, contestId: CONTEST, stage: 'kpps', values, actorId: null, actor: 'test' }], evaluateBuiltin);
    expect(out).toMatchObject({ status: 'quarantined' });
    await expect.poll(() => p.getByTestId('review-notice').textContent(), { timeout: 15_000 }).toContain(other!.code);
    await p.locator(`[data-testid="queue"] li[data-tps="${other!.code}"]`).waitFor({ timeout: 15_000 });
    await p.close();
  });

  it('loads the embeds with no login and the same numbers', async () => {
    const ctx = await browser.newContext({ viewport: { width: 600, height: 420 } });
    const p = await ctx.newPage();
    const [kab] = (await server.db.sql`select suara_sah from area_tallies where contest_id = ${CONTEST} and area_code = '6201'`) as { suara_sah: string }[];
    await p.goto(`${server.url}/embed/scoreboard?contest=${CONTEST}&area=6201`);
    await p.waitForSelector('[data-testid="embed-scoreboard"]');
    await expect.poll(() => p.getByTestId('suara-sah').textContent()).toBe(idInt(Number(kab.suara_sah)));
    expect(await p.locator('.top, .main-nav').count()).toBe(0);
    await screenshot(p, '09-embed-scoreboard');
    await p.goto(`${server.url}/embed/map?contest=${CONTEST}&area=6201&theme=dark`);
    await p.waitForSelector('.area-map[data-painted="6201"]');
    expect(await p.locator('.embed.dark').count()).toBe(1);
    expect(await p.locator('.area-map path[data-code]').count()).toBeGreaterThan(3);
    await screenshot(p, '10-embed-map-dark');
    // The area page offers the iframe snippet.
    await page.goto(`${server.url}/wilayah/6201?kontes=${CONTEST}`);
    const snippet = await page.getByTestId('embed-code').inputValue();
    expect(snippet).toContain(`/embed/scoreboard?area=6201&amp;contest=${CONTEST}`.replace('&amp;', '&'));
    expect(snippet).toMatch(/^<iframe /);
    await ctx.close();
  });
});
