import express, { Router } from 'express';
import type { Database } from '../../../db/client.js';
import type { EvaluateFn } from '../../../db/repositories/publish.js';
import type { JobQueue } from '../../../workers/jobs/queue.js';
import { authenticate } from '../../auth/index.js';
import type { Config } from '../../config.js';
import { feedsRouter } from './feeds.js';
import { submissionsRouter } from './submissions.js';
import { tpsRouter } from './tps.js';
import { uploadRouter } from './upload.js';

/** Every route of the ingest → publish → feeds spine, mounted under /api by createApp. */
export function ingestRoutes(deps: { config: Config; database: Database; queue: JobQueue | null; log: (msg: string, err?: unknown) => void; evaluate: () => Promise<EvaluateFn> }): Router {
  const router = Router();
  const { sql } = deps.database;
  const { evaluate } = deps;
  router.use(authenticate(sql));
  router.use(uploadRouter({
    database: deps.database, queue: deps.queue, photoDir: deps.config.photoDir,
    limits: { maxBytes: Math.round(deps.config.REKAP_MAX_UPLOAD_MB * 1024 * 1024), maxPixels: Math.round(deps.config.REKAP_MAX_UPLOAD_MEGAPIXELS * 1e6), maxFiles: 4 },
  }));
  router.use(express.json({ limit: '256kb' }));
  router.use(submissionsRouter({ sql, photoDir: deps.config.photoDir }));
  router.use(tpsRouter({ sql, evaluate }));
  router.use(feedsRouter({ sql }));
  return router;
}
