/**
 * A statistical checkpoint over the database: rebuild the exact streaming state of one contest from
 * its current published results, run the statistical detectors, store their findings (cases follow)
 * and retire the statistical findings that no longer fire. Call it every N publishes per region or on a
 * timer; the findings depend only on the data (region looks come from region sizes), never on how
 * often it is called.
 */
import type { Sql } from '../../db/client.js';
import { publishedRecords, resolveStaleFindings } from '../../db/repositories/findings.js';
import { StatState } from '../detectors/state.js';
import { runStatistical } from '../detectors/statistical.js';
import { findingKey } from '../detectors/types.js';
import { recordFindingsTx } from './service.js';

export const STATISTICAL_RULES = ['TURNOUT_Z', 'SIBLING', 'EXTREME_CELL', 'LAST_DIGIT', '2BL'];

export async function runStatisticalCheckpoint(sql: Sql, contestIds: string[], opts: { noken?: ReadonlySet<string> } = {}) {
  const state = new StatState();
  let records = 0;
  for (const contestId of contestIds) {
    for (const r of await publishedRecords(sql, contestId)) {
      if (r.registered === null || r.votersDpt === null || r.suaraSah === null) continue;
      state.upsert({
        tpsCode: r.tpsCode, contestId: r.contestId, desaCode: r.desaCode, kecCode: r.kecCode, kabCode: r.kabCode,
        registered: r.registered, votersDpt: r.votersDpt, votersTotal: r.votersTotal ?? r.votersDpt,
        votes: Object.fromEntries(Object.entries(r.votes).map(([k, v]) => [k, Number(v)])), suaraSah: r.suaraSah, suaraTidakSah: r.suaraTidakSah ?? 0,
        noken: opts.noken?.has(r.kabCode) || opts.noken?.has(r.tpsCode) || false,
      });
      records++;
    }
  }
  const run = runStatistical(state);
  return sql.begin(async (tx) => {
    const stored = await recordFindingsTx(tx, run.findings, { actor: 'system:statistical-checkpoint' });
    const retired = await resolveStaleFindings(tx, { rules: STATISTICAL_RULES, contestIds, keepKeys: run.findings.map(findingKey) });
    return { records, findings: run.findings.length, fresh: stored.fresh, retired: retired.length, byRule: countBy(run.findings.map((f) => f.rule)) };
  });
}

function countBy(xs: string[]) {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
