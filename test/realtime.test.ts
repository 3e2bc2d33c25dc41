/**
 * Socket.IO on a real PostgreSQL: snapshot on subscribe, coalesced deltas with monotonic versions,
 * a client that misses deltas (disconnected while results change) converges to the database, catch-up
 * from a version vs a fresh snapshot, and two API nodes serving the same room.
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
import { evaluateBuiltin } from '../workers/jobs/rules.js';
import type { ClientToServerEvents, RoomDelta, RoomSnapshot, ServerToClientEvents, SubscribeAck, UnitTally, ResultsResponse } from '../server/contract/index.js';
import { candidateCount, formValues, pickTps, rng, type TpsInfo } from './ingest-helpers.js';

const CONTEST = 'pkwkp-62';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A minimal dashboard-side store: applies snapshots and deltas exactly as the contract says. */
class RoomStore {
  version = -1;
  tally: UnitTally | null = null;
  children: Record<string, UnitTally> = {};
  gaps = 0;
  apply(state: RoomSnapshot | RoomDelta): 'ok' | 'gap' | 'old' {
    if (state.kind === 'snapshot') {
      this.version = state.version;
      this.tally = state.tally;
      this.children = { ...state.children };
      return 'ok';
    }
    if (state.version <= this.version) return 'old';
    if (state.fromVersion > this.version) {
      this.gaps++;
      return 'gap';
    }
    if (state.tally) this.tally = state.tally;
    Object.assign(this.children, state.children);
    this.version = state.version;
    return 'ok';
  }
}

