/**
 * Restart the API with 1,000 sockets attached (RELIABILITY §8.4 test 3, issue 9). Clients use the
 * dashboard's reconnect settings (client/src/lib/live.ts: 500 ms → 5 s backoff, randomisation 0.5) and
 * its resubscribe-with-`since` rule. Results are published while the API is down; after the restart
 * every client must be back, spread out in time (jitter, no thundering herd), and hold exactly the
 * database's tally for its room.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadavg } from 'node:os';
import { io as ioClient, type Socket } from 'socket.io-client';
import { publishBatch } from '../../db/repositories/publish.js';
import { evaluateBuiltin } from '../../workers/jobs/rules.js';
import type { ClientToServerEvents, RoomDelta, ServerToClientEvents, SubscribeAck, UnitTally } from '../../server/contract/index.js';
import { loadConfig } from '../../server/config.js';
import { startApi, type RunningApi } from '../../server/runtime/api.js';
import { candidateCount, formValues, pickTps, rng, type TpsInfo } from '../ingest-helpers.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { repoRoot } from '../support/server.js';

const CONTEST = 'pkwkp-62';
const CLIENTS = 1000;
let db: TestDatabase;
let api: RunningApi;
let port = 0;
const clients: Viewer[] = [];

interface Viewer { socket: Socket<ServerToClientEvents, ClientToServerEvents>; area: string; version: number; tally: UnitTally | null; connects: number[]; resubscribed: number }

const config = (p: number) => loadConfig({ DATABASE_URL: db.url, HOST: '127.0.0.1', PORT: String(p), REKAP_ROLES: 'api', REKAP_SERVE_CLIENT: '0', REKAP_LOG_LEVEL: 'warn', REKAP_DELTA_INTERVAL_MS: '250' }, repoRoot);
const start = (p: number) => startApi(config(p), db, (m, e) => console.error(`[api] ${m}`, e ?? ''), { databaseUrl: db.url, socketAdapter: false });

beforeAll(async () => {
  db = await createTestDatabase('kalteng', { max: 10 });
  api = await start(0);
  port = Number(new URL(api.url).port);
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.socket.disconnect();
  await api?.close().catch(() => {});
  await db?.close();
});

async function subscribe(v: Viewer): Promise<void> {
  const ack: SubscribeAck = await v.socket.timeout(20_000).emitWithAck('subscribe', { area: v.area, contest: CONTEST, ...(v.version > 0 ? { since: v.version } : {}) });
  if (!ack.ok) throw new Error(ack.error.message);
  v.version = ack.state.version;
  if (ack.state.tally) v.tally = ack.state.tally;
  v.resubscribed++;
}

function viewer(area: string): Viewer {
  const socket: Viewer['socket'] = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnectionDelay: 500, reconnectionDelayMax: 5000, randomizationFactor: 0.5, forceNew: true });
  const v: Viewer = { socket, area, version: 0, tally: null, connects: [], resubscribed: 0 };
  socket.on('delta', (d: RoomDelta) => {
    // A gap (missed deltas) means resubscribing with `since`, as the dashboard does.
    if (d.fromVersion > v.version) return void subscribe(v).catch(() => {});
    if (d.version <= v.version) return;
    v.version = d.version;
    if (d.tally) v.tally = d.tally;
  });
  socket.on('connect', () => {
    v.connects.push(performance.now());
    if (v.connects.length > 1) subscribe(v).catch(() => {});
  });
  return v;
}

describe('API restart with 1,000 sockets', () => {
  it('every client reconnects with jitter and converges to the database snapshot', { timeout: 400_000 }, async () => {
    const sql = db.sql;
    const kabs = (await sql<{ code: string }[]>`select code from areas where level = 2 and code like '62%' order by code limit 5`).map((r) => r.code);
    const areas = ['62', ...kabs];
    const tps: TpsInfo[] = await pickTps(sql, '62', 40, { spread: true });
    const n = await candidateCount(sql, CONTEST);
    const r = rng(77);
    const publish = (list: TpsInfo[]) => publishBatch(sql, list.map((t) => ({ tpsCode: t.code, contestId: CONTEST, stage: 'kpps' as const, values: formValues(t, n, r), actorId: null, actor: 'fault test' })), evaluateBuiltin);
    await publish(tps.slice(0, 10));

    const t0 = performance.now();
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = Array.from({ length: Math.min(100, CLIENTS - i) }, (_, j) => viewer(areas[(i + j) % areas.length]));
      clients.push(...batch);
      await Promise.all(batch.map((v) => new Promise<void>((resolve) => (v.socket.connected ? resolve() : v.socket.once('connect', () => resolve())))));
      await Promise.all(batch.map((v) => subscribe(v)));
    }
    const connectMs = Math.round(performance.now() - t0);
    expect(clients.filter((c) => c.resubscribed === 1)).toHaveLength(CLIENTS);

    // Restart: stop the API (sockets drop), publish while it is down, start it again on the same port.
    const stopAt = performance.now();
    await api.close();
    await publish(tps.slice(10, 25));
    await new Promise((res) => setTimeout(res, 1000));
    api = await start(port);
    const restartAt = performance.now();
    await publish(tps.slice(25, 40));

    const deadline = Date.now() + 240_000;
    const truth = async () => new Map((await sql<{ area_code: string; suara_sah: number; tps_published: number }[]>`
      select area_code, suara_sah, tps_published from area_tallies where contest_id = ${CONTEST} and area_code in ${sql(areas)}`).map((t) => [t.area_code, t]));
    let converged = 0;
    let want = await truth();
    while (Date.now() < deadline) {
      await api.realtime!.flush();
      want = await truth();
      converged = clients.filter((c) => c.connects.length >= 2 && c.tally && c.tally.suaraSah === Number(want.get(c.area)?.suara_sah) && c.tally.tpsPublished === Number(want.get(c.area)?.tps_published)).length;
      if (converged === CLIENTS) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const back = clients.map((c) => c.connects[1] - restartAt).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    const q = (p: number) => Math.round(back[Math.min(back.length - 1, Math.floor(p * back.length))]);
    // The busiest 100 ms of reconnects: a herd would put most clients in one window.
    let busiest = 0;
    for (let i = 0, j = 0; i < back.length; i++) {
      while (back[i] - back[j] > 100) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    console.log(JSON.stringify({
      apiRestart: {
        clients: CLIENTS, connectMs, downMs: Math.round(restartAt - stopAt), reconnected: back.length, converged,
        reconnectAfterRestartMs: { min: q(0), p10: q(0.1), p50: q(0.5), p90: q(0.9), max: q(1) }, busiest100msWindow: busiest,
        convergedWithinMs: Math.round(performance.now() - restartAt), load: loadavg().map((x) => x.toFixed(1)).join(' '),
      },
    }));
    expect(back).toHaveLength(CLIENTS);
    expect(converged).toBe(CLIENTS);
    // Jitter: reconnects spread over time, no single 100 ms window holding half the clients.
    expect(q(0.9) - q(0.1)).toBeGreaterThan(150);
    expect(busiest).toBeLessThan(CLIENTS / 2);
  });
});
