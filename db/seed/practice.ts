import type { Database, Sql } from '../client.js';
import { appendAudit, PUBLISH_LOCK, type Tx } from '../repositories/audit.js';

/**
 * The practice election ("mode latihan"): a sandbox that mirrors every real contest (same areas, same
 * type, same candidates) under its own ids, so operators rehearse the whole capture flow (upload →
 * read → confirm → published) on the real code paths while the real totals cannot move: tallies,
 * results and the change feed are keyed by contest id, and the public area lists skip elections
 * flagged `is_practice`.
 *
 * Ids: contest `latihan-<real id>`, candidate `latihan-<real KPU id>`.
 */

export const PRACTICE_ELECTION_ID = 'latihan';
export const PRACTICE_PREFIX = 'latihan-';
const META_RESET = 'practice.last_reset_at';

export const practiceContestId = (realId: string) => `${PRACTICE_PREFIX}${realId}`;
export const isPracticeContestId = (id: string) => id.startsWith(PRACTICE_PREFIX);
export const realContestOf = (id: string) => (isPracticeContestId(id) ? id.slice(PRACTICE_PREFIX.length) : null);

export interface PracticeSeedResult { contests: number; candidates: number; created: boolean }

/**
 * Create or complete the practice mirror of every real contest. Idempotent (upserts that only touch
 * rows whose values differ) and safe to call on every start or first request; serialised by an
 * advisory lock so two API nodes do not race.
 */
