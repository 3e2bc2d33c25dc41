/**
 * Investigation service: the one place where findings become cases. Detectors (publish path, imports,
 * statistical checkpoints) call recordFindings; people act through transitionCase / addNote. Every
 * state change is written to the audit chain in the same transaction and announced on the
 * investigation channel.
 */
import type postgres from 'postgres';
import type { Sql } from '../../db/client.js';
import {
  activeFindingsByTps, addCaseNote, auditCase, caseAudit, caseByKey, caseNotes, getCase, hasActiveHardFailure, listCases,
  resultHistory, submissionsOf, updateCase, upsertCases, type CaseFilter, type CaseRow, type NoteRow,
} from '../../db/repositories/cases.js';
import { contestMargin, findingsOfTps, resolveFindingsOfTps, resolveStaleFindings, upsertFindings, type FindingRow } from '../../db/repositories/findings.js';
import { sourceResultsOfTps } from '../../db/repositories/sources.js';
import type { CaseDetailResponse, CaseDto, CaseStateDto, CaseBandDto, FindingDto, InvestigationEvent } from '../../server/contract/investigation.js';
import { DETECTOR_PARAMS } from '../detectors/params.js';
import { findingKey, STATISTICAL_KINDS, type Finding } from '../detectors/types.js';
import { notifyInvestigation } from './events.js';
import { bandOf, caseScore, findingScore, normaliseKind, slaDueAt } from './severity.js';
import { transition, type Actor, type CaseSnapshot, type PendingResolution, type TransitionRequest } from './state-machine.js';

type Tx = postgres.ISql;

export class CaseError extends Error {
  constructor(readonly code: string, message: string, readonly status = 409) {
    super(message);
    this.name = 'CaseError';
  }
}

/** Vote cap used to normalise impact: the regular-TPS register cap of the election (ppwp 300, Pilkada 600). */
export const capOfContest = (contestId: string) =>
  contestId.startsWith('ppwp') ? DETECTOR_PARAMS.election.PEMILU_2024.tpsCap : DETECTOR_PARAMS.election.PILKADA_2024.tpsCap;

/**
 * Store findings and bring the cases of their TPS up to date, in one transaction. A finding that is
 * new (or fires again) on a RESOLVED/ESCALATED/CLOSED case reopens it (INTEGRITY §6.5).
 */
export async function recordFindings(sql: Sql, findings: readonly Finding[], opts: { actor?: string } = {}): Promise<{ findings: number; fresh: number; cases: number; reopened: number }> {
  if (findings.length === 0) return { findings: 0, fresh: 0, cases: 0, reopened: 0 };
  return sql.begin(async (tx) => recordFindingsTx(tx, findings, opts));
}

export async function recordFindingsTx(tx: Tx, findings: readonly Finding[], opts: { actor?: string } = {}) {
  const margins = new Map<string, number | null>();
  for (const c of new Set(findings.map((f) => f.contestId).filter((x): x is string => !!x))) margins.set(c, await contestMargin(tx, c));
  const rows = await upsertFindings(tx, findings.map((f) => ({
    dedupeKey: findingKey(f), rule: f.rule, kind: f.kind, tpsCode: f.tpsCode, contestId: f.contestId, areaCode: f.areaCode,
    confidence: f.confidence, impactVotes: f.impactVotes,
    severity: findingScore(f, { cap: f.contestId ? capOfContest(f.contestId) : 600, localMargin: f.contestId ? margins.get(f.contestId) ?? null : null }),
    message: f.message, detail: { ...f.detail, statistical: STATISTICAL_KINDS.has(f.kind) }, evidence: f.evidence,
  })));
  const fresh = rows.filter((r) => r.fresh);
  const kindOf = new Map(findings.map((f) => [findingKey(f), f.kind]));
  // Only deterministic evidence reopens a decided case; a statistic re-firing as the baseline moves does not.
  const reopening = fresh.filter((r) => !STATISTICAL_KINDS.has(kindOf.get(r.dedupeKey)!) && kindOf.get(r.dedupeKey) !== 'CONTEXT');
  const keys = uniqueKeys(rows.filter((r) => r.tpsCode && r.contestId).map((r) => ({ tpsCode: r.tpsCode!, contestId: r.contestId! })));
  const synced = await syncCasesTx(tx, keys, { freshKeys: new Set(reopening.map((r) => `${r.tpsCode}|${r.contestId}`)), actor: opts.actor ?? 'system:detectors' });
  const events: InvestigationEvent[] = fresh.map((r) => {
    const f = findings.find((x) => findingKey(x) === r.dedupeKey)!;
    return { type: 'finding', id: r.id, rule: f.rule, kind: f.kind, tpsCode: f.tpsCode, contestId: f.contestId, areaCode: f.areaCode, severity: 0, status: 'active' };
  });
  await notifyInvestigation(tx, [...events, ...synced.events]);
  return { findings: rows.length, fresh: fresh.length, cases: synced.changed, reopened: synced.reopened };
}

