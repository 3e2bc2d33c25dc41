import type postgres from 'postgres';
import type { Sql } from '../client.js';

/** A connection or a transaction. */
export type Tx = postgres.ISql;

/** What a detector reports (mirrors workers/detectors Finding; db/ does not import workers/). */
export interface FindingInput {
  dedupeKey: string;
  rule: string;
  kind: string;
  tpsCode: string | null;
  contestId: string | null;
  areaCode: string;
  confidence: number;
  impactVotes: number;
  severity: number;
  message: string;
  detail: Record<string, unknown>;
  evidence: string[];
}

export interface FindingRow {
  id: number;
  dedupeKey: string;
  rule: string;
  kind: string;
  contestId: string | null;
  tpsCode: string | null;
  areaCode: string;
  severity: number;
  confidence: number;
  impactVotes: number;
  detail: Record<string, unknown>;
  status: 'active' | 'resolved';
  createdAt: Date;
  updatedAt: Date;
  resolvedAt: Date | null;
}

const columns = (sql: Tx) => sql`
  id, dedupe_key as "dedupeKey", rule, kind, contest_id as "contestId", tps_code as "tpsCode", area_code as "areaCode",
  severity, confidence, impact_votes as "impactVotes", detail, status, created_at as "createdAt", updated_at as "updatedAt",
  resolved_at as "resolvedAt"`;

/**
 * Insert or refresh findings by dedupe key (re-running a detector on the same evidence never
 * duplicates). A resolved finding that fires again with a different impact becomes active again.
 * Returns each row with `fresh` = inserted or re-activated (what a case treats as new evidence).
 */