export async function ensurePracticeElection(database: Database | { sql: Sql }): Promise<PracticeSeedResult> {
  const { sql } = database;
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('rekap.practice'))`;
    const real = await tx<{ id: string; name: string; pollingDate: string; kind: string }[]>`
      select id, name, polling_date::text as "pollingDate", kind from elections where not is_practice order by id limit 1`;
    if (!real.length) return { contests: 0, candidates: 0, created: false };
    const e = real[0];
    const ins = await tx`
      insert into elections (id, name, kind, polling_date, is_practice)
      values (${PRACTICE_ELECTION_ID}, ${`LATIHAN · ${e.name}`}, ${e.kind}, ${e.pollingDate}, true)
      on conflict (id) do update set name = excluded.name, polling_date = excluded.polling_date, is_practice = true
      where (elections.name, elections.polling_date, elections.is_practice) is distinct from (excluded.name, excluded.polling_date, true)
      returning id`;
    const contests = await tx`
      insert into contests (id, election_id, type, area_code, name, tps_expected)
      select ${PRACTICE_PREFIX} || c.id, ${PRACTICE_ELECTION_ID}, c.type, c.area_code, 'LATIHAN · ' || c.name, c.tps_expected
      from contests c join elections e on e.id = c.election_id where not e.is_practice
      on conflict (id) do update set type = excluded.type, area_code = excluded.area_code, name = excluded.name, tps_expected = excluded.tps_expected
      where (contests.type, contests.area_code, contests.name, contests.tps_expected)
        is distinct from (excluded.type, excluded.area_code, excluded.name, excluded.tps_expected)`;
    const candidates = await tx`
      insert into candidates (id, contest_id, number, head_name, deputy_name, colour, is_empty_column)
      select ${PRACTICE_PREFIX} || k.id, ${PRACTICE_PREFIX} || k.contest_id, k.number, k.head_name, k.deputy_name, k.colour, k.is_empty_column
      from candidates k join contests c on c.id = k.contest_id join elections e on e.id = c.election_id where not e.is_practice
      on conflict (id) do update set number = excluded.number, head_name = excluded.head_name, deputy_name = excluded.deputy_name,
        colour = excluded.colour, is_empty_column = excluded.is_empty_column
      where (candidates.number, candidates.head_name, candidates.deputy_name, candidates.colour, candidates.is_empty_column)
        is distinct from (excluded.number, excluded.head_name, excluded.deputy_name, excluded.colour, excluded.is_empty_column)`;
    return { contests: contests.count, candidates: candidates.count, created: ins.count > 0 };
  });
}

export interface PracticeStatus { electionId: string; name: string; contests: number; submissions: number; results: number; lastResetAt: string | null }

export async function practiceStatus(sql: Sql): Promise<PracticeStatus | null> {
  const [e] = await sql<{ name: string }[]>`select name from elections where id = ${PRACTICE_ELECTION_ID} and is_practice`;
  if (!e) return null;
  const [n] = await sql<{ contests: number; submissions: number; results: number; reset: string | null }[]>`
    select (select count(*)::int from contests where election_id = ${PRACTICE_ELECTION_ID}) as contests,
           (select count(*)::int from submissions where contest_id like ${PRACTICE_PREFIX + '%'}) as submissions,
           (select count(*)::int from tps_results where is_current and contest_id like ${PRACTICE_PREFIX + '%'}) as results,
           (select value from meta where key = ${META_RESET}) as reset`;
  return { electionId: PRACTICE_ELECTION_ID, name: e.name, contests: n.contests, submissions: n.submissions, results: n.results, lastResetAt: n.reset };
}

export interface PracticeResetResult {
  deleted: { submissions: number; readings: number; results: number; corrections: number; anomalies: number; tallies: number };
  version: number | null;
  at: string;
}

/**
 * Admin reset: everything uploaded or published in the practice election goes, the real election is
 * not touched (every statement is bounded by the practice contest prefix). Photos stay: they are
 * content-addressed evidence that a real submission may share. The audit log is append-only, so the
 * reset itself is recorded there. Live screens of practice rooms get a change row per TPS that had a
 * result, so they fall back to "0 of N" without a reload.
 */
export async function resetPractice(database: Database | { sql: Sql }, by: { userId: number | null; label: string }): Promise<PracticeResetResult> {
  const like = `${PRACTICE_PREFIX}%`;
  return database.sql.begin(async (tx: Tx) => {
    // Same lock as publish: no practice result can be half-written while we clear it.
    await tx`select pg_advisory_xact_lock(${PUBLISH_LOCK})`;
    const hadResults = await tx<{ tpsCode: string; contestId: string; areaCodes: string[] }[]>`
      select r.tps_code as "tpsCode", r.contest_id as "contestId",
             array['00', t.prov_code, t.kab_code, t.kec_code, t.desa_code] as "areaCodes"
      from tps_results r join tps t on t.code = r.tps_code
      where r.is_current and r.contest_id like ${like}`;
    const readings = await tx`delete from readings where submission_id in (select id from submissions where contest_id like ${like})`;
    const submissions = await tx`delete from submissions where contest_id like ${like}`;
    const results = await tx`delete from tps_results where contest_id like ${like}`;
    const corrections = await tx`delete from corrections where contest_id like ${like}`;
    await tx`delete from case_notes where case_id in (select id from cases where contest_id like ${like})`;
    await tx`delete from cases where contest_id like ${like}`;
    const anomalies = await tx`delete from anomalies where contest_id like ${like}`;
    let version: number | null = null;
    if (hadResults.length) {
      const rows = await tx<{ version: number }[]>`
        insert into changes (contest_id, tps_code, area_codes, kind, status, result_version)
        select c, t, string_to_array(a, ','), 'reset', null, 0 from unnest(
          ${tx.array(hadResults.map((r) => r.contestId) as never[], 25)}::text[], ${tx.array(hadResults.map((r) => r.tpsCode) as never[], 25)}::text[],
          ${tx.array(hadResults.map((r) => r.areaCodes.join(',')) as never[], 25)}::text[]) as u(c, t, a)
        returning version`;
      version = Math.max(...rows.map((r) => Number(r.version)));
    }
    const tallies = await tx`
      update area_tallies set votes = '{}'::jsonb, suara_sah = 0, suara_tidak_sah = 0, tps_published = 0, tps_quarantined = 0,
        quarantined_votes = 0, voters_registered = 0, voters_used = 0, version = coalesce(${version}::bigint, version), updated_at = now()
      where contest_id like ${like}
        and (tps_published <> 0 or tps_quarantined <> 0 or suara_sah <> 0 or suara_tidak_sah <> 0 or votes <> '{}'::jsonb or voters_used <> 0)`;
    const [{ at }] = await tx<{ at: string }[]>`
      insert into meta (key, value, updated_at) values (${META_RESET}, to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), now())
      on conflict (key) do update set value = excluded.value, updated_at = now() returning value as at`;
    const deleted = {
      submissions: submissions.count, readings: readings.count, results: results.count, corrections: corrections.count,
      anomalies: anomalies.count, tallies: tallies.count,
    };
    await appendAudit(tx, [{ actorId: by.userId, actor: by.label, action: 'practice.reset', entity: 'election', entityId: PRACTICE_ELECTION_ID, after: { deleted, version } }]);
    if (version !== null) await tx`select pg_notify('rekap_changes', ${String(version)})`;
    return { deleted, version, at };
  }) as Promise<PracticeResetResult>;
}