function uniqueKeys(keys: { tpsCode: string; contestId: string }[]) {
  const m = new Map(keys.map((k) => [`${k.tpsCode}|${k.contestId}`, k]));
  return [...m.values()];
}

/**
 * Recompute the cases of these TPS (all TPS with active findings when keys is undefined): one case
 * per TPS and contest, severity from its active findings. Cases whose findings all resolved keep
 * their state and get severity 0 (a case a person touched is never closed automatically).
 */
export async function syncCases(sql: Sql, keys?: { tpsCode: string; contestId: string }[]) {
  return sql.begin((tx) => syncCasesTx(tx, keys, { freshKeys: new Set(), actor: 'system:sync' }));
}

async function syncCasesTx(tx: Tx, keys: { tpsCode: string; contestId: string }[] | undefined, opts: { freshKeys: Set<string>; actor: string }) {
  const groups = await activeFindingsByTps(tx, keys);
  const now = new Date();
  const margins = new Map<string, number | null>();
  const upserts = [];
  for (const [k, fs] of groups) {
    const [tpsCode, contestId] = k.split('|');
    if (!margins.has(contestId)) margins.set(contestId, await contestMargin(tx, contestId));
    const score = caseScore(fs.map((f) => findingScore(f, { cap: capOfContest(contestId), localMargin: margins.get(contestId) ?? null })));
    const band = bandOf(score, fs);
    upserts.push({ tpsCode, contestId, areaCode: fs[0].areaCode.length === 10 ? fs[0].areaCode : tpsCode.slice(0, 10), severity: score, band, findingCount: fs.length, slaDueAt: slaDueAt(band, now) });
  }
  // Keys without active findings: their cases drop to severity 0.
  for (const k of keys ?? []) {
    if (groups.has(`${k.tpsCode}|${k.contestId}`)) continue;
    const existing = await caseByKey(tx, k.tpsCode, k.contestId);
    if (existing && existing.severity !== 0) upserts.push({ tpsCode: k.tpsCode, contestId: k.contestId, areaCode: existing.areaCode, severity: 0, band: 'LOW', findingCount: 0, slaDueAt: existing.slaDueAt ?? now });
  }
  const changed = await upsertCases(tx, upserts);
  const events: InvestigationEvent[] = [];
  let reopened = 0;
  for (const u of upserts) {
    const key = `${u.tpsCode}|${u.contestId}`;
    const c = await caseByKey(tx, u.tpsCode, u.contestId);
    if (!c) continue;
    const created = changed.find((x) => x.id === c.id)?.created ?? false;
    if (created) await auditCase(tx, [{ actorId: null, actor: opts.actor, action: 'case.open', caseId: c.id, before: null, after: { state: c.state, severity: c.severity, band: c.band } }]);
    if (opts.freshKeys.has(key) && ['RESOLVED', 'ESCALATED', 'CLOSED', 'PENDING_APPROVAL', 'IN_REVIEW'].includes(c.state) && !created) {
      // New evidence on a case someone already decided: it comes back (not for IN_REVIEW, which is being worked).
      if (c.state !== 'IN_REVIEW') {
        const after = await updateCase(tx, c.id, { state: 'REOPENED', pending: null, lockedUntil: null });
        await addCaseNote(tx, c.id, null, 'system', `${c.state} → REOPENED: temuan baru / new finding`);
        await auditCase(tx, [{ actorId: null, actor: opts.actor, action: 'case.reopen', caseId: c.id, before: { state: c.state }, after: { state: after.state, reason: 'new finding' } }]);
        reopened++;
        events.push(caseEvent(after));
        continue;
      }
    }
    if (changed.some((x) => x.id === c.id)) events.push(caseEvent(c));
  }
  return { changed: changed.length, reopened, events };
}

const caseEvent = (c: CaseRow): InvestigationEvent => ({ type: 'case', id: c.id, tpsCode: c.tpsCode, contestId: c.contestId, state: c.state as CaseStateDto, severity: c.severity, band: c.band as CaseBandDto });

