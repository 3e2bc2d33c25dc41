/**
 * A short, fast election night against a real test server (HTTP + Socket.IO + PostgreSQL): every TPS
 * that reported is published or quarantined exactly once, totals equal what was sent and the recount,
 * viewers converge; one device token per TPS; a server with a tiny rate limit answers 429 and the
 * simulator waits out Retry-After and still gets every form counted once; photo mode through the real
 * reader on a handful of TPS; a night cannot be replayed over existing results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { createUserWithToken } from '../db/repositories/tokens.js';
import { runSimulation, SimulationError, type SimSummary } from '../server/simulate/index.js';
import { arrivalMinutes, formValues, rng, withMistake, type SimContest } from '../server/simulate/night.js';
import { evaluateBuiltin } from '../workers/jobs/rules.js';

describe('rekap simulate', () => {
  let server: TestServer;
  let token: string;
  let summary: SimSummary;

  beforeAll(async () => {
    server = await startTestServer({ template: 'kalteng' });
    token = (await createUserWithToken(server.db.sql, { name: 'sim', role: 'admin', scopeCode: null })).token;
    // 120 TPS × 2 races, a 20-hour night in a few seconds, heavy error profile, 30 viewers, one device per TPS.
    summary = await runSimulation({ url: server.url, sql: server.db.sql, scope: 'kalteng', mode: 'readings', speed: 30_000, viewers: 30, errors: 'heavy', tpsLimit: 120, seed: 7 });
  }, 240_000);
  afterAll(async () => server?.close());

  it('publishes or quarantines every reported form exactly once, KPPS mistakes quarantined', () => {
    expect(summary.tps.inScope).toBe(120);
    expect(summary.tps.reported).toBe(120 - summary.tps.neverReported);
    const forms = summary.results.published + summary.results.quarantined;
    expect(forms).toBeGreaterThan(200);
    expect(summary.results.exactlyOnce).toBe(true);
    expect(summary.results.quarantined).toBe(summary.uploads.mistakes);
    expect(summary.uploads.mistakes).toBeGreaterThan(0);
    // Duplicates change nothing; wrong pages are refused with 404.
    expect(summary.uploads.duplicates).toBeGreaterThan(0);
    expect(summary.uploads.unchanged).toBe(summary.uploads.duplicates);
    expect(summary.uploads.httpErrors['404']).toBe(summary.uploads.wrongPages);
    expect(summary.uploads.created).toBe(forms);
  });

  it('each reporting TPS uploads with its own device token, scoped to it', async () => {
    expect(summary.tokens.perTps).toBe(true);
    expect(summary.tokens.created).toBe(summary.tps.reported);
    const [row] = await server.db.sql<{ users: number; wrong: number }[]>`
      select count(distinct r.created_by)::int as users,
             count(*) filter (where u.role <> 'kpps' or u.scope_code <> r.tps_code)::int as wrong
      from tps_results r join users u on u.id = r.created_by`;
    expect(row.users).toBe(summary.tps.reported);
    expect(row.wrong).toBe(0);
  });

  it('totals equal what was sent and the recount; viewers converge', () => {
    expect(summary.totals.mismatches).toEqual([]);
    expect(summary.totals.recountMismatches).toBe(0);
    expect(summary.viewers.connected).toBe(30);
    expect(summary.viewers.converged).toBe(30);
    expect(summary.viewers.deltasReceived).toBeGreaterThan(0);
    expect(summary.ok).toBe(true);
  });

  it('the API totals match the database rows independently of the simulator', async () => {
    const [row] = await server.db.sql<{ n: number; q: number }[]>`select count(*) filter (where status = 'published')::int as n, count(*) filter (where status = 'quarantined')::int as q from tps_results where is_current and contest_id = 'pkwkp-62'`;
    const res = await (await fetch(`${server.url}/api/results/pkwkp-62/62.json`)).json();
    expect(res.tally.tpsPublished).toBe(row.n);
    expect(res.tally.tpsQuarantined).toBe(row.q);
  });

  it('refuses to replay a night over existing results', async () => {
    await expect(runSimulation({ url: server.url, sql: server.db.sql, token, scope: 'kalteng', mode: 'readings', speed: 30_000, viewers: 0, errors: 'none', tpsLimit: 5 })).rejects.toBeInstanceOf(SimulationError);
  });
});

describe('rekap simulate against a tiny rate limit', () => {
  let server: TestServer;
  afterAll(async () => server?.close());

  it('waits out 429 Retry-After and still counts every TPS exactly once', async () => {
    // One request per token per second: a TPS's second race, duplicates and wrong pages all hit 429.
    server = await startTestServer({ template: 'kalteng', env: { REKAP_RATE_PER_TOKEN: '1', REKAP_RATE_WINDOW_SECONDS: '1' } });
    const s = await runSimulation({ url: server.url, sql: server.db.sql, scope: 'kalteng', mode: 'readings', speed: 30_000, viewers: 4, errors: 'heavy', tpsLimit: 25, seed: 9 });
    expect(s.retries.rateLimited).toBeGreaterThan(0);
    expect(s.refused.rate_limited).toBe(s.retries.rateLimited);
    expect(s.retries.gaveUp).toBe(0);
    expect(s.results.exactlyOnce).toBe(true);
    expect(s.results.published + s.results.quarantined).toBe(s.tps.reported * 2);
    expect(s.totals.mismatches).toEqual([]);
    expect(s.totals.recountMismatches).toBe(0);
    expect(s.ok).toBe(true);
  }, 120_000);
});

describe('rekap simulate --photos', () => {
  let server: TestServer;
  afterAll(async () => server?.close());

  it('photographs, uploads and reads a handful of TPS; every form ends counted once with the written numbers', async () => {
    server = await startTestServer({ template: 'kalteng', workers: {} });
    const s = await runSimulation({ url: server.url, sql: server.db.sql, database: server.db, scope: 'kalteng', mode: 'photos', speed: 30_000, viewers: 2, errors: 'none', tpsLimit: 2, seed: 3 });
    const forms = s.tps.reported * 2;
    expect(s.photos!.rendered).toBeGreaterThanOrEqual(forms * 2);
    expect(s.photos!.uploaded).toBeGreaterThanOrEqual(forms * 2);
    // Every form either came out of the reader right or was confirmed by its KPPS; none stays wrong.
    expect(s.photos!.machineCorrect + s.photos!.kppsConfirmed).toBe(forms);
    expect(s.results.exactlyOnce).toBe(true);
    expect(s.results.published).toBe(forms);
    expect(s.totals.mismatches).toEqual([]);
    expect(s.totals.recountMismatches).toBe(0);
    const [{ n }] = await server.db.sql<{ n: number }[]>`select count(*)::int as n from submissions`;
    expect(n).toBe(s.photos!.uploaded);
  }, 240_000);
});

describe('night generator', () => {
  const contest: SimContest = { id: 'pkwkp-62', type: 'pkwkp', areaCode: '62', candidates: [1, 2, 3].map((n) => ({ id: String(n), number: n, isEmptyColumn: false })) };
  const tps = { code: '6201011001001', votersL: 250, votersP: 260, kabCode: '6201', kecCode: '620101', desaCode: '6201011001' };
  const master = { ...tps, provCode: '62', number: 1, isSpecial: false };
  const info = { ...contest, type: 'pkwkp' as const };

  it('clean forms pass the hard rules and follow the real shares; mistakes fail them', () => {
    const shares = new Map([['pkwkp-62', new Map([['620101', { '1': 100, '2': 800, '3': 100 }]])]]);
    const r = rng(1);
    let second = 0, all = 0;
    for (let i = 0; i < 200; i++) {
      const v = formValues(tps, contest, shares, r);
      expect(evaluateBuiltin({ tps: master, contest: info, values: v }).quarantined).toBe(false);
      expect(evaluateBuiltin({ tps: master, contest: info, values: withMistake(v, contest, r) }).quarantined).toBe(true);
      second += v.suara_paslon_2; all += v.suara_sah;
    }
    expect(second / all).toBeGreaterThan(0.7);
    expect(second / all).toBeLessThan(0.9);
  });

  it('arrivals peak in the evening and stay within the night', () => {
    const r = rng(3);
    const xs = Array.from({ length: 5000 }, () => arrivalMinutes(r)).sort((a, b) => a - b);
    expect(xs[0]).toBeGreaterThanOrEqual(60);
    expect(xs.at(-1)!).toBeLessThanOrEqual(1200);
    const median = xs[2500];
    expect(median).toBeGreaterThan(180);
    expect(median).toBeLessThan(300);
  });
});
