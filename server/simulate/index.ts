/**
 * `rekap simulate`: an election night replayed against a running rekap, over HTTP and Socket.IO as the
 * phones and the public would use it. The simulator reads the TPS register and contests from the same
 * database (it runs beside the server), but every result goes in through the API, and every check of
 * the end state compares what the viewers hold, what the API serves and what the database recounts.
 */
import { io, type Socket } from 'socket.io-client';
import type { Database, Sql } from '../../db/client.js';
import { recountTallies } from '../../db/repositories/publish.js';
import { createUserWithToken } from '../../db/repositories/tokens.js';
import { headerForTps, loadContestForForm, type ContestForForm } from '../../workers/reader/render/context.js';
import { PhotoFactory, photoFormValues, type PageName } from './photos.js';
import type { ClientToServerEvents, RoomDelta, ServerToClientEvents, SubscribeAck } from '../contract/socket.js';
import type { ResultsResponse, ResultVersion, SubmissionAccepted, SubmissionStatusResponse, TpsDetailResponse, UnitTally } from '../contract/results.js';
import { arrivalMinutes, defaultSharesDir, ERROR_PROFILES, formValues, loadShares, rng, votesOf, withMistake, type ErrorProfile, type SimContest, type SimTps } from './night.js';

/** A condition the user can fix (no seed, results already present): the CLI prints it as one line. */
export class SimulationError extends Error {}

export type SimScope = 'kalteng' | 'national';
export type SimMode = 'readings' | 'photos';

export interface SimOptions {
  url: string;
  sql: Sql;
  /** Needed in photo mode (the printed header of each TPS's form is read through the typed query builder). */
  database?: Database;
  /**
   * readings: ready numbers through the KPPS confirmation endpoint (the publish path alone).
   * photos: photographed pages through the upload endpoint, read by the server's reader; the phone then
   * reads the result back and the KPPS confirms (correcting the reader) when it is missing or wrong.
   */
  mode?: SimMode;
  /**
   * Bearer token for every request instead of one device token per TPS (default: per-TPS kpps tokens,
   * created through the same repository call as `rekap token create --role operator --tps`).
   */
  token?: string;
  scope: SimScope;
  /** Simulated minutes per real minute (60 = a 12-hour night in 12 minutes). */
  speed: number;
  viewers: number;
  errors: ErrorProfile;
  /** Only the first N TPS (in code order) of the scope: short runs and tests. */
  tpsLimit?: number;
  /** Forms in flight at most (bounded load; a phone does one upload at a time). */
  concurrency?: number;
  /** Photo mode: render processes (default 1). */
  photoWorkers?: number;
  /** Attempts per request after 429 / 503 / network errors before giving up (default 40). */
  maxAttempts?: number;
  seed?: number;
  sharesDir?: string;
  log?: (line: string) => void;
}

interface Expect { tps: SimTps; contest: SimContest; values: Record<string, number>; status: 'published' | 'quarantined' }

export interface SimSummary {
  scope: SimScope; mode: SimMode; speed: number; errors: ErrorProfile; sharesSource: string;
  tps: { inScope: number; reported: number; neverReported: number };
  tokens: { perTps: boolean; created: number; seconds: number };
  uploads: { sent: number; created: number; unchanged: number; duplicates: number; wrongPages: number; mistakes: number; hardToRead: number; httpErrors: Record<string, number> };
  /** Refusals by the server's error code (rate_limited answers were waited out per Retry-After and retried). */
  refused: Record<string, number>;
  retries: { rateLimited: number; waitedSeconds: number; serverErrors: number; gaveUp: number };
  photos?: { rendered: number; renderCpuMsPerPhoto: number | null; uploaded: number; duplicatesAnswered: number; rejected: number; retakes: number; machineCorrect: number; machineWrongPublished: number; kppsConfirmed: number; readTimeouts: number };
  results: { published: number; quarantined: number; exactlyOnce: boolean; versionsOverOne: number; missing: number; wrongStatus: number };
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

/** Full jitter around a wait: many phones told "retry in 3 s" must not all come back at once. */
const jittered = (ms: number, r: () => number) => ms * (1 + 0.5 * r()) + 250 * r();
const sleep = (ms: number) => new Promise((s) => setTimeout(s, ms));

type Reply = { status: number; body: any; code: string | null };

export async function runSimulation(opts: SimOptions): Promise<SimSummary> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const seed = opts.seed ?? 2024;
  const r = rng(seed);
  const jitterRng = rng(seed ^ 0x5eed);
  const mode: SimMode = opts.mode ?? 'readings';
  const profile = ERROR_PROFILES[opts.errors];
  const base = opts.url.replace(/\/$/, '');
  const maxAttempts = opts.maxAttempts ?? 40;
  if (mode === 'photos' && !opts.database) throw new SimulationError('photo mode needs the database handle (form headers)');

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

