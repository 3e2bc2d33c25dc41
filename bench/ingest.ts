/**
 * `npm run bench:ingest` — the publish path and the live fan-out, measured on this machine. Prints JSON:
 *   publishFormsPerSec   TPS results published per second with the readings given (hard rules, versions,
 *                        tallies at 5 levels, change feed, anomalies, audit chain: the whole transaction)
 *   latencyMs.p50/p99    publish (change committed) → delta received by a Socket.IO client
 *   sockets              clients connected in the largest run
 *   cpuUsPerMessage      server CPU time per delivered delta
 *   serverRssMb          server resident memory with the largest number of sockets
 * plus `runs` with the same figures for each socket count.
 *
 * Loopback only. The server runs in its own process (so its CPU and memory are its own), the clients in
 * another, the publisher in this one. Uses DATABASE_URL (a scratch database is created) or an embedded
 * PostgreSQL in a temporary folder. Options: --sockets 1000,5000 --quick --publishOnly --batch 500 --inflight 2
 */
import { mulberry32 } from '../db/seed/random.js';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { connect, type Database } from '../db/client.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { runMigrations } from '../db/migrate.js';
import { ensureSeeded } from '../db/seed/index.js';
import { publishBatch, type PublishRequest } from '../db/repositories/publish.js';
import { loadEvaluator } from '../workers/jobs/rules.js';

const CONTEST = 'pkwkp-62';
const here = import.meta.filename;

interface TpsRow { code: string; votersL: number; votersP: number; kabCode: string; kecCode: string; desaCode: string }

const rng = mulberry32;

/** Both pages of a consistent Pilkada form for a TPS (what the reader would hand over). */
function formValues(t: TpsRow, candidates: number, r: () => number): Record<string, number> {
  const v: Record<string, number> = {};
  const row = (name: string, l: number, p: number) => { v[`${name}_l`] = l; v[`${name}_p`] = p; v[`${name}_j`] = l + p; };
  const usedL = Math.floor(t.votersL * (0.5 + 0.4 * r()));
  const usedP = Math.floor(t.votersP * (0.5 + 0.4 * r()));
  row('pemilih_dpt', t.votersL, t.votersP); row('pemilih_dpph', 0, 0); row('pemilih_dptb', 0, 0); row('pemilih_total', t.votersL, t.votersP);
  row('pengguna_dpt', usedL, usedP); row('pengguna_dpph', 0, 0); row('pengguna_dptb', 0, 0); row('pengguna_total', usedL, usedP);
  const total = usedL + usedP;
  const invalid = Math.min(total, Math.floor(r() * 8));
  let left = total - invalid;
  for (let i = 1; i <= candidates; i++) {
    const n = i === candidates ? left : Math.floor(left * r());
    v[`suara_paslon_${i}`] = n;
    left -= n;
  }
  v.suara_sah = total - invalid; v.suara_tidak_sah = invalid; v.suara_total = total;
  return v;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
};

