/**
 * Investigation after publishing, on a real PostgreSQL and a real Socket.IO server: the scheduler
 * follows the change feed (one job per changed contest, not per form), the job opens a case for a
 * quarantined TPS and drops its severity when a correction fixes it, re-running is harmless, and the
 * case events reach a Bawaslu socket in the investigation room (and nobody without the role).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { loadConfig } from '../server/config.js';
import { startApi, type RunningApi } from '../server/runtime/api.js';
import { publishBatch, type PublishRequest } from '../db/repositories/publish.js';
import { createUserWithToken } from '../db/repositories/tokens.js';
import { evaluateBuiltin } from '../workers/jobs/rules.js';
import { handleInvestigateContest, scheduleInvestigations } from '../workers/jobs/investigate.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../server/contract/index.js';
import type { InvestigationEvent } from '../server/contract/investigation.js';
import { candidateCount, formValues, pickTps, rng, type TpsInfo } from './ingest-helpers.js';

const CONTEST = 'pkwkp-62';
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

describe('investigation after publishing', () => {
  let db: TestDatabase;
  let api: RunningApi;
  let dataDir: string;
  let tps: TpsInfo[];
  let n: number;
  const sockets: ClientSocket[] = [];
  const r = rng(41);

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    dataDir = mkdtempSync(join(tmpdir(), 'rekap-inv-'));
    const config = loadConfig({ DATABASE_URL: db.url, REKAP_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', REKAP_SERVE_CLIENT: '0', REKAP_DELTA_INTERVAL_MS: '100' });
    api = await startApi(config, db, () => {}, { databaseUrl: db.url });
    tps = await pickTps(db.sql, '6201', 30);
    n = await candidateCount(db.sql, CONTEST);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await api?.close();
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const connect = (token?: string) => new Promise<ClientSocket>((resolve, reject) => {
    const s: ClientSocket = ioClient(api.url, { transports: ['websocket'], forceNew: true, reconnection: false, auth: token ? { token } : {} });
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
  const req = (t: TpsInfo, values: Record<string, number>, stage: PublishRequest['stage']): PublishRequest =>
    ({ tpsCode: t.code, contestId: CONTEST, stage, values, actorId: null, actor: 'test' });
  const sent: { name: string; data: unknown }[] = [];
  const queue = { send: async (name: string, data: unknown) => { sent.push({ name, data }); return 'job'; } };

  it('refuses the investigation room without a Bawaslu token, and in another province', async () => {
    const pub = await connect();
    const a = await pub.emitWithAck('subscribe-investigation', { area: '62' });
    expect(a).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    const kpu = await createUserWithToken(db.sql, { name: 'op', role: 'kpu_operator', scopeCode: '62' });
    const b = await (await connect(kpu.token)).emitWithAck('subscribe-investigation', { area: '62' });
    expect(b).toMatchObject({ ok: false, error: { code: 'out_of_scope' } });
    const other = await createUserWithToken(db.sql, { name: 'bawaslu jatim', role: 'bawaslu', scopeCode: '35' });
    const c = await (await connect(other.token)).emitWithAck('subscribe-investigation', { area: '6201' });
    expect(c).toMatchObject({ ok: false, error: { code: 'out_of_scope' } });
  });

  it('a quarantined TPS becomes a case, live in the Bawaslu room; its correction drops the severity', async () => {
    const bawaslu = await createUserWithToken(db.sql, { name: 'bawaslu kalteng', role: 'bawaslu', scopeCode: '62' });
    const watcher = await connect(bawaslu.token);
    const events: InvestigationEvent[] = [];
    watcher.on('investigation', (e) => events.push(e));
    expect(await watcher.emitWithAck('subscribe-investigation', { area: tps[0].kabCode })).toEqual({ ok: true });

    // 30 TPS published (one call = one batch), one of them failing H1.
    const bad = tps[3];
    const badValues = formValues(bad, n, r);
    badValues.suara_paslon_1 += 9;
    const reqs = tps.map((t) => (t === bad ? req(t, badValues, 'kpps') : req(t, formValues(t, n, r), 'kpps')));
    const outs = await publishBatch(db.sql, reqs, evaluateBuiltin);
    expect(outs.find((o) => o.tpsCode === bad.code)).toMatchObject({ outcome: 'created', status: 'quarantined' });

    // One job for the contest, whatever the number of forms; a second call with no new change queues nothing.
    expect(await scheduleInvestigations(db.sql, queue as never)).toEqual([CONTEST]);
    expect(sent).toEqual([{ name: 'investigate-contest', data: { contestId: CONTEST } }]);
    expect(await scheduleInvestigations(db.sql, queue as never)).toEqual([]);

    const run1 = await handleInvestigateContest({ sql: db.sql, log: () => {}, statistical: false }, { data: { contestId: CONTEST } });
    expect(run1.cases).toBeGreaterThanOrEqual(1);
    const [c1] = await db.sql`select * from cases where tps_code = ${bad.code} and contest_id = ${CONTEST}`;
    expect(c1).toBeTruthy();
    expect(Number(c1.severity)).toBeGreaterThan(0);
    const others = await db.sql`select count(*)::int as n from cases where contest_id = ${CONTEST} and tps_code <> ${bad.code} and tps_code = any(${tps.map((t) => t.code)}::text[])`;
    expect(others[0].n).toBe(0);
    await expect.poll(() => events.some((e) => e.type === 'case' && e.tpsCode === bad.code), { timeout: 5000 }).toBe(true);

    // Nothing changed since: the same range is not processed again, the case is untouched.
    const run2 = await handleInvestigateContest({ sql: db.sql, log: () => {}, statistical: false }, { data: { contestId: CONTEST } });
    expect(run2.from).toBe(run1.to);
    expect(run2.cases).toBe(0);

    // A reviewer's correction publishes the right numbers: the anomaly resolves and the case drops to 0.
    const fixed = { ...badValues, suara_paslon_1: badValues.suara_paslon_1 - 9 };
    const [fix] = await publishBatch(db.sql, [req(bad, fixed, 'reviewer')], evaluateBuiltin);
    expect(fix).toMatchObject({ outcome: 'created', status: 'published' });
    expect(await scheduleInvestigations(db.sql, queue as never)).toEqual([CONTEST]);
    const run3 = await handleInvestigateContest({ sql: db.sql, log: () => {}, statistical: false }, { data: { contestId: CONTEST } });
    expect(run3.cases).toBe(1);
    const [c2] = await db.sql`select * from cases where id = ${c1.id}`;
    expect(Number(c2.severity)).toBe(0);
    await expect.poll(() => events.some((e) => e.type === 'case' && e.tpsCode === bad.code && e.severity === 0), { timeout: 5000 }).toBe(true);
  });

  it('runs the statistical checkpoint for the contest', async () => {
    const run = await handleInvestigateContest({ sql: db.sql, log: () => {} }, { data: { contestId: CONTEST } });
    expect(run.checkpoint).not.toBeNull();
    // Every published TPS of the contest is looked at (30 − 0 quarantined now that the correction landed).
    expect(run.checkpoint!.records).toBe(tps.length);
  });
});
