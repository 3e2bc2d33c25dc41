import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Database } from '../db/client.js';
import type { Config } from '../server/config.js';
import type { PublishOutcome } from '../db/repositories/publish.js';
import type { JobTimingOverrides } from './jobs/catalogue.js';
import { handlePublishBatch, handleReadPage, type HandlerDeps, type ReaderFn } from './jobs/handlers.js';
import { openQueue, type JobQueue } from './jobs/queue.js';
import { startInvestigations } from './jobs/investigate.js';
import { loadEvaluator } from './jobs/rules.js';

export interface WorkerDeps {
  config: Config;
  database: Database;
  url: string;
  log: (msg: string, err?: unknown) => void;
  /** Replace the reader (tests: a reading injected through the same job path). */
  reader?: ReaderFn;
  timings?: JobTimingOverrides;
  maintenanceIntervalSeconds?: number;
  onPublished?: (outcomes: PublishOutcome[]) => void;
  /** Investigation follow-up (cases + statistical checkpoint) at most once per contest per interval; 0 = off. Default 15 s. */
  investigateIntervalMs?: number;
}

export interface RunningWorkers {
  queue: JobQueue;
  stop(): Promise<void>;
}

/**
 * The reader pool, loaded lazily: `npm start` must work before (or without) the reader landing, and
 * the OpenCV addon must only load in reader child processes. Returns null when there is no reader.
 */
async function loadReaderPool(processes: number, log: WorkerDeps['log']): Promise<{ reader: ReaderFn; close(): Promise<void> } | null> {
  const dir = join(import.meta.dirname, 'reader', 'process');
  const candidates = ['index.ts', 'pool.ts', 'index.js', 'pool.js'].map((f) => join(dir, f)).filter((f) => existsSync(f));
  for (const file of candidates) {
    try {
      const mod = (await import(pathToFileURL(file).href)) as { createReaderPool?: (n: number) => { read(input: string | Buffer, opts?: unknown): Promise<unknown>; close?(): Promise<void> } };
      if (typeof mod.createReaderPool !== 'function') continue;
      const pool = mod.createReaderPool(processes);
      log(`reader pool started (${processes} process${processes === 1 ? '' : 'es'})`);
      return {
        reader: async (input) => (await pool.read(input.path, {
          contestCandidateCount: input.candidateCount || undefined,
          expectedPage: input.page === 'administrasi' || input.page === 'perolehan' ? input.page : undefined,
          file: input.path,
        })) as Awaited<ReturnType<ReaderFn>>,
        close: async () => { await pool.close?.(); },
      };
    } catch (err) {
      log(`could not load the reader pool from ${file}`, err);
    }
  }
  return null;
}

/**
 * The worker role: consumes read-page (reader pool, one photo per process at a time) and publish-tps
 * (batched, one transaction per batch). Without a reader, read-page jobs wait in the queue.
 */
export async function startWorkers(deps: WorkerDeps): Promise<RunningWorkers> {
  const queue = await openQueue(deps.url, {
    supervise: true,
    timings: deps.timings,
    maintenanceIntervalSeconds: deps.maintenanceIntervalSeconds,
    onError: (err) => deps.log('queue error', err),
  });
  const evaluate = await loadEvaluator(deps.log);
  let pool: Awaited<ReturnType<typeof loadReaderPool>> = null;
  let reader = deps.reader;
  if (!reader && deps.config.REKAP_READER_PROCESSES > 0) {
    pool = await loadReaderPool(deps.config.REKAP_READER_PROCESSES, deps.log);
    reader = pool?.reader;
  }
  const handlerDeps = (r: ReaderFn): HandlerDeps => ({
    sql: deps.database.sql, queue, photoDir: deps.config.photoDir, reader: r, evaluate, log: deps.log, onPublished: deps.onPublished,
  });
  if (reader) {
    const hd = handlerDeps(reader);
    // One read-page consumer per reader process: each process reads one photo at a time.
    const consumers = Math.max(1, deps.config.REKAP_READER_PROCESSES);
    for (let i = 0; i < consumers; i++) {
      await queue.work('read-page', async (jobs) => {
        for (const job of jobs) await handleReadPage(hd, job);
      });
    }
  } else {
    deps.log('worker role: no form reader available yet; read-page jobs stay queued');
  }
  const publishDeps = handlerDeps(reader ?? (async () => { throw new Error('no reader'); }));
  // Two publish consumers: one batch's rules are evaluated while the other's writes run in PostgreSQL
  // (the publish lock keeps commits serial; bench/ingest.ts measures the gain).
  for (let i = 0; i < 2; i++) await queue.work('publish-tps', async (jobs) => { await handlePublishBatch(publishDeps, jobs); });
  const interval = deps.investigateIntervalMs ?? 15_000;
  const stopInvestigations = interval > 0 ? await startInvestigations(queue, { sql: deps.database.sql, log: deps.log, intervalMs: interval }) : null;
  deps.log('worker role started (read-page, publish-tps, investigate-contest)');
  return {
    queue,
    async stop() {
      await stopInvestigations?.();
      await queue.stop();
      await pool?.close();
    },
  };
}
