/**
 * Cached room snapshots on a real PostgreSQL: a cached snapshot is served again only while nothing under
 * the room changed; a publish into the room (a TPS of the desa, a quarantine) yields a new snapshot that
 * equals a recount from the TPS rows; a publish elsewhere leaves the room's ETag alone; the public JSON
 * is the same document as the uncached read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { publishBatch, recountTallies, type PublishRequest } from '../db/repositories/publish.js';
import { evaluateBuiltin } from '../workers/jobs/rules.js';
import { clearSnapshotCache, roomJson, roomState, snapshotCacheStats } from '../server/realtime/snapshot.js';
import { candidateCount, formValues, pickTps, rng, type TpsInfo } from './ingest-helpers.js';

const CONTEST = 'pkwkp-62';

describe('room snapshots (cached per room version)', () => {
  let db: TestDatabase;
  let desaTps: TpsInfo[];
  let elsewhere: TpsInfo[];
  let n: number;
  const r = rng(5);

  const publish = async (list: TpsInfo[], mutate?: (v: Record<string, number>) => void) => {
    const reqs: PublishRequest[] = list.map((t) => {
      const values = formValues(t, n, r);
      mutate?.(values);
      return { tpsCode: t.code, contestId: CONTEST, stage: 'kpps', values, actorId: null, actor: 'test' };
    });
    return publishBatch(db.sql, reqs, evaluateBuiltin);
  };

  /** The desa's numbers summed straight from the current TPS rows (what a recount sees). */
  const sumOfRows = async (desa: string) => {
    const rows = await db.sql<{ status: string; votes: Record<string, number>; sah: number | null }[]>`
      select r.status, r.votes, r.suara_sah as sah from tps_results r join tps t on t.code = r.tps_code
      where t.desa_code = ${desa} and r.contest_id = ${CONTEST} and r.is_current`;
    const votes: Record<string, number> = {};
    let sah = 0;
    for (const row of rows.filter((x) => x.status === 'published')) {
      sah += row.sah ?? 0;
      for (const [k, v] of Object.entries(row.votes)) votes[k] = (votes[k] ?? 0) + Number(v);
    }
    return { votes, sah, published: rows.filter((x) => x.status === 'published').length, quarantined: rows.filter((x) => x.status === 'quarantined').length };
  };

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    n = await candidateCount(db.sql, CONTEST);
    const all = await pickTps(db.sql, '62', 4000);
    const byDesa = new Map<string, TpsInfo[]>();
    for (const t of all) byDesa.set(t.desaCode, [...(byDesa.get(t.desaCode) ?? []), t]);
    desaTps = [...byDesa.values()].find((l) => l.length >= 4)!;
    elsewhere = all.filter((t) => t.kabCode !== desaTps[0].kabCode).slice(0, 3);
    expect(desaTps, 'a desa with at least 4 TPS').toBeTruthy();
    await publish(desaTps.slice(0, 2));
  });
  afterAll(async () => {
    await db?.close();
  });

  it('counts the expected TPS of areas with no publish yet from the register, not as 0', async () => {
    const quiet = elsewhere[0];
    const [{ kec }] = await db.sql<{ kec: number }[]>`select count(*)::int as kec from tps where desa_code like ${quiet.kecCode + '%'}`;
    const [{ kab }] = await db.sql<{ kab: number }[]>`select count(*)::int as kab from tps where desa_code like ${quiet.kabCode + '%'}`;
    clearSnapshotCache(db.sql);
    const kabRoom = await roomState(db.sql, CONTEST, quiet.kabCode);
    expect(kabRoom.tally.tpsPublished).toBe(0);
    expect(kabRoom.tally.tpsExpected).toBe(kab);
    expect(kabRoom.tally.tpsMissing).toBe(kab);
    const kecChild = kabRoom.children.find((c) => c.unit.code === quiet.kecCode)!;
    expect(kecChild.unit.tpsExpected).toBe(kec);
  });

  it('serves the cached snapshot while the room is unchanged, a new one when a publish changes it, equal to the recount', async () => {
    const desa = desaTps[0].desaCode;
    const kab = desaTps[0].kabCode;
    clearSnapshotCache(db.sql);
    const first = await roomState(db.sql, CONTEST, desa);
    const kabFirst = await roomJson(db.sql, CONTEST, kab, async (s) => ({ tally: s.tally }));
    const missesAfterFirst = snapshotCacheStats.misses;
    const again = await roomState(db.sql, CONTEST, desa);
    expect(snapshotCacheStats.misses, 'second read of an unchanged room is a cache hit').toBe(missesAfterFirst);
    expect(again.tally).toEqual(first.tally);
    expect(first.tally.tpsPublished).toBe(2);
    expect(first.children.filter((c) => c.unit.status === 'published')).toHaveLength(2);

    // A publish elsewhere (another kab/kota) moves the feed head but not this room.
    await publish(elsewhere);
    const afterElsewhere = await roomState(db.sql, CONTEST, desa);
    expect(snapshotCacheStats.misses).toBe(missesAfterFirst);
    expect(afterElsewhere.version, 'the version reported is the feed head').toBeGreaterThan(first.version);
    expect(afterElsewhere.tally).toEqual(first.tally);
    expect((await roomJson(db.sql, CONTEST, kab, async (s) => ({ tally: s.tally }))).etag).toBe(kabFirst.etag);

    // A publish into the desa: one more published TPS, one quarantined (H1 fails).
    await publish(desaTps.slice(2, 3));
    await publish(desaTps.slice(3, 4), (v) => { v.suara_sah += 7; });
    const changed = await roomState(db.sql, CONTEST, desa);
    expect(snapshotCacheStats.misses).toBeGreaterThan(missesAfterFirst);
    expect(changed.tally.tpsPublished).toBe(3);
    expect(changed.tally.tpsQuarantined).toBe(1);
    const truth = await sumOfRows(desa);
    expect(changed.tally.votes).toEqual(truth.votes);
    expect(changed.tally.suaraSah).toBe(truth.sah);
    expect(changed.children.find((c) => c.unit.code === desaTps[3].code)?.unit.status).toBe('quarantined');
    const kabChanged = await roomJson(db.sql, CONTEST, kab, async (s) => ({ tally: s.tally }));
    expect(kabChanged.etag).not.toBe(kabFirst.etag);
    expect((JSON.parse(kabChanged.json) as { tally: { tpsPublished: number } }).tally.tpsPublished).toBe((JSON.parse(kabFirst.json) as { tally: { tpsPublished: number } }).tally.tpsPublished + 1);

    // The stored tallies the snapshot was read from equal a recount from every TPS row.
    expect((await recountTallies(db.sql, { contestId: CONTEST })).mismatches).toEqual([]);

    // And the cached read equals an uncached one.
    clearSnapshotCache(db.sql);
    const fresh = await roomState(db.sql, CONTEST, desa);
    expect(fresh.tally).toEqual(changed.tally);
    expect(fresh.children).toEqual(changed.children);
  });

  it('serialises the public document once per room version and splices in the head', async () => {
    const kab = desaTps[0].kabCode;
    let builds = 0;
    const build = async (s: Awaited<ReturnType<typeof roomState>>) => { builds++; return { version: s.version, tally: s.tally }; };
    clearSnapshotCache(db.sql);
    const a = await roomJson(db.sql, CONTEST, kab, build);
    const b = await roomJson(db.sql, CONTEST, kab, build);
    expect(builds).toBe(1);
    expect(b.json).toBe(a.json);
    expect(JSON.parse(a.json).version).toBe(a.version);
    // A publish elsewhere: same document, same ETag, no new serialisation, only the spliced head moves.
    await publish(elsewhere.slice(0, 1));
    const c = await roomJson(db.sql, CONTEST, kab, build);
    expect(builds).toBe(1);
    expect(c.etag).toBe(a.etag);
    expect(c.version).toBeGreaterThan(a.version);
    expect(JSON.parse(c.json)).toEqual({ ...JSON.parse(a.json), version: c.version });
  });
});
