import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../server/config.js';
import { startApi, type ApiOptions, type RunningApi } from '../../server/runtime/api.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startWorkers, type RunningWorkers } from '../../workers/runtime.js';
import type { ReaderFn } from '../../workers/jobs/handlers.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface TestServer {
  url: string;
  db: TestDatabase;
  config: Config;
  api: RunningApi;
  /** Worker role (queue, reader seam, publish), when asked for with `workers`. */
  workers: RunningWorkers | null;
  close(): Promise<void>;
}

/**
 * The real rekap API (HTTP + whatever realtime layer startApi attaches) on a private copy of a
 * test database and a free port on 127.0.0.1, serving the built dashboard from dist/client.
 * Used by browser tests and by any test that wants the whole HTTP surface.
 */
export async function startTestServer(opts: {
    template?: 'kalteng' | 'empty';
    env?: Record<string, string>;
    db?: TestDatabase;
    apiOptions?: ApiOptions;
    /** Start the worker role in this process too; `reader` replaces the form reader (a seam for tests). */
    workers?: { reader?: ReaderFn };
  } = {}): Promise<TestServer> {
  const db = opts.db ?? (await createTestDatabase(opts.template ?? 'kalteng', { max: 10 }));
  const dataDir = mkdtempSync(join(tmpdir(), 'rekap-e2e-'));
  const config = loadConfig(
    {
      DATABASE_URL: db.url,
      REKAP_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      REKAP_ROLES: 'api',
      REKAP_SERVE_CLIENT: '1',
      REKAP_LOG_LEVEL: 'warn',
      REKAP_DELTA_INTERVAL_MS: '100',
      ...opts.env,
    },
    repoRoot,
  );
  const errors: unknown[] = [];
  const log = (msg: string, err?: unknown) => {
    errors.push(err ?? msg);
    console.error(`[test-server] ${msg}`, err ?? '');
  };
  const workers = opts.workers ? await startWorkers({ config, database: db, url: db.url, log, reader: opts.workers.reader, maintenanceIntervalSeconds: 1 }) : null;
  // With the database URL the API attaches Socket.IO (LISTEN for published changes) and the queue.
  const api = await startApi(config, db, log, { databaseUrl: db.url, ...(workers ? { queue: workers.queue } : {}), ...opts.apiOptions });
  const url = api.url.replace('localhost', '127.0.0.1');
  return {
    url,
    db,
    config,
    api,
    workers,
    async close() {
      await api.close();
      await workers?.stop();
      if (!opts.db) await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Build the dashboard into dist/client unless it is there (npm test builds it before vitest). */
export function ensureClientBuilt(): void {
  if (existsSync(join(repoRoot, 'dist', 'client', 'index.html'))) return;
  execFileSync('npx', ['vite', 'build', '--config', 'client/vite.config.ts', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
}
