/**
 * Public feeds on a real PostgreSQL: results JSON and CSV re-sum exactly to the database, the change
 * feed pages by version, the Sirekap-shaped hhcw feed carries the same numbers, caching headers, and
 * bad parameters get 4xx JSON naming the problem.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { createApp } from '../server/http/app.js';
import { loadConfig } from '../server/config.js';
import { publishBatch, type PublishRequest } from '../db/repositories/publish.js';
import { evaluateBuiltin } from '../workers/jobs/rules.js';
import type { ChangesResponse, ResultsResponse } from '../server/contract/index.js';
import { candidateCount, formValues, pickTps, rng, type TpsInfo } from './ingest-helpers.js';

const CONTEST = 'pkwkp-62';

describe('feeds', () => {
  let db: TestDatabase;
  let server: Server;
  let base: string;
  let tps: TpsInfo[];
  let candIds: string[];

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    const config = loadConfig({ DATABASE_URL: db.url, REKAP_SERVE_CLIENT: '0', PORT: '0', HOST: '127.0.0.1' });
    server = createServer(createApp({ config, database: db, log: () => {} }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    tps = await pickTps(db.sql, '6201', 80);
    const n = await candidateCount(db.sql, CONTEST);
    candIds = (await db.sql<{ id: string }[]>`select id from candidates where contest_id = ${CONTEST} order by number`).map((c) => c.id);
    const r = rng(11);
    const reqs: PublishRequest[] = tps.map((t, i) => {
      const values = formValues(t, n, r);
      if (i % 10 === 0) values.suara_sah += 4; // H1 fails: quarantined
      return { tpsCode: t.code, contestId: CONTEST, stage: 'kpps', values, actorId: null, actor: 'test' };
    });
    await publishBatch(db.sql, reqs.slice(0, 40), evaluateBuiltin);
    await publishBatch(db.sql, reqs.slice(40), evaluateBuiltin);
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await db?.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, { headers });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };

  it('results JSON re-sums exactly to the published TPS rows, at every level', async () => {
    for (const area of ['00', '62', '6201', tps[0].kecCode, tps[0].desaCode]) {
      const res = await get(`/api/results/${CONTEST}/${area}`);
      expect(res.status, area).toBe(200);
      expect(res.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
      const body = res.json() as ResultsResponse;
      const [sum] = await db.sql`
        select coalesce(sum(suara_sah), 0)::int as sah, count(*) filter (where status = 'published')::int as pub,
               count(*) filter (where status = 'quarantined')::int as q
        from tps_results where is_current and contest_id = ${CONTEST} and tps_code like ${(area === '00' ? '' : area) + '%'} and status in ('published', 'quarantined')`;
      const [sahPublished] = await db.sql`select coalesce(sum(suara_sah), 0)::int as s from tps_results where is_current and contest_id = ${CONTEST} and status = 'published' and tps_code like ${(area === '00' ? '' : area) + '%'}`;
      expect(body.tally.suaraSah, area).toBe(sahPublished.s);
      expect(body.tally.tpsPublished).toBe(sum.pub);
      expect(body.tally.tpsQuarantined).toBe(sum.q);
      expect(body.tally.tpsMissing).toBe(body.tally.tpsExpected - sum.pub - sum.q);
      // Children add up to the parent.
      const childSah = body.children.reduce((a, c) => a + c.suaraSah, 0);
      expect(childSah, area).toBe(body.tally.suaraSah);
      for (const id of candIds) expect(body.children.reduce((a, c) => a + (c.votes[id] ?? 0), 0)).toBe(body.tally.votes[id] ?? 0);
    }
  });

  it('CSV has the same numbers (suffix and ?format=csv), and answers 304 to a matching ETag', async () => {
    const json = (await get(`/api/results/${CONTEST}/6201`)).json() as ResultsResponse;
    for (const path of [`/api/results/${CONTEST}/6201.csv`, `/api/results/${CONTEST}/6201?format=csv`]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      const lines = res.text.trim().split('\r\n').map((l) => l.split(','));
      const header = lines[0];
      expect(header[0]).toBe('kode');
      const sahCol = header.indexOf('suara_sah');
      expect(Number(lines[1][sahCol])).toBe(json.tally.suaraSah);
      expect(lines.slice(2).reduce((a, l) => a + Number(l[sahCol]), 0)).toBe(json.tally.suaraSah);
      const etag = res.headers.get('etag')!;
      expect((await get(path, { 'if-none-match': etag })).status).toBe(304);
    }
  });

  it('the change feed pages by version and filters by area', async () => {
    const all = (await get('/api/changes?since=0&limit=30')).json() as ChangesResponse;
    expect(all.changes).toHaveLength(30);
    expect(all.more).toBe(true);
    const next = (await get(`/api/changes?since=${all.version}&limit=1000`)).json() as ChangesResponse;
    expect(next.more).toBe(false);
    expect(all.changes.length + next.changes.length).toBe(80);
    const versions = [...all.changes, ...next.changes].map((c) => c.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    const desa = (await get(`/api/changes?since=0&area=${tps[0].desaCode}`)).json() as ChangesResponse;
    expect(desa.changes.length).toBe(tps.filter((t) => t.desaCode === tps[0].desaCode).length);
    expect(desa.changes.every((c) => c.areaCodes.includes(tps[0].desaCode))).toBe(true);
  });

  it('hhcw (Sirekap shape) carries the same numbers: aggregate, table and TPS detail', async () => {
    const json = (await get(`/api/results/${CONTEST}/6201`)).json() as ResultsResponse;
    const agg = (await get('/api/hhcw/pkwkp/62/6201.json')).json();
    expect(agg.mode).toBe('hhcw');
    expect(agg.ts).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(agg.progres).toEqual({ total: json.tally.tpsExpected, progres: json.tally.tpsPublished });
    for (const id of candIds) expect(agg.tungsura.chart[id]).toBe(json.tally.votes[id] ?? 0);
    const kec = json.children.find((c) => c.tpsPublished > 0)!;
    expect(agg.tungsura.table[kec.code][candIds[0]]).toBe(kec.votes[candIds[0]] ?? 0);
    const published = (await db.sql`select tps_code, votes from tps_results where is_current and status = 'published' limit 1`)[0];
    const t = published.tps_code as string;
    const detail = (await get(`/api/hhcw/pkwkp/62/${t.slice(0, 4)}/${t.slice(0, 6)}/${t.slice(0, 10)}/${t}.json`)).json();
    expect(detail.status_suara).toBe(true);
    expect(detail.tungsura.chart).toHaveProperty('null', null);
    for (const id of candIds) expect(detail.tungsura.chart[id]).toBe(published.votes[id]);
    const quarantined = (await db.sql`select tps_code from tps_results where is_current and status = 'quarantined' limit 1`)[0].tps_code as string;
    const q = (await get(`/api/hhcw/pkwkp/62/${quarantined.slice(0, 4)}/${quarantined.slice(0, 6)}/${quarantined.slice(0, 10)}/${quarantined}.json`)).json();
    expect(q.tungsura.chart).toBeNull();
    expect(q.rekap.status).toBe('quarantined');
  });

  it('the audit head is public', async () => {
    const head = (await get('/api/audit/head')).json();
    expect(head.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(head.count).toBeGreaterThanOrEqual(80);
  });

  it('bad parameters get 4xx JSON naming the problem', async () => {
    for (const [path, status, code] of [
      [`/api/results/${CONTEST}/6x`, 400, 'invalid_area_code'],
      [`/api/results/nope/62`, 404, 'contest_not_found'],
      [`/api/results/${CONTEST}/63`, 400, 'area_outside_contest'],
      [`/api/results/${CONTEST}/62?format=xml`, 400, 'invalid_format'],
      ['/api/changes?since=-4', 400, 'invalid_since'],
      ['/api/changes?limit=0', 400, 'invalid_limit'],
      ['/api/hhcw/pkwkp/62/63.json', 400, 'invalid_hhcw_path'],
      ['/api/hhcw/pkwkk/62.json', 400, 'invalid_hhcw_path'],
      ['/api/tps/123', 400, 'invalid_tps'],
      ['/api/tps/6201011001999', 404, 'tps_not_found'],
      ['/api/submissions/abc', 400, 'invalid_submission_id'],
      ['/api/photos/xyz', 400, 'invalid_photo_hash'],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(status);
      expect(res.json().error.code, path).toBe(code);
    }
  });
});
