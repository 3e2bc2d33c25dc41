import type { Database, Sql } from '../client.js';
import { dataVersion, loadAreas, loadContests, loadDesaTps, type AreaData, type ContestsFile, type DesaTpsData } from './data.js';
import { emptyTpsColumns, planDesaTps, votersPerTpsByKab, type TpsColumns } from './plan.js';

export type SeedScope = 'kalteng' | 'national';
export const SEED_SCOPES: readonly SeedScope[] = ['kalteng', 'national'];

/** Province code(s) whose TPS a scope creates; areas, contests and candidates are always national. */
const SCOPE_PROVINCES: Record<SeedScope, string[] | null> = { kalteng: ['62'], national: null };

export const SEED_META = { scope: 'seed.scope', seed: 'seed.number', data: 'seed.data_version', at: 'seed.at' } as const;

/** Seeding would change data that results already depend on; the caller must decide. */
export class SeedConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedConflictError';
  }
}

export interface SeedHooks {
  /** One line per step (stderr by default). */
  log?: (line: string) => void;
  /** Called while TPS rows are written. */
  onTpsProgress?: (done: number, total: number) => void;
  /**
   * Re-draw registered voters when the database was seeded with another seed number (`rekap seed
   * --seed N`). Refused once any submission or result exists. Without it, the stored seed is kept.
   */
  reseed?: boolean;
}

export interface SeedResult {
  changed: boolean;
  scope: SeedScope;
  seed: number;
  dataVersion: string;
  areas: number;
  contests: number;
  candidates: number;
  tps: number;
  ms: number;
  note?: string;
}

const OID = { text: 25, int2: 21, int4: 23, float8: 701, bool: 16 } as const;

let cache: { areas: AreaData[]; contests: ContestsFile; desa: DesaTpsData[]; version: string } | null = null;
function shipped() {
  cache ??= { areas: loadAreas(), contests: loadContests(), desa: loadDesaTps(), version: dataVersion() };
  return cache;
}

/** The TPS rows of a scope and seed, without touching a database (also used by tests and benchmarks). */
export function planTps(scope: SeedScope, seed: number): TpsColumns {
  const { desa } = shipped();
  const provinces = SCOPE_PROVINCES[scope];
  const kabAverage = votersPerTpsByKab(desa);
  const out = emptyTpsColumns();
  for (const d of desa) {
    if (provinces && !provinces.includes(d.desa.slice(0, 2))) continue;
    planDesaTps(d, seed, kabAverage, out);
  }
  return out;
}

async function readMeta(sql: Sql): Promise<Map<string, string>> {
  const rows = await sql<{ key: string; value: string }[]>`select key, value from meta where key like 'seed.%'`;
  return new Map(rows.map((r) => [r.key, r.value]));
}

const covers = (have: string | undefined, want: SeedScope) => have === 'national' || have === want;

