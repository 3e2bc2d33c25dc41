import type { Sql } from '../client.js';
import { appendAudit, type Tx } from './audit.js';
import { currentResult, publishBatch, STAGE_RANK, type EvaluateFn, type PublishOutcome, type ResultStage } from './publish.js';

/**
 * Corrections by people (INTEGRITY §6.6): a change to a number the public already sees, or the release
 * of a quarantined TPS, needs a second person with a different role; anything else applies at once.
 * Applying goes through publishBatch, so the hard rules, versions, tallies and audit all hold.
 */

export interface CorrectionRow {
  id: number; tpsCode: string; contestId: string; stage: ResultStage; values: Record<string, number>; reason: string;
  baseVersion: number | null; proposedBy: number; proposedAt: Date; approvedBy: number | null; approvedAt: Date | null;
  state: 'pending' | 'approved' | 'rejected' | 'applied';
}

export class CorrectionError extends Error {
  constructor(public readonly code: string, message: string, public readonly status: number, public readonly details?: unknown) {
    super(message);
  }
}

const correctionColumns = (sql: Tx) => sql`
  id, tps_code as "tpsCode", contest_id as "contestId", stage, values, reason, base_version as "baseVersion",
  proposed_by as "proposedBy", proposed_at as "proposedAt", approved_by as "approvedBy", approved_at as "approvedAt", state`;

export interface Person { userId: number; role: string; label: string }

export async function proposeCorrection(
  sql: Sql, evaluate: EvaluateFn,
  req: { tpsCode: string; contestId: string; stage: ResultStage; values: Record<string, number>; reason: string; baseVersion?: number; by: Person },
): Promise<{ correction: CorrectionRow; outcome: PublishOutcome | null }> {
  const current = await currentResult(sql, req.tpsCode, req.contestId);
  if (req.baseVersion !== undefined && current && current.version !== req.baseVersion) {
    throw new CorrectionError('stale_base_version', `the result is at version ${current.version}, not ${req.baseVersion}: reload and correct again`, 409, { current: current.version });
  }
  if (current && STAGE_RANK[req.stage] < STAGE_RANK[current.stage]) {
    throw new CorrectionError('older_stage', `a ${req.stage} correction cannot replace the ${current.stage} result`, 409);
  }
  const changesPublished = current !== null && (current.status === 'published' || current.status === 'quarantined') &&
    (current.status === 'quarantined' || JSON.stringify(Object.entries(current.values).sort()) !== JSON.stringify(Object.entries(req.values).sort()));
  const [row] = await sql<CorrectionRow[]>`
    insert into corrections (tps_code, contest_id, stage, values, reason, base_version, proposed_by, state)
    values (${req.tpsCode}, ${req.contestId}, ${req.stage}, ${JSON.stringify(req.values)}::jsonb, ${req.reason}, ${current?.version ?? null}, ${req.by.userId}, 'pending')
    returning ${correctionColumns(sql)}`;
  if (changesPublished) {
    await sql.begin(async (tx) => {
      await appendAudit(tx, [{
        actorId: req.by.userId, actor: req.by.label, action: 'correction.proposed', entity: 'correction',
        entityId: `${req.tpsCode}:${req.contestId}:correction:${row.id}`,
        before: current ? { version: current.version, status: current.status, values: current.values } : null,
        after: { correctionId: row.id, stage: req.stage, values: req.values, reason: req.reason },
      }]);
    });
    return { correction: row, outcome: null };
  }
  return applyCorrection(sql, evaluate, row, req.by, null);
}

async function applyCorrection(sql: Sql, evaluate: EvaluateFn, row: CorrectionRow, actor: Person, approver: Person | null) {
  let updated: CorrectionRow = row;
  const [outcome] = await publishBatch(sql, [{
    tpsCode: row.tpsCode, contestId: row.contestId, stage: row.stage, values: row.values, actorId: (approver ?? actor).userId,
    actor: approver ? `${approver.label}, proposed by user:${row.proposedBy}` : actor.label, correctionId: row.id,
    action: `correction.applied.${row.stage}`,
  }], evaluate, {
    within: async (tx) => {
      const [u] = await tx<CorrectionRow[]>`
        update corrections set state = 'applied', approved_by = ${approver?.userId ?? null}, approved_at = ${approver ? tx`now()` : null}
        where id = ${row.id} and state = 'pending' returning ${correctionColumns(tx)}`;
      if (!u) throw new CorrectionError('correction_not_pending', `correction ${row.id} is no longer pending`, 409);
      updated = u;
    },
  });
  if (outcome.outcome === 'stale_stage') throw new CorrectionError('older_stage', `a newer stage was published meanwhile`, 409);
  return { correction: updated, outcome };
}

export async function approveCorrection(sql: Sql, evaluate: EvaluateFn, id: number, by: Person): Promise<{ correction: CorrectionRow; outcome: PublishOutcome | null }> {
  const [row] = await sql<CorrectionRow[]>`select ${correctionColumns(sql)} from corrections where id = ${id}`;
  if (!row) throw new CorrectionError('correction_not_found', `correction ${id} not found`, 404);
  if (row.state !== 'pending') throw new CorrectionError('correction_not_pending', `correction ${id} is ${row.state}`, 409);
  if (Number(row.proposedBy) === by.userId) throw new CorrectionError('same_person', 'the person who proposed a correction cannot approve it (two-person rule)', 403);
  const [proposer] = await sql<{ role: string }[]>`select role from users where id = ${row.proposedBy}`;
  if (proposer && proposer.role === by.role) throw new CorrectionError('same_role', `the approver must have a different role than the proposer (${proposer.role})`, 403);
  const current = await currentResult(sql, row.tpsCode, row.contestId);
  if (current && row.baseVersion !== null && current.version !== Number(row.baseVersion)) {
    throw new CorrectionError('stale_base_version', `the result changed since the proposal (v${row.baseVersion} → v${current.version}); propose again`, 409);
  }
  return applyCorrection(sql, evaluate, row, by, by);
}

export async function rejectCorrection(sql: Sql, id: number, by: Person, reason: string): Promise<CorrectionRow> {
  return sql.begin(async (tx) => {
    const [row] = await tx<CorrectionRow[]>`
      update corrections set state = 'rejected', approved_by = ${by.userId}, approved_at = now()
      where id = ${id} and state = 'pending' returning ${correctionColumns(tx)}`;
    if (!row) throw new CorrectionError('correction_not_pending', `correction ${id} is not pending`, 409);
    await appendAudit(tx, [{ actorId: by.userId, actor: by.label, action: 'correction.rejected', entity: 'correction', entityId: `${row.tpsCode}:${row.contestId}:correction:${row.id}`, after: { reason } }]);
    return row;
  }) as Promise<CorrectionRow>;
}

export async function correctionsOf(sql: Tx, tpsCode: string) {
  return sql<CorrectionRow[]>`select ${correctionColumns(sql)} from corrections where tps_code = ${tpsCode} order by id`;
}