function ask<T>(child: ChildProcess, msg: object, reply: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not answer ${reply} in ${timeoutMs} ms`)), timeoutMs);
    const on = (m: { type: string } & T) => {
      if (m?.type !== reply) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send(msg);
  });
}

/**
 * CPU time (ms) of an embedded PostgreSQL: the postmaster and every backend (from /proc). With the
 * bench's own CPU this gives the cost per form independent of what else the machine is running.
 */
function pgCpuMs(pgDataDir: string | null): number | null {
  if (!pgDataDir) return null;
  try {
    const pm = Number(readFileSync(join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let ticks = 0;
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      let stat: string;
      try { stat = readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; }
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(d), ppid = Number(f[1]);
      if (pid === pm || ppid === pm) ticks += Number(f[11]) + Number(f[12]);
    }
    return (ticks * 1000) / 100;
  } catch {
    return null;
  }
}

// ───────────────────────────── server process ─────────────────────────────
async function serverRole(url: string) {
  const { loadConfig } = await import('../server/config.js');
  const { startApi } = await import('../server/runtime/api.js');
  const database = connect(url, { max: 8 });
  const config = loadConfig({ DATABASE_URL: url, PORT: '0', HOST: '127.0.0.1', REKAP_SERVE_CLIENT: '0', REKAP_DELTA_INTERVAL_MS: '250', REKAP_RATE_PER_IP: '0', REKAP_RATE_HANDSHAKES_PER_IP: '0', REKAP_DATA_DIR: mkdtempSync(join(tmpdir(), 'rekap-bench-srv-')) });
  const api = await startApi(config, database, (m, e) => process.stderr.write(`[server] ${m} ${e ?? ''}\n`), { databaseUrl: url });
  let cpu0 = process.cpuUsage();
  let lagMark = 0;
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'mark') {
      cpu0 = process.cpuUsage();
      lagMark = api.realtime!.stats().emitLagMs.length;
      process.send!({ type: 'marked' });
    } else if (m.type === 'stats') {
      const d = process.cpuUsage(cpu0);
      const st = api.realtime!.stats();
      process.send!({ type: 'stats', cpuUs: d.user + d.system, rssMb: Math.round(process.memoryUsage().rss / 1e6), sockets: st.sockets, deltasSent: st.deltasSent, emitLagMs: st.emitLagMs.slice(lagMark) });
    } else if (m.type === 'stop') {
      await api.close();
      await database.close();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready', url: api.url });
}

// ───────────────────────────── client process ─────────────────────────────
async function clientsRole(url: string, count: number, rooms: string[]) {
  // A measuring instrument, not a browser: raw Engine.IO v4 / Socket.IO v5 frames over `ws`, reading
  // only the `at` stamp of each delta (no JSON.parse of the payload), so the client process stays far
  // cheaper than the server it measures and its own backlog does not inflate the latency.
  const { WebSocket } = await import('ws');
  const wsUrl = `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const latencies: number[] = [];
  let received = 0;
  let recording = false;
  let open = 0;
  let subscribed = 0;
  const failures = new Map<string, number>();
  const fail = (why: string) => failures.set(why, (failures.get(why) ?? 0) + 1);
  const sockets: InstanceType<typeof WebSocket>[] = [];
  const connectOne = (i: number) => new Promise<void>((resolve) => {
    const area = rooms[i % rooms.length];
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false, handshakeTimeout: 60_000 });
    sockets.push(ws);
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(); } };
    ws.on('message', (buf: Buffer) => {
      const m = buf.toString();
      if (m.startsWith('42["delta"')) {
        received++;
        if (recording) {
          const k = m.lastIndexOf('"at":"');
          if (k >= 0) latencies.push(Date.now() - Date.parse(m.slice(k + 6, m.indexOf('"', k + 6))));
        }
      } else if (m === '2') ws.send('3');
      else if (m.startsWith('0{')) ws.send('40');
      else if (m.startsWith('40')) { open++; ws.send(`420${JSON.stringify(['subscribe', { area, contest: CONTEST }])}`); }
      else if (m.startsWith('430')) {
        if (m.includes('"ok":true')) subscribed++;
        else fail(`subscribe refused: ${m.slice(3, 120)}`);
        finish();
      } else if (m.startsWith('44')) { fail(`connect refused: ${m.slice(2, 120)}`); finish(); }
    });
    ws.on('unexpected-response', (_req: unknown, res: { statusCode?: number }) => { fail(`HTTP ${res.statusCode}`); finish(); });
    ws.on('error', (err: Error) => { fail(err.message.slice(0, 80)); finish(); });
    ws.on('close', () => { if (!done) { fail('closed before subscribe'); finish(); } });
  });
  // At most 64 handshakes in flight: the server's accept queue and event loop never see a stampede.
  let nextIndex = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (nextIndex < count) await connectOne(nextIndex++);
  }));
  await new Promise((r) => setTimeout(r, 1000));
  const live = () => sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'record') {
      latencies.length = 0;
      received = 0;
      recording = true;
      process.send!({ type: 'recording' });
    } else if (m.type === 'report') {
      recording = false;
      process.send!({ type: 'report', latencies, received, connected: live() });
    } else if (m.type === 'stop') {
      for (const s of sockets) s.terminate();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready', connected: live(), subscribed, open, failed: count - subscribed, failures: Object.fromEntries(failures) });
}

