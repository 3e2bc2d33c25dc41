import { join } from 'node:path';
import type { Sql } from '../../db/client.js';
import { appendAudit } from '../../db/repositories/audit.js';
import { publishBatch, type EvaluateFn, type PublishOutcome } from '../../db/repositories/publish.js';
import { contestForTps, findSubmission, insertReading, setSubmissionStatus } from '../../db/repositories/submissions.js';
import type { PageReading } from '../reader/types.js';
import type { JobQueue, QueuedJob } from './queue.js';

/**
 * Job handlers. Each is idempotent by natural keys and writes everything it changes in ONE
 * transaction, so a worker killed at any point leaves either nothing or everything, and the re-run
 * (after pg-boss expires the job) converges to the same state.
 */

export interface ReadInput {
  /** Absolute path of the stored photo. */
  path: string;
  tpsCode: string;
  contestId: string;
  /** Page declared by the uploader, if any. */
  page: string | null;
  candidateCount: number;
}
/** The reader seam: the real child-process pool, or (tests) a function returning a given reading. */
export type ReaderFn = (input: ReadInput) => Promise<PageReading>;

export interface HandlerDeps {
  sql: Sql;
  queue: JobQueue;
  photoDir: string;
  reader: ReaderFn;
  evaluate: EvaluateFn;
  log: (msg: string, err?: unknown) => void;
  /** Called after each committed publish batch (tests, metrics). */
  onPublished?: (outcomes: PublishOutcome[]) => void;
}

/** Reading → `readings` row: values the decoder chose, and the detail the review screen shows. */
export function readingRow(submissionId: number, r: PageReading) {
  const values: Record<string, number> = {};
  for (const [k, f] of Object.entries(r.fields ?? {})) if (typeof f.value === 'number') values[k] = f.value;
  return {
    submissionId,
    readerVersion: r.readerVersion || 'unknown',
    page: r.page,
    cls: r.class,
    alignmentScore: r.alignmentScore,
    values,
    detail: {
      // identifiedBy 'layout': the page mark was not read; the page was told by its printed boxes.
      templateId: r.templateId, markId: r.markId, identifiedBy: r.identifiedBy ?? null, fields: r.fields, changes: r.changes, residuals: r.residuals,
      post: r.post, pConsistent: r.pConsistent, timingsMs: r.timingsMs, rejectDetail: r.rejectDetail ?? null,
      // Where the page sat in the photo: lets a screen cut each field's boxes out of the original photo.
      frame: (r as PageReading & { frame?: unknown }).frame ?? null,
    },
    rejectReason: r.class === 'REJECTED' ? (r.rejectReason ?? 'rejected') : null,
  };
}

export async function handleReadPage(deps: HandlerDeps, job: QueuedJob<'read-page'>): Promise<void> {
  const { sql } = deps;
  const sub = await findSubmission(sql, job.data.submissionId);
  if (!sub) return; // deleted or never committed: nothing to do, do not retry forever
  if (sub.status === 'read' || sub.status === 'rejected') {
    // Already done by an earlier run whose completion was lost: make sure its publish was queued.
    if (sub.status === 'read') await deps.queue.send('publish-tps', { tpsCode: sub.tpsCode, contestId: sub.contestId });
    return;
  }
  const contest = await contestForTps(sql, sub.contestId, sub.tpsCode);
  await setSubmissionStatus(sql, sub.id, 'reading');
  let reading: PageReading;
  try {
    reading = await deps.reader({ path: join(deps.photoDir, sub.storedPath), tpsCode: sub.tpsCode, contestId: sub.contestId, page: sub.page, candidateCount: contest?.candidateCount ?? 0 });
  } catch (err) {
    // Poison: after the last retry the submission shows why it stopped.
    if (job.retryCount >= job.retryLimit) await setSubmissionStatus(sql, sub.id, 'failed', `reader failed: ${(err as Error).message}`.slice(0, 500));
    throw err;
  }
  const row = readingRow(sub.id, reading);
  await sql.begin(async (tx) => {
    const stored = await insertReading(tx, row);
    const rejected = reading.class === 'REJECTED';
    await tx`update submissions set status = ${rejected ? 'rejected' : 'read'}, status_reason = ${rejected ? row.rejectReason : null} where id = ${sub.id}`;
    if (stored.created) {
      await appendAudit(tx, [{
        actorId: null, actor: 'worker:read-page', action: rejected ? 'reading.rejected' : 'reading.stored', entity: 'reading',
        entityId: `${sub.tpsCode}:${sub.contestId}:reading:${stored.id}`,
        after: { readingId: stored.id, submissionId: sub.id, cls: reading.class, page: reading.page, values: row.values, readerVersion: row.readerVersion, rejectReason: row.rejectReason },
        photoSha256: sub.photoSha256,
      }]);
    }
    if (!rejected) await deps.queue.send('publish-tps', { tpsCode: sub.tpsCode, contestId: sub.contestId }, { tx });
  });
}

export async function handlePublishBatch(deps: HandlerDeps, jobs: QueuedJob<'publish-tps'>[]): Promise<PublishOutcome[]> {
  const seen = new Set<string>();
  const requests = jobs
    .filter((j) => { const k = `${j.data.contestId}|${j.data.tpsCode}`; if (seen.has(k)) return false; seen.add(k); return true; })
    .map((j) => ({ tpsCode: j.data.tpsCode, contestId: j.data.contestId, stage: 'machine' as const, values: null, actorId: null, actor: 'worker:publish-tps' }));
  const outcomes = await publishBatch(deps.sql, requests, deps.evaluate);
  deps.onPublished?.(outcomes);
  return outcomes;
}
