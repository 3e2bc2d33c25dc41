// Investigation cases: the status machine and two-person rule (INTEGRITY §8.4 T-W-1…T-W-4), severity
// order, and the HTTP API over a real PostgreSQL with the audit chain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { createApp } from '../server/http/app.js';
import { loadConfig } from '../server/config.js';
import { createUserWithToken } from '../db/repositories/tokens.js';
import { verifyAuditChain } from '../db/repositories/audit.js';
import { recordFindings } from '../workers/cases/service.js';
import { transition, CASE_STATES, type CaseSnapshot, type CaseState } from '../workers/cases/state-machine.js';
import { bandOf, caseScore, findingScore } from '../workers/cases/severity.js';
import type { Finding } from '../workers/detectors/types.js';
import type { CaseDetailResponse, CasesResponse, FindingsResponse } from '../server/contract/investigation.js';
import { currentResult, publishBatch } from '../db/repositories/publish.js';
import { evaluateBuiltin } from '../workers/jobs/rules.js';
import { candidateCount, formValues, pickTps, rng } from './ingest-helpers.js';

const NOW = new Date('2026-11-28T12:00:00Z');
const snap = (state: CaseState, extra: Partial<CaseSnapshot> = {}): CaseSnapshot => ({ state, assigneeId: null, lockedUntil: null, quarantined: false, pending: null, ...extra });
// The two-person rule pairs KPU staff of different roles; Bawaslu never edits results (server/http/routes/cases.ts).
const alice = { id: 1, role: 'kpu_operator' };
const bob = { id: 2, role: 'kpu_reviewer' };

describe('status machine (T-W-1)', () => {
  const allowed: [CaseState, string, CaseState][] = [
    ['OPEN', 'triage', 'TRIAGED'], ['REOPENED', 'triage', 'TRIAGED'], ['TRIAGED', 'claim', 'IN_REVIEW'],
    ['IN_REVIEW', 'release', 'TRIAGED'], ['IN_REVIEW', 'escalate', 'ESCALATED'], ['RESOLVED', 'close', 'CLOSED'],
    ['ESCALATED', 'close', 'CLOSED'], ['CLOSED', 'reopen', 'REOPENED'], ['RESOLVED', 'reopen', 'REOPENED'],
  ];
  for (const [from, action, to] of allowed)
    it(`${from} --${action}--> ${to}`, () => {
      const out = transition(snap(from, from === 'IN_REVIEW' ? { assigneeId: alice.id } : {}), { action: action as never, escalation: 'BAWASLU_TEMUAN' }, alice, NOW);
      expect(out).toMatchObject({ ok: true, state: to });
    });

  it('refuses every other transition, e.g. RESOLVED → IN_REVIEW without REOPENED', () => {
    expect(transition(snap('RESOLVED'), { action: 'claim' }, alice, NOW)).toMatchObject({ ok: false, code: 'invalid_transition' });
    expect(transition(snap('OPEN'), { action: 'resolve', resolution: 'FORM_ERROR' }, alice, NOW)).toMatchObject({ ok: false });
    expect(transition(snap('OPEN'), { action: 'close' }, alice, NOW)).toMatchObject({ ok: false });
    expect(transition(snap('CLOSED'), { action: 'triage' }, alice, NOW)).toMatchObject({ ok: false });
    // Exhaustive: resolve is only possible from IN_REVIEW.
    for (const s of CASE_STATES.filter((x) => x !== 'IN_REVIEW'))
      expect(transition(snap(s), { action: 'resolve', resolution: 'FORM_ERROR' }, alice, NOW).ok).toBe(false);
  });

  it('FALSE_ALARM needs a reason code; DUPLICATE needs the case it duplicates; the public cannot act', () => {
    const s = snap('IN_REVIEW', { assigneeId: alice.id });
    expect(transition(s, { action: 'resolve', resolution: 'FALSE_ALARM' }, alice, NOW)).toMatchObject({ ok: false, code: 'reason_required' });
    expect(transition(s, { action: 'resolve', resolution: 'FALSE_ALARM', reasonCode: 'natural_heterogeneity' }, alice, NOW)).toMatchObject({ ok: true, state: 'RESOLVED' });
    expect(transition(s, { action: 'resolve', resolution: 'DUPLICATE' }, alice, NOW)).toMatchObject({ ok: false, code: 'duplicate_of_required' });
    expect(transition(s, { action: 'triage' }, { id: 9, role: 'public' }, NOW)).toMatchObject({ ok: false, code: 'forbidden_role' });
  });

  it('a claimed case is locked for others for 30 minutes', () => {
    const s = snap('IN_REVIEW', { assigneeId: alice.id, lockedUntil: new Date(NOW.getTime() + 10 * 60_000) });
    expect(transition(s, { action: 'resolve', resolution: 'FORM_ERROR' }, bob, NOW)).toMatchObject({ ok: false, code: 'locked' });
    expect(transition(s, { action: 'resolve', resolution: 'FORM_ERROR' }, bob, new Date(NOW.getTime() + 31 * 60_000))).toMatchObject({ ok: true });
  });
});

