import { Router } from 'express';
import { z } from 'zod';
import type { Sql } from '../../../db/client.js';
import { areaPath } from '../../../db/repositories/areas.js';
import { auditForEntities } from '../../../db/repositories/audit.js';
import { approveCorrection, CorrectionError, correctionsOf, proposeCorrection, rejectCorrection, type CorrectionRow } from '../../../db/repositories/corrections.js';
import { candidatesOf } from '../../../db/repositories/feeds.js';
import { currentResult, publishBatch, type EvaluateFn } from '../../../db/repositories/publish.js';
import { actorLabel, actorPerson, inScope, requireActor, requireScope, type Actor } from '../../auth/index.js';
import type { AreaLevel, CorrectionInfo, CorrectionResponse, ResultVersion, ReviewQueueItem, ReviewQueueResponse, TpsDetailResponse } from '../../contract/index.js';
import { badRequest, HttpError, notFound } from '../errors.js';

/**
 * TPS detail (everything behind a number: photos, readings, versions, rules, audit), corrections by
 * people with the two-person rule, KPPS confirmation, and the review queue.
 */

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
const valuesSchema = z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'field keys are Sirekap-style (suara_paslon_1, suara_sah, …)'), z.number().int().min(0).max(99_999)).refine((v) => Object.keys(v).length > 0 && Object.keys(v).length <= 200, 'give between 1 and 200 fields');
const correctionSchema = z.object({
  values: valuesSchema,
  reason: z.string().trim().min(3, 'say why (reason)').max(1000),
  stage: z.enum(['reviewer', 'recap']).default('reviewer'),
  baseVersion: z.number().int().positive().optional(),
});
const confirmSchema = z.object({ values: valuesSchema.optional() });

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw badRequest(`invalid body: ${r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`, r.error.issues, 'invalid_body');
  return r.data;
}

function tpsParam(raw: string): string {
  const code = raw.replace(/\./g, '');
  if (!/^\d{13}$/.test(code)) throw new HttpError(400, 'invalid_tps', `"${raw}" is not a 13-digit TPS code`);
  return code;
}

const correctionInfo = (c: CorrectionRow): CorrectionInfo => ({
  id: Number(c.id), tpsCode: c.tpsCode, contestId: c.contestId, stage: c.stage, values: c.values, reason: c.reason,
  baseVersion: c.baseVersion === null ? null : Number(c.baseVersion), proposedBy: Number(c.proposedBy), proposedAt: iso(c.proposedAt)!,
  approvedBy: c.approvedBy === null ? null : Number(c.approvedBy), approvedAt: iso(c.approvedAt), state: c.state,
});

function rethrow(err: unknown): never {
  if (err instanceof CorrectionError) throw new HttpError(err.status, err.code, err.message, err.details);
  throw err;
}

/** Who may propose, approve or reject a correction: KPU staff in their area and admins. Bawaslu supervises; it never edits results. */
const RESULT_EDITORS: Actor['role'][] = ['kpu_operator', 'kpu_reviewer', 'admin'];
/** Who may read the review queue (quarantine detail): KPU staff in their area, Bawaslu, admins. */
const REVIEW_QUEUE_READERS: Actor['role'][] = ['kpu_operator', 'kpu_reviewer', 'bawaslu', 'admin'];

