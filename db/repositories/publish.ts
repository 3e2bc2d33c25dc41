import type { Sql } from '../client.js';
import { auditHeadHash, chainAuditRows, GENESIS_HASH, insertAuditPayload, nextAuditIds, PUBLISH_LOCK, type AuditInput, type Tx } from './audit.js';
import { NATIONAL_CODE } from './areas.js';

/**
 * Publishing TPS results: versioned rows, hard-rule gate, incremental area tallies, change feed,
 * anomalies and audit, all in ONE transaction per batch. A crash anywhere leaves nothing half-done and
 * re-running the same request is a no-op (same stage, values and status → no new version).
 */

export type ResultStage = 'machine' | 'kpps' | 'reviewer' | 'recap';
export type ResultStatus = 'published' | 'quarantined' | 'incomplete';
export const STAGE_RANK: Record<ResultStage, number> = { machine: 0, kpps: 1, reviewer: 2, recap: 3 };

export type RuleResult =
  | { rule: string; class: 'HARD' | 'SOFT'; status: 'PASS' }
  | { rule: string; class: 'HARD' | 'SOFT'; status: 'FAIL'; delta: number; fields: string[] }
  | { rule: string; class: 'HARD' | 'SOFT'; status: 'UNKNOWN'; missing: string[] };
export interface Verdict { publishable: boolean; complete: boolean; quarantined: boolean; results: RuleResult[] }

export interface TpsMaster {
  code: string; desaCode: string; kecCode: string; kabCode: string; provCode: string;
  number: number; votersL: number; votersP: number; isSpecial: boolean;
}
export interface ContestInfo { id: string; type: 'pkwkp' | 'pkwkk' | 'ppwp'; areaCode: string; candidates: { id: string; number: number; isEmptyColumn: boolean }[] }

/** Hard rules, injected by the caller (workers/rules) so that db/ imports nothing of ours. */
export type EvaluateFn = (input: { tps: TpsMaster; contest: ContestInfo; values: Record<string, number> }) => Verdict;

export interface PublishRequest {
  tpsCode: string;
  contestId: string;
  stage: ResultStage;
  /** Field values; null for the machine stage = combine the TPS's current readings inside the transaction. */
  values: Record<string, number> | null;
  actorId: number | null;
  actor: string;
  correctionId?: number | null;
  /** Audit action name; default derived from stage. */
  action?: string;
}

export type PublishOutcome =
  | { tpsCode: string; contestId: string; outcome: 'created'; status: ResultStatus; version: number; resultId: number; changeVersion: number }
  | { tpsCode: string; contestId: string; outcome: 'unchanged' | 'stale_stage' | 'no_readings' | 'unknown_tps' | 'unknown_contest'; status?: ResultStatus; version?: number };

export interface CurrentResult {
  id: number; tpsCode: string; contestId: string; version: number; stage: ResultStage; status: ResultStatus;
  values: Record<string, number>; votes: Record<string, number>; suaraSah: number | null; suaraTidakSah: number | null;
  rules: RuleResult[]; readingIds: number[];
}

/** The contribution of one TPS result to every area above it. */
export interface Contribution {
  votes: Record<string, number>; suaraSah: number; suaraTidakSah: number; tpsPublished: number; tpsQuarantined: number;
  quarantinedVotes: number; votersRegistered: number; votersUsed: number;
}
const ZERO: Contribution = { votes: {}, suaraSah: 0, suaraTidakSah: 0, tpsPublished: 0, tpsQuarantined: 0, quarantinedVotes: 0, votersRegistered: 0, votersUsed: 0 };

/** Votes by candidate id from Sirekap-style field keys (suara_paslon_n, suara_kolom_kosong). */
export function votesByCandidate(values: Record<string, number>, contest: ContestInfo): Record<string, number> {
  const votes: Record<string, number> = {};
  for (const c of contest.candidates) {
    const key = c.isEmptyColumn ? 'suara_kolom_kosong' : `suara_paslon_${c.number}`;
    const v = values[key];
    if (typeof v === 'number') votes[c.id] = v;
  }
  return votes;
}

export function hasVotePage(values: Record<string, number>, contest: ContestInfo): boolean {
  if (typeof values.suara_sah !== 'number') return false;
  return contest.candidates.every((c) => typeof values[c.isEmptyColumn ? 'suara_kolom_kosong' : `suara_paslon_${c.number}`] === 'number');
}

