/**
 * `rekap simulate`: an election night replayed against a running rekap, over HTTP and Socket.IO as the
 * phones and the public would use it. The simulator reads the TPS register and contests from the same
 * database (it runs beside the server), but every result goes in through the API, and every check of
 * the end state compares what the viewers hold, what the API serves and what the database recounts.
 */
import { io, type Socket } from 'socket.io-client';
import type { Sql } from '../../db/client.js';
import { recountTallies } from '../../db/repositories/publish.js';
import type { ClientToServerEvents, RoomDelta, ServerToClientEvents, SubscribeAck } from '../contract/socket.js';
import type { ResultsResponse, UnitTally } from '../contract/results.js';
import { arrivalMinutes, defaultSharesDir, ERROR_PROFILES, formValues, loadShares, rng, votesOf, withMistake, type ErrorProfile, type SimContest, type SimTps } from './night.js';

/** A condition the user can fix (no seed, results already present): the CLI prints it as one line. */
export class SimulationError extends Error {}

export type SimScope = 'kalteng' | 'national';

export interface SimOptions {
  url: string;
  sql: Sql;
  /** Bearer token of an admin or kpu_operator (results go in through the KPPS confirmation endpoint). */
  token: string;
  scope: SimScope;
  /** Simulated minutes per real minute (60 = a 12-hour night in 12 minutes). */
  speed: number;
  viewers: number;
  errors: ErrorProfile;
  /** Only the first N TPS (in code order) of the scope: short runs and tests. */
  tpsLimit?: number;
  /** Requests in flight at most (bounded load; a phone does one upload at a time). */
  concurrency?: number;
  seed?: number;
  sharesDir?: string;
  log?: (line: string) => void;
}

interface Expect { tps: SimTps; contest: SimContest; values: Record<string, number>; status: 'published' | 'quarantined' }

export interface SimSummary {
  scope: SimScope; mode: 'readings'; speed: number; errors: ErrorProfile; sharesSource: string;
  tps: { inScope: number; reported: number; neverReported: number };
  uploads: { sent: number; created: number; unchanged: number; duplicates: number; wrongPages: number; mistakes: number; hardToRead: number; httpErrors: Record<string, number> };
  results: { published: number; quarantined: number; exactlyOnce: boolean; versionsOverOne: number; missing: number };
  totals: { contests: number; matchExpected: boolean; mismatches: string[]; recountMismatches: number };
  viewers: { sockets: number; connected: number; converged: number; deltasReceived: number; resubscribes: number; notConverged: string[] };
  latencyMs: { requestP50: number | null; requestP99: number | null; deltaP50: number | null; deltaP99: number | null };
  wallSeconds: number; simulatedHours: number; formsPerSecond: number;
  ok: boolean;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function loadScope(sql: Sql, scope: SimScope, limit?: number) {
  const like = scope === 'kalteng' ? '62%' : '%';
  const tps = await sql<SimTps[]>`
    select code, voters_l as "votersL", voters_p as "votersP", kab_code as "kabCode", kec_code as "kecCode", desa_code as "desaCode"
    from tps where code like ${like} order by code ${limit ? sql`limit ${limit}` : sql``}`;
  const rows = await sql<{ id: string; type: 'pkwkp' | 'pkwkk'; areaCode: string; cid: string; number: number; empty: boolean }[]>`
    select c.id, c.type, c.area_code as "areaCode", k.id as cid, k.number, k.is_empty_column as empty
    from contests c join elections e on e.id = c.election_id join candidates k on k.contest_id = c.id
    where not e.is_practice and c.type in ('pkwkp', 'pkwkk') order by c.id, k.number`;
  const contests = new Map<string, SimContest>();
  for (const r of rows) {
    const c = contests.get(r.id) ?? { id: r.id, type: r.type, areaCode: r.areaCode, candidates: [] };
    c.candidates.push({ id: r.cid, number: r.number, isEmptyColumn: r.empty });
    contests.set(r.id, c);
  }
  return { tps, contests };
}

/** The races a TPS votes in: its province's governor and its kab/kota's bupati/walikota (when held). */
function contestsOf(t: SimTps, contests: Map<string, SimContest>): SimContest[] {
  return [contests.get(`pkwkp-${t.code.slice(0, 2)}`), contests.get(`pkwkk-${t.kabCode}`)].filter((c): c is SimContest => !!c);
}

class Viewer {
  socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  version = 0;
  tally: UnitTally | null = null;
  children = new Map<string, UnitTally>();
  deltas = 0;
  resubscribes = 0;
  latencies: number[] = [];
  private pending: RoomDelta[] = [];
  private subscribed = false;

