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
  switch (typeof value) {
    case 'number': return Number.isFinite(value) ? String(value) : 'null';
    case 'string': return JSON.stringify(value);
    case 'boolean': return value ? 'true' : 'false';
    case 'object': break;
    default: return JSON.stringify(value) ?? 'null';
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return out + ']';
  }
  // The audit log hashes thousands of result objects per publish batch: one key sort and one string
  // per object, no intermediate entry arrays (same bytes as the sorted-entries form).
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += (first ? '"' : ',"') + (SAFE_KEY.test(k) ? k : JSON.stringify(k).slice(1, -1)) + '":' + canonicalJson(v);
    first = false;
  }
  return out + '}';
}
/** Keys that JSON.stringify writes unchanged (no escaping needed). */
const SAFE_KEY = /^[A-Za-z0-9_.:\- ]*$/;

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
 * Chain a batch of entries after `prevHash` with the given ids (pure: no I/O). Returns the rows and the
 * JSON payload for `insertAuditPayload`, written from the canonical strings that were hashed, so each
 * before/after value is serialised once.
 */
export function chainAuditRows(prevHash: string, ids: number[], at: string, entries: AuditInput[]): { rows: AuditRow[]; payload: string; head: string } {
  const q = JSON.stringify;
  const rows: AuditRow[] = [];
  let payload = '[';
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const canon = { before: canonicalJson(e.before ?? null), after: canonicalJson(e.after ?? null) };
    const base = {
      id: ids[i], at, actorId: e.actorId, actor: e.actor, action: e.action, entity: e.entity,
      entityId: e.entityId, before: e.before ?? null, after: e.after ?? null, photoSha256: e.photoSha256 ?? null,
    };
    const hash = auditEntryHash(prevHash, base, canon);
    rows.push({ ...base, prevHash, hash });
    payload += `${i ? ',' : ''}{"id":${base.id},"actor_id":${canonicalJson(base.actorId)},"actor":${q(base.actor)},"action":${q(base.action)},` +
      `"entity":${q(base.entity)},"entity_id":${q(base.entityId)},"before":${canon.before},"after":${canon.after},` +
      `"photo_sha256":${canonicalJson(base.photoSha256)},"prev_hash":"${prevHash}","hash":"${hash}"}`;
    prevHash = hash;
  }
  return { rows, payload: payload + ']', head: prevHash };
}

/** The one INSERT of a chained batch (the caller holds PUBLISH_LOCK). */
export function insertAuditPayload(tx: Tx, at: string, payload: string) {
  return tx`
    insert into audit_log (id, at, actor_id, actor, action, entity, entity_id, before, after, photo_sha256, prev_hash, hash)
    select id, ${at}::timestamptz, actor_id, actor, action, entity, entity_id, nullif(before, 'null'::jsonb), nullif(after, 'null'::jsonb), photo_sha256, prev_hash, hash
    from jsonb_to_recordset(${payload}::jsonb) as u(id bigint, actor_id bigint, actor text, action text, entity text, entity_id text,
      before jsonb, after jsonb, photo_sha256 text, prev_hash text, hash text)`;
}

/** Ids for n new audit rows (the caller holds PUBLISH_LOCK, so they follow the current head). */
export function nextAuditIds(tx: Tx, n: number) {
  return tx<{ id: string }[]>`select nextval(pg_get_serial_sequence('audit_log', 'id'))::bigint as id from generate_series(1, ${n})`;
}

export function auditHeadHash(tx: Tx) {
  return tx<{ hash: string }[]>`select hash from audit_log order by id desc limit 1`;
}

/**
 * Append entries inside the caller's transaction. Takes PUBLISH_LOCK (a no-op if the caller holds it).
 * `at` is set here with millisecond precision so that the hash can be recomputed from the stored row.
 */
export async function appendAudit(tx: Tx, entries: AuditInput[]): Promise<AuditRow[]> {
  if (entries.length === 0) return [];
  await tx`select pg_advisory_xact_lock(${PUBLISH_LOCK})`;
  const [head] = await auditHeadHash(tx);
  const ids = await nextAuditIds(tx, entries.length);
  const at = new Date().toISOString();
  const { rows, payload } = chainAuditRows(head?.hash ?? GENESIS_HASH, ids.map((r) => Number(r.id)), at, entries);
  await insertAuditPayload(tx, at, payload);
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
