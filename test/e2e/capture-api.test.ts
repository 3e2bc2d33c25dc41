import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createUserWithToken } from '../../db/repositories/tokens.js';
import { ensurePracticeElection, practiceContestId, resetPractice } from '../../db/seed/practice.js';
import { publishBatch } from '../../db/repositories/publish.js';
import { evaluateBuiltin } from '../../workers/jobs/rules.js';
import { homographyFrom } from '../../server/http/routes/operators.js';
import { candidateCount, formValues, pickTps, rng } from '../ingest-helpers.js';
import type { OperatorMeResponse, PracticeInfo } from '../../server/contract/index.js';

/**
 * The capture API without a browser: practice mirror (idempotent, same candidates), reset bounded to
 * practice, /operators/me for a TPS device, the reading-frame route and its refusals, and the
 * homography it relies on.
 */
const CONTEST = 'pkwkp-62';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const get = (path: string, token?: string) => fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('practice election', () => {
  it('mirrors every real contest and its candidates, idempotently', async () => {
    const first = await ensurePracticeElection(server.db);
    const again = await ensurePracticeElection(server.db);
    expect(again).toMatchObject({ contests: 0, candidates: 0, created: false });
    expect(first.contests === 0 || first.contests === 545).toBe(true); // the route may have created it first
    const [{ real, practice }] = await server.db.sql`
      select count(*) filter (where not e.is_practice)::int as real, count(*) filter (where e.is_practice)::int as practice
      from contests c join elections e on e.id = c.election_id`;
    expect(practice).toBe(real);
    const cands = await server.db.sql`select number, head_name from candidates where contest_id = ${practiceContestId(CONTEST)} order by number`;
    const realCands = await server.db.sql`select number, head_name from candidates where contest_id = ${CONTEST} order by number`;
    expect(cands).toEqual(realCands);
    const info = (await (await get('/api/practice')).json()) as PracticeInfo;
    expect(info).toMatchObject({ electionId: 'latihan', contests: real, submissions: 0, results: 0 });
  });

  it('reset removes practice results only and zeroes practice tallies', async () => {
    const [t] = await pickTps(server.db.sql, '6202', 1);
    const n = await candidateCount(server.db.sql, CONTEST);
    const values = formValues(t, n, rng(7));
    await publishBatch(server.db.sql, [
      { tpsCode: t.code, contestId: CONTEST, stage: 'kpps', values, actorId: null, actor: 'test' },
      { tpsCode: t.code, contestId: practiceContestId(CONTEST), stage: 'kpps', values, actorId: null, actor: 'test' },
    ], evaluateBuiltin);
    const tally = (c: string) => server.db.sql`select tps_published, suara_sah::int from area_tallies where contest_id = ${c} and area_code = '62'`.then((r) => r[0]);
    expect(await tally(practiceContestId(CONTEST))).toEqual({ tps_published: 1, suara_sah: values.suara_sah });
    const realBefore = await tally(CONTEST);
    expect(realBefore).toEqual({ tps_published: 1, suara_sah: values.suara_sah });

    const out = await resetPractice(server.db, { userId: null, label: 'test' });
    expect(out.deleted.results).toBe(1);
    expect(out.version).toBeGreaterThan(0);
    expect(await tally(practiceContestId(CONTEST))).toEqual({ tps_published: 0, suara_sah: 0 });
    expect(await tally(CONTEST)).toEqual(realBefore);
    const [{ k }] = await server.db.sql`select count(*)::int as k from changes where kind = 'reset' and contest_id = ${practiceContestId(CONTEST)}`;
    expect(k).toBe(1);
    // A second reset finds nothing and writes no change row.
    const twice = await resetPractice(server.db, { userId: null, label: 'test' });
    expect(twice).toMatchObject({ version: null, deleted: { results: 0, submissions: 0 } });
  });

  it('refuses reset without a token (401) and to non-admins (403)', async () => {
    const r1 = await fetch(`${server.url}/api/practice/reset`, { method: 'POST' });
    expect(r1.status).toBe(401);
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('auth_required');
    const { token } = await createUserWithToken(server.db.sql, { name: 'op', role: 'kpu_operator', scopeCode: null });
    const r2 = await fetch(`${server.url}/api/practice/reset`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(r2.status).toBe(403);
  });
});

describe('operators and frames', () => {
  it('/operators/me describes a TPS device with its real and practice contests', async () => {
    const [t] = await pickTps(server.db.sql, '6203', 1);
    const { token } = await createUserWithToken(server.db.sql, { name: 'KPPS', role: 'kpps', scopeCode: t.code });
    const me = (await (await get('/api/operators/me', token)).json()) as OperatorMeResponse;
    expect(me.tps?.code).toBe(t.code);
    expect(me.path.map((a) => a.code)).toEqual(['00', '62', t.kabCode, t.kecCode, t.desaCode]);
    const real = me.contests.filter((c) => !c.isPractice).map((c) => c.id);
    expect(real).toEqual(['pkwkp-62', `pkwkk-${t.kabCode}`]);
    expect(me.contests.filter((c) => c.isPractice).map((c) => c.mirrorOf)).toEqual(real);
    const [{ seen }] = await server.db.sql`select count(*)::int as seen from tokens where last_seen_at is not null and user_id = (select id from users where scope_code = ${t.code})`;
    expect(seen).toBe(1);
    expect((await get('/api/operators/me')).status).toBe(401);
    expect((await get('/api/operators/me', 'rk_not_a_token')).status).toBe(401);
  });

  it('frame route refuses bad and unknown ids with a named error', async () => {
    const bad = await get('/api/capture/readings/abc/frame');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_reading_id');
    const missing = await get('/api/capture/readings/999999/frame');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('reading_not_found');
  });

  it('homographyFrom maps its four points exactly and refuses degenerate ones', () => {
    const src: [number, number][] = [[10, 10], [1200, 12], [1190, 1700], [8, 1690]];
    const dst: [number, number][] = [[311, 220], [2710, 305], [2600, 3900], [260, 3810]];
    const h = homographyFrom(src, dst)!;
    for (let i = 0; i < 4; i++) {
      const [x, y] = src[i];
      const w = h[2][0] * x + h[2][1] * y + h[2][2];
      expect((h[0][0] * x + h[0][1] * y + h[0][2]) / w).toBeCloseTo(dst[i][0], 6);
      expect((h[1][0] * x + h[1][1] * y + h[1][2]) / w).toBeCloseTo(dst[i][1], 6);
    }
    expect(homographyFrom([[0, 0], [1, 1], [2, 2], [3, 3]], dst)).toBeNull();
  });
});
