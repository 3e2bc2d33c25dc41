/**
 * SIGKILL PostgreSQL mid-ingest and restart it (RELIABILITY §8.3 tests 1–2, issue 9). Phones keep
 * uploading through the crash, retrying what was not acknowledged, as the capture outbox does. After
 * the restart: every acknowledged (202) upload is stored, each is read and published once, the totals
 * re-sum exactly from the TPS rows, the API answered 503 JSON while the database was down (never
 * crashed), and it recovered by itself. Runs on a PostgreSQL of its own (test/faults/pg-instance.ts).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, crashGuardResets, type Database } from '../../db/client.js';
import { createUserWithToken } from '../../db/repositories/tokens.js';
import { publishBatch } from '../../db/repositories/publish.js';
import { evaluateBuiltin } from '../../workers/jobs/rules.js';
import { loadConfig } from '../../server/config.js';
import { startApi, type RunningApi } from '../../server/runtime/api.js';
import type { ReadInput } from '../../workers/jobs/handlers.js';
import type { PageReading } from '../../workers/reader/types.js';
import { startWorkers, type RunningWorkers } from '../../workers/runtime.js';
import { candidateCount, formValues, pickTps, readingFor, rng, type TpsInfo } from '../ingest-helpers.js';
import { startFaultPg, type FaultPg } from './pg-instance.js';

const CONTEST = 'pkwkp-62';
const FORMS = 48;
let pg: FaultPg;
let database: Database;
let api: RunningApi;
let workers: RunningWorkers;
let dataDir: string;
const logs: string[] = [];
const readings = new Map<string, PageReading>();

async function photo(seed: number): Promise<Buffer> {
  const r = rng(seed);
  const rects = Array.from({ length: 12 }, () => `<rect x="${Math.floor(r() * 500)}" y="${Math.floor(r() * 700)}" width="40" height="20" fill="#333"/>`).join('');
  return sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="600" height="800"><rect width="100%" height="100%" fill="#f4f1e8"/>${rects}</svg>`)).jpeg({ quality: 80 }).toBuffer();
}

beforeAll(async () => {
  pg = await startFaultPg();
  database = connect(pg.url, { max: 10 });
  dataDir = mkdtempSync(join(tmpdir(), 'rekap-fault-'));
  const config = loadConfig({ DATABASE_URL: pg.url, REKAP_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', REKAP_ROLES: 'api,worker', REKAP_SERVE_CLIENT: '0', REKAP_LOG_LEVEL: 'warn', REKAP_DELTA_INTERVAL_MS: '200', REKAP_RATE_PER_TOKEN: '0', REKAP_RATE_PER_IP: '0' }, join(import.meta.dirname, '..', '..'));
  const log = (msg: string, err?: unknown) => logs.push(`${msg} ${err instanceof Error ? err.message : err ?? ''}`);
  const reader = async (input: ReadInput): Promise<PageReading> => {
    const hash = /([0-9a-f]{64})\.[a-z]+$/.exec(input.path)?.[1] ?? '';
    const r = readings.get(hash);
    if (!r) throw new Error(`fault test reader: unknown photo ${hash}`);
    return r;
  };
  // Short expiries: a job whose completion was lost with the database is retried after its expiry
  // (15 min in production for read-page); the test waits for that path rather than for the clock.
  const timings = { 'read-page': { expireInSeconds: 20, retryDelaySeconds: 1 }, 'publish-tps': { expireInSeconds: 20, retryDelaySeconds: 1 } };
  workers = await startWorkers({ config, database, url: pg.url, log, reader, maintenanceIntervalSeconds: 1, timings });
  api = await startApi(config, database, log, { databaseUrl: pg.url, queue: workers.queue });
}, 600_000);

const within = (p: Promise<unknown> | undefined, ms = 15_000) => Promise.race([Promise.resolve(p).catch(() => {}), new Promise((r) => setTimeout(r, ms))]);
afterAll(async () => {
  await within(api?.close());
  await within(workers?.stop());
  await within(database?.close());
  await pg?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('PostgreSQL SIGKILL mid-ingest', () => {
  it('loses nothing acknowledged, counts nothing twice, answers 503 JSON while down and recovers by itself', { timeout: 600_000 }, async () => {
    const sql = database.sql;
    const url = api.url.replace('localhost', '127.0.0.1');
    const tps: TpsInfo[] = await pickTps(sql, '62', FORMS, { spread: true });
    const n = await candidateCount(sql, CONTEST);
    const tokens = new Map<string, string>();
    for (const t of tps) tokens.set(t.code, (await createUserWithToken(sql, { name: `KPPS ${t.code}`, role: 'kpps', scopeCode: t.code })).token);
    const forms = await Promise.all(tps.map(async (t, i) => {
      const bytes = await photo(1000 + i);
      const sha = createHash('sha256').update(bytes).digest('hex');
      readings.set(sha, readingFor(formValues(t, n, rng(500 + i)), 'perolehan'));
      return { tps: t.code, bytes, sha };
    }));

    const acked = new Map<string, number>(); // sha → submission id (202 or 200-duplicate)
    const statuses: Record<string, number> = {};
    const errors503: unknown[] = [];
    let transportErrors = 0;
    let killedAt = 0;
    let restartedAt = 0;
    let firstAckAfterRestart = 0;

    async function send(f: (typeof forms)[number]): Promise<void> {
      const form = new FormData();
      form.set('tps', f.tps);
      form.set('contest', CONTEST);
      form.set('page', 'perolehan');
      form.set('photo', new Blob([new Uint8Array(f.bytes)], { type: 'image/jpeg' }), 'c1.jpg');
      let res: Response;
      try {
        res = await fetch(`${url}/api/submissions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${tokens.get(f.tps)}` }, signal: AbortSignal.timeout(15_000) });
      } catch {
        transportErrors++;
        return;
      }
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const body = await res.json().catch(() => null);
      if (res.status === 202 || res.status === 200) {
        acked.set(f.sha, body.id);
        if (restartedAt && !firstAckAfterRestart) firstAckAfterRestart = performance.now();
      } else if (res.status === 503) errors503.push(body);
      else expect.fail(`unexpected ${res.status} ${JSON.stringify(body)}`);
    }

    // The outbox: three phones' worth of concurrency, each retrying until acknowledged.
    const pending = [...forms];
    const outbox = async () => {
      while (pending.length) {
        const f = pending.shift()!;
        await send(f);
        if (!acked.has(f.sha)) {
          pending.push(f);
          await new Promise((r) => setTimeout(r, 150 + Math.random() * 200));
        }
      }
    };
    const phones = Promise.all([outbox(), outbox(), outbox()]);

    // Kill once a third is acknowledged, i.e. with uploads, jobs and publishes in flight.
    while (acked.size < FORMS / 3) await new Promise((r) => setTimeout(r, 20));
    const ackedBeforeKill = acked.size;
    pg.kill();
    killedAt = performance.now();
    // While it is down: JSON 503s, not crashes or hangs.
    await new Promise((r) => setTimeout(r, 1500));
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false, database: 'unreachable' });
    const area = await fetch(`${url}/api/results/${CONTEST}/62`);
    expect(area.status).toBe(503);
    expect((await area.json()).error.code).toBe('database_unavailable');
    await new Promise((r) => setTimeout(r, 1500));
    await pg.start();
    restartedAt = performance.now();
    await phones;

    // Everything acknowledged is stored, read and published exactly once.
    const deadline = Date.now() + 240_000;
    let done = false;
    while (!done && Date.now() < deadline) {
      // Read, and published by the follow-up job (which may lag the read under load).
      const [r] = await sql<{ read: number; current: number }[]>`
        select (select count(*)::int from submissions where status = 'read') as read,
               (select count(*)::int from tps_results where is_current and contest_id = ${CONTEST}) as current`.catch(() => [{ read: -1, current: -1 }]);
      done = r.read === FORMS && r.current === FORMS;
      if (!done) await new Promise((res) => setTimeout(res, 500));
    }
    const subs = await sql<{ id: number; sha: string }[]>`select id, photo_sha256 as sha from submissions`;
    const stored = new Map(subs.map((s) => [s.sha, Number(s.id)]));
    const lost = [...acked].filter(([sha, id]) => stored.get(sha) !== id);
    const [counts] = await sql<{ subs: number; photos: number; jobs_done: number; readings: number; current: number; published: number }[]>`
      select (select count(*)::int from submissions) as subs, (select count(*)::int from photos) as photos,
             (select count(*)::int from readings) as readings,
             (select count(*)::int from tps_results where is_current and contest_id = ${CONTEST}) as current,
             (select count(*)::int from tps_results where is_current and contest_id = ${CONTEST} and status = 'published') as published,
             0 as jobs_done`;
    // Totals re-sum from the TPS rows: no result counted twice, none missing.
    const [nat] = await sql<{ suara_sah: number; tps_published: number }[]>`select suara_sah, tps_published from area_tallies where contest_id = ${CONTEST} and area_code = '00'`;
    const [sum] = await sql<{ s: number; n: number }[]>`select coalesce(sum(suara_sah), 0)::int as s, count(*)::int as n from tps_results where is_current and contest_id = ${CONTEST} and status = 'published'`;
    const [dupes] = await sql<{ n: number }[]>`select count(*)::int as n from (select tps_code from tps_results where is_current and contest_id = ${CONTEST} group by tps_code having count(*) > 1) d`;
    console.log(JSON.stringify({
      pgKill: {
        forms: FORMS, ackedBeforeKill, acked: acked.size, stored: stored.size, lost: lost.length, readings: counts.readings, currentResults: counts.current, published: counts.published,
        nationalSuaraSah: Number(nat?.suara_sah), resummed: sum.s, statuses, responses503: errors503.length, transportErrors,
        downMs: Math.round(restartedAt - killedAt), firstAckAfterRestartMs: firstAckAfterRestart ? Math.round(firstAckAfterRestart - restartedAt) : null,
        poolResetsByCrashGuard: crashGuardResets(), load: (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' '),
      },
    }));
    expect(done, `only some forms were read; logs: ${logs.slice(-5).join(' | ')}`).toBe(true);
    expect(acked.size).toBe(FORMS);
    expect(lost).toEqual([]);
    expect(counts.subs).toBe(FORMS);
    expect(counts.photos).toBe(FORMS);
    expect(counts.current).toBe(FORMS);
    expect(dupes.n).toBe(0);
    expect(Number(nat.suara_sah)).toBe(sum.s);
    expect(Number(nat.tps_published)).toBe(sum.n);
    // Every 503 was the JSON error, and the API answered (no crash) throughout.
    for (const b of errors503) expect(b).toMatchObject({ error: { code: expect.stringMatching(/database_unavailable|queue_unavailable/) } });
    expect(errors503.length + transportErrors).toBeGreaterThan(0);
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
  });

  // Once in a CI run of session 3 this test hung until its 300 s timeout, with no output; it passed
  // at once when re-run and could not be reproduced. Every wait is therefore bounded and named (so a
  // failure says where it stuck), and a second attempt starts from a running PostgreSQL.
  it('the Socket.IO adapter and the change feed survive a PostgreSQL restart: a delta and a broadcast after it reach a client on another node', { timeout: 150_000, retry: 1 }, async () => {
    const step = <T>(what: string, p: Promise<T>, ms = 30_000): Promise<T> =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms).unref())]);
    const sql = database.sql;
    const up = await step('PostgreSQL answers', sql`select 1`.then(() => true), 5_000).catch(() => false);
    if (!up) {
      pg.kill();
      await step('PostgreSQL restart before the attempt', pg.start(), 60_000);
    }
    const configB = loadConfig({ DATABASE_URL: pg.url, REKAP_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', REKAP_ROLES: 'api', REKAP_SERVE_CLIENT: '0', REKAP_LOG_LEVEL: 'warn', REKAP_DELTA_INTERVAL_MS: '200' }, join(import.meta.dirname, '..', '..'));
    const databaseB = connect(pg.url, { max: 4 });
    const nodeB = await step('node B starts', startApi(configB, databaseB, (m, e) => logs.push(`[B] ${m} ${e instanceof Error ? e.message : e ?? ''}`), { databaseUrl: pg.url }));
    const { io: ioClient } = await import('socket.io-client');
    const client = ioClient(nodeB.url.replace('localhost', '127.0.0.1'), { transports: ['websocket'], reconnectionDelay: 300 });
    try {
      await step('client connects to node B', new Promise<void>((resolve) => client.once('connect', () => resolve())));
      const ack = await client.timeout(10_000).emitWithAck('subscribe', { area: '62', contest: CONTEST });
      expect(ack.ok).toBe(true);
      const deltas: { version: number }[] = [];
      const broadcasts: number[] = [];
      client.on('delta', (d: { version: number }) => deltas.push(d));
      client.on('anomaly', (a: { id: number }) => broadcasts.push(a.id));
      // Baseline: a broadcast from node A reaches node B's client through the adapter before the crash.
      const before = { id: 123456, rule: 'TEST', kind: 'adapter', contestId: CONTEST, tpsCode: null, areaCode: '62', severity: 0, detail: {}, at: new Date().toISOString() };
      for (let i = 0; i < 40 && !broadcasts.includes(123456); i++) {
        api.realtime!.io.to(`${CONTEST}:62`).emit('anomaly', before as never);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(broadcasts, 'adapter broadcast before the restart').toContain(123456);

      pg.kill();
      await new Promise((r) => setTimeout(r, 2000));
      await step('PostgreSQL restarts', pg.start(), 60_000);
      const restartedAt = performance.now();

      // Cross-node broadcasts from node A (through the Postgres adapter) from the moment PostgreSQL is
      // back, and, independently, a result published after the restart (as a worker would).
      const event = { id: 987654, rule: 'TEST', kind: 'adapter', contestId: CONTEST, tpsCode: null, areaCode: '62', severity: 0, detail: {}, at: new Date().toISOString() };
      let broadcastMs = -1;
      const broadcasting = (async () => {
        while (performance.now() - restartedAt < 30_000 && broadcastMs < 0) {
          api.realtime!.io.to(`${CONTEST}:62`).emit('anomaly', event as never);
          await new Promise((r) => setTimeout(r, 250));
          if (broadcasts.includes(987654)) broadcastMs = Math.round(performance.now() - restartedAt);
        }
      })();
      const [t] = await step('a TPS is picked after the restart', pickTps(sql, '6201', 1, { spread: true }));
      const n = await step('candidates counted after the restart', candidateCount(sql, CONTEST));
      let publishedAt = 0;
      while (!publishedAt && performance.now() - restartedAt < 30_000) {
        const ok = await step('a publish after the restart', publishBatch(sql, [{ tpsCode: t.code, contestId: CONTEST, stage: 'kpps', values: formValues(t, n, rng(4242)), actorId: null, actor: 'fault test' }], evaluateBuiltin), 10_000).then(() => true, () => false);
        if (ok) publishedAt = performance.now();
        else await new Promise((r) => setTimeout(r, 300));
      }
      expect(publishedAt).toBeGreaterThan(0);
      let deltaMs = -1;
      while (deltaMs < 0 && performance.now() - publishedAt < 20_000) {
        await new Promise((r) => setTimeout(r, 100));
        if (deltas.length) deltaMs = Math.round(performance.now() - publishedAt);
      }
      await broadcasting;
      const publishRetryMs = Math.round(publishedAt - restartedAt);
      console.log(JSON.stringify({ adapterAfterPgRestart: { firstPublishAfterRestartMs: publishRetryMs, deltaOnOtherNodeAfterPublishMs: deltaMs, adapterBroadcastMs: broadcastMs, clientConnected: client.connected, adapterLogs: logs.filter((l) => /adapter/.test(l)).slice(-6) } }));
      expect(deltaMs).toBeGreaterThan(0);
      expect(deltaMs).toBeLessThan(10_000);
      expect(broadcastMs).toBeGreaterThan(0);
      expect(broadcastMs).toBeLessThan(10_000);
    } finally {
      client.disconnect();
      await within(nodeB.close());
      await within(databaseB.close());
    }
  });
});
