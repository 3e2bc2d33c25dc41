/**
 * `npx tsx bench/national.ts [--quick] [--samples 200]` — rekap at the scale of Indonesia. Prints JSON:
 *   seed           seconds to seed every area, contest and the 429k Pilkada TPS (`--quick`: Kalimantan Tengah)
 *   publish        every TPS published once through publishBatch (hard rules, versions, tallies at 5 levels,
 *                  change feed, audit: the real transaction), forms/s
 *   snapshotMs     area snapshot (roomState: what a subscribe and GET /api/results read) p50/p99 per level,
 *                  after publishing: `uncached` = first read of each room (cache cleared: the full read from
 *                  area_tallies / the desa's TPS rows), `cached` = the same rooms again (validator check by
 *                  primary key, no aggregation); beside the uncached reads on the seeded-but-empty database
 *                  (baseline) and uncached reads while the publisher runs
 * --budget <s> stops publishing after s seconds and measures at the scale reached (reported as such).
 * Uses DATABASE_URL (a scratch database is created and dropped) or an embedded PostgreSQL in a temp folder.
 */
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { connect } from '../db/client.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { runMigrations } from '../db/migrate.js';
import { ensureSeeded } from '../db/seed/index.js';
import { publishBatch, type PublishRequest } from '../db/repositories/publish.js';
import { loadEvaluator } from '../workers/jobs/rules.js';
import { clearSnapshotCache, roomState, snapshotCacheStats } from '../server/realtime/snapshot.js';
import { formValues, rng, type SimContest, type SimTps } from '../server/simulate/night.js';

const { values: opts } = parseArgs({ options: { quick: { type: 'boolean' }, samples: { type: 'string', default: '200' }, batch: { type: 'string', default: '1000' }, budget: { type: 'string' } } });
const log = (l: string) => process.stderr.write(`[bench:national] ${l}\n`);
const pct = (xs: number[], p: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
};

