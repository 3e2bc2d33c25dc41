import express, { Router, type Request } from 'express';
import type { Sql } from '../../../db/client.js';
import { getCase, hasActiveHardFailure } from '../../../db/repositories/cases.js';
import { addNote, caseDetail, casesList, CaseError, EXPORT_COLUMNS, exportCases, toCsv, transitionCase } from '../../../workers/cases/service.js';
import { CASE_ACTIONS, CASE_STATES, needsSecondPerson, RESOLUTIONS, type Resolution, type TransitionRequest } from '../../../workers/cases/state-machine.js';
import { actorPerson, inScope, requireActor, type Actor } from '../../auth/index.js';
import type { CaseDetailResponse, CasesResponse, CaseTransitionRequest, CaseTransitionResponse } from '../../contract/investigation.js';
import { currentResult, STAGE_RANK, type EvaluateFn, type ResultStage } from '../../../db/repositories/publish.js';
import { approveCorrection, CorrectionError, proposeCorrection } from '../../../db/repositories/corrections.js';
import { badRequest, HttpError, notFound } from '../errors.js';
import { ensureActor, INVESTIGATOR_ROLES, intParam, queryString, scopedArea } from './findings.js';

function caseFilter(req: Request, actor: Actor) {
  const area = scopedArea(req, actor);
  const stateParam = queryString(req, 'state');
  const state = stateParam ? stateParam.split(',').map((s) => s.trim().toUpperCase()) : undefined;
  const bad = state?.filter((s) => !(CASE_STATES as readonly string[]).includes(s));
  if (bad?.length) throw badRequest(`unknown state ${bad.join(', ')} (one of ${CASE_STATES.join(', ')})`, { param: 'state' }, 'invalid_query');
  const ms = queryString(req, 'min_severity');
  const minSeverity = ms === undefined || ms === '' ? undefined : Number(ms);
  if (minSeverity !== undefined && !(Number.isFinite(minSeverity) && minSeverity >= 0 && minSeverity <= 100)) throw badRequest(`min_severity must be a number 0..100, got "${ms}"`, { param: 'min_severity' }, 'invalid_query');
  const contestId = queryString(req, 'contest');
  if (contestId !== undefined && !/^[a-z0-9-]{1,40}$/.test(contestId)) throw badRequest(`contest must be a contest id, got "${contestId}"`, { param: 'contest' }, 'invalid_query');
  const band = queryString(req, 'band')?.toUpperCase();
  if (band !== undefined && !['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'].includes(band)) throw badRequest('band must be CRITICAL, HIGH, MEDIUM or LOW', { param: 'band' }, 'invalid_query');
  return { area, state, minSeverity, contestId, band };
}

function caseId(req: Request): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id < 1) throw badRequest(`"${req.params.id}" is not a case id`, undefined, 'invalid_case_id');
  return id;
}

async function caseInScope(sql: Sql, id: number, actor: Actor) {
  const c = await getCase(sql, id);
  if (!c) throw notFound(`case ${id}`, 'case_not_found');
  if (!inScope(actor, c.tpsCode)) throw new HttpError(403, 'case_out_of_scope', `case ${id} (TPS ${c.tpsCode}) is outside your scope (${actor.scopeCode})`);
  return c;
}

/**
 * "Bawaslu never edits results" (INTEGRITY §6.5–6.6, SECURITY.md): Bawaslu files, triages, claims,
 * annotates, escalates (KPU_CORRECTION_REQUEST is its recommendation) and closes cases, and resolves
 * those that change nothing published. It neither proposes a resolution that would change a published
 * number or release a quarantine, nor approves one: under the two-person rule those are performed by
 * KPU staff (a kpu_operator and a kpu_reviewer, or an admin). Returns why a request is refused, or null.
 */