export function tpsRouter(deps: { sql: Sql; evaluate: () => Promise<EvaluateFn> }): Router {
  const router = Router();
  const { sql } = deps;

  async function resultVersions(tpsCode: string): Promise<ResultVersion[]> {
    const rows = await sql`select * from tps_results where tps_code = ${tpsCode} order by contest_id, version desc`;
    return rows.map((r) => ({
      id: Number(r.id), version: r.version, stage: r.stage, status: r.status, isCurrent: r.is_current, values: r.values, votes: r.votes,
      suaraSah: r.suara_sah, suaraTidakSah: r.suara_tidak_sah, rules: r.rules, readingIds: r.reading_ids,
      correctionId: r.correction_id === null ? null : Number(r.correction_id), createdBy: r.created_by === null ? null : Number(r.created_by),
      createdAt: iso(r.created_at)!, contestId: r.contest_id,
    })) as (ResultVersion & { contestId: string })[];
  }

  router.get('/tps/:code', async (req, res) => {
    const code = tpsParam(req.params.code);
    const [t] = await sql`select code, number, desa_code, kec_code, kab_code, prov_code, voters_l, voters_p, is_special from tps where code = ${code}`;
    if (!t) throw notFound(`TPS ${code}`, 'tps_not_found');
    const contestFilter = typeof req.query.contest === 'string' ? req.query.contest : null;
    // Practice ("mode latihan") is for the people of this TPS and staff over it, never for public views.
    const seesPractice = !!req.actor && req.actor.role !== 'public' && inScope(req.actor, code);
    const practiceFilter = seesPractice ? sql`` : sql`and id not in (select c.id from contests c join elections e on e.id = c.election_id where e.is_practice)`;
    const contests = await sql<{ id: string }[]>`
      select id from contests where ${code} like area_code || '%' ${contestFilter ? sql`and id = ${contestFilter}` : sql``} ${practiceFilter} order by length(area_code), id`;
    const [path, versions, corrections, allSubs, allAnomalies, allAudit] = await Promise.all([
      areaPath(sql, t.desa_code), resultVersions(code), correctionsOf(sql, code),
      sql`select s.*, p.mime from submissions s join photos p on p.sha256 = s.photo_sha256 where s.tps_code = ${code} order by s.id`,
      sql`select id, rule, kind, contest_id, severity, status, detail, created_at from anomalies where tps_code = ${code} order by id`,
      auditForEntities(sql, `${code}:`),
    ]);
    const practice = seesPractice ? new Set<string>() : new Set((await sql<{ id: string }[]>`select c.id from contests c join elections e on e.id = c.election_id where e.is_practice`).map((c) => c.id));
    const subs = allSubs.filter((s) => !practice.has(s.contest_id));
    const anomalies = allAnomalies.filter((a) => !a.contest_id || !practice.has(a.contest_id));
    const audit = allAudit.filter((a) => !practice.has(String(a.entityId ?? '').split(':')[1] ?? ''));
    const readings = subs.length
      ? await sql`select * from readings where submission_id in ${sql(subs.map((s) => s.id))} order by id`
      : [];
    const desa = await sql`select code, name, level from areas where code = ${t.desa_code}`;
    const body: TpsDetailResponse = {
      tps: { code: t.code, number: t.number, desaCode: t.desa_code, kecCode: t.kec_code, kabCode: t.kab_code, provCode: t.prov_code, votersL: t.voters_l, votersP: t.voters_p, isSpecial: t.is_special },
      path: [...path, ...desa].map((a) => ({ code: a.code, name: a.name, level: a.level as AreaLevel })),
      contests: await Promise.all(contests.map(async (c) => {
        const vs = versions.filter((v) => (v as ResultVersion & { contestId: string }).contestId === c.id);
        return {
          contestId: c.id,
          candidates: (await candidatesOf(sql, c.id)).map((k) => ({ ...k })),
          current: vs.find((v) => v.isCurrent) ?? null,
          versions: vs,
          corrections: corrections.filter((k) => k.contestId === c.id).map(correctionInfo),
        };
      })),
      submissions: subs.map((s) => ({
        id: Number(s.id), tpsCode: s.tps_code, contestId: s.contest_id, page: s.page, status: s.status, statusReason: s.status_reason,
        photoSha256: s.photo_sha256, photoUrl: `/api/photos/${s.photo_sha256}`, receivedAt: iso(s.received_at)!,
        reading: null,
        readings: readings.filter((r) => Number(r.submission_id) === Number(s.id)).map((r) => ({
          id: Number(r.id), submissionId: Number(r.submission_id), readerVersion: r.reader_version, page: r.page, cls: r.cls,
          alignmentScore: r.alignment_score, identifiedBy: r.detail?.identifiedBy ?? null, values: r.values,
          fields: Object.fromEntries(Object.entries((r.detail?.fields ?? {}) as Record<string, { value: number | null; p: number; boxes?: number[][]; roi?: [number, number, number, number][] }>)
            .map(([k, f]) => [k, { value: f.value, p: f.p ?? null, boxes: f.boxes, roi: f.roi }])),
          changes: r.detail?.changes ?? [], residuals: r.detail?.residuals ?? {}, rejectReason: r.reject_reason, createdAt: iso(r.created_at)!,
        })),
      })).map((s) => ({ ...s, reading: s.readings.length ? { id: s.readings.at(-1)!.id, cls: s.readings.at(-1)!.cls, page: s.readings.at(-1)!.page, readerVersion: s.readings.at(-1)!.readerVersion, createdAt: s.readings.at(-1)!.createdAt } : null })),
      anomalies: anomalies.map((a) => ({ id: Number(a.id), rule: a.rule, kind: a.kind, contestId: a.contest_id, severity: Number(a.severity), status: a.status, detail: a.detail, createdAt: iso(a.created_at)! })),
      audit: audit.map((a) => ({ id: Number(a.id), at: iso(a.at)!, actor: a.actor, actorId: a.actorId === null ? null : Number(a.actorId), action: a.action, entity: a.entity, entityId: a.entityId, before: a.before, after: a.after, photoSha256: a.photoSha256, hash: a.hash })),
    };
    res.set('Cache-Control', 'no-cache').json(body);
  });

  router.post('/tps/:code/:contest/corrections', async (req, res) => {
    const actor = requireActor(req, RESULT_EDITORS);
    const code = tpsParam(req.params.code);
    requireScope(actor, code);
    const body = parseBody(correctionSchema, req.body);
    const [c] = await sql`select 1 from contests where id = ${req.params.contest} and ${code} like area_code || '%'`;
    if (!c) throw notFound(`contest ${req.params.contest} for TPS ${code}`, 'contest_not_found');
    const evaluate = await deps.evaluate();
    const { correction, outcome } = await proposeCorrection(sql, evaluate, { tpsCode: code, contestId: req.params.contest, stage: body.stage, values: body.values, reason: body.reason, baseVersion: body.baseVersion, by: actorPerson(actor) }).catch(rethrow);
    const result = outcome ? (await resultVersions(code)).find((v) => v.isCurrent && (v as ResultVersion & { contestId: string }).contestId === req.params.contest) ?? null : null;
    const response: CorrectionResponse = { correction: correctionInfo(correction), result };
    res.status(correction.state === 'pending' ? 202 : 201).json(response);
  });

  router.post('/corrections/:id/approve', async (req, res) => {
    const actor = requireActor(req, RESULT_EDITORS);
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw badRequest(`"${req.params.id}" is not a correction id`, undefined, 'invalid_correction_id');
    const [c] = await sql`select tps_code from corrections where id = ${id}`;
    if (c) requireScope(actor, c.tps_code);
    const { correction } = await approveCorrection(sql, await deps.evaluate(), id, actorPerson(actor)).catch(rethrow);
    const result = (await resultVersions(correction.tpsCode)).find((v) => v.isCurrent && (v as ResultVersion & { contestId: string }).contestId === correction.contestId) ?? null;
    res.json({ correction: correctionInfo(correction), result } satisfies CorrectionResponse);
  });

  router.post('/corrections/:id/reject', async (req, res) => {
    const actor = requireActor(req, RESULT_EDITORS);
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw badRequest(`"${req.params.id}" is not a correction id`, undefined, 'invalid_correction_id');
    const reason = String(req.body?.reason ?? '').trim();
    const [c] = await sql`select tps_code from corrections where id = ${id}`;
    if (c) requireScope(actor, c.tps_code);
    if (reason.length < 3) throw badRequest('say why the correction is rejected (reason)', undefined, 'missing_reason');
    const correction = await rejectCorrection(sql, id, actorPerson(actor), reason).catch(rethrow);
    res.json({ correction: correctionInfo(correction), result: null } satisfies CorrectionResponse);
  });

  router.post('/tps/:code/:contest/confirm', async (req, res) => {
    const actor = requireActor(req, ['kpps', 'kpu_operator', 'admin']);
    const code = tpsParam(req.params.code);
    requireScope(actor, code);
    const body = parseBody(confirmSchema, req.body);
    const current = await currentResult(sql, code, req.params.contest);
    const values = body.values ?? current?.values;
    if (!values) throw new HttpError(409, 'nothing_to_confirm', `TPS ${code} has no result in ${req.params.contest} yet: send values`);
    const [outcome] = await publishBatch(sql, [{ tpsCode: code, contestId: req.params.contest, stage: 'kpps', values, actorId: actor.userId, actor: actorLabel(actor), action: 'result.kpps.confirmed' }], await deps.evaluate());
    if (outcome.outcome === 'unknown_tps' || outcome.outcome === 'unknown_contest') throw notFound(`contest ${req.params.contest} for TPS ${code}`, 'contest_not_found');
    if (outcome.outcome === 'stale_stage') throw new HttpError(409, 'older_stage', 'a reviewer or recap result already replaced the KPPS stage');
    const result = (await resultVersions(code)).find((v) => v.isCurrent && (v as ResultVersion & { contestId: string }).contestId === req.params.contest) ?? null;
    res.status(outcome.outcome === 'created' ? 201 : 200).json({ outcome: outcome.outcome, result });
  });

  router.get('/review-queue', async (req, res) => {
    // Quarantine detail and flagged readings are for the people who act on them (SECURITY.md).
    const actor = requireActor(req, REVIEW_QUEUE_READERS);
    const contest = typeof req.query.contest === 'string' && req.query.contest ? req.query.contest : null;
    const asked = typeof req.query.area === 'string' && req.query.area && req.query.area !== '00' ? req.query.area.replace(/\./g, '') : null;
    if (asked && !/^(\d{2}|\d{4}|\d{6}|\d{10}|\d{13})$/.test(asked)) throw badRequest(`"${req.query.area}" is not an area code`, undefined, 'invalid_area_code');
    const scope = actor.scopeCode && actor.scopeCode !== '00' ? actor.scopeCode : null;
    if (asked && scope && !asked.startsWith(scope) && !scope.startsWith(asked)) throw new HttpError(403, 'area_out_of_scope', `area ${asked} is outside your scope (${scope})`, { area: asked, scope });
    // A wider area than the scope is narrowed to the scope.
    const area = scope && (!asked || scope.startsWith(asked)) ? scope : asked;
    const limit = Math.min(Math.max(Number(req.query.limit ?? 200) || 200, 1), 1000);
    // Practice uploads ("mode latihan") never mix into the real queue unless asked for by contest id.
    const practiceContests = sql`(select c.id from contests c join elections e on e.id = c.election_id where e.is_practice)`;
    const quarantined = await sql`
      select r.tps_code, r.contest_id, r.version, r.rules, r.values, r.created_at, r.reading_ids
      from tps_results r where r.is_current and r.status = 'quarantined'
        ${contest ? sql`and r.contest_id = ${contest}` : sql`and r.contest_id not in ${practiceContests}`} ${area ? sql`and r.tps_code like ${area + '%'}` : sql``}`;
    const flagged = await sql`
      select distinct on (s.tps_code, s.contest_id) s.tps_code, s.contest_id, rd.id as reading_id, rd.cls, s.id as submission_id,
             s.photo_sha256, rd.values, rd.created_at
      from readings rd join submissions s on s.id = rd.submission_id
      where rd.cls in ('NEEDS_REVIEW', 'FORM_INCONSISTENT') and s.status = 'read'
        ${contest ? sql`and s.contest_id = ${contest}` : sql`and s.contest_id not in ${practiceContests}`} ${area ? sql`and s.tps_code like ${area + '%'}` : sql``}
        and not exists (select 1 from tps_results t where t.tps_code = s.tps_code and t.contest_id = s.contest_id and t.is_current
                        and t.stage in ('reviewer', 'recap') and t.created_at > rd.created_at)
      order by s.tps_code, s.contest_id, rd.id desc`;
    const impactOf = (v: Record<string, number>) => v.suara_total ?? v.suara_sah ?? Object.entries(v).filter(([k]) => k.startsWith('suara_paslon_')).reduce((a, [, n]) => a + n, 0);
    const items = new Map<string, ReviewQueueItem>();
    for (const f of flagged) {
      items.set(`${f.tps_code}|${f.contest_id}`, {
        tpsCode: f.tps_code, contestId: f.contest_id, reason: f.cls, impact: impactOf(f.values), failingRules: [], resultVersion: null,
        submissionId: Number(f.submission_id), readingId: Number(f.reading_id), photoUrl: `/api/photos/${f.photo_sha256}`, since: iso(f.created_at)!,
      });
    }
    for (const q of quarantined) {
      const key = `${q.tps_code}|${q.contest_id}`;
      const prev = items.get(key);
      items.set(key, {
        tpsCode: q.tps_code, contestId: q.contest_id, reason: 'quarantined', impact: impactOf(q.values),
        failingRules: (q.rules as { rule: string; status: string; delta?: number; fields?: string[] }[]).filter((r) => r.status === 'FAIL').map((r) => ({ rule: r.rule, delta: r.delta, fields: r.fields })),
        resultVersion: q.version, submissionId: prev?.submissionId ?? null, readingId: prev?.readingId ?? ((q.reading_ids as number[]).at(-1) ?? null),
        photoUrl: prev?.photoUrl ?? null, since: iso(q.created_at)!,
      });
    }
    const sorted = [...items.values()].sort((a, b) => b.impact - a.impact || a.tpsCode.localeCompare(b.tpsCode)).slice(0, limit);
    res.set('Cache-Control', 'no-cache').json({ items: sorted } satisfies ReviewQueueResponse);
  });

  return router;
}
