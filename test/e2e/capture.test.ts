import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, screenshot, testOutputDir, watchPage } from '../support/browser.js';
import { repoRoot, startTestServer, type TestServer } from '../support/server.js';
import { startWorkers, type RunningWorkers } from '../../workers/runtime.js';
import { createUserWithToken } from '../../db/repositories/tokens.js';
import { headerForTps, loadContestForForm } from '../../workers/reader/render/context.js';
import { loadGlyphLibrary, synthesizePhoto, type GroundTruth } from '../../workers/reader/synth/index.js';
import { ensurePracticeElection, practiceContestId } from '../../db/seed/practice.js';
import { verifyAuditChain } from '../../db/repositories/audit.js';
import { pickTps, type TpsInfo } from '../ingest-helpers.js';
import type { OperatorListResponse, PracticeResetResponse, ResultsResponse } from '../../server/contract/index.js';

/**
 * KPPS capture on a phone-sized Debian chromium against the real API, the real queue and the real
 * form reader (one reader process): synthetic photos of real Kalimantan Tengah TPS go through the
 * capture page, the read-back is corrected and confirmed, offline uploads go out exactly once when
 * the network returns, and practice uploads never move the real totals.
 */
const CONTEST = 'pkwkp-62';
const PHONE = { width: 390, height: 844 };
let server: TestServer;
let workers: RunningWorkers;
let browser: Browser;
let tps: TpsInfo[];
const photoDir = join(testOutputDir, 'capture-photos');

/** The dashboard bundle must contain the capture page: build when dist/client predates it. */
function ensureCaptureBuilt() {
  const assets = join(repoRoot, 'dist', 'client', 'assets');
  if (existsSync(assets) && readdirSync(assets).some((f) => f.startsWith('CapturePage-'))) return;
  execFileSync('npx', ['vite', 'build', '--config', 'client/vite.config.ts', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
}

/** A synthetic photographed C.Hasil page of one TPS (real names and register from the test database). */
async function synthPhoto(contestId: string, t: TpsInfo, page: 'perolehan' | 'administrasi', opts: { seed: string; mistakes: number }): Promise<{ file: string; truth: GroundTruth; sha: string }> {
  const c = await loadContestForForm(server.db, contestId);
  const { contestTitle, candidates, ...area } = await headerForTps(server.db, c, t.code);
  const lib = await loadGlyphLibrary({ realCrops: true });
  for (let attempt = 0; attempt < 8; attempt++) {
    const { jpeg, truth } = await synthesizePhoto(0, { id: c.id, jenis: c.type, candidateCount: c.candidateCount, paslonIds: c.candidateIds, header: { contestTitle, candidates } },
      [{ code: t.code, votersL: t.votersL, votersP: t.votersP, header: area }], { seed: `${opts.seed}:${attempt}`, mistakes: opts.mistakes, unreadable: 0, page }, lib);
    if (!truth.readable || (opts.mistakes > 0 && truth.mistakes.length === 0)) continue;
    mkdirSync(photoDir, { recursive: true });
    const file = join(photoDir, `${t.code}-${page}-${opts.seed}.jpg`);
    writeFileSync(file, jpeg);
    return { file, truth, sha: createHash('sha256').update(jpeg).digest('hex') };
  }
  throw new Error('could not synthesise a readable photo');
}

async function phone(token: string): Promise<{ ctx: BrowserContext; page: Page; errors: string[] }> {
  const ctx = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'id-ID' });
  const page = await ctx.newPage();
  const { errors } = watchPage(page);
  await page.goto(`${server.url}/kpps?token=${encodeURIComponent(token)}`);
  await page.waitForSelector('[data-testid="capture"]');
  // The device link signs in once and leaves the address bar.
  expect(new URL(page.url()).search).toBe('');
  return { ctx, page, errors };
}

async function pickPage(page: Page, which: 'perolehan' | 'administrasi') {
  await page.locator(`input[name="page"][value="${which}"]`).check();
}

