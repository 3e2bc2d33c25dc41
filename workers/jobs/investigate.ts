import type { Sql } from '../../db/client.js';
import { changeCursor, contestsChangedSince, latestChangeOfContest, setChangeCursor, tpsChangedBetween } from '../../db/repositories/publish.js';
import { runStatisticalCheckpoint } from '../cases/checkpoint.js';
import { syncCases } from '../cases/service.js';
import { notifyInvestigation } from '../cases/events.js';
import type { JobQueue, QueuedJob } from './queue.js';

/**
 * Investigation after publishing (INTEGRITY §4–6): every publish writes its hard-rule anomalies in
 * its own transaction; the cases built from them and the statistical detectors, which look at a whole
 * contest, run here — queued and debounced per contest (never per form), so a burst of 2,000 forms/s
 * costs one case sync and one checkpoint per contest per interval.
 *
 * Any process may publish (workers, the API's corrections, the CLI): the scheduler therefore follows
 * the `changes` feed, not the publish calls. Cursors live in `meta`, so a restarted or second worker
 * node carries on where the last run stopped; re-running a range is harmless (cases and findings are
 * upserted by natural key).
 */

export const INVESTIGATE_CURSOR = 'investigate.scheduled';
const contestCursor = (contestId: string) => `investigate.contest.${contestId}`;

export interface InvestigateDeps {
  sql: Sql;
  log: (msg: string, err?: unknown) => void;
  /** Statistical checkpoint on or off (tests of cases alone). Default on. */
  statistical?: boolean;
}

/** Queue one investigate job per contest that changed since the last call. Returns the contests queued. */
export async function scheduleInvestigations(sql: Sql, queue: Pick<JobQueue, 'send'>): Promise<string[]> {
  const from = await changeCursor(sql, INVESTIGATE_CURSOR);
  const { head, contestIds } = await contestsChangedSince(sql, from);
  for (const contestId of contestIds) await queue.send('investigate-contest', { contestId });
  if (head > from) await setChangeCursor(sql, INVESTIGATE_CURSOR, head);
  return contestIds;
}

/** Cases for the TPS changed since this contest's cursor, then the statistical checkpoint. */
export async function handleInvestigateContest(deps: InvestigateDeps, job: Pick<QueuedJob<'investigate-contest'>, 'data'>) {
  const { sql } = deps;
  const { contestId } = job.data;
  const from = await changeCursor(sql, contestCursor(contestId));
  const to = await latestChangeOfContest(sql, contestId);
  let cases = 0;
  if (to > from) {
    const tps = await tpsChangedBetween(sql, contestId, from, to);
    // Chunks keep each transaction short (syncCases locks the case rows it touches).
    for (let i = 0; i < tps.length; i += 500) {
      const r = await syncCases(sql, tps.slice(i, i + 500).map((tpsCode) => ({ tpsCode, contestId })));
      cases += r.changed;
      // syncCases leaves announcing to its caller: case changes go live to the investigation rooms.
      if (r.events.length) await notifyInvestigation(sql, r.events);
    }
  }
  const checkpoint = deps.statistical === false ? null : await runStatisticalCheckpoint(sql, [contestId]);
  if (to > from) await setChangeCursor(sql, contestCursor(contestId), to);
  return { contestId, from, to, cases, checkpoint };
}

/**
 * The worker side: consume investigate jobs and, every `intervalMs`, queue one per changed contest.
 * Returns a stop function.
 */
export async function startInvestigations(queue: JobQueue, deps: InvestigateDeps & { intervalMs: number }): Promise<() => Promise<void>> {
  await queue.work('investigate-contest', async (jobs) => {
    for (const job of jobs) {
      const r = await handleInvestigateContest(deps, job);
      if (r.cases || r.checkpoint?.fresh || r.checkpoint?.retired) {
        deps.log(`investigation ${r.contestId}: changes ${r.from}→${r.to}, ${r.cases} case(s) changed, ${r.checkpoint?.fresh ?? 0} new / ${r.checkpoint?.retired ?? 0} retired statistical finding(s)`);
      }
    }
  });
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = scheduleInvestigations(deps.sql, queue)
      .catch((err) => deps.log('investigation scheduling failed (will retry)', err))
      .finally(() => { running = null; });
  }, deps.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    if (running) await running;
  };
}
