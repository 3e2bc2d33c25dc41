import type postgres from 'postgres';
import type { Sql } from '../client.js';
import { appendAudit } from './audit.js';

export type Tx = postgres.ISql;

export interface CaseRow {
  id: number;
  tpsCode: string;
  contestId: string;
  areaCode: string;
  state: string;
  severity: number;
  band: string;
  findingCount: number;
  assigneeId: number | null;
  resolution: string | null;
  reasonCode: string | null;
  escalation: string | null;
  duplicateOfId: number | null;
  pending: Record<string, unknown> | null;
  touched: boolean;
  lockedUntil: Date | null;
  slaDueAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: Tx) => sql`
  id, tps_code as "tpsCode", contest_id as "contestId", area_code as "areaCode", state, severity, band,
  finding_count as "findingCount", assignee_id as "assigneeId", resolution, reason_code as "reasonCode",
  escalation, duplicate_of_id as "duplicateOfId", pending, touched, locked_until as "lockedUntil",
  sla_due_at as "slaDueAt", version, created_at as "createdAt", updated_at as "updatedAt"`;

const num = (r: CaseRow): CaseRow => ({ ...r, id: Number(r.id), assigneeId: r.assigneeId === null ? null : Number(r.assigneeId), duplicateOfId: r.duplicateOfId === null ? null : Number(r.duplicateOfId) });

/** Active findings grouped by TPS and contest: what case severity is computed from. */
export async function activeFindingsByTps(sql: Tx, keys?: { tpsCode: string; contestId: string }[]): Promise<Map<string, { rule: string; kind: string; confidence: number; impactVotes: number; areaCode: string; createdAt: Date }[]>> {
  if (keys && keys.length === 0) return new Map();
  const rows = await sql<{ tpsCode: string; contestId: string; rule: string; kind: string; confidence: number; impactVotes: number; areaCode: string; createdAt: Date }[]>`
    select tps_code as "tpsCode", contest_id as "contestId", rule, kind, confidence, impact_votes as "impactVotes", area_code as "areaCode", created_at as "createdAt"
    from anomalies
    where status = 'active' and tps_code is not null and contest_id is not null
      ${keys ? sql`and (tps_code, contest_id) in (select * from unnest(${keys.map((k) => k.tpsCode)}::text[], ${keys.map((k) => k.contestId)}::text[]))` : sql``}`;
  type Row = (typeof rows)[number];
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const k = `${r.tpsCode}|${r.contestId}`;
    out.set(k, [...(out.get(k) ?? []), r]);
  }
  return out;
}

export interface CaseUpsert { tpsCode: string; contestId: string; areaCode: string; severity: number; band: string; findingCount: number; slaDueAt: Date }

/** Create or refresh cases (severity, band, count). Returns the ids, with `created` for new ones. */
export async function upsertCases(tx: Tx, rows: readonly CaseUpsert[]): Promise<{ id: number; tpsCode: string; contestId: string; created: boolean; state: string }[]> {
  if (rows.length === 0) return [];
  const res = await tx<{ id: number; tpsCode: string; contestId: string; created: boolean; state: string }[]>`
    insert into cases as c (tps_code, contest_id, area_code, severity, band, finding_count, sla_due_at)
    select * from unnest(${rows.map((r) => r.tpsCode)}::text[], ${rows.map((r) => r.contestId)}::text[], ${rows.map((r) => r.areaCode)}::text[],
      ${rows.map((r) => String(r.severity))}::text[]::float8[], ${rows.map((r) => r.band)}::text[], ${rows.map((r) => String(r.findingCount))}::text[]::int[],
      ${rows.map((r) => new Date(r.slaDueAt).toISOString())}::text[]::timestamptz[])
    on conflict (tps_code, contest_id) do update set severity = excluded.severity, band = excluded.band,
      finding_count = excluded.finding_count, updated_at = now()
    where c.severity is distinct from excluded.severity or c.band is distinct from excluded.band or c.finding_count is distinct from excluded.finding_count
    returning id, tps_code as "tpsCode", contest_id as "contestId", (xmax = 0) as created, state`;
  return res.map((r) => ({ ...r, id: Number(r.id) }));
}