  constructor(url: string, readonly area: string, readonly contest: string) {
    this.socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: true, timeout: 20_000 });
    this.socket.on('connect', () => this.subscribe());
    this.socket.on('delta', (d) => {
      this.latencies.push(Date.now() - Date.parse(d.at));
      if (!this.subscribed) this.pending.push(d);
      else this.apply(d);
    });
  }

  private subscribe(since?: number) {
    this.subscribed = false;
    this.socket.emit('subscribe', { area: this.area, contest: this.contest, ...(since ? { since } : {}) }, (ack: SubscribeAck) => {
      if (!ack.ok) return;
      const s = ack.state;
      if (s.kind === 'snapshot') {
        this.tally = s.tally;
        this.children = new Map(Object.entries(s.children));
        this.version = s.version;
      } else this.apply(s, true);
      this.subscribed = true;
      const queued = this.pending.filter((d) => d.version > this.version);
      this.pending = [];
      for (const d of queued) this.apply(d);
    });
  }

  private apply(d: RoomDelta, catchUp = false) {
    if (!catchUp) this.deltas++;
    if (d.version <= this.version) return;
    if (!catchUp && d.fromVersion > this.version) {
      // A gap: ask for what was missed instead of holding a wrong picture.
      this.resubscribes++;
      this.subscribe(this.version);
      return;
    }
    if (d.tally) this.tally = d.tally;
    for (const [code, u] of Object.entries(d.children)) this.children.set(code, u);
    this.version = d.version;
  }

  close() { this.socket.close(); }
}

const sameTally = (a: UnitTally | undefined | null, b: UnitTally | undefined) => {
  if (!a || !b) return !a && !b;
  if (a.tpsPublished !== b.tpsPublished || a.tpsQuarantined !== b.tpsQuarantined || a.suaraSah !== b.suaraSah) return false;
  const keys = new Set([...Object.keys(a.votes), ...Object.keys(b.votes)]);
  for (const k of keys) if ((a.votes[k] ?? 0) !== (b.votes[k] ?? 0)) return false;
  return true;
};