describe('realtime', () => {
  let db: TestDatabase;
  let dataDir: string;
  let nodes: RunningApi[] = [];
  let tps: TpsInfo[];
  let n: number;
  const sockets: ClientSocket[] = [];
  const r = rng(5);

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    dataDir = mkdtempSync(join(tmpdir(), 'rekap-rt-'));
    const config = loadConfig({ DATABASE_URL: db.url, REKAP_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', REKAP_SERVE_CLIENT: '0', REKAP_DELTA_INTERVAL_MS: '100' });
    const log = () => {};
    // Two API nodes on one database, as behind a load balancer.
    nodes = [await startApi(config, db, log, { databaseUrl: db.url }), await startApi(config, db, log, { databaseUrl: db.url })];
    tps = await pickTps(db.sql, '6201', 60);
    n = await candidateCount(db.sql, CONTEST);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const node of nodes) await node.close();
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function connect(url: string): Promise<ClientSocket> {
    const s: ClientSocket = ioClient(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    sockets.push(s);
    return new Promise((resolve, reject) => {
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
  }
  async function subscribe(s: ClientSocket, area: string, since?: number) {
    const ack = (await s.timeout(10_000).emitWithAck('subscribe', { area, contest: CONTEST, since })) as SubscribeAck;
    if (!ack.ok) throw new Error(ack.error.message);
    return ack.state;
  }
  const publish = async (count: number, stage: PublishRequest['stage'] = 'kpps') => {
    const reqs = Array.from({ length: count }, () => {
      const t = tps[Math.floor(r() * tps.length)];
      const values = formValues(t, n, r);
      if (r() < 0.1) values.suara_paslon_1 += 3;
      return { tpsCode: t.code, contestId: CONTEST, stage, values, actorId: null, actor: 'test' } as PublishRequest;
    });
    await publishBatch(db.sql, reqs, evaluateBuiltin);
  };
  const fetchResults = async (area: string) => (await (await fetch(`${nodes[0].url}/api/results/${CONTEST}/${area}`)).json()) as ResultsResponse;

  it('refuses bad subscriptions with a named error', async () => {
    const s = await connect(nodes[0].url);
    for (const [req, code] of [[{ area: 'x', contest: CONTEST }, 'invalid_area_code'], [{ area: '62', contest: 'nope' }, 'contest_not_found'], [{ area: '63', contest: CONTEST }, 'area_outside_contest'], [{ area: '62', contest: CONTEST, since: -1 }, 'invalid_since']] as const) {
      const ack = (await s.timeout(5000).emitWithAck('subscribe', req as never)) as SubscribeAck;
      expect(ack.ok).toBe(false);
      if (!ack.ok) expect(ack.error.code).toBe(code);
    }
  });

  it('coalesces a burst of publishes into a few deltas per room, with increasing versions', async () => {
    // A node with a 1 s interval: 30 publish transactions give at most one delta per room per second.
    const config = loadConfig({ DATABASE_URL: db.url, REKAP_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', REKAP_SERVE_CLIENT: '0', REKAP_DELTA_INTERVAL_MS: '1000' });
    const slow = await startApi(config, db, () => {}, { databaseUrl: db.url, socketAdapter: false });
    nodes.push(slow);
    const s = await connect(slow.url);
    const deltas: RoomDelta[] = [];
    s.on('delta', (d) => deltas.push(d));
    const store = new RoomStore();
    store.apply((await subscribe(s, '6201')) as RoomSnapshot);
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) await publish(1);
    const elapsed = Date.now() - t0;
    await sleep(2500);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.length).toBeLessThan(30);
    expect(deltas.length).toBeLessThanOrEqual(Math.ceil((elapsed + 2500) / 1000) + 1);
    for (let i = 1; i < deltas.length; i++) expect(deltas[i].version).toBeGreaterThan(deltas[i - 1].version);
    for (const d of deltas) expect(store.apply(d)).toBe('ok');
    const db6201 = await fetchResults('6201');
    expect(store.tally?.suaraSah).toBe(db6201.tally.suaraSah);
    expect(store.tally?.votes).toEqual(db6201.tally.votes);
  });

  it('a client that missed deltas converges: catch-up from its version, or a snapshot when too far behind', async () => {
    const node = nodes[1];
    const s = await connect(node.url);
    const store = new RoomStore();
    store.apply((await subscribe(s, '6201')) as RoomSnapshot);
    const kec = tps[0].kecCode;
    const kecStore = new RoomStore();
    kecStore.apply((await subscribe(s, kec)) as RoomSnapshot);
    s.disconnect(); // misses everything below
    await publish(40, 'reviewer');
    await publish(40, 'recap');
    await sleep(400);
    const again = await connect(node.url);
    const seen: RoomDelta[] = [];
    again.on('delta', (d) => seen.push(d));
    const state = await subscribe(again, '6201', store.version);
    expect(state.kind).toBe('delta');
    expect((state as RoomDelta & { catchUp: boolean }).catchUp).toBe(true);
    expect(store.apply(state)).toBe('ok');
    const kecState = await subscribe(again, kec, kecStore.version);
    expect(kecStore.apply(kecState)).toBe('ok');
    await publish(5, 'recap');
    await sleep(800);
    for (const d of seen) (d.area === '6201' ? store : kecStore).apply(d);
    const dbState = await fetchResults('6201');
    expect(store.version).toBeGreaterThanOrEqual(dbState.version - 0);
    expect(store.tally).toMatchObject({ suaraSah: dbState.tally.suaraSah, tpsPublished: dbState.tally.tpsPublished, tpsQuarantined: dbState.tally.tpsQuarantined, votes: dbState.tally.votes });
    for (const c of dbState.children) expect(store.children[c.code]?.suaraSah ?? 0, c.code).toBe(c.suaraSah);
    const kecDb = await fetchResults(kec);
    for (const c of kecDb.children) expect(kecStore.children[c.code]?.suaraSah ?? 0, c.code).toBe(c.suaraSah);
    // Far behind (since 0, more changes than the catch-up limit allows): a snapshot.
    const fresh = await subscribe(again, '6201', 0);
    expect(['snapshot', 'delta']).toContain(fresh.kind);
  });

  it('a quiet room sees no gap while other areas change: its deltas start from its own last change', async () => {
    const node = nodes[0];
    const s = await connect(node.url);
    // Two desa rooms (the picked TPS span a few desa of one kecamatan).
    const desas = [...new Set(tps.map((t) => t.desaCode))];
    expect(desas.length).toBeGreaterThan(1);
    const [quiet, busy] = desas as [string, string];
    const store = new RoomStore();
    const deltas: RoomDelta[] = [];
    s.on('delta', (d) => {
      if (d.area === quiet) deltas.push(d);
    });
    store.apply((await subscribe(s, quiet)) as RoomSnapshot);
    // Publishes elsewhere, over several ticks (100 ms): the quiet room gets no delta, but the
    // node's head moves on.
    const elsewhere = tps.filter((t) => t.desaCode === busy);
    for (let i = 0; i < 4; i++) {
      await publishBatch(db.sql, elsewhere.slice(0, 3).map((t) => ({ tpsCode: t.code, contestId: CONTEST, stage: 'recap', values: formValues(t, n, r), actorId: null, actor: 'test' }) as PublishRequest), evaluateBuiltin);
      await sleep(250);
    }
    expect(deltas).toEqual([]);
    // Then the quiet room changes: its delta applies to what the client holds, no resubscribe.
    const here = tps.find((t) => t.desaCode === quiet)!;
    await publishBatch(db.sql, [{ tpsCode: here.code, contestId: CONTEST, stage: 'recap', values: formValues(here, n, r), actorId: null, actor: 'test' }], evaluateBuiltin);
    const end = Date.now() + 5000;
    while (deltas.length === 0 && Date.now() < end) await sleep(50);
    expect(deltas.length).toBeGreaterThan(0);
    for (const d of deltas) expect(store.apply(d)).toBe('ok');
    expect(store.gaps).toBe(0);
    const dbState = await fetchResults(quiet);
    expect(store.tally?.suaraSah).toBe(dbState.tally.suaraSah);
  });

  it('both nodes push the same change to their own clients', async () => {
    const a = await connect(nodes[0].url);
    const b = await connect(nodes[1].url);
    const got: [RoomDelta[], RoomDelta[]] = [[], []];
    a.on('delta', (d) => got[0].push(d));
    b.on('delta', (d) => got[1].push(d));
    await subscribe(a, '62');
    await subscribe(b, '62');
    await publish(3, 'recap');
    const end = Date.now() + 5000;
    while ((got[0].length === 0 || got[1].length === 0) && Date.now() < end) await sleep(50);
    expect(got[0].length).toBeGreaterThan(0);
    expect(got[1].length).toBeGreaterThan(0);
    expect(got[0].at(-1)!.tally?.suaraSah).toBe(got[1].at(-1)!.tally?.suaraSah);
  });
});
