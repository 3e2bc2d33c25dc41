/**
 * The spine with the REAL reader: `rekap synth` renders two photographed pages of one TPS (real
 * handwriting crops, camera damage), they are uploaded over HTTP, the worker's reader pool (OpenCV +
 * digit model + decoder, in a child process) reads them, and the publish job decides. Whatever the
 * reader concludes, the outcome must be one the rules allow: published numbers equal what is written
 * on the form; anything else waits as "menunggu verifikasi" and never reaches the totals.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { loadConfig } from '../server/config.js';
import { startApi, type RunningApi } from '../server/runtime/api.js';
import { startWorkers, type RunningWorkers } from '../workers/runtime.js';
import { createUserWithToken } from '../db/repositories/tokens.js';
import { recountTallies } from '../db/repositories/publish.js';

const run = promisify(execFile);
const CONTEST = 'pkwkp-62';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('real photo through the real reader', () => {
  let db: TestDatabase;
  let dir: string;
  let api: RunningApi;
  let workers: RunningWorkers;

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    dir = mkdtempSync(join(tmpdir(), 'rekap-real-'));
    chmodSync(dir, 0o777);
    const config = loadConfig({ DATABASE_URL: db.url, REKAP_DATA_DIR: join(dir, 'data'), PORT: '0', HOST: '127.0.0.1', REKAP_SERVE_CLIENT: '0', REKAP_READER_PROCESSES: '1' });
    const log = () => {};
    workers = await startWorkers({ config, database: db, url: db.url, log });
    api = await startApi(config, db, log, { databaseUrl: db.url, queue: workers.queue });
  }, 180_000);
  afterAll(async () => {
    await api?.close();
    await workers?.stop();
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('synthetic photographed pages → reader pool → published with the written numbers, or held for review', async () => {
    const out = join(dir, 'synth');
    await run('npx', ['tsx', 'server/cli/main.ts', 'synth', '--contest', CONTEST, '--n', '2', '--out', out, '--seed', '11', '--mistakes', '0', '--unreadable', '0', '--page', 'both'], { env: { ...process.env, DATABASE_URL: db.url }, cwd: process.cwd(), timeout: 240_000 });
    const truths = readdirSync(out).filter((f) => f.endsWith('.json') && /^\d+-/.test(f)).map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')));
    expect(truths).toHaveLength(2);
    const tpsCode = truths[0].kode_tps as string;
    const token = (await createUserWithToken(db.sql, { name: 'KPPS real', role: 'kpps', scopeCode: tpsCode })).token;
    const ids: number[] = [];
    for (const t of truths) {
      const form = new FormData();
      form.append('tps', tpsCode);
      form.append('contest', CONTEST);
      form.append('page', t.page);
      form.append('photo', new Blob([new Uint8Array(readFileSync(join(out, t.file)))]), t.file);
      const res = await fetch(`${api.url}/api/submissions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: number }).id);
    }
    const end = Date.now() + 240_000;
    let subs: { status: string }[] = [];
    while (Date.now() < end) {
      subs = await db.sql`select status from submissions where id in ${db.sql(ids)}`;
      if (subs.every((s) => ['read', 'rejected', 'failed'].includes(s.status))) break;
      await sleep(500);
    }
    expect(subs.map((s) => s.status).sort()).toEqual(['read', 'read']);
    const readings = await db.sql`select r.cls, r.values, r.reader_version, s.page from readings r join submissions s on s.id = r.submission_id where s.id in ${db.sql(ids)}`;
    expect(readings).toHaveLength(2);
    expect(readings.every((r) => r.reader_version !== 'test-reader' && Object.keys(r.values).length > 5)).toBe(true);
    // Both pages are read, but each page's publish job runs on its own: until the second one has run,
    // the current result holds one page ('incomplete'). Wait for the one that holds both.
    let result;
    while (Date.now() < end) {
      result = (await db.sql`select * from tps_results where tps_code = ${tpsCode} and is_current`)[0];
      if (result && result.status !== 'incomplete') break;
      await sleep(500);
    }
    expect(result).toBeTruthy();
    if (!result) return;
    const truth = Object.assign({}, ...truths.map((t) => t.values)) as Record<string, number>;
    const [national] = await db.sql`select suara_sah, tps_published, tps_quarantined from area_tallies where contest_id = ${CONTEST} and area_code = '00'`;
    if (result.status === 'published') {
      // Published means every number shown is the one written on the form.
      for (const k of Object.keys(truth).filter((k) => k.startsWith('suara_'))) expect(result.values[k], k).toBe(truth[k]);
      expect(Number(national.suara_sah)).toBe(truth.suara_sah);
    } else {
      expect(result.status).toBe('quarantined');
      expect(national.tps_published).toBe(0);
      expect(national.tps_quarantined).toBe(1);
    }
    expect((await recountTallies(db.sql, { contestId: CONTEST })).mismatches).toEqual([]);

    // Review crops: a field's boxes cut upright out of the stored photo (PNG at 12 px/mm, traceable to
    // the photo's hash); a box alone is one box wide; unknown fields and bad ids are named errors.
    const [rd] = await db.sql`select r.id, r.detail, s.photo_sha256 from readings r join submissions s on s.id = r.submission_id
                               where s.id in ${db.sql(ids)} and s.page = 'perolehan'`;
    const roi = rd.detail.fields.suara_sah.roi as [number, number, number, number][];
    const strip = await fetch(`${api.url}/api/readings/${rd.id}/crops/suara_sah.png`);
    expect(strip.status).toBe(200);
    expect(strip.headers.get('content-type')).toBe('image/png');
    expect(strip.headers.get('x-photo-sha256')).toBe(rd.photo_sha256);
    const meta = await sharp(Buffer.from(await strip.arrayBuffer())).stats();
    const pxPerMm = rd.detail.frame.pxPerMm as number;
    const widthMm = (Math.max(...roi.map((b) => b[0] + b[2])) - Math.min(...roi.map((b) => b[0]))) / pxPerMm + 2;
    const info = await sharp(Buffer.from(await (await fetch(`${api.url}/api/readings/${rd.id}/crops/suara_sah.png`)).arrayBuffer())).metadata();
    expect(Math.abs(info.width! - widthMm * 12)).toBeLessThanOrEqual(2);
    // Ink and paper both present: the crop is the page, not a blank or off-page area.
    expect(meta.channels[0].min).toBeLessThan(100);
    expect(meta.channels[0].max).toBeGreaterThan(180);
    const one = await sharp(Buffer.from(await (await fetch(`${api.url}/api/readings/${rd.id}/crops/suara_sah.png?box=0`)).arrayBuffer())).metadata();
    expect(Math.abs(one.width! - (roi[0][2] / pxPerMm) * 12)).toBeLessThanOrEqual(2);
    expect((await fetch(`${api.url}/api/readings/${rd.id}/crops/no_such_field.png`)).status).toBe(404);
    expect((await fetch(`${api.url}/api/readings/abc/crops/suara_sah.png`)).status).toBe(400);
  }, 480_000);
});