describe('two-person rule (T-W-2)', () => {
  const inReview = snap('IN_REVIEW', { assigneeId: alice.id, quarantined: true });
  it('a number change waits for a second person with another role', () => {
    const proposed = transition(inReview, { action: 'resolve', resolution: 'CORRECTED_OCR', correction: { suara_paslon_2: 117 } }, alice, NOW);
    expect(proposed).toMatchObject({ ok: true, state: 'PENDING_APPROVAL' });
    const pending = proposed.ok ? (proposed.set.pending ?? null) : null;
    const waiting = snap('PENDING_APPROVAL', { pending, quarantined: true });
    expect(transition(waiting, { action: 'approve' }, alice, NOW)).toMatchObject({ ok: false, code: 'two_person_rule' });
    expect(transition(waiting, { action: 'approve' }, { id: 3, role: 'kpu_operator' }, NOW)).toMatchObject({ ok: false, code: 'two_person_rule' });
    const approved = transition(waiting, { action: 'approve' }, bob, NOW);
    expect(approved).toMatchObject({ ok: true, state: 'RESOLVED', resolvesFindings: true, applyCorrection: { suara_paslon_2: 117 } });
  });
  it('releasing a quarantined TPS as a false alarm also needs two people; a non-quarantined one does not', () => {
    expect(transition(inReview, { action: 'resolve', resolution: 'FALSE_ALARM', reasonCode: 'special_tps' }, alice, NOW)).toMatchObject({ state: 'PENDING_APPROVAL' });
    expect(transition({ ...inReview, quarantined: false }, { action: 'resolve', resolution: 'FALSE_ALARM', reasonCode: 'special_tps' }, alice, NOW)).toMatchObject({ state: 'RESOLVED' });
  });
});

describe('severity (T-W-3)', () => {
  it('H15 800/300 > source mismatch of 500 votes > a sibling outlier of 40 votes', () => {
    const ctx = { cap: 300, localMargin: 20_000 };
    const h15 = { rule: 'H15', kind: 'HARD', confidence: 1, impactVotes: 500 };
    const m1 = { rule: 'M1', kind: 'SOURCE_MISMATCH', confidence: 1, impactVotes: 500 };
    const sib = { rule: 'SIBLING', kind: 'STAT_TPS', confidence: 0.95, impactVotes: 40 };
    const [a, b, c] = [h15, m1, sib].map((f) => findingScore(f, ctx));
    expect(a).toBeGreaterThan(b);
    expect(b).toBeGreaterThan(c);
    expect(bandOf(caseScore([a]), [h15])).toBe('CRITICAL');
    expect(bandOf(caseScore([c]), [sib])).toBe('LOW');
    // A second finding raises a case, never past 100.
    expect(caseScore([b, c])).toBeGreaterThan(b);
    expect(caseScore([100, 100])).toBe(100);
  });
});