/** What a result adds to the tallies: published TPS count in full, quarantined ones only on their own line. */
export function contributionOf(r: { status: ResultStatus; votes: Record<string, number>; values: Record<string, number>; suaraSah: number | null; suaraTidakSah: number | null } | null, tps: TpsMaster): Contribution {
  if (!r) return ZERO;
  const v = r.values;
  const sah = r.suaraSah ?? 0;
  const ts = r.suaraTidakSah ?? 0;
  const total = typeof v.suara_total === 'number' ? v.suara_total : sah + ts;
  if (r.status === 'published') {
    return {
      votes: r.votes, suaraSah: sah, suaraTidakSah: ts, tpsPublished: 1, tpsQuarantined: 0, quarantinedVotes: 0,
      // The master register is known before election day (and H9 makes the form agree with it).
      votersRegistered: tps.votersL + tps.votersP,
      votersUsed: typeof v.pengguna_total_j === 'number' ? v.pengguna_total_j : total,
    };
  }
  if (r.status === 'quarantined') {
    // Ballots at stake as the form states them (V.C), whichever field was misread.
    const stated = typeof v.suara_total === 'number' ? v.suara_total : sah + ts || Object.values(r.votes).reduce((a, b) => a + b, 0);
    return { ...ZERO, votes: {}, tpsQuarantined: 1, quarantinedVotes: stated };
  }
  return ZERO;
}

export function addContribution(acc: Contribution, c: Contribution, sign: 1 | -1): void {
  for (const [k, n] of Object.entries(c.votes)) acc.votes[k] = (acc.votes[k] ?? 0) + sign * n;
  acc.suaraSah += sign * c.suaraSah;
  acc.suaraTidakSah += sign * c.suaraTidakSah;
  acc.tpsPublished += sign * c.tpsPublished;
  acc.tpsQuarantined += sign * c.tpsQuarantined;
  acc.quarantinedVotes += sign * c.quarantinedVotes;
  acc.votersRegistered += sign * c.votersRegistered;
  acc.votersUsed += sign * c.votersUsed;
}

/**
 * What is stored per version: every failing or unknown check in full, and one PASS line per rule whose
 * checks all pass (the per-check expressions of passing rules add kilobytes per row and nothing a
 * reader of the TPS page needs).
 */
export function compactRules(results: RuleResult[]): RuleResult[] {
  // One pass: per rule (in order of first appearance) either its single PASS line or every check that
  // did not pass, in order.
  const groups: { rule: string; cls: RuleResult['class']; notPass: RuleResult[] | null }[] = [];
  const index = new Map<string, number>();
  for (const r of results) {
    let gi = index.get(r.rule);
    if (gi === undefined) {
      gi = groups.length;
      index.set(r.rule, gi);
      groups.push({ rule: r.rule, cls: r.class, notPass: null });
    }
    if (r.status !== 'PASS') (groups[gi].notPass ??= []).push(r);
  }
  const out: RuleResult[] = [];
  for (const g of groups) {
    if (g.notPass === null) out.push({ rule: g.rule, class: g.cls, status: 'PASS' });
    else for (const r of g.notPass) out.push(r);
  }
  return out;
}

export const areaCodesOf = (t: TpsMaster) => [NATIONAL_CODE, t.provCode, t.kabCode, t.kecCode, t.desaCode];

const sameValues = (a: Record<string, number>, b: Record<string, number>) => {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
};

const contestCache = new WeakMap<object, Map<string, ContestInfo>>();
const ensuredTallies = new WeakMap<object, Set<string>>();

export async function loadContest(sql: Sql, contestId: string): Promise<ContestInfo | null> {
  let cache = contestCache.get(sql);
  if (!cache) contestCache.set(sql, (cache = new Map()));
  const hit = cache.get(contestId);
  if (hit) return hit;
  const [c] = await sql<{ id: string; type: ContestInfo['type']; areaCode: string }[]>`
    select id, type, area_code as "areaCode" from contests where id = ${contestId}`;
  if (!c) return null;
  const candidates = await sql<ContestInfo['candidates']>`
    select id, number, is_empty_column as "isEmptyColumn" from candidates where contest_id = ${contestId} order by number`;
  const info = { ...c, candidates: [...candidates] };
  cache.set(contestId, info);
  return info;
}

/** Forget cached contests (tests that reseed candidates). */
export function clearContestCache(sql: Sql) {
  contestCache.delete(sql);
  ensuredTallies.delete(sql);
}

/**
 * Every area of a contest gets its tally row once, with its expected TPS count, so that feeds show
 * "0 of N" before the first form and publishes only ever add to existing rows.
 */
export async function ensureTallyRows(sql: Sql, contest: ContestInfo): Promise<void> {
  let done = ensuredTallies.get(sql);
  if (!done) ensuredTallies.set(sql, (done = new Set()));
  if (done.has(contest.id)) return;
  await sql`
    insert into area_tallies (contest_id, area_code, tps_expected)
    select ${contest.id}, area_code, count(*)::int from tps t
    cross join lateral (values (${NATIONAL_CODE}::text), (t.prov_code), (t.kab_code), (t.kec_code), (t.desa_code)) a(area_code)
    where t.code like ${contest.areaCode + '%'}
    group by area_code
    on conflict (contest_id, area_code) do nothing`;
  done.add(contest.id);
}

interface ReadingForMerge { id: number; submissionId: number; page: string | null; cls: string; values: Record<string, number>; photoSha256: string; tpsCode: string; contestId: string }