export function bawasluRefusal(action: string, req: { resolution?: string; correction?: Record<string, number> | null }, quarantined: boolean): string | null {
  if (action === 'approve') return 'Bawaslu mengawasi, tidak menyetujui perubahan hasil; ajukan eskalasi KPU_CORRECTION_REQUEST / Bawaslu supervises and never approves a change to results; escalate with KPU_CORRECTION_REQUEST';
  if (action !== 'resolve') return null;
  const resolution = (RESOLUTIONS as readonly string[]).includes(req.resolution ?? '') ? (req.resolution as Resolution) : null;
  const changesResults = (req.correction && Object.keys(req.correction).length > 0) || (resolution !== null && needsSecondPerson(resolution, { quarantined }, req.correction ?? null));
  return changesResults ? 'Bawaslu tidak mengubah hasil: ajukan eskalasi KPU_CORRECTION_REQUEST agar KPU yang mengoreksi / Bawaslu never edits results: escalate with KPU_CORRECTION_REQUEST so that KPU makes the correction' : null;
}

const asHttp = (err: unknown) => (err instanceof CaseError ? new HttpError(err.status, err.code, err.message) : err);

/** Investigation cases: queue, detail with evidence, transitions, notes, CSV/JSON export for Bawaslu. */
export function casesRouter(sql: Sql, deps: { evaluate: () => Promise<EvaluateFn> }): Router {
  const router = Router();
  router.use('/cases', ensureActor(sql), express.json({ limit: '64kb' }));

  router.get('/cases', async (req, res) => {
    const actor = requireActor(req, INVESTIGATOR_ROLES);
    const body: CasesResponse = await casesList(sql, { ...caseFilter(req, actor), limit: intParam(req, 'limit', 1, 1000, 100), offset: intParam(req, 'offset', 0, 10_000_000, 0) });
    res.json(body);
  });

  router.get(/^\/cases\/export\.(csv|json)$/, async (req, res) => {
    const actor = requireActor(req, INVESTIGATOR_ROLES);
    const format = (req.params as Record<string, string>)[0];
    const rows = await exportCases(sql, caseFilter(req, actor));
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.setHeader('Content-Disposition', `attachment; filename="rekap-kasus-${stamp}.${format}"`);
    if (format === 'csv') {
      res.type('text/csv; charset=utf-8').send(toCsv(rows, EXPORT_COLUMNS));
    } else {
      res.json({ generatedAt: new Date().toISOString(), generatedBy: `user:${actor.userId} (${actor.role})`, columns: EXPORT_COLUMNS, cases: rows });
    }
  });

  router.get('/cases/:id', async (req, res) => {
    const actor = requireActor(req, INVESTIGATOR_ROLES);
    const id = caseId(req);
    await caseInScope(sql, id, actor);
    const body: CaseDetailResponse | null = await caseDetail(sql, id);
    if (!body) throw notFound(`case ${id}`, 'case_not_found');
    res.json(body);
  });

  router.post('/cases/:id/transition', async (req, res) => {
    const actor = requireActor(req, INVESTIGATOR_ROLES);
    const id = caseId(req);
    await caseInScope(sql, id, actor);
    const b = (req.body ?? {}) as Partial<CaseTransitionRequest>;
    if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('body must be a JSON object', undefined, 'invalid_body');
    if (!b.action || !(CASE_ACTIONS as readonly string[]).includes(b.action)) throw badRequest(`action must be one of ${CASE_ACTIONS.join(', ')}`, { field: 'action' }, 'invalid_action');
    if (b.note !== undefined && (typeof b.note !== 'string' || b.note.length > 4000)) throw badRequest('note must be text of at most 4,000 characters', { field: 'note' }, 'invalid_body');
    if (b.version !== undefined && !Number.isInteger(b.version)) throw badRequest('version must be an integer', { field: 'version' }, 'invalid_body');
    if (b.correction !== undefined && (typeof b.correction !== 'object' || b.correction === null || Array.isArray(b.correction))) throw badRequest('correction must be an object of field → integer', { field: 'correction' }, 'invalid_body');
    if (actor.role === 'bawaslu') {
      const c = await getCase(sql, id);
      const quarantined = b.action === 'resolve' && c ? await hasActiveHardFailure(sql, c.tpsCode, c.contestId) : false;
      const refusal = bawasluRefusal(b.action, { resolution: b.resolution, correction: b.correction }, quarantined);
      if (refusal) throw new HttpError(403, 'bawaslu_never_edits_results', refusal, { action: b.action });
    }
    // Approving a number change publishes it. Checked inside the case's transaction once the
    // approval is allowed, so an approval never resolves a case whose correction has nothing to correct.
    type Fix = { tpsCode: string; contestId: string; values: Record<string, number>; proposedBy: number; current: NonNullable<Awaited<ReturnType<typeof currentResult>>> };
    let fix: Fix | null = null;
    let updated;
    try {
      updated = await transitionCase(sql, id, b as TransitionRequest & { version?: number }, { id: actor.userId, role: actor.role, name: actor.name }, async (tx, c, correction) => {
        if (!correction || Object.keys(correction).length === 0) return;
        const current = await currentResult(tx, c.tpsCode, c.contestId);
        if (!current) throw new HttpError(409, 'no_result_to_correct', `TPS ${c.tpsCode} has no result for ${c.contestId} yet: nothing to correct; publish or correct it from the TPS page first`);
        const proposedBy = Number((c.pending as { proposedBy?: number } | null)?.proposedBy ?? actor.userId);
        fix = { tpsCode: c.tpsCode, contestId: c.contestId, values: correction, proposedBy, current };
      });
    } catch (err) {
      throw asHttp(err);
    }
    const body: CaseTransitionResponse = { case: updated };
    const f = fix as Fix | null;
    if (f) {
      // The case's two people become the correction's proposer and approver (the same two-person
      // rule: different people, different roles). Stage: a KPU review, or the current stage if later.
      const stage: ResultStage = STAGE_RANK[f.current.stage] > STAGE_RANK.reviewer ? f.current.stage : 'reviewer';
      const [proposer] = await sql<{ role: string; name: string }[]>`select role, name from users where id = ${f.proposedBy}`;
      try {
        const evaluate = await deps.evaluate();
        const reason = `kasus #${id} (${updated.resolution}): koreksi disetujui / case correction approved`;
        const proposed = await proposeCorrection(sql, evaluate, {
          tpsCode: f.tpsCode, contestId: f.contestId, stage, values: { ...f.current.values, ...f.values }, reason, baseVersion: f.current.version,
          by: actorPerson({ userId: f.proposedBy, role: proposer?.role ?? 'unknown', name: proposer?.name ?? '?' }),
        });
        const applied = proposed.correction.state === 'pending' ? await approveCorrection(sql, evaluate, Number(proposed.correction.id), actorPerson(actor)) : proposed;
        const o = applied.outcome;
        body.correction = { id: Number(applied.correction.id), outcome: o?.outcome ?? 'unchanged', status: o?.status ?? null, version: o?.version ?? null };
      } catch (err) {
        if (err instanceof CorrectionError) throw new HttpError(err.status, err.code, `the case is resolved, but its correction was not applied: ${err.message}`, { case: updated });
        throw err;
      }
    }
    res.json(body);
  });

  router.post('/cases/:id/notes', async (req, res) => {
    const actor = requireActor(req, INVESTIGATOR_ROLES);
    const id = caseId(req);
    await caseInScope(sql, id, actor);
    const body = (req.body ?? {}) as { body?: unknown };
    if (typeof body.body !== 'string') throw badRequest('body must be {"body": "<text>"}', { field: 'body' }, 'invalid_body');
    try {
      res.status(201).json({ note: await addNote(sql, id, body.body, { id: actor.userId, role: actor.role, name: actor.name }) });
    } catch (err) {
      throw asHttp(err);
    }
  });
  return router;
}
