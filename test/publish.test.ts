/**
 * Publishing on a real PostgreSQL: hard-rule gate, quarantine kept out of totals, versions and stage
 * order, idempotency, incremental tallies equal to a recount after 10,000 random publishes and
 * corrections, and the change feed / audit rows each publish writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { currentResult, publishBatch, recountTallies, type PublishRequest } from '../db/repositories/publish.js';
import { verifyAuditChain } from '../db/repositories/audit.js';
import { evaluateBuiltin } from '../workers/jobs/rules.js';
import { candidateCount, formValues, pickTps, rng, type TpsInfo } from './ingest-helpers.js';

const CONTEST = 'pkwkp-62';

describe('publishBatch', () => {
  let db: TestDatabase;
  let tps: TpsInfo[];
  let n: number;
  let candIds: string[];

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    tps = await pickTps(db.sql, '62', 400, { spread: true });
    n = await candidateCount(db.sql, CONTEST);
    candIds = (await db.sql<{ id: string }[]>`select id from candidates where contest_id = ${CONTEST} order by number`).map((c) => c.id);
    expect(tps.length).toBe(400);
    expect(n).toBeGreaterThanOrEqual(2);
  });
  afterAll(async () => db?.close());

  const tally = async (area: string) => {
    const [t] = await db.sql`select * from area_tallies where contest_id = ${CONTEST} and area_code = ${area}`;
    return t;
  };
  const req = (t: TpsInfo, values: Record<string, number>, stage: PublishRequest['stage'] = 'kpps'): PublishRequest =>
    ({ tpsCode: t.code, contestId: CONTEST, stage, values, actorId: null, actor: 'test' });

  it('publishes a consistent TPS and adds it to every level from desa to national', async () => {
    const t = tps[0];
    const values = formValues(t, n, rng(1));
    const [out] = await publishBatch(db.sql, [req(t, values)], evaluateBuiltin);
    expect(out).toMatchObject({ outcome: 'created', status: 'published', version: 1 });
    for (const area of ['00', t.provCode, t.kabCode, t.kecCode, t.desaCode]) {
      const row = await tally(area);
      expect(Number(row.tps_published), area).toBe(1);
      expect(Number(row.suara_sah), area).toBe(values.suara_sah);
      expect(Number(row.votes[candIds[0]] ?? 0)).toBe(values.suara_paslon_1);
      expect(Number(row.tps_expected)).toBeGreaterThan(0);
    }
    const changes = await db.sql`select * from changes where tps_code = ${t.code}`;
    expect(changes).toHaveLength(1);
    expect(changes[0].area_codes).toEqual(['00', t.provCode, t.kabCode, t.kecCode, t.desaCode]);
    const audit = await db.sql`select * from audit_log where entity_id = ${`${t.code}:${CONTEST}:v1`}`;
    expect(audit).toHaveLength(1);
    expect(audit[0].after.values.suara_sah).toBe(values.suara_sah);
  });

  it('the same request twice creates one version (idempotent)', async () => {
    const t = tps[0];
    const cur = await currentResult(db.sql, t.code, CONTEST);
    const [again] = await publishBatch(db.sql, [req(t, cur!.values)], evaluateBuiltin);
    expect(again.outcome).toBe('unchanged');
    const versions = await db.sql`select count(*)::int as n from tps_results where tps_code = ${t.code}`;
    expect(versions[0].n).toBe(1);
  });

  it('quarantines an H1 failure: kept out of the totals, counted on its own line, an anomaly row', async () => {
    const t = tps[1];
    const before = await tally('00');
    const values = formValues(t, n, rng(2));
    values.suara_paslon_1 += 500; // the Depok case: Σ paslon ≠ suara sah by +500
    const [out] = await publishBatch(db.sql, [req(t, values)], evaluateBuiltin);
    expect(out).toMatchObject({ outcome: 'created', status: 'quarantined' });
    const after = await tally('00');
    expect(Number(after.suara_sah)).toBe(Number(before.suara_sah));
    expect(after.votes).toEqual(before.votes);
    expect(Number(after.tps_quarantined)).toBe(Number(before.tps_quarantined) + 1);
    expect(Number(after.quarantined_votes)).toBe(Number(before.quarantined_votes) + values.suara_total);
    const [cur] = await db.sql`select rules from tps_results where tps_code = ${t.code} and is_current`;
    expect(cur.rules.find((r: { rule: string }) => r.rule === 'H1')).toMatchObject({ status: 'FAIL', delta: 500 });
    const anomalies = await db.sql`select * from anomalies where tps_code = ${t.code} and rule = 'H1'`;
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]).toMatchObject({ kind: 'hard_rule', status: 'active', area_code: t.desaCode });
  });

  it('a reviewer correction releases the quarantine; a later machine read cannot overwrite it', async () => {
    const t = tps[1];
    const fixed = formValues(t, n, rng(2));
    const [out] = await publishBatch(db.sql, [req(t, fixed, 'reviewer')], evaluateBuiltin);
    expect(out).toMatchObject({ outcome: 'created', status: 'published', version: 2 });
    const anomalies = await db.sql`select status from anomalies where tps_code = ${t.code} and rule = 'H1'`;
    expect(anomalies[0].status).toBe('resolved');
    const wrong = { ...fixed, suara_paslon_2: fixed.suara_paslon_2 + 1 };
    const [stale] = await publishBatch(db.sql, [req(t, wrong, 'machine')], evaluateBuiltin);
    expect(stale.outcome).toBe('stale_stage');
    expect((await currentResult(db.sql, t.code, CONTEST))!.values).toEqual(fixed);
  });

  it('a TPS from another kab/kota is refused for a bupati contest', async () => {
    const other = tps.find((x) => x.kabCode !== '6201')!;
    const [out] = await publishBatch(db.sql, [{ ...req(other, formValues(other, 2, rng(3))), contestId: 'pkwkk-6201' }], evaluateBuiltin);
    expect(out.outcome).toBe('unknown_contest');
  });

  it('after 10,000 random publishes and corrections the incremental tallies equal the recount', async () => {
    const r = rng(42);
    const stages: PublishRequest['stage'][] = ['machine', 'kpps', 'reviewer', 'recap'];
    let created = 0;
    for (let batch = 0; batch < 50; batch++) {
      const reqs: PublishRequest[] = [];
      for (let i = 0; i < 200; i++) {
        const t = tps[Math.floor(r() * tps.length)];
        const values = formValues(t, n, r);
        const roll = r();
        if (roll < 0.15) values.suara_paslon_1 += 1 + Math.floor(r() * 50); // H1 fail → quarantine
        else if (roll < 0.2) delete values.suara_sah; // incomplete
        else if (roll < 0.23) values.suara_total += 3; // H2 fail
        reqs.push(req(t, values, stages[Math.floor(r() * stages.length)]));
      }
      const outs = await publishBatch(db.sql, reqs, evaluateBuiltin);
      created += outs.filter((o) => o.outcome === 'created').length;
    }
    expect(created).toBeGreaterThan(3000);
    const recount = await recountTallies(db.sql, { contestId: CONTEST });
    expect(recount.mismatches).toEqual([]);
    expect(recount.checked).toBeGreaterThan(100);
    // And the totals are exactly the sum of published TPS rows.
    const [sum] = await db.sql`select coalesce(sum(suara_sah), 0)::bigint as s, count(*) filter (where status = 'published')::int as p
                               from tps_results where is_current and contest_id = ${CONTEST} and status = 'published'`;
    const national = await tally('00');
    expect(Number(national.suara_sah)).toBe(Number(sum.s));
    expect(Number(national.tps_published)).toBe(sum.p);
    // Change-feed versions are unique and increasing in commit order.
    const [feed] = await db.sql`select count(*)::int as n, count(distinct version)::int as d from changes`;
    expect(feed.n).toBe(feed.d);
    expect((await verifyAuditChain(db.sql)).ok).toBe(true);
  }, 120_000);

  it('recount --verify notices a tampered tally', async () => {
    await db.sql`update area_tallies set suara_sah = suara_sah + 1 where contest_id = ${CONTEST} and area_code = ${tps[5].kecCode}`;
    const recount = await recountTallies(db.sql, { contestId: CONTEST });
    expect(recount.mismatches).toEqual([expect.objectContaining({ areaCode: tps[5].kecCode, field: 'suaraSah' })]);
    await recountTallies(db.sql, { contestId: CONTEST, write: true });
    expect((await recountTallies(db.sql, { contestId: CONTEST })).mismatches).toEqual([]);
  });
});