/**
 * The machine result of a TPS = the newest non-rejected reading of each page, merged. A field read on
 * two pages (e.g. totals repeated) keeps the value of the page read later and is reported as a conflict.
 */
export function mergeReadings(readings: ReadingForMerge[]): { values: Record<string, number>; readingIds: number[]; photos: string[]; conflicts: string[]; needsReview: number[] } {
  const byPage = new Map<string, ReadingForMerge>();
  for (const r of readings) {
    const key = r.page ?? `submission:${r.submissionId}`;
    const prev = byPage.get(key);
    if (!prev || r.submissionId > prev.submissionId || (r.submissionId === prev.submissionId && r.id > prev.id)) byPage.set(key, r);
  }
  const chosen = [...byPage.values()].sort((a, b) => a.submissionId - b.submissionId);
  const values: Record<string, number> = {};
  const conflicts: string[] = [];
  for (const r of chosen) {
    for (const [k, v] of Object.entries(r.values)) {
      if (k in values && values[k] !== v) conflicts.push(k);
      values[k] = v;
    }
  }
  return { values, readingIds: chosen.map((r) => r.id), photos: chosen.map((r) => r.photoSha256), conflicts, needsReview: chosen.filter((r) => r.cls === 'NEEDS_REVIEW').map((r) => r.id) };
}

const resultColumns = (sql: Tx) => sql`
  id, tps_code as "tpsCode", contest_id as "contestId", version, stage, status, values, votes,
  suara_sah as "suaraSah", suara_tidak_sah as "suaraTidakSah", rules, reading_ids as "readingIds"`;

/** What the publish transaction needs of a current row (no `rules`: never read back, kilobytes per row). */
type PrevResult = Omit<CurrentResult, 'rules'>;

/** The rule verdict of one set of values, with what follows from it (status, votes per candidate). */
interface Assessed { verdict: Verdict; status: ResultStatus; votes: Record<string, number> }

function assess(evaluate: EvaluateFn, tps: TpsMaster, contest: ContestInfo, values: Record<string, number>, conflicts: string[], needsReview: number[]): Assessed {
  const verdict = evaluate({ tps, contest, values });
  verdict.results = compactRules(verdict.results);
  // The reader was not sure (DECODER: NEEDS_REVIEW is never published): the TPS waits for a person,
  // counted with the quarantined ("menunggu verifikasi"), whatever the arithmetic says.
  if (needsReview.length) {
    verdict.results.push({ rule: 'NEEDS_REVIEW', class: 'HARD', status: 'FAIL', delta: 0, fields: needsReview.map((id) => `reading:${id}`) });
  }
  if (conflicts.length) {
    verdict.results.push({ rule: 'M1', class: 'HARD', status: 'FAIL', delta: conflicts.length, fields: [...new Set(conflicts)] });
  }
  let hardFail = false;
  for (const r of verdict.results) if (r.class === 'HARD' && r.status === 'FAIL') { hardFail = true; break; }
  verdict.quarantined = hardFail;
  verdict.publishable = !hardFail;
  const status: ResultStatus = hardFail ? 'quarantined' : hasVotePage(values, contest) ? 'published' : 'incomplete';
  return { verdict, status, votes: votesByCandidate(values, contest) };
}

/** A comma-joined list as one text parameter: one bind value instead of one per element. */
const csv = (xs: Iterable<string>) => [...xs].join(',');

/**
 * Publish a batch of TPS results in one transaction. Serialised by PUBLISH_LOCK so that change-feed
 * versions are assigned in commit order (a client catching up "since v" can never skip a row).
 *
 * Cost model (bench/ingest.ts): everything that does not depend on the current rows (TPS masters,
 * the hard rules on given values, JSON of values and rules) is done BEFORE the lock, so a caller with
 * two batches in flight overlaps one batch's rule evaluation with the other's database work. Inside
 * the lock: one pipelined read (current rows, audit head), one small id read, then every write of the
 * batch pipelined (one statement per table: versions, changes, tallies, anomalies, audit, NOTIFY).
 */