function checkOptions(opts: { scope: SeedScope; seed: number }) {
  if (!SEED_SCOPES.includes(opts.scope)) throw new RangeError(`seed scope must be one of ${SEED_SCOPES.join(', ')}, got "${String(opts.scope)}"`);
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${String(opts.seed)}`);
}

/**
 * Make sure the database holds the Pilkada 2024 election: all areas, the 545 contests with their
 * candidates, and the TPS of the scope with registers drawn from the seed number.
 *
 * Idempotent: when `meta` says this scope (or a wider one), seed and data version are in place it
 * returns without writing. Otherwise it upserts, touching only rows whose values differ, so a partial
 * earlier run is completed and nothing stored is lost. A scope never shrinks (national stays
 * national). Concurrent callers serialise on an advisory lock.
 */
export async function ensureSeeded(database: Database, opts: { scope: SeedScope; seed: number }, hooks: SeedHooks = {}): Promise<SeedResult> {
  checkOptions(opts);
  const started = Date.now();
  const out = hooks.log ?? ((l: string) => process.stderr.write(`[seed] ${l}\n`));
  const log = (l: string) => out(`${l} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const { sql } = database;
  const data = shipped();

  const quick = await readMeta(sql);
  const result = (changed: boolean, scope: SeedScope, seed: number, tps: number, note?: string): SeedResult => ({
    changed, scope, seed, dataVersion: data.version, areas: data.areas.length, contests: data.contests.contests.length,
    candidates: data.contests.contests.reduce((n, c) => n + c.candidates.length, 0), tps, ms: Date.now() - started, ...(note ? { note } : {}),
  });
  const upToDate = (meta: Map<string, string>) =>
    covers(meta.get(SEED_META.scope), opts.scope) &&
    meta.get(SEED_META.data) === data.version &&
    (meta.get(SEED_META.seed) === String(opts.seed) || !hooks.reseed);
  if (upToDate(quick)) {
    const seed = Number(quick.get(SEED_META.seed));
    return result(false, quick.get(SEED_META.scope) as SeedScope, seed, 0, seed !== opts.seed ? `kept seed ${seed} already in the database` : undefined);
  }

  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('rekap.seed'))`;
    const meta = await readMeta(tx as unknown as Sql);
    const haveScope = meta.get(SEED_META.scope) as SeedScope | undefined;
    const haveSeed = meta.has(SEED_META.seed) ? Number(meta.get(SEED_META.seed)) : null;
    if (upToDate(meta)) return result(false, haveScope!, haveSeed!, 0);

    const scope: SeedScope = haveScope === 'national' ? 'national' : opts.scope;
    let seed = opts.seed;
    let note: string | undefined;
    if (haveSeed !== null && haveSeed !== opts.seed) {
      if (!hooks.reseed) {
        seed = haveSeed;
        note = `kept seed ${haveSeed} already in the database`;
      } else {
        const [{ n }] = await tx<{ n: number }[]>`
          select (select count(*) from submissions)::int + (select count(*) from tps_results)::int as n`;
        if (n > 0) {
          throw new SeedConflictError(
            `the database was seeded with seed ${haveSeed} and already holds ${n} submissions/results; re-drawing registered voters under them is refused`,
          );
        }
      }
    }

    const e = data.contests.election;
    await tx`insert into elections (id, name, kind, polling_date, is_practice)
             values (${e.id}, ${e.name}, ${e.kind}, ${e.pollingDate}, false)
             on conflict (id) do update set name = excluded.name, kind = excluded.kind, polling_date = excluded.polling_date
             where (elections.name, elections.kind, elections.polling_date) is distinct from (excluded.name, excluded.kind, excluded.polling_date)`;

    const a = data.areas;
    const areaRes = await tx`
      insert into areas (code, level, parent_code, name, lat, lon)
      select * from unnest(${tx.array(a.map((x) => x.code), OID.text)}::text[], ${tx.array(a.map((x) => x.level), OID.int2)}::smallint[],
                           ${tx.array(a.map((x) => x.parentCode), OID.text)}::text[], ${tx.array(a.map((x) => x.name), OID.text)}::text[],
                           ${tx.array(a.map((x) => x.lat), OID.float8)}::float8[], ${tx.array(a.map((x) => x.lon), OID.float8)}::float8[])
      on conflict (code) do update set level = excluded.level, parent_code = excluded.parent_code, name = excluded.name, lat = excluded.lat, lon = excluded.lon
      where (areas.level, areas.parent_code, areas.name, areas.lat, areas.lon) is distinct from (excluded.level, excluded.parent_code, excluded.name, excluded.lat, excluded.lon)`;
    log(`areas: ${a.length.toLocaleString('en')} (${areaRes.count.toLocaleString('en')} written)`);

    const cs = data.contests.contests;
    await tx`
      insert into contests (id, election_id, type, area_code, name)
      select id, ${e.id}, type, area_code, name from unnest(${tx.array(cs.map((c) => c.id), OID.text)}::text[], ${tx.array(cs.map((c) => c.type), OID.text)}::text[],
                                         ${tx.array(cs.map((c) => c.areaCode), OID.text)}::text[], ${tx.array(cs.map((c) => c.name), OID.text)}::text[]) as u(id, type, area_code, name)
      on conflict (id) do update set type = excluded.type, area_code = excluded.area_code, name = excluded.name
      where (contests.type, contests.area_code, contests.name) is distinct from (excluded.type, excluded.area_code, excluded.name)`;
    const cand = cs.flatMap((c) => c.candidates.map((x) => ({ ...x, contestId: c.id })));
    await tx`
      insert into candidates (id, contest_id, number, head_name, deputy_name, colour, is_empty_column)
      select * from unnest(${tx.array(cand.map((c) => c.id), OID.text)}::text[], ${tx.array(cand.map((c) => c.contestId), OID.text)}::text[],
                           ${tx.array(cand.map((c) => c.number), OID.int4)}::int[], ${tx.array(cand.map((c) => c.headName), OID.text)}::text[],
                           ${tx.array(cand.map((c) => c.deputyName), OID.text)}::text[], ${tx.array(cand.map((c) => c.colour), OID.text)}::text[],
                           ${tx.array(cand.map((c) => c.isEmptyColumn), OID.bool)}::bool[])
      on conflict (id) do update set contest_id = excluded.contest_id, number = excluded.number, head_name = excluded.head_name,
        deputy_name = excluded.deputy_name, colour = excluded.colour, is_empty_column = excluded.is_empty_column
      where (candidates.contest_id, candidates.number, candidates.head_name, candidates.deputy_name, candidates.colour, candidates.is_empty_column)
        is distinct from (excluded.contest_id, excluded.number, excluded.head_name, excluded.deputy_name, excluded.colour, excluded.is_empty_column)`;
    log(`contests: ${cs.length}, candidates: ${cand.length}`);

    const t = planTps(scope, seed);
    const total = t.code.length;
    const CHUNK = 50_000;
    let written = 0;
    for (let i = 0; i < total; i += CHUNK) {
      const s = <T>(col: T[]) => col.slice(i, i + CHUNK);
      const res = await tx`
        insert into tps (code, desa_code, kec_code, kab_code, prov_code, number, voters_l, voters_p, is_special)
        select * from unnest(${tx.array(s(t.code), OID.text)}::text[], ${tx.array(s(t.desaCode), OID.text)}::text[], ${tx.array(s(t.kecCode), OID.text)}::text[],
                             ${tx.array(s(t.kabCode), OID.text)}::text[], ${tx.array(s(t.provCode), OID.text)}::text[], ${tx.array(s(t.number), OID.int4)}::int[],
                             ${tx.array(s(t.votersL), OID.int4)}::int[], ${tx.array(s(t.votersP), OID.int4)}::int[], ${tx.array(s(t.isSpecial), OID.bool)}::bool[])
        on conflict (code) do update set voters_l = excluded.voters_l, voters_p = excluded.voters_p, is_special = excluded.is_special
        where (tps.voters_l, tps.voters_p, tps.is_special) is distinct from (excluded.voters_l, excluded.voters_p, excluded.is_special)`;
      written += res.count;
      hooks.onTpsProgress?.(Math.min(total, i + CHUNK), total);
    }
    log(`tps (${scope}, seed ${seed}): ${total.toLocaleString('en')} (${written.toLocaleString('en')} written)`);

    // Expected TPS per race = TPS seeded in its province (governor) or kab/kota (bupati/walikota).
    await tx`
      with counts as (select prov_code as code, count(*)::int as n from tps group by 1
                      union all select kab_code, count(*)::int from tps group by 1)
      update contests c set tps_expected = coalesce(counts.n, 0)
      from contests c2 left join counts on counts.code = c2.area_code
      where c.id = c2.id and c.election_id = ${e.id} and c.tps_expected is distinct from coalesce(counts.n, 0)`;

    const metaRows = [
      [SEED_META.scope, scope],
      [SEED_META.seed, String(seed)],
      [SEED_META.data, data.version],
      [SEED_META.at, new Date().toISOString()],
    ];
    for (const [key, value] of metaRows) {
      await tx`insert into meta (key, value, updated_at) values (${key}, ${value}, now())
               on conflict (key) do update set value = excluded.value, updated_at = now() where meta.value is distinct from excluded.value`;
    }
    if (note) log(note);
    return result(true, scope, seed, total, note);
  });
}
