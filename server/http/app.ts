import express, { type Express } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../../db/client.js';
import type { Config } from '../config.js';
import type { HealthResponse } from '../contract/index.js';
import { errorHandler, unknownRoute } from './errors.js';
import { rateLimiterFor } from './middleware/ratelimit.js';
import { corsForFeeds, securityHeaders } from './middleware/security.js';
import { databaseUnavailable } from './middleware/unavailable.js';
import { authRouter } from '../auth/routes.js';
import { areasRouter } from './routes/areas.js';
import { casesRouter } from './routes/cases.js';
import { findingsRouter } from './routes/findings.js';
import { ingestRoutes } from './routes/ingest.js';
import { operatorsRouter } from './routes/operators.js';
import { practiceRouter } from './routes/practice.js';
import type { JobQueue } from '../../workers/jobs/queue.js';
import { loadEvaluator } from '../../workers/jobs/rules.js';
import type { EvaluateFn } from '../../db/repositories/publish.js';

export const REKAP_VERSION = '0.1.0';
export const clientDistDir = join(import.meta.dirname, '..', '..', 'dist', 'client');

export interface AppDeps {
  config: Config;
  database: Database;
  log: (msg: string, err?: unknown) => void;
  /** Job queue for uploads (null on a read-only node). */
  queue?: JobQueue | null;
}

/**
 * The HTTP application: thin routes over repositories. Each concern mounts its own router here;
 * the order is API first, then the built client with an index.html fallback for client routes.
 */
export function createApp(deps: AppDeps): Express {
  const { config, database } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  // Hardening (docs/SECURITY.md): headers with CSP, CORS only on the public feeds, rate limits in PostgreSQL.
  app.use(securityHeaders({ tileUrl: config.REKAP_TILE_URL ?? null }));
  app.use(corsForFeeds());
  app.use('/api', rateLimiterFor(config, database.sql, deps.log).middleware({ exempt: /^\/health$/ }));

  const api = express.Router();
  api.get('/health', async (_req, res) => {
    let dbOk = true;
    try {
      await database.sql`select 1`;
    } catch {
      dbOk = false;
    }
    const body: HealthResponse = { ok: dbOk, version: REKAP_VERSION, database: dbOk ? 'ok' : 'unreachable', roles: config.REKAP_ROLES, time: new Date().toISOString() };
    res.status(dbOk ? 200 : 503).json(body);
  });
  // Settings the dashboard needs at run time (optional tile layer, public URL for embed snippets).
  api.get('/client-config', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300');
    res.json({ tileUrl: config.REKAP_TILE_URL ?? null, publicUrl: config.REKAP_PUBLIC_URL ?? null });
  });
  api.use(authRouter({ sql: database.sql }));
  api.use(areasRouter(database.sql));
  // One rules evaluator for every route that publishes (uploads' re-publish, TPS corrections, case corrections).
  let evaluator: Promise<EvaluateFn> | null = null;
  const evaluate = () => (evaluator ??= loadEvaluator(deps.log));
  api.use(ingestRoutes({ config, database, queue: deps.queue ?? null, log: deps.log, evaluate }));
  api.use(practiceRouter({ database, log: deps.log }), operatorsRouter({ database }));
  api.use(findingsRouter(database.sql), casesRouter(database.sql, { evaluate }));
  api.use(unknownRoute);
  app.use('/api', api);

  if (config.REKAP_SERVE_CLIENT && existsSync(clientDistDir)) {
    app.use(
      express.static(clientDistDir, {
        index: false,
        maxAge: '1h',
        // Bundles (/assets/<name>-<hash>.js) and boundary files (/geo/fast/<hash>/) change name
        // when their content changes: browsers may keep them for a year without asking again.
        setHeaders: (res, path) => {
          if (/^[\\/](assets|geo[\\/]fast)[\\/]/.test(path.slice(clientDistDir.length))) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        },
      }),
    );
    // Client-side routes (/area/62, /tps/…, /embed/map) all load the single-page app.
    app.get(/^\/(?!api\/|socket\.io\/).*/, (_req, res) => res.sendFile(join(clientDistDir, 'index.html')));
  }
  app.use(unknownRoute);
  app.use(databaseUnavailable(deps.log));
  app.use(errorHandler(deps.log));
  return app;
}