async function capture(page: Page, file: string) {
  await page.getByTestId('photo-input').setInputFiles(file);
  await page.waitForSelector('[data-testid="photo-preview"]');
}

const realTallies = () => server.db.sql<{ contest_id: string; area_code: string; votes: unknown; suara_sah: number; tps_published: number; tps_quarantined: number; version: number }[]>`
  select contest_id, area_code, votes, suara_sah::int, tps_published, tps_quarantined, version::int from area_tallies a
  where not exists (select 1 from contests c join elections e on e.id = c.election_id where c.id = a.contest_id and e.is_practice)
  order by contest_id, area_code`;

beforeAll(async () => {
  ensureCaptureBuilt();
  server = await startTestServer();
  // The real reader (child process, OpenCV + digit model) behind the real queue.
  workers = await startWorkers({ config: server.config, database: server.db, url: server.db.url, log: (m, e) => console.error(`[workers] ${m}`, e ?? ''), maintenanceIntervalSeconds: 2 });
  tps = await pickTps(server.db.sql, '6201', 4, { spread: true });
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await workers?.stop();
  await server?.close();
});

describe('KPPS capture (phone)', () => {
  it('uploads a photo, shows the read-back, takes a correction and publishes the KPPS-confirmed version', async () => {
    const t = tps[0];
    const { userId, token } = await createUserWithToken(server.db.sql, { name: 'KPPS Uji Satu', role: 'kpps', scopeCode: t.code });
    const shot = await synthPhoto(CONTEST, t, 'perolehan', { seed: 'capture-main', mistakes: 1 });
    const mistake = shot.truth.mistakes[0];
    // What the paper should have said: the officer corrects the miswritten field to it.
    const expected = { ...shot.truth.values, [mistake.field]: mistake.correct };

    const { ctx, page, errors } = await phone(token);
    expect(await page.getByTestId('capture-tps').textContent()).toMatch(/^TPS \d{3} · /);
    await screenshot(page, 'capture-01-start');
    await pickPage(page, 'perolehan');
    await capture(page, shot.file);
    await screenshot(page, 'capture-02-framed');
    await page.getByTestId('send-photo').click();

    await page.waitForSelector('[data-testid="outbox-item"][data-state="done"]', { timeout: 30_000 });
    await page.waitForSelector('[data-testid="readback-fields"]', { timeout: 120_000 });
    const fieldKeys = await page.locator('[data-testid="readback-fields"] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-field')));
    expect([...fieldKeys].sort()).toEqual(Object.keys(shot.truth.values).sort());
    // Each field has the crop of its boxes, placed through the reader's page frame.
    await expect.poll(() => page.locator('[data-testid="field-crop"]').count()).toBe(fieldKeys.length);
    await screenshot(page, 'capture-03-readback');

    // The machine result of a miswritten form is quarantined: the read-back explains it in plain words.
    const shownBefore: Record<string, number> = {};
    for (const k of fieldKeys) shownBefore[k!] = Number(await page.getByTestId(`value-${k}`).inputValue());
    const readAsWritten = Object.entries(shot.truth.values).every(([k, v]) => shownBefore[k] === v);
    if (readAsWritten) {
      expect(Number(await page.getByTestId('identity-checks').getAttribute('data-problems'))).toBeGreaterThan(0);
      expect(await page.getByTestId('identity-checks').textContent()).toMatch(/tidak sama dengan/);
    }

    // Correct every field that differs from the paper's true count (at least the planted mistake).
    let corrected = 0;
    for (const [k, v] of Object.entries(expected)) {
      if (shownBefore[k] !== v) {
        await page.getByTestId(`value-${k}`).fill(String(v));
        corrected++;
      }
    }
    expect(corrected).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('identity-checks').getAttribute('data-problems')).toBe('0');
    expect(await page.getByTestId('confirm').textContent()).toMatch(new RegExp(`Simpan koreksi \\(${corrected} angka\\)`));
    await screenshot(page, 'capture-04-corrected');
    await page.getByTestId('confirm').click();

    await page.waitForSelector('[data-testid="kpps-version"][data-status="published"]', { timeout: 30_000 });
    expect(await page.getByTestId('kpps-version').textContent()).toMatch(/Versi KPPS v\d+ tersimpan: KPPS Uji Satu/);
    await page.locator('[data-testid="version-history"] li[data-stage="machine"]').first().waitFor();
    await screenshot(page, 'capture-05-confirmed');

    // In the database: the KPPS version is current, published, by this officer, with the corrected
    // values; the machine read is kept in the history; the audit chain names the officer.
    const rows = await server.db.sql`select version, stage, status, is_current, values, created_by from tps_results where tps_code = ${t.code} and contest_id = ${CONTEST} order by version`;
    const cur = rows.find((r) => r.is_current)!;
    expect(cur.stage).toBe('kpps');
    expect(cur.status).toBe('published');
    expect(Number(cur.created_by)).toBe(userId);
    for (const [k, v] of Object.entries(expected)) expect(cur.values[k]).toBe(v);
    expect(rows.some((r) => r.stage === 'machine' && !r.is_current)).toBe(true);
    const [audit] = await server.db.sql`select actor, after from audit_log where action = 'result.kpps.confirmed' and entity_id like ${`${t.code}:${CONTEST}:%`} order by id desc limit 1`;
    expect(audit.actor).toContain('KPPS Uji Satu');
    // And the public feed counts it.
    const res = (await (await fetch(`${server.url}/api/results/${CONTEST}/${t.desaCode}`)).json()) as ResultsResponse;
    expect(res.tally.tpsPublished).toBe(1);
    expect(res.tally.suaraSah).toBe(expected.suara_sah);

    // Retake: a new photo is a new submission; the earlier one stays as evidence.
    await page.getByTestId('retake').click();
    const again = await synthPhoto(CONTEST, t, 'perolehan', { seed: 'capture-retake', mistakes: 0 });
    await pickPage(page, 'perolehan');
    await capture(page, again.file);
    await page.getByTestId('send-photo').click();
    await page.waitForSelector('.cap-earlier img', { timeout: 30_000 });
    const subs = await server.db.sql`select photo_sha256 from submissions where tps_code = ${t.code} order by id`;
    expect(subs.map((s) => s.photo_sha256)).toEqual([shot.sha, again.sha]);
    await screenshot(page, 'capture-06-retake');
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
    await ctx.close();
  }, 300_000);

  it('queues two photos offline and uploads each exactly once when the network returns', async () => {
    const t = tps[1];
    const { token } = await createUserWithToken(server.db.sql, { name: 'KPPS Uji Dua', role: 'kpps', scopeCode: t.code });
    const p1 = await synthPhoto(CONTEST, t, 'perolehan', { seed: 'offline-1', mistakes: 0 });
    const p2 = await synthPhoto(CONTEST, t, 'administrasi', { seed: 'offline-2', mistakes: 0 });
    const { ctx, page } = await phone(token);
    await page.waitForFunction(() => !!navigator.serviceWorker?.controller);
    await page.waitForFunction(async () => (await (await caches.open("rekap-shell-v1")).keys()).some((r) => r.url.includes("CapturePage-")));

    await ctx.setOffline(true);
    await page.waitForSelector('[data-testid="net-status"][data-online="0"]');
    // A slow phone: putting a photo into the outbox takes a moment (here: reading it takes 1.5 s), and
    // the officer takes the next page's photo meanwhile. That photo must survive the first one's queueing.
    await page.evaluate(() => {
      const read = File.prototype.arrayBuffer;
      File.prototype.arrayBuffer = function (this: File) {
        return new Promise<void>((r) => setTimeout(r, 1500)).then(() => read.call(this));
      };
    });
    await pickPage(page, 'perolehan');
    await capture(page, p1.file);
    await page.getByTestId('send-photo').click();
    await pickPage(page, 'administrasi');
    await capture(page, p2.file);
    await expect.poll(() => page.locator('[data-testid="outbox-item"]').count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByTestId('photo-preview').count()).toBe(1);
    await page.getByTestId('send-photo').click();
    await expect.poll(() => page.locator('[data-testid="outbox-item"][data-state="queued"]').count(), { timeout: 20_000 }).toBe(2);
    expect(await page.getByTestId('outbox').getAttribute('data-waiting')).toBe('2');
    await screenshot(page, 'capture-07-offline-queue');
    // A reload while offline keeps the queue (IndexedDB) and the app shell (service worker).
    await page.reload();
    await page.waitForSelector('[data-testid="capture"]');
    await expect.poll(() => page.locator('[data-testid="outbox-item"][data-state="queued"]').count()).toBe(2);
    let [{ n }] = await server.db.sql`select count(*)::int as n from submissions where tps_code = ${t.code}`;
    expect(n).toBe(0);

    // The first upload reaches the server but its answer is lost: the retry must not duplicate it.
    let dropped = 0;
    await page.route('**/api/submissions', async (route) => {
      if (dropped === 0 && route.request().method() === 'POST') {
        dropped++;
        await route.fetch();
        await route.abort('connectionreset');
        return;
      }
      await route.continue();
    });
    await ctx.setOffline(false);
    await expect.poll(() => page.locator('[data-testid="outbox-item"][data-state="done"]').count(), { timeout: 60_000 }).toBe(2);
    expect(dropped).toBe(1);
    const subs = await server.db.sql`select photo_sha256, page from submissions where tps_code = ${t.code} order by id`;
    // Exactly once each, in the order they were taken.
    expect(subs.map((s) => s.photo_sha256)).toEqual([p1.sha, p2.sha]);
    expect(subs.map((s) => s.page)).toEqual(['perolehan', 'administrasi']);
    expect(await page.locator('[data-testid="outbox-item"][data-state="done"]').first().textContent()).toMatch(/sudah diterima sebelumnya/);
    await page.getByTestId('outbox').scrollIntoViewIfNeeded();
    await screenshot(page, 'capture-08-back-online');
    ({ n } = (await server.db.sql`select count(*)::int as n from photos where sha256 in ${server.db.sql([p1.sha, p2.sha])}`)[0] as { n: number });
    expect(n).toBe(2);
    await ctx.close();
  }, 300_000);

  it('practice uploads never change the real totals; an admin resets practice; the command centre sees operators', async () => {
    await ensurePracticeElection(server.db);
    const t = tps[2];
    const practiceId = practiceContestId(CONTEST);
    const { token } = await createUserWithToken(server.db.sql, { name: 'KPPS Latihan', role: 'kpps', scopeCode: t.code });
    const shot = await synthPhoto(practiceId, t, 'perolehan', { seed: 'practice', mistakes: 0 });
    // Reads and publishes of the earlier tests run in the background: let them settle first, so that
    // "before" is the real election's final state and any later change could only come from practice.
    await expect.poll(async () => {
      const [{ n }] = await server.db.sql`
        select (select count(*) from submissions where status in ('received', 'reading'))::int
             + (select count(*) from pgboss.job where name in ('read-page', 'publish-tps') and state in ('created', 'retry', 'active'))::int as n`;
      return n;
    }, { timeout: 180_000, interval: 1000 }).toBe(0);
    const before = await realTallies();
    const realFeedBefore = await (await fetch(`${server.url}/api/results/${CONTEST}/62`)).json() as ResultsResponse;

    const { ctx, page } = await phone(token);
    await page.getByTestId('practice-toggle').check();
    await page.waitForSelector('[data-testid="practice-banner"]');
    expect(await page.locator('input[name="contest"]').first().getAttribute('value')).toBe(practiceId);
    await pickPage(page, 'perolehan');
    await capture(page, shot.file);
    await page.getByTestId('send-photo').click();
    await page.waitForSelector('[data-testid="readback-fields"]', { timeout: 120_000 });
    for (const [k, v] of Object.entries(shot.truth.values)) {
      if (Number(await page.getByTestId(`value-${k}`).inputValue()) !== v) await page.getByTestId(`value-${k}`).fill(String(v));
    }
    await page.getByTestId('confirm').click();
    await page.waitForSelector('[data-testid="kpps-version"][data-status="published"]', { timeout: 30_000 });
    // The sandbox's own tally follows live on the phone, clearly labelled as practice.
    await page.waitForSelector('[data-testid="practice-tally"][data-published="1"]', { timeout: 15_000 });
    await screenshot(page, 'capture-09-practice');

    const practiceFeed = await (await fetch(`${server.url}/api/results/${practiceId}/62`)).json() as ResultsResponse;
    expect(practiceFeed.tally.tpsPublished).toBe(1);
    expect(practiceFeed.tally.suaraSah).toBe(shot.truth.values.suara_sah);
    // Not one real tally row moved, and the real feed is as before.
    expect(await realTallies()).toEqual(before);
    const realFeedAfter = await (await fetch(`${server.url}/api/results/${CONTEST}/62`)).json() as ResultsResponse;
    expect(realFeedAfter.tally).toEqual(realFeedBefore.tally);
    const [{ n: realRows }] = await server.db.sql`select count(*)::int as n from tps_results where tps_code = ${t.code} and contest_id = ${CONTEST}`;
    expect(realRows).toBe(0);
    // Public area lists never show the sandbox.
    const area = await (await fetch(`${server.url}/api/areas/62`)).json() as { tallies: { contestId: string }[] };
    expect(area.tallies.some((x) => x.contestId.startsWith('latihan-'))).toBe(false);

    // Operator list: uploads counted, practice apart; the practice-only officer has not uploaded.
    const { token: centre } = await createUserWithToken(server.db.sql, { name: 'Pusat Komando', role: 'kpu_operator', scopeCode: '62' });
    const ops = await (await fetch(`${server.url}/api/operators?area=6201`, { headers: { authorization: `Bearer ${centre}` } })).json() as OperatorListResponse;
    const byName = new Map(ops.operators.map((o) => [o.name, o]));
    expect(byName.get('KPPS Uji Satu')!.uploads).toBe(2);
    expect(byName.get('KPPS Uji Satu')!.confirmations).toBe(1);
    expect(byName.get('KPPS Latihan')!).toMatchObject({ uploads: 0, practiceUploads: 1 });
    expect(byName.get('KPPS Latihan')!.lastSeenAt).not.toBeNull();
    expect(ops.summary.notUploaded).toBe(1);
    expect(ops.operators[0].uploads).toBe(0); // who has not uploaded comes first
    const bad = await fetch(`${server.url}/api/operators?area=62x`, { headers: { authorization: `Bearer ${centre}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_area_code');
    expect((await fetch(`${server.url}/api/operators?area=62`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);

    // Reset: only an admin; practice is emptied, the real election is untouched, the audit chain holds.
    expect((await fetch(`${server.url}/api/practice/reset`, { method: 'POST', headers: { authorization: `Bearer ${centre}` } })).status).toBe(403);
    const { token: admin } = await createUserWithToken(server.db.sql, { name: 'Admin', role: 'admin', scopeCode: null });
    const reset = await fetch(`${server.url}/api/practice/reset`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(reset.status).toBe(200);
    const out = (await reset.json()) as PracticeResetResponse;
    expect(out.deleted.submissions).toBe(1);
    expect(out.deleted.results).toBeGreaterThanOrEqual(2);
    const afterReset = await (await fetch(`${server.url}/api/results/${practiceId}/62`)).json() as ResultsResponse;
    expect(afterReset.tally.tpsPublished).toBe(0);
    expect(afterReset.tally.suaraSah).toBe(0);
    expect(await realTallies()).toEqual(before);
    // The open practice screen falls back to zero without a reload (reset goes through the change feed).
    await page.waitForSelector('[data-testid="practice-tally"][data-published="0"]', { timeout: 15_000 });
    const [resetAudit] = await server.db.sql`select actor, after from audit_log where action = 'practice.reset' order by id desc limit 1`;
    expect(resetAudit.actor).toContain('Admin');
    expect((await verifyAuditChain(server.db.sql)).ok).toBe(true);
    await ctx.close();
  }, 300_000);
});