  const summary: SimSummary['uploads'] = { sent: 0, created: 0, unchanged: 0, duplicates: 0, wrongPages: 0, mistakes: 0, hardToRead: 0, httpErrors: {} };
  const refused: Record<string, number> = {};
  const retries = { rateLimited: 0, waitedSeconds: 0, serverErrors: 0, gaveUp: 0 };
  const photoStats = { rendered: 0, renderCpuMsPerPhoto: null as number | null, uploaded: 0, duplicatesAnswered: 0, rejected: 0, retakes: 0, machineCorrect: 0, machineWrongPublished: 0, kppsConfirmed: 0, readTimeouts: 0 };
  const live = { published: 0, quarantined: 0 };
  const requestMs: number[] = [];
  let neverReported = 0;

  /**
   * One request as a phone makes it: 429 and 503 are waited out for Retry-After seconds (jittered) and
   * retried; network errors and other 5xx back off exponentially; any other answer is final.
   */
  const request = async (token: string, method: string, path: string, body?: unknown): Promise<Reply | null> => {
    const t0 = performance.now();
    for (let attempt = 1; ; attempt++) {
      const init: RequestInit = { method, headers: { authorization: `Bearer ${token}` } };
      if (body instanceof FormData) init.body = body;
      else if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
      let res: Response | null = null;
      try { res = await fetch(`${base}${path}`, init); } catch { res = null; }
      const status = res?.status ?? 0;
      const json = res ? ((await res.json().catch(() => ({}))) as { error?: { code?: string } }) : {};
      const code = json?.error?.code ?? null;
      if (status === 429 || status === 503) {
        refused[code ?? String(status)] = (refused[code ?? String(status)] ?? 0) + 1;
        if (status === 429) retries.rateLimited++;
        if (attempt >= maxAttempts) { retries.gaveUp++; return { status, body: json, code }; }
        const after = Number(res?.headers.get('retry-after'));
        const wait = jittered((Number.isFinite(after) && after > 0 ? after : 1) * 1000, jitterRng);
        retries.waitedSeconds += wait / 1000;
        await sleep(wait);
        continue;
      }
      if (status === 0 || status >= 500) {
        retries.serverErrors++;
        summary.httpErrors[String(status)] = (summary.httpErrors[String(status)] ?? 0) + 1;
        if (attempt >= Math.min(8, maxAttempts)) { retries.gaveUp++; return null; }
        await sleep(jittered(200 * 2 ** attempt, jitterRng));
        continue;
      }
      requestMs.push(performance.now() - t0);
      if (status >= 400) {
        summary.httpErrors[String(status)] = (summary.httpErrors[String(status)] ?? 0) + 1;
        refused[code ?? String(status)] = (refused[code ?? String(status)] ?? 0) + 1;
      }
      return { status, body: json, code };
    }
  };