export async function publishBatch(sql: Sql, requests: PublishRequest[], evaluate: EvaluateFn, opts: { within?: (tx: Tx, outcomes: PublishOutcome[]) => Promise<void>; timings?: Record<string, number> } = {}): Promise<PublishOutcome[]> {
  let mark = performance.now();
  const lap = (name: string) => {
    if (!opts.timings) return;
    const now = performance.now();
    opts.timings[name] = (opts.timings[name] ?? 0) + (now - mark);
    mark = now;
  };
  if (requests.length === 0) return [];
  // Contests and tally rows are prepared outside the lock (idempotent, rarely needed).
  const contests = new Map<string, ContestInfo>();
  for (const id of new Set(requests.map((r) => r.contestId))) {
    const c = await loadContest(sql, id);
    if (c) {
      contests.set(id, c);
      await ensureTallyRows(sql, c);
    }
  }
  // The TPS register is reference data (seeded before election day): read outside the lock.
  const masters = await sql<TpsMaster[]>`
    select code, desa_code as "desaCode", kec_code as "kecCode", kab_code as "kabCode", prov_code as "provCode",
           number, voters_l as "votersL", voters_p as "votersP", is_special as "isSpecial"
    from tps where code = any(string_to_array(${csv(new Set(requests.map((r) => r.tpsCode)))}, ','))`;
  const masterByCode = new Map(masters.map((m) => [m.code, m]));
  // Rules on given values (corrections, KPPS confirmations, recap) before the lock; machine results
  // are merged from readings inside it, so that a reading committed meanwhile is never missed.
  const early: (Assessed | null)[] = requests.map((req) => {
    const tps = masterByCode.get(req.tpsCode);
    const contest = contests.get(req.contestId);
    if (!tps || !contest || !tps.code.startsWith(contest.areaCode) || req.values === null) return null;
    return assess(evaluate, tps, contest, req.values, [], []);
  });
  lap('evaluate');

  const outcomes = await sql.begin(async (tx) => {
    lap('prepare');
    const tpsCodes = csv(masterByCode.keys());
    const machineCodes = csv(new Set(requests.filter((r) => r.values === null).map((r) => r.tpsCode)));
    const [, currentRows, headRows, readingRows] = await Promise.all([
      tx`select pg_advisory_xact_lock(${PUBLISH_LOCK})`,
      tx<PrevResult[]>`
        select id, tps_code as "tpsCode", contest_id as "contestId", version, stage, status, values, votes,
               suara_sah as "suaraSah", suara_tidak_sah as "suaraTidakSah", reading_ids as "readingIds"
        from tps_results where is_current and tps_code = any(string_to_array(${tpsCodes}, ','))`,
      auditHeadHash(tx),
      machineCodes
        ? tx<ReadingForMerge[]>`
            select r.id, r.submission_id as "submissionId", r.page, r.cls, r.values, s.photo_sha256 as "photoSha256",
                   s.tps_code as "tpsCode", s.contest_id as "contestId"
            from readings r join submissions s on s.id = r.submission_id
            where s.tps_code = any(string_to_array(${machineCodes}, ',')) and r.cls <> 'REJECTED' and s.status = 'read'
              and s.source = 'kpps'`
        : Promise.resolve([] as ReadingForMerge[]),
    ]);
    const current = new Map(currentRows.map((r) => [`${r.tpsCode}|${r.contestId}`, r]));
    const readingsByKey = new Map<string, ReadingForMerge[]>();
    for (const r of readingRows) {
      const k = `${r.tpsCode}|${r.contestId}`;
      const list = readingsByKey.get(k);
      if (list) list.push(r);
      else readingsByKey.set(k, [r]);
    }

    lap('load');
    const results: PublishOutcome[] = [];
    interface NewRow { req: PublishRequest; tps: TpsMaster; contest: ContestInfo; prev: PrevResult | null; version: number; status: ResultStatus; values: Record<string, number>; votes: Record<string, number>; verdict: Verdict; readingIds: number[]; photos: string[] }
    const newRows: NewRow[] = [];

    const pendingByKey = new Map<string, NewRow>();
    for (let qi = 0; qi < requests.length; qi++) {
      const req = requests[qi];
      const base = { tpsCode: req.tpsCode, contestId: req.contestId };
      const tps = masterByCode.get(req.tpsCode);
      if (!tps) { results.push({ ...base, outcome: 'unknown_tps' }); continue; }
      const contest = contests.get(req.contestId);
      if (!contest || !tps.code.startsWith(contest.areaCode)) { results.push({ ...base, outcome: 'unknown_contest' }); continue; }
      const key = `${req.tpsCode}|${req.contestId}`;
      // A request earlier in this batch for the same TPS is "current" for the later ones.
      const pendingSame = pendingByKey.get(key);
      const prev: PrevResult | null = pendingSame
        ? { id: -1, tpsCode: req.tpsCode, contestId: req.contestId, version: pendingSame.version, stage: pendingSame.req.stage, status: pendingSame.status, values: pendingSame.values, votes: pendingSame.votes, suaraSah: pendingSame.values.suara_sah ?? null, suaraTidakSah: pendingSame.values.suara_tidak_sah ?? null, readingIds: pendingSame.readingIds }
        : current.get(key) ?? null;
      if (prev && STAGE_RANK[req.stage] < STAGE_RANK[prev.stage]) {
        results.push({ ...base, outcome: 'stale_stage', status: prev.status, version: prev.version });
        continue;
      }
      let values: Record<string, number>;
      let readingIds: number[] = [];
      let photos: string[] = [];
      let assessed: Assessed;
      if (req.values === null) {
        const merged = mergeReadings(readingsByKey.get(key) ?? []);
        if (merged.readingIds.length === 0) { results.push({ ...base, outcome: 'no_readings' }); continue; }
        ({ values, readingIds, photos } = merged);
        assessed = assess(evaluate, tps, contest, values, merged.conflicts, merged.needsReview);
      } else {
        values = req.values;
        readingIds = prev?.readingIds ?? [];
        assessed = early[qi]!;
      }
      const { status, verdict, votes } = assessed;
      if (prev && prev.stage === req.stage && prev.status === status && sameValues(prev.values, values)) {
        results.push({ ...base, outcome: 'unchanged', status, version: prev.version });
        continue;
      }
      const row: NewRow = { req, tps, contest, prev, version: (prev?.version ?? 0) + 1, status, values, votes, verdict, readingIds, photos };
      newRows.push(row);
      pendingByKey.set(key, row);
      results.push({ ...base, outcome: 'created', status, version: row.version, resultId: 0, changeVersion: 0 });
    }
    if (newRows.length === 0) {
      await opts.within?.(tx, results);
      return results;
    }

    lap('decide');
    // Within one batch only the last row per TPS stays current.
    const lastIndex = new Map<string, number>();
    newRows.forEach((n, i) => lastIndex.set(`${n.req.tpsCode}|${n.req.contestId}`, i));

    // Versions. One jsonb parameter instead of 14 arrays: big JSON columns in text arrays cost seconds
    // of planning (every element is parsed as a constant); jsonb_to_recordset parses the payload once.
    const versionPayload = JSON.stringify(newRows.map((n, i) => ({
      ord: i, tps_code: n.req.tpsCode, contest_id: n.req.contestId, version: n.version, stage: n.req.stage, status: n.status,
      is_current: lastIndex.get(`${n.req.tpsCode}|${n.req.contestId}`) === i, values: n.values, votes: n.votes,
      suara_sah: n.values.suara_sah ?? null, suara_tidak_sah: n.values.suara_tidak_sah ?? null, rules: n.verdict.results,
      reading_ids: n.readingIds, correction_id: n.req.correctionId ?? null, created_by: n.req.actorId,
    })));

    // Incremental tallies: old contribution out, new one in, summed in memory per (contest, area) and
    // applied once per batch at every level (desa → national).
    const deltas = new Map<string, Contribution & { contestId: string; areaCode: string }>();
    const changePayload: { c: string; t: string; a: string; k: string; s: string; v: number; o: number }[] = [];
    for (let i = 0; i < newRows.length; i++) {
      const n = newRows[i];
      const delta: Contribution = { ...ZERO, votes: {} };
      addContribution(delta, contributionOf(n.prev, n.tps), -1);
      addContribution(delta, contributionOf({ status: n.status, votes: n.votes, values: n.values, suaraSah: n.values.suara_sah ?? null, suaraTidakSah: n.values.suara_tidak_sah ?? null }, n.tps), 1);
      const areas = areaCodesOf(n.tps);
      for (const area of areas) {
        const k = `${n.req.contestId}|${area}`;
        let d = deltas.get(k);
        if (!d) deltas.set(k, (d = { ...ZERO, votes: {}, contestId: n.req.contestId, areaCode: area }));
        addContribution(d, delta, 1);
      }
      const kind = n.req.stage === 'machine' ? n.status : n.req.stage === 'kpps' ? 'confirmed' : 'corrected';
      changePayload.push({ c: n.req.contestId, t: n.req.tpsCode, a: areas.join(','), k: kind, s: n.status, v: n.version, o: i });
    }
    const tallyPayload = JSON.stringify([...deltas.values()].map((d) => ({ c: d.contestId, ar: d.areaCode, v: d.votes, sah: d.suaraSah, ts: d.suaraTidakSah, pub: d.tpsPublished, q: d.tpsQuarantined, qv: d.quarantinedVotes, reg: d.votersRegistered, used: d.votersUsed })));

    // Every quarantine and hard-rule failure is an anomaly row (deduplicated per TPS, contest and rule);
    // rules that pass again resolve theirs. A rule may yield several checks (H7 per person row): one
    // anomaly per rule, the largest residual.
    type Failing = { key: string; rule: string; cls: string; tps: TpsMaster; contestId: string; detail: unknown; severity: number; impact: number };
    const failingByKey = new Map<string, Failing>();
    const passingKeys = new Set<string>();
    const resolvableTps = new Set<string>();
    newRows.forEach((n, i) => {
      if (lastIndex.get(`${n.req.tpsCode}|${n.req.contestId}`) !== i) return;
      // A TPS with no earlier version has no rule anomaly to resolve (they are only written here).
      const mayResolve = n.prev !== null;
      if (mayResolve) resolvableTps.add(n.req.tpsCode);
      const prefix = `rule:${n.req.contestId}:${n.req.tpsCode}:`;
      for (const r of n.verdict.results) {
        const key = prefix + r.rule;
        if (r.status === 'FAIL') {
          const impact = Math.abs(r.delta);
          const prevF = failingByKey.get(key);
          if (!prevF || impact > prevF.impact) {
            failingByKey.set(key, { key, rule: r.rule, cls: r.class, tps: n.tps, contestId: n.req.contestId, detail: { ...r, resultVersion: n.version, stage: n.req.stage }, severity: r.class === 'HARD' ? Math.min(100, 50 + impact) : Math.min(50, 10 + impact), impact });
          }
        } else if (mayResolve) {
          passingKeys.add(key);
        }
      }
    });
    for (const k of failingByKey.keys()) passingKeys.delete(k);
    const failing = [...failingByKey.values()];

    const auditEntries: AuditInput[] = newRows.map((n) => ({
      actorId: n.req.actorId,
      actor: n.req.actor,
      action: n.req.action ?? `result.${n.req.stage}.${n.status}`,
      entity: 'tps_result',
      entityId: `${n.req.tpsCode}:${n.req.contestId}:v${n.version}`,
      before: n.prev ? { version: n.prev.version, stage: n.prev.stage, status: n.prev.status, values: n.prev.values } : null,
      after: {
        version: n.version, stage: n.req.stage, status: n.status, values: n.values, readingIds: n.readingIds,
        correctionId: n.req.correctionId ?? null, photos: n.photos,
        failing: n.verdict.results.filter((r) => r.status === 'FAIL').map((r) => r.rule),
      },
      photoSha256: n.photos[0] ?? null,
    }));
    lap('build');
    // The audit chain is hashed in order here, after the lock made its head stable.
    const auditIds = await nextAuditIds(tx, auditEntries.length);
    const at = new Date().toISOString();
    const chained = chainAuditRows(headRows[0]?.hash ?? GENESIS_HASH, auditIds.map((r) => Number(r.id)), at, auditEntries);
    lap('audit');

    // Every write of the batch, pipelined on the transaction's connection (executed in this order).
    const prevIds = newRows.map((n) => n.prev?.id).filter((id): id is number => typeof id === 'number' && id > 0);
    const changesVersion = tx`currval(pg_get_serial_sequence('changes', 'version'))`;
    const writes = Promise.all([
      prevIds.length ? tx`update tps_results set is_current = false where id = any(string_to_array(${prevIds.join(',')}, ',')::bigint[])` : null,
      tx<{ id: number }[]>`
        insert into tps_results (tps_code, contest_id, version, stage, status, is_current, values, votes, suara_sah, suara_tidak_sah, rules, reading_ids, correction_id, created_by)
        select tps_code, contest_id, version, stage, status, is_current, values, votes, suara_sah, suara_tidak_sah, rules, reading_ids, correction_id, created_by
        from jsonb_to_recordset(${versionPayload}::jsonb) as x(tps_code text, contest_id text, version int, stage text, status text,
          is_current bool, values jsonb, votes jsonb, suara_sah int, suara_tidak_sah int, rules jsonb, reading_ids jsonb, correction_id bigint, created_by bigint, ord bigint)
        order by ord
        returning id`,
      tx<{ version: number }[]>`
        insert into changes (contest_id, tps_code, area_codes, kind, status, result_version, at)
        select c, t, string_to_array(a, ','), k, s, v, clock_timestamp()
        from jsonb_to_recordset(${JSON.stringify(changePayload)}::jsonb) as u(c text, t text, a text, k text, s text, v int, o int)
        order by o
        returning version`,
      tx`
        insert into area_tallies as a (contest_id, area_code, votes, suara_sah, suara_tidak_sah, tps_published, tps_quarantined,
                                       quarantined_votes, voters_registered, voters_used, version, updated_at)
        select c, ar, v, sah, ts, pub, q, qv, reg, used, ${changesVersion}, now()
        from jsonb_to_recordset(${tallyPayload}::jsonb)
          as u(c text, ar text, v jsonb, sah bigint, ts bigint, pub int, q int, qv bigint, reg bigint, used bigint)
        on conflict (contest_id, area_code) do update set
          votes = (select coalesce(jsonb_object_agg(key, total), '{}'::jsonb) from (
                     select key, sum(value::bigint) as total
                     from (select * from jsonb_each_text(a.votes) union all select * from jsonb_each_text(excluded.votes)) s
                     group by key having sum(value::bigint) <> 0) t),
          suara_sah = a.suara_sah + excluded.suara_sah,
          suara_tidak_sah = a.suara_tidak_sah + excluded.suara_tidak_sah,
          tps_published = a.tps_published + excluded.tps_published,
          tps_quarantined = a.tps_quarantined + excluded.tps_quarantined,
          quarantined_votes = a.quarantined_votes + excluded.quarantined_votes,
          voters_registered = a.voters_registered + excluded.voters_registered,
          voters_used = a.voters_used + excluded.voters_used,
          version = excluded.version,
          updated_at = excluded.updated_at`,
      failing.length
        ? tx`
          insert into anomalies as an (dedupe_key, rule, kind, contest_id, tps_code, area_code, severity, impact_votes, detail)
          select k, r, kind, c, t, a, sev, imp, d from jsonb_to_recordset(${JSON.stringify(failing.map((f) => ({ k: f.key, r: f.rule, kind: f.rule === 'NEEDS_REVIEW' ? 'page' : f.cls === 'HARD' ? 'hard_rule' : 'soft_rule', c: f.contestId, t: f.tps.code, a: f.tps.desaCode, sev: f.severity, imp: f.impact, d: f.detail })))}::jsonb)
            as x(k text, r text, kind text, c text, t text, a text, sev float8, imp int, d jsonb)
          on conflict (dedupe_key) do update set detail = excluded.detail, severity = excluded.severity,
            impact_votes = excluded.impact_votes, status = 'active', resolved_at = null, updated_at = now()`
        : null,
      passingKeys.size
        ? tx`update anomalies set status = 'resolved', resolved_at = now(), updated_at = now()
             where status = 'active' and tps_code = any(string_to_array(${csv(resolvableTps)}, ','))
               and dedupe_key in (select jsonb_array_elements_text(${JSON.stringify([...passingKeys])}::jsonb))`
        : null,
      insertAuditPayload(tx, at, chained.payload),
    ]);
    const [, inserted, changeRows] = await writes;
    lap('write');

    let j = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r.outcome === 'created') {
        results[i] = { ...r, resultId: Number(inserted![j].id), changeVersion: Number(changeRows![j].version) };
        j++;
      }
    }
    await opts.within?.(tx, results);
    const maxVersion = Math.max(...changeRows!.map((r) => Number(r.version)));
    await tx`select pg_notify('rekap_changes', ${String(maxVersion)})`;
    lap('notify');
    return results;
  });
  lap('commit');
  return outcomes as PublishOutcome[];
}