export async function upsertFindings(tx: Tx, findings: readonly FindingInput[]): Promise<{ id: number; dedupeKey: string; fresh: boolean; tpsCode: string | null; contestId: string | null }[]> {
  if (findings.length === 0) return [];
  // One row per key (the last wins) so that a batch never conflicts with itself.
  const byKey = new Map(findings.map((f) => [f.dedupeKey, f]));
  const rows = [...byKey.values()];
  const result = await tx<{ id: number; dedupeKey: string; fresh: boolean; tpsCode: string | null; contestId: string | null }[]>`
    with prior as (select dedupe_key, status from anomalies where dedupe_key in ${tx(rows.map((f) => f.dedupeKey))}),
    up as (
      insert into anomalies as a (dedupe_key, rule, kind, contest_id, tps_code, area_code, severity, confidence, impact_votes, detail)
      select * from unnest(
        ${rows.map((f) => f.dedupeKey)}::text[], ${rows.map((f) => f.rule)}::text[], ${rows.map((f) => f.kind)}::text[],
        ${rows.map((f) => f.contestId)}::text[], ${rows.map((f) => f.tpsCode)}::text[], ${rows.map((f) => f.areaCode)}::text[],
        ${rows.map((f) => String(f.severity))}::text[]::float8[], ${rows.map((f) => String(f.confidence))}::text[]::float8[], ${rows.map((f) => String(Math.round(f.impactVotes)))}::text[]::int[],
        ${rows.map((f) => JSON.stringify({ ...f.detail, message: f.message, evidence: f.evidence }))}::jsonb[])
      on conflict (dedupe_key) do update set
        detail = excluded.detail, severity = excluded.severity, confidence = excluded.confidence,
        impact_votes = excluded.impact_votes, kind = excluded.kind,
        -- A finding a person resolved stays resolved while the same evidence fires again (same impact);
        -- different evidence makes it active again.
        status = case when a.status = 'resolved' and a.impact_votes = excluded.impact_votes then 'resolved' else 'active' end,
        resolved_at = case when a.status = 'resolved' and a.impact_votes = excluded.impact_votes then a.resolved_at else null end,
        updated_at = case when a.detail is distinct from excluded.detail then now() else a.updated_at end
      returning id, dedupe_key, tps_code, contest_id, status)
    select up.id, up.dedupe_key as "dedupeKey", up.tps_code as "tpsCode", up.contest_id as "contestId",
           (up.status = 'active' and (prior.dedupe_key is null or prior.status <> 'active')) as fresh
    from up left join prior on prior.dedupe_key = up.dedupe_key`;
  return result.map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * After a full re-evaluation of some rules, resolve their active findings that did not fire again
 * (scoped by rule and, optionally, contest). Returns the resolved rows' keys.
 */
export async function resolveStaleFindings(tx: Tx, scope: { rules: string[]; contestIds?: string[]; keepKeys: string[] }): Promise<string[]> {
  if (scope.rules.length === 0) return [];
  const rows = await tx<{ dedupeKey: string }[]>`
    update anomalies set status = 'resolved', resolved_at = now(), updated_at = now()
    where status = 'active' and rule in ${tx(scope.rules)}
      ${scope.contestIds?.length ? tx`and contest_id in ${tx(scope.contestIds)}` : tx``}
      ${scope.keepKeys.length ? tx`and dedupe_key <> all(${scope.keepKeys}::text[])` : tx``}
    returning dedupe_key as "dedupeKey"`;
  return rows.map((r) => r.dedupeKey);
}

export interface FindingFilter {
  area?: string; rule?: string; contestId?: string; tpsCode?: string; status?: 'active' | 'resolved' | 'all'; limit?: number; offset?: number;
  /** Public view: no statistical findings (a statistic is not proof) and nothing from practice elections. */
  publicOnly?: boolean;
}

/** Findings under an area (prefix of the TPS or region code; '00' = all), newest first. */
function findingsWhere(sql: Tx, f: FindingFilter) {
  return sql`
    where true
    ${f.area && f.area !== '00' ? sql`and (coalesce(tps_code, area_code) like ${f.area + '%'} or area_code like ${f.area + '%'})` : sql``}
    ${f.rule ? sql`and rule = ${f.rule}` : sql``}
    ${f.contestId ? sql`and contest_id = ${f.contestId}` : sql``}
    ${f.tpsCode ? sql`and tps_code = ${f.tpsCode}` : sql``}
    ${f.status && f.status !== 'all' ? sql`and status = ${f.status}` : f.status === 'all' ? sql`` : sql`and status = 'active'`}
    ${f.publicOnly ? sql`and kind <> 'statistical' and (contest_id is null or contest_id not in (
        select c.id from contests c join elections e on e.id = c.election_id where e.is_practice))` : sql``}`;
}

export async function listFindings(sql: Tx, f: FindingFilter): Promise<{ total: number; rows: FindingRow[] }> {
  const where = findingsWhere(sql, f);
  const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from anomalies ${where}`;
  const rows = await sql<FindingRow[]>`
    select ${columns(sql)} from anomalies ${where}
    order by severity desc, id desc limit ${f.limit ?? 100} offset ${f.offset ?? 0}`;
  return { total: Number(n), rows: rows.map((r) => ({ ...r, id: Number(r.id) })) };
}

/** Code length of an area's children: 00 → province (2), 2 → kab/kota (4), 4 → kecamatan (6), 6 → desa (10), 10 → TPS (13). */
const CHILD_LENGTH: Record<number, number> = { 2: 4, 4: 6, 6: 10, 10: 13 };

/**
 * Active findings per child area of `f.area`, counted in the database: the map's "anomali" colouring
 * needs every finding under the area, not the first page of a list.
 */
export async function countFindingsByChild(sql: Tx, f: FindingFilter): Promise<Record<string, number>> {
  const area = f.area ?? '00';
  const len = area === '00' ? 2 : CHILD_LENGTH[area.length];
  if (!len) return {};
  const rows = await sql<{ child: string; n: number }[]>`
    select child, count(*)::int as n from (
      select left(coalesce(tps_code, area_code), ${len}::int) as child
      from anomalies ${findingsWhere(sql, { ...f, status: 'active' })}) a
    where length(child) = ${len}::int
    group by child`;
  return Object.fromEntries(rows.map((r) => [r.child, Number(r.n)]));
}

export async function findingsOfTps(sql: Tx, tpsCode: string, contestId: string, opts: { activeOnly?: boolean } = {}): Promise<FindingRow[]> {
  const rows = await sql<FindingRow[]>`
    select ${columns(sql)} from anomalies
    where tps_code = ${tpsCode} and (contest_id = ${contestId} or contest_id is null)
      ${opts.activeOnly ? sql`and status = 'active'` : sql``}
    order by severity desc, id`;
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

export async function findingsByIds(sql: Tx, ids: number[]): Promise<FindingRow[]> {
  if (ids.length === 0) return [];
  const rows = await sql<FindingRow[]>`select ${columns(sql)} from anomalies where id in ${sql(ids)} order by id`;
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Resolve the active findings of one TPS and contest (a case was resolved or closed). */
export async function resolveFindingsOfTps(tx: Tx, tpsCode: string, contestId: string): Promise<number> {
  const rows = await tx`update anomalies set status = 'resolved', resolved_at = now(), updated_at = now()
    where tps_code = ${tpsCode} and contest_id = ${contestId} and status = 'active' returning id`;
  return rows.length;
}

/** Leader − runner-up of a race over published TPS, from the tallies of its own area (null before results). */
export async function contestMargin(sql: Tx, contestId: string): Promise<number | null> {
  const rows = await sql<{ votes: Record<string, number> }[]>`
    select t.votes from area_tallies t join contests c on c.id = t.contest_id and c.area_code = t.area_code
    where t.contest_id = ${contestId}`;
  const v = Object.values(rows[0]?.votes ?? {}).map(Number).sort((a, b) => b - a);
  if (v.length === 0 || v[0] === 0) return null;
  return v[0] - (v[1] ?? 0);
}

export interface PublishedRecordRow {
  tpsCode: string; contestId: string; desaCode: string; kecCode: string; kabCode: string;
  registered: number | null; votersDpt: number | null; votersTotal: number | null;
  votes: Record<string, number>; suaraSah: number | null; suaraTidakSah: number | null;
}

/** Current published results of a contest with their TPS hierarchy: the input of the statistical detectors. */
export async function publishedRecords(sql: Tx, contestId: string): Promise<PublishedRecordRow[]> {
  return sql<PublishedRecordRow[]>`
    select r.tps_code as "tpsCode", r.contest_id as "contestId", t.desa_code as "desaCode", t.kec_code as "kecCode", t.kab_code as "kabCode",
           (r.values->>'pemilih_dpt_j')::int as registered, (r.values->>'pengguna_dpt_j')::int as "votersDpt",
           (r.values->>'pengguna_total_j')::int as "votersTotal", r.votes, r.suara_sah as "suaraSah", r.suara_tidak_sah as "suaraTidakSah"
    from tps_results r join tps t on t.code = r.tps_code
    where r.contest_id = ${contestId} and r.is_current and r.status = 'published'
    order by r.tps_code`;
}
