/**
 * The command centre's side of the areas API: TPS not yet in ("belum masuk") with the time polls
 * closed in the TPS's zone, the practice election behind ?latihan=1, and precomputed TPS counts
 * that agree with the register. Real PostgreSQL (Kalimantan Tengah copy), real publish path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import type { TestDatabase } from './support/db.js';
import { publishBatch } from '../db/repositories/publish.js';
import { evaluateBuiltin } from '../workers/jobs/rules.js';
import { pollsCloseAt, timeZoneOfProvince } from '../db/repositories/areas.js';
import type { AreaResponse, MissingTpsResponse } from '../server/contract/index.js';
import { candidateCount, formValues, pickTps, rng } from './ingest-helpers.js';

describe('areas API for the command centre', () => {
  let db: TestDatabase;
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { REKAP_SERVE_CLIENT: '0' } });
    db = server.db;
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
  });

  const get = async <T = Record<string, unknown>>(path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, body: (await res.json()) as T };
  };

  it('puts polls closing at 13:00 in the zone of the province (WIB, WITA, WIT)', () => {
    expect(timeZoneOfProvince('62').name).toBe('WIB');
    expect(timeZoneOfProvince('6471').name).toBe('WITA');
    expect(timeZoneOfProvince('51').name).toBe('WITA');
    expect(timeZoneOfProvince('9471').name).toBe('WIT');
    expect(pollsCloseAt('2024-11-27', '62')).toBe('2024-11-27T06:00:00.000Z');
    expect(pollsCloseAt('2024-11-27', '73')).toBe('2024-11-27T05:00:00.000Z');
    expect(pollsCloseAt('2024-11-27', '91')).toBe('2024-11-27T04:00:00.000Z');
  });

  it('serves TPS counts that match the register at every level, and the close time per race', async () => {
    const [{ n: inKab }] = await db.sql<{ n: number }[]>`select count(*)::int as n from tps where kab_code = '6201'`;
    const kab = (await get<AreaResponse>('/api/areas/6201')).body;
    expect(kab.tpsCount).toBe(inKab);
    const perKec = await db.sql<{ code: string; n: number }[]>`select kec_code as code, count(*)::int as n from tps where kab_code = '6201' group by 1`;
    for (const c of kab.children) expect(c.tpsCount, c.code).toBe(perKec.find((r) => r.code === c.code)?.n ?? 0);
    const [{ date }] = await db.sql<{ date: string }[]>`select e.polling_date::text as date from contests c join elections e on e.id = c.election_id where c.id = 'pkwkk-6201'`;
    const race = kab.tallies.find((t) => t.contestId === 'pkwkk-6201')!;
    expect(race.tpsExpected).toBe(inKab);
    const kec = (await get<AreaResponse>('/api/areas/620101')).body;
    expect(kec.tallies.map((t) => t.tpsExpected)).toEqual(kec.tallies.map(() => kec.tpsCount));
    expect(kec.tpsCount).toBeGreaterThan(0);
    expect(race.pollsCloseAt).toBe(new Date(`${date}T13:00:00+07:00`).toISOString());
    // National: each governor race closes in its own province's zone.
    const national = (await get<AreaResponse>('/api/areas/00')).body;
    const bali = national.tallies.find((t) => t.contestId === 'pkwkp-51');
    if (bali) expect(bali.pollsCloseAt).toBe(new Date(`${date}T13:00:00+08:00`).toISOString());
  });

  it('lists TPS not yet in and drops a TPS once its form is published', async () => {
    const contest = 'pkwkk-6201';
    const [tps] = await pickTps(db.sql, '620101', 1);
    const before = (await get<MissingTpsResponse>(`/api/areas/620101/missing?kontes=${contest}&limit=2000`)).body;
    const [{ n: inKec }] = await db.sql<{ n: number }[]>`select count(*)::int as n from tps where kec_code = '620101'`;
    expect(before.total).toBe(inKec);
    expect(before.timeZone).toBe('WIB');
    expect(before.tps.map((t) => t.code)).toContain(tps.code);
    expect(before.tps.every((t) => t.code.startsWith('620101') && t.desaName && t.kecName === 'Kumai')).toBe(true);

    const values = formValues(tps, await candidateCount(db.sql, contest), rng(7));
    const [out] = await publishBatch(db.sql, [{ tpsCode: tps.code, contestId: contest, stage: 'kpps', values, actorId: null, actor: 'test' }], evaluateBuiltin);
    expect(out).toMatchObject({ status: 'published' });
    const after = (await get<MissingTpsResponse>(`/api/areas/620101/missing?kontes=${contest}&limit=2000`)).body;
    expect(after.total).toBe(inKec - 1);
    expect(after.tps.map((t) => t.code)).not.toContain(tps.code);
    // Published in the bupati race only: the governor race still misses it.
    const gov = (await get<MissingTpsResponse>(`/api/areas/620101/missing?kontes=pkwkp-62&limit=2000`)).body;
    expect(gov.tps.map((t) => t.code)).toContain(tps.code);
    // limit caps the rows, not the total.
    const few = (await get<MissingTpsResponse>(`/api/areas/6201/missing?kontes=${contest}&limit=5`)).body;
    expect(few.tps).toHaveLength(5);
    expect(few.total).toBeGreaterThan(5);
  });

  it('refuses bad requests with a named error', async () => {
    const cases: [string, number, string][] = [
      ['/api/areas/620101/missing', 400, 'missing_contest'],
      ['/api/areas/620101/missing?kontes=pkwkp-62&limit=0', 400, 'invalid_limit'],
      ['/api/areas/620101/missing?kontes=pkwkp-62&limit=abc', 400, 'invalid_limit'],
      ['/api/areas/620101/missing?kontes=nope', 404, 'contest_not_found'],
      ['/api/areas/620101/missing?kontes=pkwkk-6202', 400, 'contest_not_in_area'],
      ['/api/areas/62x/missing?kontes=pkwkp-62', 400, 'invalid_area_code'],
      ['/api/areas/62?latihan=maybe', 400, 'invalid_practice_flag'],
    ];
    for (const [path, status, code] of cases) {
      const r = await get<{ error: { code: string; message: string } }>(path);
      expect(r.status, path).toBe(status);
      expect(r.body.error.code, path).toBe(code);
      expect(r.body.error.message.length, path).toBeGreaterThan(5);
    }
  });

  it('serves the practice election apart: ?latihan=1 lists only practice races', async () => {
    // The practice mirror is created on first use of the practice API.
    expect((await get('/api/practice')).status).toBe(200);
    const real = (await get<AreaResponse>('/api/areas/6201')).body;
    const practice = (await get<AreaResponse>('/api/areas/6201?latihan=1')).body;
    expect(real.practice).toBeUndefined();
    expect(real.tallies.every((t) => !t.contestId.startsWith('latihan-'))).toBe(true);
    expect(practice.practice).toBe(true);
    expect(practice.tallies.map((t) => t.contestId).sort()).toEqual(real.tallies.map((t) => `latihan-${t.contestId}`).sort());
    expect(practice.tallies.every((t) => t.candidates.length > 0)).toBe(true);
    expect(practice.children).toEqual(real.children);
  });
});