async function scratchDatabase(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const name = `rekap_national_${Date.now()}`;
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    return {
      url: u.toString(),
      async stop() {
        const a = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
        await a.unsafe(`drop database if exists ${name} with (force)`);
        await a.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'rekap-national-pg-'));
  chmodSync(dir, 0o777);
  const server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: 50000 + Math.floor(Math.random() * 5000) });
  return { url: server.url, async stop() { await server.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

async function main() {
  const scope = opts.quick ? 'kalteng' : 'national';
  const db = await scratchDatabase();
  const database = connect(db.url, { max: 4 });
  const sql = database.sql;
  const out: Record<string, unknown> = { scope };
  try {
    await runMigrations(database);
    let t = performance.now();
    const seeded = await ensureSeeded(database, { scope, seed: 2024 }, { log: () => {} });
    out.seed = { tps: seeded.tps, areas: seeded.areas, seconds: Math.round((performance.now() - t) / 100) / 10 };
    log(`seeded ${seeded.tps} TPS in ${(out.seed as { seconds: number }).seconds} s`);

    const tps = await sql<SimTps[]>`select code, voters_l as "votersL", voters_p as "votersP", kab_code as "kabCode", kec_code as "kecCode", desa_code as "desaCode" from tps order by code`;
    const rows = await sql<{ id: string; type: 'pkwkp' | 'pkwkk'; areaCode: string; cid: string; number: number; empty: boolean }[]>`
      select c.id, c.type, c.area_code as "areaCode", k.id as cid, k.number, k.is_empty_column as empty
      from contests c join elections e on e.id = c.election_id join candidates k on k.contest_id = c.id
      where not e.is_practice order by c.id, k.number`;
    const contests = new Map<string, SimContest>();
    for (const r of rows) {
      const c = contests.get(r.id) ?? { id: r.id, type: r.type, areaCode: r.areaCode, candidates: [] };
      c.candidates.push({ id: r.cid, number: r.number, isEmptyColumn: r.empty });
      contests.set(r.id, c);
    }
    // One race per TPS: its governor race, or the bupati/walikota race where no governor is elected (DIY).
    const raceOf = (x: SimTps) => contests.get(`pkwkp-${x.code.slice(0, 2)}`) ?? contests.get(`pkwkk-${x.kabCode}`);

    // Areas to sample per level, drawn from TPS that exist.
    const r = rng(11);
    const samples = Number(opts.samples);
    const pick = (len: number) => Array.from({ length: samples }, () => { const x = tps[Math.floor(r() * tps.length)]; return { area: len === 0 ? '00' : x.code.slice(0, len), contest: raceOf(x)! }; });
    const levels: Record<string, { area: string; contest: SimContest }[]> = { national: pick(0), provinsi: pick(2), kabkota: pick(4), kecamatan: pick(6), desa: pick(10) };
    /** p50/p99/max per level; `fresh` clears the snapshot cache first so every read is a full (uncached) read. */
    const measure = async (fresh: boolean) => {
      if (fresh) clearSnapshotCache(sql);
      const res: Record<string, { p50: number | null; p99: number | null; max: number | null; cpuMsPerRead: number }> = {};
      for (const [level, list] of Object.entries(levels)) {
        const ms: number[] = [];
        const cpu = process.cpuUsage();
        for (const { area, contest } of list) {
          const c = area === '00' ? contests.get('pkwkp-' + tps[0].code.slice(0, 2)) ?? contest : contest;
          const t0 = performance.now();
          await roomState(sql, c.id, area);
          ms.push(performance.now() - t0);
        }
        const used = process.cpuUsage(cpu);
        res[level] = { p50: pct(ms, 50), p99: pct(ms, 99), max: pct(ms, 100), cpuMsPerRead: Math.round(((used.user + used.system) / 1000 / list.length) * 100) / 100 };
      }
      return res;
    };
    const baseline = await measure(true);
    log(`snapshot baseline (nothing published): ${JSON.stringify(baseline)}`);

    const evaluate = await loadEvaluator();
    const batch = Number(opts.batch);
    t = performance.now();
    let created = 0;
    let quarantined = 0;
    const empty = new Map();
    let stoppedEarly = false;
    let whilePublishing: Record<string, unknown> | null = null;
    const budgetMs = opts.budget ? Number(opts.budget) * 1000 : Infinity;
    for (let i = 0; i < tps.length; i += batch) {
      if (performance.now() - t > budgetMs) { stoppedEarly = true; log(`publish budget of ${opts.budget} s spent at ${i} TPS`); break; }
      const reqs: PublishRequest[] = [];
      for (const x of tps.slice(i, i + batch)) {
        const c = raceOf(x);
        if (c) reqs.push({ tpsCode: x.code, contestId: c.id, stage: 'kpps', values: formValues(x, c, empty, r), actorId: null, actor: 'bench' });
      }
      const outs = await publishBatch(sql, reqs, evaluate);
      created += outs.filter((o) => o.outcome === 'created').length;
      quarantined += outs.filter((o) => o.outcome === 'created' && o.status === 'quarantined').length;
      if ((i / batch) % 20 === 0) log(`published ${i + reqs.length}/${tps.length} (${Math.round((created / (performance.now() - t)) * 1000)} forms/s)`);
      if (!whilePublishing && i + batch >= tps.length / 2) {
        // Half-way: the same reads with the publisher's transactions committing between them.
        const pause = performance.now();
        whilePublishing = { atTps: i + reqs.length, ...(await measure(true)) };
        t += performance.now() - pause; // not publish time
        log(`snapshot while publishing (${i + reqs.length} TPS): ${JSON.stringify(whilePublishing)}`);
      }
    }
    const publishS = (performance.now() - t) / 1000;
    out.publish = { forms: created, ofTps: tps.length, complete: !stoppedEarly, quarantined, seconds: Math.round(publishS), formsPerSec: Math.round(created / publishS), batch };
    log(`published ${created} in ${Math.round(publishS)} s`);
    const hits0 = snapshotCacheStats.hits;
    const uncached = await measure(true);
    const cached = await measure(false);
    const cachedHits = snapshotCacheStats.hits - hits0;
    out.snapshotMs = { uncached, cached, cachedReadsThatHit: cachedHits, whilePublishingUncached: whilePublishing, baselineEmptyUncached: baseline, samplesPerLevel: samples, target: { p99: 10 } };
    const worst = (m: Record<string, { p99: number | null }>) => Math.max(...Object.values(m).map((x) => x.p99 ?? 0));
    out.snapshotWorstP99Ms = { uncached: worst(uncached), cached: worst(cached) };
    out.meetsTarget = { uncached: worst(uncached) <= 10, cached: worst(cached) <= 10 };
    const [{ size }] = await sql<{ size: string }[]>`select pg_size_pretty(pg_database_size(current_database())) as size`;
    out.databaseSize = size;
  } finally {
    await database.close();
    await db.stop();
  }
  console.log(JSON.stringify(out, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