/** Apply one action by one person. Row-locked; refused transitions throw CaseError with a code. */
export async function transitionCase(
  sql: Sql, id: number, req: TransitionRequest & { version?: number }, actor: Actor & { name: string },
  /** Runs inside the case's transaction once the transition is allowed, before anything is written; throwing refuses it. */
  guard?: (tx: Sql, c: CaseRow, applyCorrection: Record<string, number> | null) => Promise<void>,
): Promise<CaseDto> {
  return sql.begin(async (tx) => {
    const c = await getCase(tx, id, { forUpdate: true });
    if (!c) throw new CaseError('case_not_found', `case ${id} not found`, 404);
    if (req.version !== undefined && req.version !== c.version) throw new CaseError('stale_version', `case ${id} is at version ${c.version}, not ${req.version}: reload it`);
    if (req.action === 'resolve' && req.resolution === 'DUPLICATE' && req.duplicateOfId !== undefined) {
      if (req.duplicateOfId === id) throw new CaseError('invalid_duplicate', 'a case cannot duplicate itself', 400);
      if (!(await getCase(tx, req.duplicateOfId))) throw new CaseError('invalid_duplicate', `case ${req.duplicateOfId} does not exist`, 400);
    }
    if (req.action === 'assign' && req.assigneeId !== undefined && req.assigneeId !== null) {
      const [u] = await tx`select 1 from users where id = ${req.assigneeId} and revoked_at is null`;
      if (!u) throw new CaseError('invalid_assignee', `user ${req.assigneeId} does not exist`, 400);
    }
    const snapshot: CaseSnapshot = {
      state: c.state as CaseSnapshot['state'], assigneeId: c.assigneeId, lockedUntil: c.lockedUntil ? new Date(c.lockedUntil) : null,
      quarantined: await hasActiveHardFailure(tx, c.tpsCode, c.contestId), pending: (c.pending as PendingResolution | null) ?? null,
    };
    const out = transition(snapshot, req, actor, new Date(), { lockMinutes: DETECTOR_PARAMS.cases.reviewLockMin, twoPersonRule: DETECTOR_PARAMS.cases.twoPersonRule });
    if (!out.ok) throw new CaseError(out.code, out.message, out.code === 'forbidden_role' ? 403 : out.code.startsWith('invalid_') && out.code !== 'invalid_transition' ? 400 : 409);
    await guard?.(tx as unknown as Sql, c, out.applyCorrection ?? null);
    const after = await updateCase(tx, id, { state: out.state, ...out.set, touched: true });
    await addCaseNote(tx, id, actor.id, 'transition', req.note ? `${out.summary} — ${req.note}` : out.summary);
    if (out.resolvesFindings) await resolveFindingsOfTps(tx, c.tpsCode, c.contestId);
    await auditCase(tx, [{
      actorId: actor.id, actor: `user:${actor.id} ${actor.name} (${actor.role})`, action: `case.${req.action}`, caseId: id,
      before: { state: c.state, assigneeId: c.assigneeId, resolution: c.resolution, pending: c.pending },
      after: { state: after.state, assigneeId: after.assigneeId, resolution: after.resolution, reasonCode: after.reasonCode, escalation: after.escalation, pending: after.pending, correction: out.applyCorrection, note: req.note ?? null },
    }]);
    await notifyInvestigation(tx, [caseEvent(after)]);
    return caseDto(after);
  });
}

export async function addNote(sql: Sql, id: number, body: string, actor: Actor & { name: string }) {
  const text = body.trim();
  if (!text) throw new CaseError('empty_note', 'a note needs text', 400);
  if (text.length > 4000) throw new CaseError('note_too_long', 'a note is at most 4,000 characters', 400);
  return sql.begin(async (tx) => {
    const c = await getCase(tx, id, { forUpdate: true });
    if (!c) throw new CaseError('case_not_found', `case ${id} not found`, 404);
    const note = await addCaseNote(tx, id, actor.id, 'note', text);
    await updateCase(tx, id, { state: c.state, touched: true });
    await auditCase(tx, [{ actorId: actor.id, actor: `user:${actor.id} ${actor.name} (${actor.role})`, action: 'case.note', caseId: id, before: null, after: { noteId: note.id, body: text } }]);
    return noteDto({ ...note, authorName: actor.name });
  });
}

export function caseDto(c: CaseRow): CaseDto {
  const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: c.id, tpsCode: c.tpsCode, contestId: c.contestId, areaCode: c.areaCode, state: c.state as CaseStateDto,
    severity: Math.round(c.severity * 100) / 100, band: c.band as CaseBandDto, findingCount: c.findingCount, assigneeId: c.assigneeId,
    resolution: c.resolution, reasonCode: c.reasonCode, escalation: c.escalation, duplicateOfId: c.duplicateOfId,
    pending: (c.pending as CaseDto['pending']) ?? null, lockedUntil: iso(c.lockedUntil), slaDueAt: iso(c.slaDueAt), version: c.version,
    createdAt: iso(c.createdAt)!, updatedAt: iso(c.updatedAt)!,
  };
}