  // The night: each reporting TPS gets an arrival time; its forms (one per race) follow within minutes.
  type Form = { t: SimTps; contest: SimContest; values: Record<string, number>; expect: 'published' | 'quarantined'; wrongPage: boolean; duplicate: boolean; hard: boolean; seed: string };
  type Ev = { at: number; form: Form };
  const events: Ev[] = [];
  const expects: Expect[] = [];
  const reporting: SimTps[] = [];
  for (const t of tps) {
    if (r() < profile.neverReport) { neverReported++; continue; }
    reporting.push(t);
    const at = arrivalMinutes(r);
    contestsOf(t, contests).forEach((contest, k) => {
      const formSeed = `${seed}:${t.code}:${contest.id}`;
      const clean = mode === 'photos' ? photoFormValues(t, contest, shares, formSeed) : formValues(t, contest, shares, r);
      const mistake = r() < profile.mistake;
      const values = mistake ? withMistake(clean, contest, r) : clean;
      const duplicate = r() < profile.duplicate;
      const wrongPage = r() < profile.wrongPage;
      const hard = r() < profile.hardToRead;
      if (mistake) summary.mistakes++;
      expects.push({ tps: t, contest, values, status: mistake ? 'quarantined' : 'published' });
      // A blurred photo is retaken and resent later (readings mode: the confirmation comes late).
      const extraDelay = hard && mode === 'readings' ? 5 + r() * 30 : 0;
      events.push({ at: at + k * (1 + r() * 4) + extraDelay, form: { t, contest, values, expect: mistake ? 'quarantined' : 'published', wrongPage, duplicate, hard, seed: formSeed } });
    });
  }
  events.sort((a, b) => a.at - b.at);
  const lastMinute = events.at(-1)?.at ?? 0;