export async function currentResult(sql: Sql, tpsCode: string, contestId: string): Promise<CurrentResult | null> {
  const [r] = await sql<CurrentResult[]>`select ${resultColumns(sql)} from tps_results where is_current and tps_code = ${tpsCode} and contest_id = ${contestId}`;
  return r ?? null;
}

export interface TallyState extends Contribution { contestId: string; areaCode: string; tpsExpected: number }

/**
 * Recompute every tally from the current TPS rows (same arithmetic as the incremental path) and compare
 * with the stored rows. With `write`, replace the stored numbers (not the versions) by the recount.
 */
export async function recountTallies(sql: Sql, opts: { contestId?: string; write?: boolean } = {}): Promise<{ checked: number; mismatches: { contestId: string; areaCode: string; field: string; stored: unknown; recount: unknown }[] }> {
  const contestIds = opts.contestId
    ? [opts.contestId]
    : (await sql<{ id: string }[]>`select id from contests order by id`).map((r) => r.id);
  const mismatches: { contestId: string; areaCode: string; field: string; stored: unknown; recount: unknown }[] = [];
  let checked = 0;
  for (const contestId of contestIds) {
    const contest = await loadContest(sql, contestId);
    if (!contest) continue;
    const expected = new Map<string, number>();
    const exp = await sql<{ areaCode: string; n: number }[]>`
      select area_code as "areaCode", count(*)::int as n from tps t
      cross join lateral (values (${NATIONAL_CODE}::text), (t.prov_code), (t.kab_code), (t.kec_code), (t.desa_code)) a(area_code)
      where t.code like ${contest.areaCode + '%'} group by area_code`;
    for (const e of exp) expected.set(e.areaCode, e.n);
    const acc = new Map<string, Contribution>();
    const cursor = sql<(CurrentResult & TpsMaster)[]>`
      select r.status, r.votes, r.values, r.suara_sah as "suaraSah", r.suara_tidak_sah as "suaraTidakSah",
             t.code, t.desa_code as "desaCode", t.kec_code as "kecCode", t.kab_code as "kabCode", t.prov_code as "provCode",
             t.voters_l as "votersL", t.voters_p as "votersP"
      from tps_results r join tps t on t.code = r.tps_code
      where r.is_current and r.contest_id = ${contestId}`.cursor(2000);
    for await (const rows of cursor) {
      for (const row of rows) {
        const c = contributionOf(row, row);
        for (const area of areaCodesOf(row)) {
          let a = acc.get(area);
          if (!a) acc.set(area, (a = { ...ZERO, votes: {} }));
          addContribution(a, c, 1);
        }
      }
    }
    const stored = await sql<{ areaCode: string; votes: Record<string, number>; suaraSah: number; suaraTidakSah: number; tpsPublished: number; tpsQuarantined: number; quarantinedVotes: number; votersRegistered: number; votersUsed: number; tpsExpected: number }[]>`
      select area_code as "areaCode", votes, suara_sah as "suaraSah", suara_tidak_sah as "suaraTidakSah", tps_published as "tpsPublished",
             tps_quarantined as "tpsQuarantined", quarantined_votes as "quarantinedVotes", voters_registered as "votersRegistered",
             voters_used as "votersUsed", tps_expected as "tpsExpected"
      from area_tallies where contest_id = ${contestId}`;
    const storedBy = new Map(stored.map((s) => [s.areaCode, s]));
    const areas = new Set([...acc.keys(), ...storedBy.keys()]);
    for (const area of areas) {
      checked++;
      const want = acc.get(area) ?? { ...ZERO, votes: {} };
      const wantVotes = Object.fromEntries(Object.entries(want.votes).filter(([, n]) => n !== 0).sort());
      const s = storedBy.get(area);
      const have = s ?? { ...ZERO, votes: {}, tpsExpected: 0 };
      const haveVotes = Object.fromEntries(Object.entries(have.votes ?? {}).map(([k, n]) => [k, Number(n)]).filter(([, n]) => n !== 0).sort());
      const fields: [string, unknown, unknown][] = [
        ['votes', JSON.stringify(haveVotes), JSON.stringify(wantVotes)],
        ['suaraSah', Number(have.suaraSah), want.suaraSah], ['suaraTidakSah', Number(have.suaraTidakSah), want.suaraTidakSah],
        ['tpsPublished', Number(have.tpsPublished), want.tpsPublished], ['tpsQuarantined', Number(have.tpsQuarantined), want.tpsQuarantined],
        ['quarantinedVotes', Number(have.quarantinedVotes), want.quarantinedVotes],
        ['votersRegistered', Number(have.votersRegistered), want.votersRegistered], ['votersUsed', Number(have.votersUsed), want.votersUsed],
      ];
      if (s) fields.push(['tpsExpected', Number(s.tpsExpected), expected.get(area) ?? 0]);
      for (const [field, a, b] of fields) if (a !== b) mismatches.push({ contestId, areaCode: area, field, stored: a, recount: b });
      if (opts.write && fields.some(([, a, b]) => a !== b)) {
        await sql`
          insert into area_tallies (contest_id, area_code, tps_expected, votes, suara_sah, suara_tidak_sah, tps_published, tps_quarantined, quarantined_votes, voters_registered, voters_used)
          values (${contestId}, ${area}, ${expected.get(area) ?? 0}, ${JSON.stringify(wantVotes)}::jsonb, ${want.suaraSah}, ${want.suaraTidakSah}, ${want.tpsPublished}, ${want.tpsQuarantined}, ${want.quarantinedVotes}, ${want.votersRegistered}, ${want.votersUsed})
          on conflict (contest_id, area_code) do update set tps_expected = excluded.tps_expected, votes = excluded.votes, suara_sah = excluded.suara_sah,
            suara_tidak_sah = excluded.suara_tidak_sah, tps_published = excluded.tps_published, tps_quarantined = excluded.tps_quarantined,
            quarantined_votes = excluded.quarantined_votes, voters_registered = excluded.voters_registered, voters_used = excluded.voters_used`;
      }
    }
  }
  return { checked, mismatches };
}