// ───────────────────────────── main ─────────────────────────────
async function main() {
  const { values: opts } = parseArgs({ options: { sockets: { type: 'string', default: '1000,5000' }, quick: { type: 'boolean' }, batch: { type: 'string' }, inflight: { type: 'string' }, publishOnly: { type: 'boolean' }, socketsOnly: { type: 'boolean' }, role: { type: 'string' }, url: { type: 'string' }, count: { type: 'string' }, rooms: { type: 'string' } } });
  if (opts.role === 'server') return serverRole(opts.url!);
  if (opts.role === 'clients') return clientsRole(opts.url!, Number(opts.count), opts.rooms!.split(','));

  const log = (l: string) => process.stderr.write(`[bench:ingest] ${l}\n`);
  let stopDb = async () => {};
  let url: string;
  let pgDataDir: string | null = null;
  if (process.env.DATABASE_URL) {
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    const name = `rekap_bench_${Date.now()}`;
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    url = u.toString();
    stopDb = async () => {
      const a = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'rekap-bench-pg-'));
    const { chmodSync } = await import('node:fs');
    chmodSync(dir, 0o777);
    pgDataDir = join(dir, 'pg');
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: 55000 + Math.floor(Math.random() * 5000) });
    url = server.url;
    stopDb = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const database: Database = connect(url, { max: 4 });
  const out: Record<string, unknown> = {};
  try {
    await runMigrations(database);
    await ensureSeeded(database, { scope: 'kalteng', seed: 2024 }, { log: () => {} });
    const sql = database.sql;
    const tps = await sql<TpsRow[]>`select code, voters_l as "votersL", voters_p as "votersP", kab_code as "kabCode", kec_code as "kecCode", desa_code as "desaCode" from tps where code like '62%' order by code`;
    const [{ n: candidates }] = await sql<{ n: number }[]>`select count(*)::int as n from candidates where contest_id = ${CONTEST} and not is_empty_column`;
    const evaluate = await loadEvaluator();
    const r = rng(2024);

    // 1) Publishing with readings given: every TPS of the province once (machine→kpps stage), then a
    //    second pass of reviewer corrections that change the numbers (subtract old, add new).
    const batchSize = Number(opts.batch ?? 500);
    const inflight = Number(opts.inflight ?? 2);
    const forms = opts.quick ? tps.slice(0, 1500) : [...tps];
    const runPass = async (stage: PublishRequest['stage'], seedShift: number) => {
      const reqs: PublishRequest[] = forms.map((t) => ({ tpsCode: t.code, contestId: CONTEST, stage, values: formValues(t, candidates, rng(seedShift + Number(t.code.slice(-7)))), actorId: null, actor: 'bench' }));
      // 5% deliberate H1 failures: quarantine + anomaly rows are part of the cost.
      for (const q of reqs) if (r() < 0.05) q.values!.suara_paslon_1 += 7;
      const timings: Record<string, number> = {};
      const cpu0 = process.cpuUsage();
      const pg0 = pgCpuMs(pgDataDir);
      const t0 = performance.now();
      let created = 0;
      // `inflight` batches at once (as the publish worker runs): one batch's rules and JSON are computed
      // in this process while the database writes the other's; the publish lock keeps commits serial.
      let next = 0;
      const lane = async () => {
        while (next < reqs.length) {
          const slice = reqs.slice(next, next + batchSize);
          next += batchSize;
          const outs = await publishBatch(sql, slice, evaluate, { timings });
          created += outs.filter((o) => o.outcome === 'created').length;
        }
      };
      await Promise.all(Array.from({ length: inflight }, lane));
      const cpu = process.cpuUsage(cpu0);
      const pg1 = pgCpuMs(pgDataDir);
      const nodeCpuMs = (cpu.user + cpu.system) / 1000;
      const dbCpuMs = pg0 !== null && pg1 !== null ? pg1 - pg0 : null;
      const cpuMs = nodeCpuMs + (dbCpuMs ?? 0);
      return { forms: reqs.length, created, ms: performance.now() - t0, cpuMs: Math.round(cpuMs), nodeCpuMs: Math.round(nodeCpuMs), dbCpuMs, dbCpuMeasured: pg0 !== null, stepsMs: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])) };
    };
    await publishBatch(sql, [], evaluate);
    if (opts.socketsOnly) forms.length = Math.min(forms.length, 200);
    const first = await runPass('kpps', 1);
    const second = await runPass('reviewer', 2);
    const totalMs = first.ms + second.ms;
    out.publishFormsPerSec = Math.round(((first.created + second.created) / totalMs) * 1000);
    // Publishing is one serial transaction stream (publisher ⇄ database), so on an otherwise idle
    // machine its rate is bounded by the CPU it needs per form; reported beside the measured rate
    // because shared machines can be far from idle.
    const cpuPerForm = (first.cpuMs + second.cpuMs) / (first.created + second.created);
    out.publishCpuMsPerForm = Math.round(cpuPerForm * 1000) / 1000;
    out.publishFormsPerSecIfIdle = first.dbCpuMeasured ? Math.round(1000 / cpuPerForm) : null;
    // Node and PostgreSQL run on different cores and overlap (two batches in flight), so on an idle
    // 2-core machine the rate is bounded by the busier of the two, not by their sum.
    const perForm = (k: 'nodeCpuMs' | 'dbCpuMs') => ((first[k] ?? 0) + (second[k] ?? 0)) / (first.created + second.created);
    out.publishCpuMsPerFormSplit = { node: Math.round(perForm('nodeCpuMs') * 1000) / 1000, postgres: first.dbCpuMeasured ? Math.round(perForm('dbCpuMs') * 1000) / 1000 : null };
    out.publishFormsPerSecIfIdle2Cores = first.dbCpuMeasured ? Math.round(1000 / Math.max(perForm('nodeCpuMs'), perForm('dbCpuMs'))) : null;
    out.loadAverage = (await import('node:os')).loadavg().map((x) => Math.round(x * 10) / 10);
    out.publish = { batchSize, inflight, firstPass: { ...first, ms: Math.round(first.ms) }, correctionPass: { ...second, ms: Math.round(second.ms) } };
    log(`publish: ${out.publishFormsPerSec} forms/s`);

    // 2) Publish → client latency, CPU per message, RSS, for each socket count.
    if (opts.publishOnly) { console.log(JSON.stringify(out, null, 2)); return; }
    const counts = opts.quick ? [300] : opts.sockets!.split(',').map(Number);
    const kabs = [...new Set(tps.map((t) => t.kabCode))];
    const kecs = [...new Set(tps.map((t) => t.kecCode))].slice(0, 20);
    const rooms = ['00', '62', ...kabs, ...kecs];
    const runs = [];
    for (const count of counts) {
      try {
      const server = fork(here, ['--role', 'server', '--url', url], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      const { url: apiUrl } = await ask<{ url: string }>(server, {}, 'ready');
      // Clients in their own processes (2,500 sockets each), so the server's CPU and memory are its own.
      const procs = Math.max(1, Math.ceil(count / 2500));
      const clientProcs = Array.from({ length: procs }, (_, p) => {
        const n = Math.floor(count / procs) + (p < count % procs ? 1 : 0);
        return fork(here, ['--role', 'clients', '--url', apiUrl, '--count', String(n), '--rooms', rooms.join(',')], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      });
      const readies = await Promise.all(clientProcs.map((c) => ask<{ connected: number; failed: number; failures: Record<string, number> }>(c, {}, 'ready', 400_000)));
      const ready = { connected: readies.reduce((a, r) => a + r.connected, 0), failed: readies.reduce((a, r) => a + r.failed, 0), failures: Object.assign({}, ...readies.map((r) => r.failures)) };
      log(`${count} sockets: ${ready.connected} connected, ${ready.failed} failed ${JSON.stringify(ready.failures)}`);
      await Promise.all(clientProcs.map((c) => ask(c, { type: 'record' }, 'recording')));
      await ask(server, { type: 'mark' }, 'marked');
      // ~200 forms/s for 8 s in batches of 20 (≈ national peak per province would be far lower).
      const rounds = 40;
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        const batch = Array.from({ length: 20 }, () => tps[Math.floor(r() * tps.length)]);
        await publishBatch(sql, batch.map((t) => ({ tpsCode: t.code, contestId: CONTEST, stage: 'recap' as const, values: formValues(t, candidates, r), actorId: null, actor: 'bench' })), evaluate);
        await new Promise((res) => setTimeout(res, Math.max(0, 200 - (performance.now() - t0))));
      }
      await new Promise((res) => setTimeout(res, 1500));
      const reps = await Promise.all(clientProcs.map((c) => ask<{ latencies: number[]; received: number; connected: number }>(c, { type: 'report' }, 'report')));
      const rep = { latencies: reps.flatMap((r) => r.latencies), received: reps.reduce((a, r) => a + r.received, 0), connected: reps.reduce((a, r) => a + r.connected, 0) };
      const st = await ask<{ cpuUs: number; rssMb: number; sockets: number; deltasSent: number; emitLagMs: number[] }>(server, { type: 'stats' }, 'stats');
      runs.push({
        sockets: ready.connected, failedSockets: ready.failed, clientProcesses: procs, latencyMs: { p50: pct(rep.latencies, 50), p99: pct(rep.latencies, 99), max: pct(rep.latencies, 100) },
        // Commit → frame written by the server (per room delta); the rest of latencyMs is the clients' own queue.
        serverEmitLagMs: { p50: pct(st.emitLagMs, 50), p99: pct(st.emitLagMs, 99), max: pct(st.emitLagMs, 100) },
        loadAverage: (loadavg()).map((x) => Math.round(x * 10) / 10),
        messagesDelivered: rep.received, roomDeltas: st.deltasSent, cpuUsPerMessage: rep.received ? Math.round((st.cpuUs / rep.received) * 10) / 10 : null,
        serverCpuMs: Math.round(st.cpuUs / 1000), serverRssMb: st.rssMb, formsPublished: rounds * 20,
      });
      log(`${count} sockets: ${JSON.stringify(runs.at(-1))}`);
      for (const c of clientProcs) c.send({ type: 'stop' });
      await ask(server, { type: 'stop' }, 'never', 5000).catch(() => {});
      server.kill();
      for (const c of clientProcs) c.kill();
      } catch (err) {
        // A run that cannot complete (e.g. sockets not all connected in time on a loaded machine) is
        // reported, not hidden, and the others still run.
        runs.push({ sockets: count, error: (err as Error).message } as never);
        log(`${count} sockets: ${(err as Error).message}`);
      }
    }
    const largest = [...runs].reverse().find((x) => !(x as { error?: string }).error) ?? runs[runs.length - 1];
    out.latencyMs = largest.latencyMs;
    out.sockets = largest.sockets;
    out.cpuUsPerMessage = largest.cpuUsPerMessage;
    out.serverRssMb = largest.serverRssMb;
    out.runs = runs;
    out.machine = { cpus: (await import('node:os')).cpus().length, node: process.version };
  } finally {
    await database.close();
    await stopDb();
  }
  console.log(JSON.stringify(out, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
