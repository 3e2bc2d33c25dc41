/**
 * A worker SIGKILLed in the middle of a read-page job: nothing half-done is left, pg-boss expires the
 * job, another worker runs it, and it completes exactly once (one reading, one result version, one
 * contribution to the tallies). Real PostgreSQL, real processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openQueue } from '../workers/jobs/queue.js';
import { insertSubmission } from '../db/repositories/submissions.js';
import { candidateCount, formValues, pickTps, readingFor, rng } from './ingest-helpers.js';

const CONTEST = 'pkwkp-62';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('worker killed mid-job', () => {
  let db: TestDatabase;
  let dir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    dir = mkdtempSync(join(tmpdir(), 'rekap-kill-'));
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function startWorker(mode: 'hang' | 'ok'): Promise<ChildProcess> {
    const child = fork(join(import.meta.dirname, 'ingest-kill-worker.fixture.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DATABASE_URL: db.url, REKAP_KILL_MODE: mode, REKAP_KILL_MARKER: join(dir, 'marker'), REKAP_KILL_READING: join(dir, 'reading.json'), REKAP_KILL_DATA_DIR: dir },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(child));
      child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
  }

  it('the job of a SIGKILLed worker completes exactly once on another worker', async () => {
    const [tps] = await pickTps(db.sql, '6203', 1);
    const values = formValues(tps, await candidateCount(db.sql, CONTEST), rng(3));
    writeFileSync(join(dir, 'reading.json'), JSON.stringify(readingFor(values, 'perolehan')));
    // A stored photo and a submission, queued in one transaction as the upload route does.
    mkdirSync(join(dir, 'photos'), { recursive: true });
    writeFileSync(join(dir, 'photos', 'p.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    const queue = await openQueue(db.url, { supervise: false, timings: { 'read-page': { expireInSeconds: 2, retryDelaySeconds: 0, retryBackoff: false } } });
    const id = await db.sql.begin(async (tx) => {
      const { submission } = await insertSubmission(tx, { sha256: 'c'.repeat(64), byteSize: 4, mime: 'image/jpeg', width: 1000, height: 1400, storedPath: 'p.jpg' }, { tpsCode: tps.code, contestId: CONTEST, page: 'perolehan', source: 'kpps', uploaderId: null });
      await queue.send('read-page', { submissionId: submission.id }, { tx });
      return submission.id;
    });
    await queue.stop();

    const hanging = await startWorker('hang');
    const marker = join(dir, 'marker');
    const t0 = Date.now();
    while (!existsSync(marker) && Date.now() - t0 < 30_000) await sleep(100);
    expect(existsSync(marker)).toBe(true);
    hanging.kill('SIGKILL');
    await new Promise((r) => hanging.once('exit', r));
    // Killed mid-read: nothing stored.
    expect((await db.sql`select count(*)::int as n from readings`)[0].n).toBe(0);
    expect((await db.sql`select count(*)::int as n from tps_results`)[0].n).toBe(0);

    await startWorker('ok');
    const end = Date.now() + 60_000;
    let published = null;
    while (Date.now() < end) {
      [published] = await db.sql`select * from tps_results where tps_code = ${tps.code}`;
      if (published) break;
      await sleep(250);
    }
    expect(published?.status).toBe('published');
    await sleep(3000); // give any duplicate delivery time to show up
    const runs = readFileSync(marker, 'utf8').trim().split('\n');
    expect(runs[0]).toMatch(/^hang /);
    expect(runs.filter((r) => r.startsWith('ok ')).length).toBe(1);
    expect((await db.sql`select count(*)::int as n from readings where submission_id = ${id}`)[0].n).toBe(1);
    expect((await db.sql`select count(*)::int as n from tps_results where tps_code = ${tps.code}`)[0].n).toBe(1);
    expect((await db.sql`select status from submissions where id = ${id}`)[0].status).toBe('read');
    const [t] = await db.sql`select tps_published, suara_sah from area_tallies where contest_id = ${CONTEST} and area_code = '00'`;
    expect(t.tps_published).toBe(1);
    expect(Number(t.suara_sah)).toBe(values.suara_sah);
  }, 120_000);
});