export async function caseByKey(sql: Tx, tpsCode: string, contestId: string): Promise<CaseRow | null> {
  const [r] = await sql<CaseRow[]>`select ${columns(sql)} from cases where tps_code = ${tpsCode} and contest_id = ${contestId}`;
  return r ? num(r) : null;
}

export async function getCase(sql: Tx, id: number, opts: { forUpdate?: boolean } = {}): Promise<CaseRow | null> {
  const [r] = await sql<CaseRow[]>`select ${columns(sql)} from cases where id = ${id} ${opts.forUpdate ? sql`for update` : sql``}`;
  return r ? num(r) : null;
}

export interface CaseFilter { area?: string; state?: string[]; minSeverity?: number; contestId?: string; band?: string; assigneeId?: number; limit?: number; offset?: number }

/** Cases under an area, most severe first (ties: oldest first, so the queue is stable). */
export async function listCases(sql: Tx, f: CaseFilter): Promise<{ total: number; rows: CaseRow[] }> {
  const where = sql`
    where true
    ${f.area && f.area !== '00' ? sql`and tps_code like ${f.area + '%'}` : sql``}
    ${f.state?.length ? sql`and state in ${sql(f.state)}` : sql``}
    ${f.minSeverity !== undefined ? sql`and severity >= ${f.minSeverity}` : sql``}
    ${f.contestId ? sql`and contest_id = ${f.contestId}` : sql``}
    ${f.band ? sql`and band = ${f.band}` : sql``}
    ${f.assigneeId !== undefined ? sql`and assignee_id = ${f.assigneeId}` : sql``}`;
  const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from cases ${where}`;
  const rows = await sql<CaseRow[]>`select ${columns(sql)} from cases ${where} order by severity desc, created_at, id limit ${f.limit ?? 100} offset ${f.offset ?? 0}`;
  return { total: Number(n), rows: rows.map(num) };
}

export interface CaseUpdate {
  state: string;
  assigneeId?: number | null;
  lockedUntil?: Date | null;
  resolution?: string | null;
  reasonCode?: string | null;
  escalation?: string | null;
  duplicateOfId?: number | null;
  pending?: unknown;
  touched?: boolean;
}

/** Apply a transition's changes, bumping the version (callers hold the row lock). */
export async function updateCase(tx: Tx, id: number, u: CaseUpdate): Promise<CaseRow> {
  // Parameters go as text with explicit casts: the shared client registers a custom bigint type,
  // which leaves postgres.js without its Date/JSON serialisers.
  const frags = [tx`state = ${u.state}`, tx`updated_at = now()`];
  if (u.assigneeId !== undefined) frags.push(tx`assignee_id = ${u.assigneeId === null ? null : String(u.assigneeId)}::bigint`);
  if (u.lockedUntil !== undefined) frags.push(tx`locked_until = ${u.lockedUntil ? u.lockedUntil.toISOString() : null}::timestamptz`);
  if (u.resolution !== undefined) frags.push(tx`resolution = ${u.resolution}`);
  if (u.reasonCode !== undefined) frags.push(tx`reason_code = ${u.reasonCode}`);
  if (u.escalation !== undefined) frags.push(tx`escalation = ${u.escalation}`);
  if (u.duplicateOfId !== undefined) frags.push(tx`duplicate_of_id = ${u.duplicateOfId === null ? null : String(u.duplicateOfId)}::bigint`);
  if (u.pending !== undefined) frags.push(tx`pending = ${u.pending === null ? null : JSON.stringify(u.pending)}::jsonb`);
  if (u.touched !== undefined) frags.push(tx`touched = ${u.touched}`);
  const set = frags.reduce((a, f) => tx`${a}, ${f}`);
  const [r] = await tx<CaseRow[]>`update cases set ${set}, version = version + 1 where id = ${id} returning ${columns(tx)}`;
  return num(r);
}

export interface NoteRow { id: number; caseId: number; authorId: number | null; authorName: string | null; kind: string; body: string; createdAt: Date }

export async function addCaseNote(tx: Tx, caseId: number, authorId: number | null, kind: 'note' | 'transition' | 'system', body: string): Promise<NoteRow> {
  const [r] = await tx<NoteRow[]>`
    insert into case_notes (case_id, author_id, kind, body) values (${caseId}, ${authorId}, ${kind}, ${body})
    returning id, case_id as "caseId", author_id as "authorId", null::text as "authorName", kind, body, created_at as "createdAt"`;
  return { ...r, id: Number(r.id), caseId: Number(r.caseId), authorId: r.authorId === null ? null : Number(r.authorId) };
}

export async function caseNotes(sql: Tx, caseId: number): Promise<NoteRow[]> {
  const rows = await sql<NoteRow[]>`
    select n.id, n.case_id as "caseId", n.author_id as "authorId", u.name as "authorName", n.kind, n.body, n.created_at as "createdAt"
    from case_notes n left join users u on u.id = n.author_id where n.case_id = ${caseId} order by n.id`;
  return rows.map((r) => ({ ...r, id: Number(r.id), caseId: Number(r.caseId), authorId: r.authorId === null ? null : Number(r.authorId) }));
}

/** The audit entries of one case, oldest first. */
export async function caseAudit(sql: Tx, caseId: number) {
  return sql<{ id: number; at: Date; actor: string; action: string; before: unknown; after: unknown; hash: string }[]>`
    select id, at, actor, action, before, after, hash from audit_log where entity = 'case' and entity_id = ${String(caseId)} order by id`;
}

/** Current published result and its version history for the evidence panel. */
export async function resultHistory(sql: Tx, tpsCode: string, contestId: string) {
  return sql<{ version: number; stage: string; status: string; isCurrent: boolean; values: Record<string, number>; rules: unknown; readingIds: number[]; createdAt: Date }[]>`
    select version, stage, status, is_current as "isCurrent", values, rules, reading_ids as "readingIds", created_at as "createdAt"
    from tps_results where tps_code = ${tpsCode} and contest_id = ${contestId} order by version`;
}

/** Photos submitted for the TPS and contest (hashes are the evidence references). */
export async function submissionsOf(sql: Tx, tpsCode: string, contestId: string) {
  return sql<{ id: number; photoSha256: string; page: string | null; source: string; status: string; receivedAt: Date }[]>`
    select id, photo_sha256 as "photoSha256", page, source, status, received_at as "receivedAt"
    from submissions where tps_code = ${tpsCode} and contest_id = ${contestId} order by id`;
}

/** Does this TPS have an active failing hard rule (i.e. is it quarantined)? */
export async function hasActiveHardFailure(sql: Tx, tpsCode: string, contestId: string): Promise<boolean> {
  const rows = await sql`select 1 from anomalies where tps_code = ${tpsCode} and contest_id = ${contestId} and status = 'active' and kind in ('hard_rule', 'HARD') limit 1`;
  return rows.length > 0;
}

export async function userById(sql: Tx, id: number): Promise<{ id: number; name: string; role: string } | null> {
  const [u] = await sql<{ id: number; name: string; role: string }[]>`select id, name, role from users where id = ${id} and revoked_at is null`;
  return u ? { ...u, id: Number(u.id) } : null;
}

/** Append case audit entries in the caller's transaction (the ingest owner's hash chain). */
export async function auditCase(tx: Tx, entries: { actorId: number | null; actor: string; action: string; caseId: number; before: unknown; after: unknown }[]) {
  return appendAudit(tx, entries.map((e) => ({ actorId: e.actorId, actor: e.actor, action: e.action, entity: 'case', entityId: String(e.caseId), before: e.before, after: e.after })));
}

export type { Sql };