export function findingDto(r: FindingRow): FindingDto {
  const { message, evidence, ...detail } = r.detail as { message?: string; evidence?: string[] } & Record<string, unknown>;
  return {
    id: r.id, rule: r.rule, kind: r.kind, statistical: STATISTICAL_KINDS.has(normaliseKind(r.kind)), contestId: r.contestId, tpsCode: r.tpsCode,
    areaCode: r.areaCode, severity: Math.round(r.severity * 100) / 100, confidence: r.confidence, impactVotes: r.impactVotes,
    message: message ?? `${r.rule}`, evidence: evidence ?? [], detail, status: r.status,
    createdAt: new Date(r.createdAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

const noteDto = (n: NoteRow) => ({ id: n.id, authorId: n.authorId, authorName: n.authorName, kind: n.kind as 'note' | 'transition' | 'system', body: n.body, createdAt: new Date(n.createdAt).toISOString() });

export async function caseDetail(sql: Sql, id: number): Promise<CaseDetailResponse | null> {
  const c = await getCase(sql, id);
  if (!c) return null;
  const [findings, notes, results, sources, photos, audit] = await Promise.all([
    findingsOfTps(sql, c.tpsCode, c.contestId), caseNotes(sql, id), resultHistory(sql, c.tpsCode, c.contestId),
    sourceResultsOfTps(sql, c.tpsCode, c.contestId), submissionsOf(sql, c.tpsCode, c.contestId), caseAudit(sql, id),
  ]);
  return {
    case: caseDto(c),
    findings: findings.map(findingDto),
    notes: notes.map(noteDto),
    results: results.map((r) => ({ version: r.version, stage: r.stage, status: r.status, isCurrent: r.isCurrent, values: r.values, createdAt: new Date(r.createdAt).toISOString() })),
    sources: sources.map((s) => ({ source: s.source, values: s.values, sourceTs: s.sourceTs, importedFrom: s.importedFrom, importedAt: new Date(s.importedAt).toISOString() })),
    photos: photos.map((p) => ({ submissionId: Number(p.id), photoSha256: p.photoSha256, page: p.page, source: p.source, receivedAt: new Date(p.receivedAt).toISOString() })),
    audit: audit.map((a) => ({ id: Number(a.id), at: new Date(a.at).toISOString(), actor: a.actor, action: a.action, hash: a.hash })),
  };
}

export async function casesList(sql: Sql, filter: CaseFilter) {
  const { total, rows } = await listCases(sql, filter);
  return { total, cases: rows.map(caseDto) };
}

export const EXPORT_COLUMNS = ['id', 'tpsCode', 'contestId', 'areaCode', 'state', 'band', 'severity', 'findingCount', 'rules', 'evidence', 'resolution', 'reasonCode', 'escalation', 'assigneeId', 'createdAt', 'updatedAt'] as const;

/**
 * Cases for Bawaslu's formal reports, each with its rules and evidence references so that every
 * number can be traced to a photo, a reading, a person and a time.
 */
export async function exportCases(sql: Sql, filter: CaseFilter): Promise<Record<(typeof EXPORT_COLUMNS)[number], string | number | null>[]> {
  const { rows } = await listCases(sql, { ...filter, limit: filter.limit ?? 100_000 });
  const out = [];
  for (const c of rows) {
    const fs = await findingsOfTps(sql, c.tpsCode, c.contestId);
    const dtos = fs.map(findingDto);
    out.push({
      id: c.id, tpsCode: c.tpsCode, contestId: c.contestId, areaCode: c.areaCode, state: c.state, band: c.band,
      severity: Math.round(c.severity * 100) / 100, findingCount: c.findingCount,
      rules: [...new Set(dtos.map((f) => f.rule))].join(' '), evidence: [...new Set(dtos.flatMap((f) => f.evidence))].join(' '),
      resolution: c.resolution, reasonCode: c.reasonCode, escalation: c.escalation, assigneeId: c.assigneeId,
      createdAt: new Date(c.createdAt).toISOString(), updatedAt: new Date(c.updatedAt).toISOString(),
    });
  }
  return out;
}

export function toCsv(rows: Record<string, string | number | null>[], columns: readonly string[]): string {
  const cell = (v: string | number | null) => {
    if (v === null || v === undefined) return '';
    let s = String(v);
    // Spreadsheet formula injection: a cell starting with = + - @ is read as a formula.
    if (/^[=+\-@]/.test(s)) s = `'${s}`;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c] ?? null)).join(','))].join('\r\n') + '\r\n';
}

/** Re-run statistical detectors after a full rebuild and retire the statistical findings that no longer fire. */
export async function retireStaleStatistical(sql: Sql, contestIds: string[], keepKeys: string[], rules: string[]) {
  return sql.begin(async (tx) => {
    const keys = await resolveStaleFindings(tx, { rules, contestIds, keepKeys });
    return keys.length;
  });
}
