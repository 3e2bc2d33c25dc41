import { Router, type Request } from 'express';
import type { Sql } from '../../../db/client.js';
import { countFindingsByChild, listFindings } from '../../../db/repositories/findings.js';
import { findingDto } from '../../../workers/cases/service.js';
import { authenticate, inScope, requireActor, type Actor, type Role } from '../../auth/index.js';
import type { AnomalyCountsResponse, FindingsResponse } from '../../contract/investigation.js';
import { badRequest, HttpError } from '../errors.js';

export const INVESTIGATOR_ROLES: Role[] = ['bawaslu', 'kpu_reviewer', 'kpu_operator', 'admin'];
const AREA = /^(00|\d{2}|\d{4}|\d{6}|\d{10}|\d{13})$/;

/** Resolve the actor once per request (the ingest router may have done it already). */
export function ensureActor(sql: Sql) {
  const auth = authenticate(sql);
  return (req: Request, res: Parameters<ReturnType<typeof authenticate>>[1], next: Parameters<ReturnType<typeof authenticate>>[2]) =>
    req.actor ? next() : auth(req, res, next);
}

export function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`query parameter ${name} must be given once`, { param: name }, 'invalid_query');
  return v;
}

export function intParam(req: Request, name: string, min: number, max: number, fallback: number): number {
  const s = queryString(req, name);
  if (s === undefined || s === '') return fallback;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`${name} must be an integer ${min}..${max}, got "${s}"`, { param: name }, 'invalid_query');
  return n;
}

/** The area a request asks about, bounded by the actor's scope: default = the actor's scope. */
export function scopedArea(req: Request, actor: Actor): string {
  const raw = queryString(req, 'area')?.replace(/\./g, '');
  if (raw !== undefined && !AREA.test(raw)) throw badRequest(`area must be an area or TPS code (2, 4, 6, 10 or 13 digits, or 00), got "${raw}"`, { param: 'area' }, 'invalid_area_code');
  const scope = actor.scopeCode && actor.scopeCode !== '00' ? actor.scopeCode : null;
  const area = raw ?? scope ?? '00';
  if (scope && !(area !== '00' && inScope(actor, area))) throw new HttpError(403, 'area_out_of_scope', `area ${area} is outside your scope (${scope})`);
  return area;
}

export function findingsRouter(sql: Sql): Router {
  const router = Router();
  router.use('/findings', ensureActor(sql));
  router.get('/findings', async (req, res) => {
    const actor = requireActor(req, INVESTIGATOR_ROLES);
    const area = scopedArea(req, actor);
    const rule = queryString(req, 'rule');
    if (rule !== undefined && !/^[A-Za-z0-9_]{1,24}$/.test(rule)) throw badRequest(`rule must be a rule id such as H1, M1, D1, SIBLING, got "${rule}"`, { param: 'rule' }, 'invalid_query');
    const contestId = queryString(req, 'contest');
    if (contestId !== undefined && !/^[a-z0-9-]{1,40}$/.test(contestId)) throw badRequest(`contest must be a contest id such as pkwkp-62, got "${contestId}"`, { param: 'contest' }, 'invalid_query');
    const status = queryString(req, 'status') ?? 'active';
    if (!['active', 'resolved', 'all'].includes(status)) throw badRequest('status must be active, resolved or all', { param: 'status' }, 'invalid_query');
    const { total, rows } = await listFindings(sql, {
      area, rule, contestId, status: status as 'active' | 'resolved' | 'all',
      limit: intParam(req, 'limit', 1, 1000, 100), offset: intParam(req, 'offset', 0, 10_000_000, 0),
    });
    const body: FindingsResponse = { total, findings: rows.map(findingDto) };
    res.json(body);
  });

  // The anomaly feed (dashboard, newsrooms): anyone may read the deterministic findings, which are
  // facts about the forms (hard-rule failures, duplicates, source mismatches); statistical findings
  // and practice elections only for investigators.
  router.use('/anomalies', ensureActor(sql));
  router.get('/anomalies/counts', async (req, res) => {
    const investigator = req.actor !== undefined && INVESTIGATOR_ROLES.includes(req.actor.role);
    const area = queryString(req, 'area')?.replace(/\./g, '') ?? '00';
    if (!/^(00|\d{2}|\d{4}|\d{6}|\d{10})$/.test(area)) throw badRequest(`area must be 00 or an area code of 2, 4, 6 or 10 digits, got "${area}"`, { param: 'area' }, 'invalid_area_code');
    const contestId = queryString(req, 'contest');
    if (contestId !== undefined && !/^[a-z0-9-]{1,40}$/.test(contestId)) throw badRequest(`contest must be a contest id such as pkwkp-62, got "${contestId}"`, { param: 'contest' }, 'invalid_query');
    const counts = await countFindingsByChild(sql, { area, contestId, publicOnly: !investigator });
    res.set('Cache-Control', 'no-cache');
    const body: AnomalyCountsResponse = { area, counts };
    res.json(body);
  });
  router.get('/anomalies', async (req, res) => {
    const investigator = req.actor !== undefined && INVESTIGATOR_ROLES.includes(req.actor.role);
    const raw = queryString(req, 'area')?.replace(/\./g, '');
    if (raw !== undefined && !AREA.test(raw)) throw badRequest(`area must be an area or TPS code (2, 4, 6, 10 or 13 digits, or 00), got "${raw}"`, { param: 'area' }, 'invalid_area_code');
    const rule = queryString(req, 'rule');
    if (rule !== undefined && !/^[A-Za-z0-9_]{1,24}$/.test(rule)) throw badRequest(`rule must be a rule id such as H1, M1, D1, got "${rule}"`, { param: 'rule' }, 'invalid_query');
    const contestId = queryString(req, 'contest');
    if (contestId !== undefined && !/^[a-z0-9-]{1,40}$/.test(contestId)) throw badRequest(`contest must be a contest id such as pkwkp-62, got "${contestId}"`, { param: 'contest' }, 'invalid_query');
    const { total, rows } = await listFindings(sql, {
      area: raw ?? '00', rule, contestId, status: 'active', publicOnly: !investigator,
      limit: intParam(req, 'limit', 1, 1000, 100), offset: intParam(req, 'offset', 0, 10_000_000, 0),
    });
    res.set('Cache-Control', 'no-cache');
    res.json({ total, anomalies: rows.map(findingDto) });
  });
  return router;
}
