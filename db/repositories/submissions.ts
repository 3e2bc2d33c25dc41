import type { Sql } from '../client.js';
import type { Tx } from './audit.js';

export type SubmissionStatus = 'received' | 'reading' | 'read' | 'rejected' | 'failed';

export interface PhotoRow { sha256: string; byteSize: number; mime: string; width: number; height: number; storedPath: string; receivedAt: Date }
export interface SubmissionRow {
  id: number; photoSha256: string; tpsCode: string; contestId: string; page: string | null; source: string;
  uploaderId: number | null; receivedAt: Date; status: SubmissionStatus; statusReason: string | null;
}

const submissionColumns = (sql: Tx) => sql`
  s.id, s.photo_sha256 as "photoSha256", s.tps_code as "tpsCode", s.contest_id as "contestId", s.page, s.source,
  s.uploader_id as "uploaderId", s.received_at as "receivedAt", s.status, s.status_reason as "statusReason"`;

/**
 * Record a photo (once per SHA-256) and a submission (once per photo, TPS and contest) in the caller's
 * transaction. `created` is false when the same bytes were already submitted for this TPS and contest.
 */
export async function insertSubmission(tx: Tx, photo: Omit<PhotoRow, 'receivedAt'>, sub: { tpsCode: string; contestId: string; page: string | null; source: string; uploaderId: number | null }): Promise<{ submission: SubmissionRow; created: boolean }> {
  await tx`
    insert into photos (sha256, byte_size, mime, width, height, stored_path)
    values (${photo.sha256}, ${photo.byteSize}, ${photo.mime}, ${photo.width}, ${photo.height}, ${photo.storedPath})
    on conflict (sha256) do nothing`;
  const inserted = await tx<SubmissionRow[]>`
    insert into submissions as s (photo_sha256, tps_code, contest_id, page, source, uploader_id)
    values (${photo.sha256}, ${sub.tpsCode}, ${sub.contestId}, ${sub.page}, ${sub.source}, ${sub.uploaderId})
    on conflict (photo_sha256, tps_code, contest_id) do nothing
    returning ${submissionColumns(tx)}`;
  if (inserted.length) return { submission: inserted[0], created: true };
  const [existing] = await tx<SubmissionRow[]>`
    select ${submissionColumns(tx)} from submissions s
    where s.photo_sha256 = ${photo.sha256} and s.tps_code = ${sub.tpsCode} and s.contest_id = ${sub.contestId}`;
  return { submission: existing, created: false };
}

export async function findSubmission(sql: Sql, id: number): Promise<(SubmissionRow & { storedPath: string; mime: string }) | null> {
  const [row] = await sql<(SubmissionRow & { storedPath: string; mime: string })[]>`
    select ${submissionColumns(sql)}, p.stored_path as "storedPath", p.mime
    from submissions s join photos p on p.sha256 = s.photo_sha256 where s.id = ${id}`;
  return row ?? null;
}

export async function setSubmissionStatus(sql: Sql, id: number, status: SubmissionStatus, reason: string | null = null): Promise<void> {
  await sql`update submissions set status = ${status}, status_reason = ${reason} where id = ${id}`;
}

export async function findPhoto(sql: Sql, sha256: string): Promise<PhotoRow | null> {
  const [row] = await sql<PhotoRow[]>`
    select sha256, byte_size as "byteSize", mime, width, height, stored_path as "storedPath", received_at as "receivedAt"
    from photos where sha256 = ${sha256}`;
  return row ?? null;
}

export interface ReadingInsert {
  submissionId: number; readerVersion: string; page: string | null; cls: string; alignmentScore: number | null;
  values: Record<string, number>; detail: unknown; rejectReason: string | null;
}

/** One reading per submission and reader version: a re-run of the same job inserts nothing. */
export async function insertReading(tx: Tx, r: ReadingInsert): Promise<{ id: number; created: boolean }> {
  const rows = await tx<{ id: number }[]>`
    insert into readings (submission_id, reader_version, page, cls, alignment_score, values, detail, reject_reason)
    values (${r.submissionId}, ${r.readerVersion}, ${r.page}, ${r.cls}, ${r.alignmentScore}, ${JSON.stringify(r.values)}::jsonb,
            ${JSON.stringify(r.detail)}::jsonb, ${r.rejectReason})
    on conflict (submission_id, reader_version) do nothing returning id`;
  if (rows.length) return { id: Number(rows[0].id), created: true };
  const [existing] = await tx<{ id: number }[]>`
    select id from readings where submission_id = ${r.submissionId} and reader_version = ${r.readerVersion}`;
  return { id: Number(existing.id), created: false };
}

export async function latestReadingOf(sql: Sql, submissionId: number) {
  const [row] = await sql<{ id: number; cls: string; page: string | null; readerVersion: string; createdAt: Date }[]>`
    select id, cls, page, reader_version as "readerVersion", created_at as "createdAt"
    from readings where submission_id = ${submissionId} order by id desc limit 1`;
  return row ?? null;
}

export async function tpsExists(sql: Sql, code: string): Promise<boolean> {
  return (await sql`select 1 from tps where code = ${code}`).length > 0;
}

export async function contestForTps(sql: Sql, contestId: string, tpsCode: string): Promise<{ id: string; areaCode: string; candidateCount: number } | null> {
  const [c] = await sql<{ id: string; areaCode: string; candidateCount: number }[]>`
    select c.id, c.area_code as "areaCode", (select count(*)::int from candidates k where k.contest_id = c.id) as "candidateCount"
    from contests c where c.id = ${contestId}`;
  if (!c || !tpsCode.startsWith(c.areaCode)) return null;
  return c;
}

/** A reading with what is needed to cut its boxes out of the original photo. */
export async function readingForCrops(sql: Sql, readingId: number): Promise<{ id: number; detail: { templateId?: string; frame?: { pxPerMm: number; corners: [number, number][] } | null; fields?: Record<string, { roi?: [number, number, number, number][] }> }; photoSha256: string; storedPath: string } | null> {
  const [r] = await sql<{ id: number; detail: never; photoSha256: string; storedPath: string }[]>`
    select r.id, r.detail, s.photo_sha256 as "photoSha256", p.stored_path as "storedPath"
    from readings r join submissions s on s.id = r.submission_id join photos p on p.sha256 = s.photo_sha256
    where r.id = ${readingId}`;
  return r ?? null;
}