  // One device per reporting TPS, as KPU would enrol them: a kpps user scoped to the TPS and its token.
  const tokenT0 = Date.now();
  const tokens = new Map<string, string>();
  if (!opts.token) {
    let k = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (k < reporting.length) {
        const t = reporting[k++];
        tokens.set(t.code, (await createUserWithToken(opts.sql, { name: `KPPS TPS ${t.code} (simulator)`, role: 'kpps', scopeCode: t.code, kind: 'device' })).token);
      }
    }));
    log(`${tokens.size} device tokens created (one per reporting TPS) in ${((Date.now() - tokenT0) / 1000).toFixed(1)} s`);
  }
  const tokenSeconds = Math.round((Date.now() - tokenT0) / 100) / 10;
  const tokenOf = (t: SimTps) => opts.token ?? tokens.get(t.code)!;

  const noteOutcome = (reply: Reply | null) => {
    const outcome = reply?.body?.outcome as string | undefined;
    if (outcome === 'created') {
      summary.created++;
      const st = (reply!.body.result as ResultVersion | null)?.status;
      if (st === 'published') live.published++;
      else if (st === 'quarantined') live.quarantined++;
    } else if (outcome === 'unchanged') summary.unchanged++;
    return outcome;
  };
  const confirm = async (f: Form) => {
    summary.sent++;
    return noteOutcome(await request(tokenOf(f.t), 'POST', `/api/tps/${f.t.code}/${f.contest.id}/confirm`, { values: f.values }));
  };
  const wrongContestOf = (f: Form) => [...contests.values()].find((c) => c.type === 'pkwkk' && c.areaCode !== f.t.kabCode && c.id !== f.contest.id)!;

  const runReadings = async (f: Form) => {
    if (f.wrongPage) {
      // The phone filed the form under a race the TPS does not vote in: refused (404), then resent right.
      summary.wrongPages++;
      summary.sent++;
      await request(tokenOf(f.t), 'POST', `/api/tps/${f.t.code}/${wrongContestOf(f).id}/confirm`, { values: f.values });
    }
    if (f.hard) summary.hardToRead++;
    await confirm(f);
    if (f.duplicate) {
      summary.duplicates++;
      await confirm(f);
    }
  };

  // Photo mode: headers per TPS and race, rendering in child processes.
  const factory = mode === 'photos' ? new PhotoFactory(opts.photoWorkers ?? 1) : null;
  const formContests = new Map<string, Promise<ContestForForm>>();
  const upload = async (f: Form, contestId: string, page: PageName, jpeg: Buffer): Promise<Reply | null> => {
    const fd = new FormData();
    fd.set('tps', f.t.code);
    fd.set('contest', contestId);
    fd.set('page', page);
    fd.set('photo', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), `${f.t.code}-${page}.jpg`);
    summary.sent++;
    return request(tokenOf(f.t), 'POST', '/api/submissions', fd);
  };
  const waitRead = async (f: Form, id: number): Promise<SubmissionStatusResponse | null> => {
    // Reading takes seconds of CPU per page; a phone polls the status URL.
    const deadline = Date.now() + 180_000;
    for (let wait = 500; Date.now() < deadline; wait = Math.min(5000, wait * 1.5)) {
      const s = await request(tokenOf(f.t), 'GET', `/api/submissions/${id}`);
      const st = s?.body as SubmissionStatusResponse | undefined;
      if (st && (st.status === 'read' || st.status === 'rejected' || st.status === 'failed')) return st;
      await sleep(wait);
    }
    photoStats.readTimeouts++;
    return null;
  };
  const sameNumbers = (got: Record<string, number> | undefined, want: Record<string, number>, keys: string[]) => !!got && keys.every((k) => (got[k] ?? null) === (want[k] ?? null));

  const runPhotos = async (f: Form) => {
    let fc = formContests.get(f.contest.id);
    if (!fc) formContests.set(f.contest.id, (fc = loadContestForForm(opts.database!, f.contest.id)));
    const contestForm = await fc;
    const header = await headerForTps(opts.database!, contestForm, f.t.code);
    const statuses: SubmissionStatusResponse[] = [];
    for (const page of ['administrasi', 'perolehan'] as PageName[]) {
      const job = { seed: `${f.seed}:${page}`, page, header, candidateCount: contestForm.candidateCount, values: f.values };
      // A hard-to-read form: the first photo of its vote page is unusable; the reader refuses it, the KPPS retakes.
      let jpeg = await factory!.render({ ...job, unreadable: f.hard && page === 'perolehan' });
      if (f.wrongPage && page === 'perolehan') {
        summary.wrongPages++;
        await upload(f, wrongContestOf(f).id, page, jpeg);
      }
      for (let take = 0; take < 3; take++) {
        const up = await upload(f, f.contest.id, page, jpeg);
        const acc = up?.body as SubmissionAccepted | undefined;
        if (!up || up.status >= 300 || !acc?.id) break;
        photoStats.uploaded++;
        if (f.duplicate && take === 0 && page === 'perolehan') {
          summary.duplicates++;
          const again = await upload(f, f.contest.id, page, jpeg);
          if ((again?.body as SubmissionAccepted | undefined)?.duplicate) photoStats.duplicatesAnswered++;
        }
        const st = await waitRead(f, acc.id);
        if (st && st.status === 'read' && st.reading?.cls !== 'REJECTED') { statuses.push(st); break; }
        photoStats.rejected++;
        if (take === 2) break;
        photoStats.retakes++;
        jpeg = await factory!.render({ ...job, seed: `${job.seed}:retake${take + 1}`, unreadable: false });
      }
    }
    if (f.hard) summary.hardToRead++;
    // Read-back: the phone shows what the reader made of both pages; the KPPS confirms the written numbers
    // when the result is missing, not final, or different (the correction becomes the KPPS version).
    const readingIds = statuses.map((s) => s.reading!.id);
    const keys = [...f.contest.candidates.map((c) => (c.isEmptyColumn ? 'suara_kolom_kosong' : `suara_paslon_${c.number}`)), 'suara_sah', 'suara_tidak_sah'];
    let current: ResultVersion | null = null;
    const deadline = Date.now() + (readingIds.length === 2 ? 60_000 : 0);
    for (let wait = 500; ; wait = Math.min(4000, wait * 1.5)) {
      const detail = (await request(tokenOf(f.t), 'GET', `/api/tps/${f.t.code}?contest=${encodeURIComponent(f.contest.id)}`))?.body as TpsDetailResponse | undefined;
      current = detail?.contests?.find((c) => c.contestId === f.contest.id)?.current ?? null;
      const covers = !!current && readingIds.every((id) => current!.readingIds.includes(id));
      const needsPerson = statuses.some((s) => s.reading?.cls === 'NEEDS_REVIEW');
      if (covers || needsPerson || Date.now() >= deadline) break;
      await sleep(wait);
    }
    const right = !!current && current.status === f.expect && sameNumbers(current.values, f.values, keys);
    if (right) { photoStats.machineCorrect++; if (f.expect === 'published') live.published++; else live.quarantined++; return; }
    if (current && current.stage === 'machine' && current.status === 'published' && !sameNumbers(current.values, f.values, keys)) photoStats.machineWrongPublished++;
    photoStats.kppsConfirmed++;
    await confirm(f);
  };

  // Viewers watch random areas of the scope (national, province, kab/kota, kecamatan) and races.
  const areaPool = [['00', null], ...[...new Set(tps.map((t) => t.code.slice(0, 2)))].map((p) => [p, null]), ...kabCodes.map((k) => [k, k]), ...[...new Set(tps.map((t) => t.kecCode))].map((k) => [k, k.slice(0, 4)])] as [string, string | null][];
  const viewers: Viewer[] = [];
  for (let i = 0; i < opts.viewers; i++) {
    const [area, kab] = areaPool[Math.floor(r() * areaPool.length)];
    const prov = area === '00' ? tps[0].code.slice(0, 2) : area.slice(0, 2);
    const contest = kab && contests.has(`pkwkk-${kab}`) && r() < 0.5 ? `pkwkk-${kab}` : `pkwkp-${prov}`;
    viewers.push(new Viewer(base, area, contest));
    if (i % 100 === 99) await sleep(20);
  }
  const connectDeadline = Date.now() + 60_000;
  while (viewers.some((v) => !v.socket.connected) && Date.now() < connectDeadline) await sleep(50);

  // What the API serves per watched room, and whether each viewer holds it (live, and at the end).
  const fetchTruth = async () => {
    const truth = new Map<string, ResultsResponse>();
    for (const v of viewers) {
      const key = `${v.contest}/${v.area}`;
      if (!truth.has(key)) {
        const res = await fetch(`${base}/api/results/${v.contest}/${v.area}.json`).catch(() => null);
        if (res?.ok) truth.set(key, (await res.json()) as ResultsResponse);
      }
    }
    return truth;
  };
  const holds = (v: Viewer, truth: Map<string, ResultsResponse>) => {
    const t = truth.get(`${v.contest}/${v.area}`);
    if (!t || !sameTally(v.tally, t.tally)) return false;
    return t.children.every((c) => c.level === 5 || sameTally(v.children.get(c.code), c));
  };
  let liveConverged = viewers.length;
  let lastTruthCheck = 0;

  // Replay: simulated minute m happens at real time m / speed minutes after the start.
  const t0 = Date.now();
  const concurrency = opts.concurrency ?? 16;
  let next = 0;
  let done = 0;
  let lastLog = 0;
  let lastDone = 0;
  let lastLogAt = t0;
  const progress = async () => {
    const now = Date.now();
    if (now - lastLog < 2000) return;
    lastLog = now;
    if (viewers.length && now - lastTruthCheck > 10_000) {
      lastTruthCheck = now;
      const truth = await fetchTruth();
      liveConverged = viewers.filter((v) => holds(v, truth)).length;
    }
    const rate = ((done - lastDone) * 1000) / Math.max(1, now - lastLogAt);
    lastDone = done;
    lastLogAt = now;
    const simH = ((now - t0) * opts.speed) / 3_600_000;
    const ref = Object.entries(refused).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    log(`${simH.toFixed(1)} h after polls closed | ${done}/${events.length} forms, ${rate.toFixed(1)} forms/s | published ${live.published}, quarantined ${live.quarantined} | refused: ${ref} | viewers in sync ${liveConverged}/${viewers.length}${factory ? ` | photos ${factory.rendered} rendered, ${photoStats.kppsConfirmed} KPPS-confirmed` : ''}`);
  };
  const worker = async () => {
    while (next < events.length) {
      const ev = events[next++];
      const due = t0 + (ev.at * 60_000) / opts.speed;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      await (mode === 'photos' ? runPhotos(ev.form) : runReadings(ev.form)).catch((err: Error) => {
        refused[`client_error`] = (refused.client_error ?? 0) + 1;
        log(`form ${ev.form.t.code}/${ev.form.contest.id} failed in the simulator: ${err.message}`);
      });
      done++;
      await progress();
    }
  };
  const ticker = setInterval(() => void progress(), 2500);
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearInterval(ticker);
    if (factory) {
      photoStats.rendered = factory.rendered;
      photoStats.renderCpuMsPerPhoto = factory.rendered ? Math.round(factory.cpuMs / factory.rendered) : null;
      factory.close();
    }
  }
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
  const truth = await fetchTruth();
  const check = (v: Viewer) => holds(v, truth);
  let pendingViewers = viewers;
  while (Date.now() < settleDeadline) {
    pendingViewers = pendingViewers.filter((v) => !check(v));
    if (!pendingViewers.length) break;
    await sleep(250);
  }
  converged = viewers.length - pendingViewers.length;
  for (const v of pendingViewers.slice(0, 10)) notConverged.push(`${v.contest}/${v.area} (held version ${v.version})`);
  const deltaLat = viewers.flatMap((v) => v.latencies);
  for (const v of viewers) v.close();

  const wall = (Date.now() - started) / 1000;
  const out: SimSummary = {
    scope: opts.scope, mode, speed: opts.speed, errors: opts.errors, sharesSource,
    tps: { inScope: tps.length, reported: tps.length - neverReported, neverReported },
    tokens: { perTps: !opts.token, created: tokens.size, seconds: tokenSeconds },
    uploads: summary,
    refused,
    retries: { ...retries, waitedSeconds: Math.round(retries.waitedSeconds) },
    ...(mode === 'photos' ? { photos: photoStats } : {}),
    // Photo mode: a machine version followed by the KPPS's correction is two versions of one result, by design.
    results: { published, quarantined, exactlyOnce: missing === 0 && wrongStatus === 0 && (mode === 'photos' || versionsOverOne === 0), versionsOverOne, missing, wrongStatus },
    totals: { contests: byContest.size, matchExpected: mismatches.length === 0, mismatches: mismatches.slice(0, 20), recountMismatches: recount.mismatches.length },
    viewers: { sockets: viewers.length, connected: viewers.filter((v) => v.tally).length, converged, deltasReceived: viewers.reduce((a, v) => a + v.deltas, 0), resubscribes: viewers.reduce((a, v) => a + v.resubscribes, 0), notConverged },
    latencyMs: { requestP50: round(pct(requestMs, 50)), requestP99: round(pct(requestMs, 99)), deltaP50: pct(deltaLat, 50), deltaP99: pct(deltaLat, 99) },
    wallSeconds: Math.round(wall * 10) / 10, simulatedHours: Math.round((lastMinute / 60) * 10) / 10,
    formsPerSecond: Math.round((expects.length / Math.max(0.001, (Date.now() - t0) / 1000)) * 10) / 10,
    ok: false,
  };
  out.ok = out.results.exactlyOnce && out.totals.matchExpected && out.totals.recountMismatches === 0 && converged === viewers.length && retries.gaveUp === 0;
  return out;
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