/**
 * Change-feed cursors for follow-up work (investigation: cases and statistical checkpoints after
 * publishes). A cursor is a `meta` row holding the last change version handled.
 */
export async function changeCursor(sql: Tx, key: string): Promise<number> {
  const [row] = await sql<{ value: string }[]>`select value from meta where key = ${key}`;
  return row ? Number(row.value) : 0;
}

export async function setChangeCursor(sql: Tx, key: string, version: number): Promise<void> {
  await sql`insert into meta (key, value, updated_at) values (${key}, ${String(version)}, now())
            on conflict (key) do update set value = excluded.value, updated_at = now()
            where meta.value::bigint < excluded.value::bigint`;
}

/** Contests with changes after `version`, and the newest version. */
export async function contestsChangedSince(sql: Tx, version: number): Promise<{ head: number; contestIds: string[] }> {
  const rows = await sql<{ contestId: string; head: string }[]>`
    select contest_id as "contestId", max(version)::bigint as head from changes where version > ${version} group by contest_id`;
  return { head: rows.reduce((m, r) => Math.max(m, Number(r.head)), version), contestIds: rows.map((r) => r.contestId) };
}

/** TPS of one contest changed in (from, to]. */
export async function tpsChangedBetween(sql: Tx, contestId: string, from: number, to: number): Promise<string[]> {
  const rows = await sql<{ tpsCode: string }[]>`
    select distinct tps_code as "tpsCode" from changes where contest_id = ${contestId} and version > ${from} and version <= ${to}`;
  return rows.map((r) => r.tpsCode);
}

export async function latestChangeOfContest(sql: Tx, contestId: string): Promise<number> {
  const [row] = await sql<{ v: string | null }[]>`select max(version)::bigint as v from changes where contest_id = ${contestId}`;
  return Number(row?.v ?? 0);
}