export async function runSimulation(opts: SimOptions): Promise<SimSummary> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const seed = opts.seed ?? 2024;
  const r = rng(seed);
  const profile = ERROR_PROFILES[opts.errors];
  const base = opts.url.replace(/\/$/, '');
  const headers = { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' };

  const { tps, contests } = await loadScope(opts.sql, opts.scope, opts.tpsLimit);
  if (!tps.length) throw new SimulationError(`no TPS seeded for scope ${opts.scope}: run rekap seed --scope ${opts.scope} first`);
  // The end-state checks count versions per TPS: they are only meaningful on a night that starts empty.
  const [{ n: existing }] = await opts.sql<{ n: number }[]>`select count(*)::int as n from tps_results where tps_code like ${opts.scope === 'kalteng' ? '62%' : '%'}`;
  if (existing > 0) throw new SimulationError(`the database already holds ${existing} TPS results in scope ${opts.scope}: simulate against a fresh database (e.g. REKAP_DATA_DIR=<empty folder> npm start)`);
  const kabCodes = [...new Set(tps.map((t) => t.kabCode))];
  const used = [...new Set(tps.flatMap((t) => contestsOf(t, contests)))];
  const sharesDir = opts.sharesDir ?? defaultSharesDir();
  const shares = loadShares(sharesDir, used, kabCodes);
  const sharesSource = [...shares.values()].some((m) => m.size) ? 'KPU Sirekap Pilkada 2024 kecamatan totals (via razanfawwaz/pilkada-scrap)' : 'uniform (pilkada2024 data not found)';

  // The night: each reporting TPS gets an arrival time; its forms (one per race) follow within minutes.
  type Ev = { at: number; run: () => Promise<void> };
  const events: Ev[] = [];
  const expects: Expect[] = [];
  const summary: SimSummary['uploads'] = { sent: 0, created: 0, unchanged: 0, duplicates: 0, wrongPages: 0, mistakes: 0, hardToRead: 0, httpErrors: {} };
  const requestMs: number[] = [];
  let neverReported = 0;

  const send = async (tpsCode: string, contestId: string, values: Record<string, number>) => {
    const t0 = performance.now();
    summary.sent++;
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${base}/api/tps/${tpsCode}/${contestId}/confirm`, { method: 'POST', headers, body: JSON.stringify({ values }) }).catch((e: Error) => ({ status: 0, statusText: e.message, json: async () => ({}) }) as unknown as Response);
      if (res.status === 0 || res.status >= 500) {
        summary.httpErrors[String(res.status)] = (summary.httpErrors[String(res.status)] ?? 0) + 1;
        if (attempt < 5) { await new Promise((s) => setTimeout(s, 200 * 2 ** attempt)); continue; }
        return null;
      }
      requestMs.push(performance.now() - t0);
      const body = (await res.json().catch(() => ({}))) as { outcome?: string };
      if (res.status >= 400) summary.httpErrors[String(res.status)] = (summary.httpErrors[String(res.status)] ?? 0) + 1;
      return { status: res.status, outcome: body.outcome };
    }
  };

  for (const t of tps) {
    if (r() < profile.neverReport) { neverReported++; continue; }
    const at = arrivalMinutes(r);
    contestsOf(t, contests).forEach((contest, k) => {
      const clean = formValues(t, contest, shares, r);
      const mistake = r() < profile.mistake;
      const values = mistake ? withMistake(clean, contest, r) : clean;
      const duplicate = r() < profile.duplicate;
      const wrongPage = r() < profile.wrongPage;
      const hard = r() < profile.hardToRead;
      if (mistake) summary.mistakes++;
      expects.push({ tps: t, contest, values, status: mistake ? 'quarantined' : 'published' });
      const extraDelay = hard ? 5 + r() * 30 : 0; // a blurred photo is retaken and resent later
      events.push({
        at: at + k * (1 + r() * 4) + extraDelay,
        run: async () => {
          if (wrongPage) {
            // The phone filed the form under a race the TPS does not vote in: refused (404), then resent right.
            summary.wrongPages++;
            const wrong = [...contests.values()].find((c) => c.type === 'pkwkk' && c.areaCode !== t.kabCode && c.id !== contest.id)!;
            await send(t.code, wrong.id, values);
          }
          if (hard) summary.hardToRead++;
          const out = await send(t.code, contest.id, values);
          if (out?.outcome === 'created') summary.created++;
          else if (out?.outcome === 'unchanged') summary.unchanged++;
          if (duplicate) {
            summary.duplicates++;
            const again = await send(t.code, contest.id, values);
            if (again?.outcome === 'unchanged') summary.unchanged++;
            else if (again?.outcome === 'created') summary.created++;
          }
        },
      });
    });
  }
  events.sort((a, b) => a.at - b.at);
  const lastMinute = events.at(-1)?.at ?? 0;

  // Viewers watch random areas of the scope (national, province, kab/kota, kecamatan) and races.
  const areaPool = [['00', null], ...[...new Set(tps.map((t) => t.code.slice(0, 2)))].map((p) => [p, null]), ...kabCodes.map((k) => [k, k]), ...[...new Set(tps.map((t) => t.kecCode))].map((k) => [k, k.slice(0, 4)])] as [string, string | null][];
  const viewers: Viewer[] = [];
  for (let i = 0; i < opts.viewers; i++) {
    const [area, kab] = areaPool[Math.floor(r() * areaPool.length)];
    const prov = area === '00' ? tps[0].code.slice(0, 2) : area.slice(0, 2);
    const contest = kab && contests.has(`pkwkk-${kab}`) && r() < 0.5 ? `pkwkk-${kab}` : `pkwkp-${prov}`;
    viewers.push(new Viewer(base, area, contest));
    if (i % 100 === 99) await new Promise((s) => setTimeout(s, 20));
  }
  const connectDeadline = Date.now() + 60_000;
  while (viewers.some((v) => !v.socket.connected) && Date.now() < connectDeadline) await new Promise((s) => setTimeout(s, 50));

  // Replay: simulated minute m happens at real time m / speed minutes after the start.
  const t0 = Date.now();
  const concurrency = opts.concurrency ?? 16;
  let next = 0;
  let done = 0;
  let lastLog = 0;
  const worker = async () => {
    while (next < events.length) {
      const ev = events[next++];
      const due = t0 + (ev.at * 60_000) / opts.speed;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((s) => setTimeout(s, wait));
      await ev.run();
      done++;
      if (Date.now() - lastLog > 2000) {
        lastLog = Date.now();
        const simH = ((Date.now() - t0) * opts.speed) / 3_600_000;
        log(`simulated ${simH.toFixed(1)} h after polls closed: ${done}/${events.length} forms, ${summary.created} versions created, ${Object.values(summary.httpErrors).reduce((a, b) => a + b, 0)} refused`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  log(`all ${events.length} forms sent; checking the end state`);

  // End state 1: each reported (TPS, race) has exactly one result version, in the expected status.
  const reported = new Map(expects.map((e) => [`${e.tps.code}:${e.contest.id}`, e]));
  const rows = await opts.sql<{ tps: string; contest: string; versions: number; status: string }[]>`
    select tps_code as tps, contest_id as contest, count(*)::int as versions, max(status) filter (where is_current) as status
    from tps_results where tps_code like ${opts.scope === 'kalteng' ? '62%' : '%'} group by 1, 2`;
  let published = 0, quarantined = 0, versionsOverOne = 0, wrongStatus = 0;
  const seen = new Set<string>();
  for (const row of rows) {
    const e = reported.get(`${row.tps}:${row.contest}`);
    if (!e) { wrongStatus++; continue; }
    seen.add(`${row.tps}:${row.contest}`);
    if (row.versions > 1) versionsOverOne++;
    if (row.status === 'published') published++;
    else if (row.status === 'quarantined') quarantined++;
    if (row.status !== e.status) wrongStatus++;
  }
  const missing = reported.size - seen.size;

  // End state 2: the API's totals per race equal what the simulator sent for published TPS, and the
  // stored tallies equal a recount from TPS rows.
  const mismatches: string[] = [];
  const byContest = new Map<string, { votes: Record<string, number>; published: number; quarantined: number }>();
  for (const e of expects) {
    const acc = byContest.get(e.contest.id) ?? { votes: {}, published: 0, quarantined: 0 };
    if (e.status === 'published') {
      acc.published++;
      for (const [k, v] of Object.entries(votesOf(e.values, e.contest))) acc.votes[k] = (acc.votes[k] ?? 0) + v;
    } else acc.quarantined++;
    byContest.set(e.contest.id, acc);
  }
  for (const [contestId, want] of byContest) {
    const area = contests.get(contestId)!.areaCode;
    const res = await fetch(`${base}/api/results/${contestId}/${area}.json`);
    const body = (await res.json()) as ResultsResponse;
    const got = body.tally;
    if (got.tpsPublished !== want.published) mismatches.push(`${contestId}: ${got.tpsPublished} TPS published, expected ${want.published}`);
    if (got.tpsQuarantined !== want.quarantined) mismatches.push(`${contestId}: ${got.tpsQuarantined} TPS quarantined, expected ${want.quarantined}`);
    for (const [cand, v] of Object.entries(want.votes)) if ((got.votes[cand] ?? 0) !== v) mismatches.push(`${contestId}: candidate ${cand} has ${got.votes[cand] ?? 0} votes, expected ${v}`);
  }
  const recount = await recountTallies(opts.sql, { write: false });

  // End state 3: viewers converge to what the API serves (deltas are coalesced: give them a moment).
  const notConverged: string[] = [];
  let converged = 0;
  const settleDeadline = Date.now() + 15_000;
  const truth = new Map<string, ResultsResponse>();
  for (const v of viewers) {
    const key = `${v.contest}/${v.area}`;
    if (!truth.has(key)) truth.set(key, (await (await fetch(`${base}/api/results/${v.contest}/${v.area}.json`)).json()) as ResultsResponse);
  }
  const check = (v: Viewer) => {
    const t = truth.get(`${v.contest}/${v.area}`)!;
    if (!sameTally(v.tally, t.tally)) return false;
    return t.children.every((c) => c.level === 5 || sameTally(v.children.get(c.code), c));
  };
  let pendingViewers = viewers;
  while (Date.now() < settleDeadline) {
    pendingViewers = pendingViewers.filter((v) => !check(v));
    if (!pendingViewers.length) break;
    await new Promise((s) => setTimeout(s, 250));
  }
  converged = viewers.length - pendingViewers.length;
  for (const v of pendingViewers.slice(0, 10)) notConverged.push(`${v.contest}/${v.area} (held version ${v.version})`);
  const deltaLat = viewers.flatMap((v) => v.latencies);
  for (const v of viewers) v.close();

  const wall = (Date.now() - started) / 1000;
  const out: SimSummary = {
    scope: opts.scope, mode: 'readings', speed: opts.speed, errors: opts.errors, sharesSource,
    tps: { inScope: tps.length, reported: tps.length - neverReported, neverReported },
    uploads: summary,
    results: { published, quarantined, exactlyOnce: versionsOverOne === 0 && missing === 0 && wrongStatus === 0, versionsOverOne, missing },
    totals: { contests: byContest.size, matchExpected: mismatches.length === 0, mismatches: mismatches.slice(0, 20), recountMismatches: recount.mismatches.length },
    viewers: { sockets: viewers.length, connected: viewers.filter((v) => v.tally).length, converged, deltasReceived: viewers.reduce((a, v) => a + v.deltas, 0), resubscribes: viewers.reduce((a, v) => a + v.resubscribes, 0), notConverged },
    latencyMs: { requestP50: round(pct(requestMs, 50)), requestP99: round(pct(requestMs, 99)), deltaP50: pct(deltaLat, 50), deltaP99: pct(deltaLat, 99) },
    wallSeconds: Math.round(wall * 10) / 10, simulatedHours: Math.round((lastMinute / 60) * 10) / 10,
    formsPerSecond: Math.round((expects.length / Math.max(0.001, (Date.now() - t0) / 1000)) * 10) / 10,
    ok: false,
  };
  out.ok = out.results.exactlyOnce && out.totals.matchExpected && out.totals.recountMismatches === 0 && converged === viewers.length;
  return out;
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
