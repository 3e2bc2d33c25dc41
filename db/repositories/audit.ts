import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import type { Sql } from '../client.js';

/** A connection or a transaction: appends join the caller's transaction. */
export type Tx = postgres.ISql;

/**
 * Append-only, hash-chained audit log (RELIABILITY §8.8):
 *   hash = sha256(prevHash ‖ canonicalJson({ id, at, actorId, actor, action, entity, entityId, before, after, photoSha256 }))
 * Appends are serialised by a transaction-level advisory lock so the chain never forks; the database
 * refuses UPDATE/DELETE (migration 0003_audit_guard).
 */
export const GENESIS_HASH = '0'.repeat(64);
/** Shared with the publish transaction: one writer at a time for the chain and the change feed. */
export const PUBLISH_LOCK = 727275;

export interface AuditInput {
  actorId: number | null;
  /** Human-readable actor: "user:12 (kpu_reviewer)", "worker:read-page", "system". */
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
  photoSha256?: string | null;
}

export interface AuditRow extends Required<Omit<AuditInput, 'before' | 'after'>> {
  id: number;
  at: string;
  before: unknown;
  after: unknown;
  prevHash: string;
  hash: string;
}

/** JSON with object keys sorted at every depth: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value);
}

export function auditEntryHash(prevHash: string, row: Omit<AuditRow, 'prevHash' | 'hash'>, canon?: { before: string; after: string }): string {
  // canonicalJson of the whole entry, written out with its keys in sorted order; before/after may be
  // given already canonical so that appending a batch serialises each value once.
  const q = JSON.stringify;
  const body = `{"action":${q(row.action)},"actor":${q(row.actor)},"actorId":${canonicalJson(row.actorId)},"after":${canon?.after ?? canonicalJson(row.after ?? null)},` +
    `"at":${q(row.at)},"before":${canon?.before ?? canonicalJson(row.before ?? null)},"entity":${q(row.entity)},"entityId":${q(row.entityId)},` +
    `"id":${canonicalJson(row.id)},"photoSha256":${canonicalJson(row.photoSha256 ?? null)}}`;
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

/**
 * Append entries inside the caller's transaction. Takes PUBLISH_LOCK (a no-op if the caller holds it).
 * `at` is set here with millisecond precision so that the hash can be recomputed from the stored row.
 */
export async function appendAudit(tx: Tx, entries: AuditInput[]): Promise<AuditRow[]> {
  if (entries.length === 0) return [];
  await tx`select pg_advisory_xact_lock(${PUBLISH_LOCK})`;
  const [head] = await tx<{ hash: string }[]>`select hash from audit_log order by id desc limit 1`;
  let prevHash = head?.hash ?? GENESIS_HASH;
  const ids = await tx<{ id: number }[]>`
    select nextval(pg_get_serial_sequence('audit_log', 'id'))::bigint as id from generate_series(1, ${entries.length})`;
  const at = new Date().toISOString();
  const rows: AuditRow[] = entries.map((e, i) => {
    const canon = { before: canonicalJson(e.before ?? null), after: canonicalJson(e.after ?? null) };
    const base = {
      id: Number(ids[i].id), at, actorId: e.actorId, actor: e.actor, action: e.action, entity: e.entity,
      entityId: e.entityId, before: JSON.parse(canon.before), after: JSON.parse(canon.after), photoSha256: e.photoSha256 ?? null,
    };
    const hash = auditEntryHash(prevHash, base, canon);
    const row = { ...base, prevHash, hash };
    prevHash = hash;
    return row;
  });
  const payload = JSON.stringify(rows.map((r) => ({
    id: r.id, actor_id: r.actorId, actor: r.actor, action: r.action, entity: r.entity, entity_id: r.entityId,
    before: r.before, after: r.after, photo_sha256: r.photoSha256, prev_hash: r.prevHash, hash: r.hash,
  })));
  await tx`
    insert into audit_log (id, at, actor_id, actor, action, entity, entity_id, before, after, photo_sha256, prev_hash, hash)
    select id, ${at}::timestamptz, actor_id, actor, action, entity, entity_id, nullif(before, 'null'::jsonb), nullif(after, 'null'::jsonb), photo_sha256, prev_hash, hash
    from jsonb_to_recordset(${payload}::jsonb) as u(id bigint, actor_id bigint, actor text, action text, entity text, entity_id text,
      before jsonb, after jsonb, photo_sha256 text, prev_hash text, hash text)`;
  return rows;
}

interface StoredAuditRow {
  id: number; at: Date; actorId: number | null; actor: string; action: string; entity: string; entityId: string;
  before: unknown; after: unknown; photoSha256: string | null; prevHash: string; hash: string;
}

const auditColumns = (sql: Sql) => sql`
  id, at, actor_id as "actorId", actor, action, entity, entity_id as "entityId", before, after,
  photo_sha256 as "photoSha256", prev_hash as "prevHash", hash`;

export type AuditVerification =
  | { ok: true; rows: number; head: string }
  | { ok: false; rows: number; badId: number; reason: string };

/** Recompute the chain from genesis, in id order, streaming; names the first row that does not verify. */
export async function verifyAuditChain(sql: Sql, opts: { pageSize?: number } = {}): Promise<AuditVerification> {
  const pageSize = opts.pageSize ?? 5000;
  let prevHash = GENESIS_HASH;
  let lastId = 0;
  let count = 0;
  for (;;) {
    const page = await sql<StoredAuditRow[]>`
      select ${auditColumns(sql)} from audit_log where id > ${lastId} order by id limit ${pageSize}`;
    for (const r of page) {
      count++;
      if (r.prevHash !== prevHash) return { ok: false, rows: count, badId: r.id, reason: 'prev_hash does not match the previous row (row removed, inserted or reordered)' };
      const expected = auditEntryHash(prevHash, {
        id: r.id, at: new Date(r.at).toISOString(), actorId: r.actorId, actor: r.actor, action: r.action, entity: r.entity,
        entityId: r.entityId, before: r.before, after: r.after, photoSha256: r.photoSha256,
      });
      if (expected !== r.hash) return { ok: false, rows: count, badId: r.id, reason: 'content does not match its hash (row altered)' };
      prevHash = r.hash;
      lastId = r.id;
    }
    if (page.length < pageSize) break;
  }
  return { ok: true, rows: count, head: prevHash };
}

export async function auditHead(sql: Sql): Promise<{ id: number; hash: string; at: string | null; count: number }> {
  const [row] = await sql<{ id: number; hash: string; at: Date }[]>`select id, hash, at from audit_log order by id desc limit 1`;
  const [{ n }] = await sql<{ n: number }[]>`select count(*)::bigint as n from audit_log`;
  return row ? { id: row.id, hash: row.hash, at: new Date(row.at).toISOString(), count: Number(n) } : { id: 0, hash: GENESIS_HASH, at: null, count: 0 };
}

export async function auditForEntities(sql: Sql, entityIdPrefix: string, limit = 200) {
  return sql<StoredAuditRow[]>`
    select ${auditColumns(sql)} from audit_log where entity_id like ${entityIdPrefix + '%'} order by id desc limit ${limit}`;
}