describe('cases over HTTP and PostgreSQL', () => {
  let db: TestDatabase;
  let server: Server;
  let base: string;
  const tokens: Record<string, string> = {};
  const ids: Record<string, number> = {};
  const tps = '6201011013001';
  const contest = 'pkwkp-62';

  const call = async (method: string, path: string, who: string | null, body?: unknown) => {
    const res = await fetch(base + path, {
      method, headers: { ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: any = null;
    try { json = JSON.parse(text); } catch { /* CSV */ }
    return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' };
  };

  const finding = (rule: string, kind: Finding['kind'], impact: number, extra: Partial<Finding> = {}): Finding => ({
    rule, kind, tpsCode: tps, contestId: contest, areaCode: tps.slice(0, 10), confidence: 1, impactVotes: impact,
    message: `${rule} uji / test`, detail: { test: true }, evidence: [`photo:${'a'.repeat(64)}`], ...extra,
  });

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    for (const [name, role, scope] of [['bawaslu', 'bawaslu', null], ['reviewer', 'kpu_reviewer', null], ['reviewer2', 'kpu_reviewer', '62'], ['operator', 'kpu_operator', '62'], ['bawaslu2', 'bawaslu', null], ['public', 'public', null], ['other', 'bawaslu', '6202']] as const) {
      const u = await createUserWithToken(db.sql, { name, role, scopeCode: scope });
      tokens[name] = u.token;
      ids[name] = u.userId;
    }
    const config = loadConfig({ DATABASE_URL: db.url, REKAP_SERVE_CLIENT: '0', PORT: '0', HOST: '127.0.0.1' });
    server = createServer(createApp({ config, database: db, log: (msg, err) => console.error(msg, err) }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await db?.close();
  });

  it('three findings on one TPS make one case with three findings (T-W-4)', async () => {
    const out = await recordFindings(db.sql, [finding('H1', 'HARD', 500), finding('M1', 'SOURCE_MISMATCH', 500, { key: 'kpu' }), finding('SIBLING', 'STAT_TPS', 40, { confidence: 0.9 })]);
    expect(out.fresh).toBe(3);
    // Recording the same evidence again changes nothing.
    expect((await recordFindings(db.sql, [finding('H1', 'HARD', 500)])).fresh).toBe(0);
    const list = await call('GET', `/api/cases?area=6201`, 'bawaslu');
    expect(list.status).toBe(200);
    const body = list.json as CasesResponse;
    expect(body.total).toBe(1);
    expect(body.cases[0]).toMatchObject({ tpsCode: tps, contestId: contest, state: 'OPEN', findingCount: 3 });
    ids.case = body.cases[0].id;
    const f = await call('GET', '/api/findings?area=620101&rule=M1', 'reviewer');
    expect((f.json as FindingsResponse).findings.map((x) => [x.rule, x.tpsCode, x.statistical])).toEqual([['M1', tps, false]]);
    const s = await call('GET', '/api/findings?area=62&rule=SIBLING', 'reviewer');
    expect((s.json as FindingsResponse).findings[0]).toMatchObject({ statistical: true, message: 'SIBLING uji / test' });
  });

  it('rejects bad input with a JSON error naming the problem, and the public and other scopes', async () => {
    expect((await call('GET', '/api/cases', null)).status).toBe(401);
    expect((await call('GET', '/api/cases', 'public')).status).toBe(403);
    expect((await call('GET', '/api/cases?state=NOPE', 'bawaslu')).json.error.code).toBe('invalid_query');
    expect((await call('GET', '/api/cases?min_severity=abc', 'bawaslu')).json.error.message).toMatch(/min_severity/);
    expect((await call('GET', '/api/findings?area=62x', 'bawaslu')).json.error.code).toBe('invalid_area_code');
    expect((await call('GET', '/api/cases/abc', 'bawaslu')).status).toBe(400);
    expect((await call('GET', '/api/cases/999999', 'bawaslu')).status).toBe(404);
    expect((await call('GET', `/api/cases/${ids.case}`, 'other')).status).toBe(403);
    expect((await call('GET', '/api/cases?area=6201', 'other')).json.error.code).toBe('area_out_of_scope');
    const r = await call('POST', `/api/cases/${ids.case}/transition`, 'bawaslu', { action: 'explode' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_action');
  });

  it('walks a case through review with the two-person rule; Bawaslu never edits results; every step is in the audit chain', async () => {
    const t = (who: string, body: unknown) => call('POST', `/api/cases/${ids.case}/transition`, who, body);
    expect((await t('bawaslu', { action: 'claim' })).json.error.code).toBe('invalid_transition');
    expect((await t('bawaslu', { action: 'triage' })).status).toBe(200);
    expect((await t('bawaslu', { action: 'claim' })).json.case.state).toBe('IN_REVIEW');
    expect((await t('reviewer', { action: 'resolve', resolution: 'FORM_ERROR' })).json.error.code).toBe('locked');
    // Bawaslu may not write numbers, nor release the quarantine of this TPS (it has hard-rule findings).
    const byBawaslu = await t('bawaslu', { action: 'resolve', resolution: 'CORRECTED_OCR', correction: { suara_paslon_2: 117 }, note: 'foto jelas: 117' });
    expect(byBawaslu.status).toBe(403);
    expect(byBawaslu.json.error.code).toBe('bawaslu_never_edits_results');
    expect((await t('bawaslu', { action: 'resolve', resolution: 'FORM_ERROR', correction: { suara_paslon_2: 117 } })).json.error.code).toBe('bawaslu_never_edits_results');
    expect((await call('GET', `/api/cases/${ids.case}`, 'bawaslu')).json.case).toMatchObject({ state: 'IN_REVIEW', pending: null });
    // It hands the case back; a KPU reviewer takes it and proposes the correction.
    expect((await t('bawaslu', { action: 'release' })).json.case.state).toBe('TRIAGED');
    expect((await t('reviewer', { action: 'claim' })).json.case.state).toBe('IN_REVIEW');
    const proposed = await t('reviewer', { action: 'resolve', resolution: 'CORRECTED_OCR', correction: { suara_paslon_2: 117 }, note: 'foto jelas: 117' });
    expect(proposed.json.case).toMatchObject({ state: 'PENDING_APPROVAL', pending: { resolution: 'CORRECTED_OCR', proposedBy: ids.reviewer } });
    expect((await t('reviewer', { action: 'approve' })).json.error.code).toBe('two_person_rule');
    expect((await t('reviewer2', { action: 'approve' })).json.error.code).toBe('two_person_rule');
    // Bawaslu cannot be the second person either: approving performs the change.
    expect((await t('bawaslu', { action: 'approve' })).json.error.code).toBe('bawaslu_never_edits_results');
    // Approving performs the change: with no result for this TPS yet there is nothing to correct, and
    // the case stays pending.
    const nothing = await t('operator', { action: 'approve' });
    expect(nothing.status).toBe(409);
    expect(nothing.json.error.code).toBe('no_result_to_correct');
    expect((await call('GET', `/api/cases/${ids.case}`, 'bawaslu')).json.case.state).toBe('PENDING_APPROVAL');
    // What the KPPS wrote: paslon 2 has 117 (votes moved from paslon 1 so the sums hold); the machine
    // read 617 (T-OCR-1), which breaks H1 and is quarantined.
    const [info] = await pickTps(db.sql, tps, 1);
    const values = formValues(info!, await candidateCount(db.sql, contest), rng(3));
    expect(values.suara_paslon_1! + values.suara_paslon_2!).toBeGreaterThanOrEqual(117);
    values.suara_paslon_1! -= 117 - values.suara_paslon_2!;
    values.suara_paslon_2 = 117;
    const [misread] = await publishBatch(db.sql, [{ tpsCode: tps, contestId: contest, stage: 'machine', values: { ...values, suara_paslon_2: 617 }, actorId: null, actor: 'test' }], evaluateBuiltin);
    expect(misread).toMatchObject({ outcome: 'created', status: 'quarantined' });
    const stale = await t('operator', { action: 'approve', version: 0 });
    expect(stale.json.error.code).toBe('stale_version');
    const approved = await t('operator', { action: 'approve' });
    expect(approved.json.case).toMatchObject({ state: 'RESOLVED', resolution: 'CORRECTED_OCR', pending: null });
    // …and the approved number is published: a KPU review version of the TPS result, proposed by the
    // reviewer and approved by the operator, the other fields as they were.
    expect(approved.json.correction).toMatchObject({ outcome: 'created' });
    const now = await currentResult(db.sql, tps, contest);
    expect(now).toMatchObject({ stage: 'reviewer', status: 'published', values });
    const [row] = await db.sql`select created_by, correction_id from tps_results where is_current and tps_code = ${tps} and contest_id = ${contest}`;
    expect(Number(row!.created_by)).toBe(ids.operator);
    expect(Number(row!.correction_id)).toBe(approved.json.correction.id);
    const [fix] = await db.sql`select proposed_by, approved_by, state from corrections where id = ${approved.json.correction.id}`;
    expect({ by: Number(fix!.proposed_by), ok: Number(fix!.approved_by), state: fix!.state }).toEqual({ by: ids.reviewer, ok: ids.operator, state: 'applied' });
    // Resolving the case resolved its findings.
    const [{ n }] = await db.sql`select count(*)::int as n from anomalies where tps_code = ${tps} and status = 'active'`;
    expect(n).toBe(0);
    expect((await call('POST', `/api/cases/${ids.case}/notes`, 'reviewer', { body: 'berita acara dilampirkan' })).status).toBe(201);
    expect((await call('POST', `/api/cases/${ids.case}/notes`, 'reviewer', { body: '   ' })).json.error.code).toBe('empty_note');
    expect((await t('bawaslu', { action: 'close' })).json.case.state).toBe('CLOSED');

    const detail = (await call('GET', `/api/cases/${ids.case}`, 'bawaslu')).json as CaseDetailResponse;
    // The three findings the case opened with, and those of the quarantined misread (H1 among them):
    // all resolved with the case.
    expect(detail.findings.length).toBeGreaterThan(3);
    expect(detail.findings.map((x) => x.rule)).toContain('H1');
    expect(detail.findings.every((x) => x.status === 'resolved')).toBe(true);
    expect(detail.notes.map((x) => x.kind)).toEqual(['transition', 'transition', 'transition', 'transition', 'transition', 'transition', 'note', 'transition']);
    expect(detail.notes[4].body).toContain('foto jelas: 117');
    // The refused Bawaslu attempts left no trace in the case; the approval names the KPU operator.
    expect(detail.audit.map((a) => a.action)).toEqual(['case.open', 'case.triage', 'case.claim', 'case.release', 'case.claim', 'case.resolve', 'case.approve', 'case.note', 'case.close']);
    expect(detail.audit[6].actor).toContain(`user:${ids.operator}`);
    expect((await verifyAuditChain(db.sql)).ok).toBe(true);
  });

  it('new deterministic evidence reopens a closed case (T-W-6); a re-fired statistic does not', async () => {
    await recordFindings(db.sql, [finding('SIBLING', 'STAT_TPS', 41, { confidence: 0.9 })]);
    expect((await call('GET', `/api/cases/${ids.case}`, 'bawaslu')).json.case.state).toBe('CLOSED');
    const out = await recordFindings(db.sql, [finding('D1', 'DUPLICATE', 300, { key: '6201011013002' })]);
    expect(out.reopened).toBe(1);
    const c = (await call('GET', `/api/cases/${ids.case}`, 'bawaslu')).json as CaseDetailResponse;
    expect(c.case.state).toBe('REOPENED');
    expect(c.audit.at(-1)!.action).toBe('case.reopen');
  });

  it('exports cases as CSV and JSON with rules and evidence for the formal report', async () => {
    const csv = await call('GET', '/api/cases/export.csv?area=62', 'bawaslu');
    expect(csv.status).toBe(200);
    expect(csv.type).toContain('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('id,tpsCode,contestId,areaCode,state,band,severity,findingCount,rules,evidence,resolution,reasonCode,escalation,assigneeId,createdAt,updatedAt');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(tps);
    expect(lines[1]).toContain('photo:aaaa');
    const json = await call('GET', '/api/cases/export.json?area=62', 'bawaslu');
    expect(json.json.cases[0]).toMatchObject({ tpsCode: tps, state: 'REOPENED' });
    expect(json.json.cases[0].rules.split(' ')).toEqual(expect.arrayContaining(['D1', 'H1', 'M1', 'SIBLING']));
  });
});
