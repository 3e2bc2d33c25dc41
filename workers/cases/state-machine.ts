/**
 * The case status machine (INTEGRITY §6.5–6.6), pure: given a case and an action by a person, the
 * next state or a refusal naming why. The repository applies it inside a row-locked transaction.
 *
 *   OPEN → TRIAGED → IN_REVIEW → RESOLVED (CORRECTED_OCR | FORM_ERROR | FORM_COPY_ERROR |
 *   SOURCE_MISMATCH | FALSE_ALARM | DUPLICATE) or ESCALATED → CLOSED; any later state → REOPENED → TRIAGED.
 *   A resolution that changes a published number or releases a quarantine waits in PENDING_APPROVAL
 *   until a second person with a different role approves it (two-person rule).
 */
export const CASE_STATES = ['OPEN', 'TRIAGED', 'IN_REVIEW', 'PENDING_APPROVAL', 'RESOLVED', 'ESCALATED', 'CLOSED', 'REOPENED'] as const;
export type CaseState = (typeof CASE_STATES)[number];

export const RESOLUTIONS = ['CORRECTED_OCR', 'FORM_ERROR', 'FORM_COPY_ERROR', 'SOURCE_MISMATCH', 'FALSE_ALARM', 'DUPLICATE'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export const ESCALATIONS = ['BAWASLU_TEMUAN', 'KPU_CORRECTION_REQUEST', 'RECOUNT_RECOMMENDED'] as const;
export type Escalation = (typeof ESCALATIONS)[number];

export const FALSE_ALARM_REASONS = ['natural_heterogeneity', 'noken', 'legit_recap_edit', 'special_tps', 'ocr_misalignment', 'other'] as const;

export const CASE_ACTIONS = ['triage', 'claim', 'release', 'resolve', 'approve', 'reject', 'escalate', 'close', 'reopen', 'assign'] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];

/** Roles that may work cases; the public and KPPS never do. */
export const INVESTIGATOR_ROLES = ['bawaslu', 'kpu_reviewer', 'kpu_operator', 'admin'] as const;

export interface Actor { id: number; role: string; name?: string }

export interface CaseSnapshot {
  state: CaseState;
  assigneeId: number | null;
  lockedUntil: Date | null;
  /** Does the TPS have a failing hard rule (so that a resolution may release a quarantine)? */
  quarantined: boolean;
  pending: PendingResolution | null;
}

export interface PendingResolution {
  resolution: Resolution;
  reasonCode: string | null;
  duplicateOfId: number | null;
  /** New field values the resolution would publish, if any. */
  correction: Record<string, number> | null;
  proposedBy: number;
  proposedRole: string;
  proposedAt: string;
  note: string | null;
}

export interface TransitionRequest {
  action: CaseAction;
  resolution?: Resolution;
  reasonCode?: string;
  duplicateOfId?: number;
  escalation?: Escalation;
  correction?: Record<string, number>;
  assigneeId?: number | null;
  note?: string;
}

export type TransitionOutcome =
  | {
      ok: true;
      state: CaseState;
      set: Partial<{ assigneeId: number | null; lockedUntil: Date | null; resolution: Resolution | null; reasonCode: string | null; escalation: Escalation | null; duplicateOfId: number | null; pending: PendingResolution | null }>;
      /** The finding rows of the case become resolved (RESOLVED or CLOSED). */
      resolvesFindings: boolean;
      /** An approved correction to publish (handed to the results owner). */
      applyCorrection: Record<string, number> | null;
      summary: string;
    }
  | { ok: false; code: string; message: string };

const refuse = (code: string, message: string): TransitionOutcome => ({ ok: false, code, message });

/** Does this resolution change a published number or release a quarantine? Then it needs two people. */
export function needsSecondPerson(resolution: Resolution, snapshot: Pick<CaseSnapshot, 'quarantined'>, correction?: Record<string, number> | null): boolean {
  if (correction && Object.keys(correction).length > 0) return true;
  if (resolution === 'CORRECTED_OCR') return true;
  // Calling a quarantined TPS a false alarm or a duplicate would let its numbers into the totals.
  return snapshot.quarantined && (resolution === 'FALSE_ALARM' || resolution === 'SOURCE_MISMATCH');
}

export function transition(c: CaseSnapshot, req: TransitionRequest, actor: Actor, now: Date, opts: { lockMinutes?: number; twoPersonRule?: boolean } = {}): TransitionOutcome {
  if (!(INVESTIGATOR_ROLES as readonly string[]).includes(actor.role)) return refuse('forbidden_role', `role ${actor.role} may not act on cases`);
  const lockMs = (opts.lockMinutes ?? 30) * 60_000;
  const lockedByOther = c.state === 'IN_REVIEW' && c.lockedUntil && c.lockedUntil > now && c.assigneeId !== null && c.assigneeId !== actor.id;
  const from = c.state;
  const bad = (allowed: CaseState[]) => refuse('invalid_transition', `cannot ${req.action} a case in state ${from} (allowed from ${allowed.join(', ')})`);
  const base = { resolvesFindings: false, applyCorrection: null };
  switch (req.action) {
    case 'assign':
      if (from === 'CLOSED') return bad(CASE_STATES.filter((s) => s !== 'CLOSED') as CaseState[]);
      return { ok: true, state: from, set: { assigneeId: req.assigneeId ?? null }, ...base, summary: `assigned to ${req.assigneeId ?? 'nobody'}` };
    case 'triage':
      if (from !== 'OPEN' && from !== 'REOPENED') return bad(['OPEN', 'REOPENED']);
      return { ok: true, state: 'TRIAGED', set: req.assigneeId !== undefined ? { assigneeId: req.assigneeId } : {}, ...base, summary: `${from} → TRIAGED` };
    case 'claim':
      if (from !== 'TRIAGED' && !(from === 'IN_REVIEW' && !lockedByOther)) return lockedByOther ? refuse('locked', `case is being reviewed by user ${c.assigneeId} until ${c.lockedUntil!.toISOString()}`) : bad(['TRIAGED']);
      return { ok: true, state: 'IN_REVIEW', set: { assigneeId: actor.id, lockedUntil: new Date(now.getTime() + lockMs) }, ...base, summary: `${from} → IN_REVIEW` };
    case 'release':
      if (from !== 'IN_REVIEW') return bad(['IN_REVIEW']);
      if (lockedByOther) return refuse('locked', `case is being reviewed by user ${c.assigneeId}`);
      return { ok: true, state: 'TRIAGED', set: { lockedUntil: null }, ...base, summary: 'IN_REVIEW → TRIAGED' };
    case 'resolve': {
      if (from !== 'IN_REVIEW') return bad(['IN_REVIEW']);
      if (lockedByOther) return refuse('locked', `case is being reviewed by user ${c.assigneeId}`);
      const r = req.resolution;
      if (!r || !(RESOLUTIONS as readonly string[]).includes(r)) return refuse('invalid_resolution', `resolution must be one of ${RESOLUTIONS.join(', ')}`);
      if (r === 'FALSE_ALARM' && !(req.reasonCode && (FALSE_ALARM_REASONS as readonly string[]).includes(req.reasonCode)))
        return refuse('reason_required', `FALSE_ALARM needs reasonCode, one of ${FALSE_ALARM_REASONS.join(', ')}`);
      if (r === 'DUPLICATE' && !(Number.isInteger(req.duplicateOfId) && req.duplicateOfId! > 0)) return refuse('duplicate_of_required', 'DUPLICATE needs duplicateOfId (the case it duplicates)');
      if (req.correction && Object.values(req.correction).some((v) => !Number.isInteger(v) || v < 0 || v > 99999))
        return refuse('invalid_correction', 'correction values must be integers 0..99999');
      const pendingNeeded = (opts.twoPersonRule ?? true) && needsSecondPerson(r, c, req.correction);
      const fields = { resolution: r, reasonCode: req.reasonCode ?? null, duplicateOfId: req.duplicateOfId ?? null };
      if (pendingNeeded) {
        const pending: PendingResolution = { ...fields, correction: req.correction ?? null, proposedBy: actor.id, proposedRole: actor.role, proposedAt: now.toISOString(), note: req.note ?? null };
        return { ok: true, state: 'PENDING_APPROVAL', set: { pending }, ...base, summary: `IN_REVIEW → PENDING_APPROVAL: ${r} (needs a second person with another role)` };
      }
      return { ok: true, state: 'RESOLVED', set: { ...fields, pending: null, lockedUntil: null }, resolvesFindings: true, applyCorrection: req.correction ?? null, summary: `IN_REVIEW → RESOLVED: ${r}` };
    }
    case 'approve': {
      if (from !== 'PENDING_APPROVAL' || !c.pending) return bad(['PENDING_APPROVAL']);
      if (c.pending.proposedBy === actor.id) return refuse('two_person_rule', 'the person who proposed a change cannot approve it');
      if (c.pending.proposedRole === actor.role) return refuse('two_person_rule', `the approver needs a different role than the proposer (${actor.role})`);
      const p = c.pending;
      return { ok: true, state: 'RESOLVED', set: { resolution: p.resolution, reasonCode: p.reasonCode, duplicateOfId: p.duplicateOfId, pending: null, lockedUntil: null }, resolvesFindings: true, applyCorrection: p.correction, summary: `PENDING_APPROVAL → RESOLVED: ${p.resolution} (approved)` };
    }
    case 'reject':
      if (from !== 'PENDING_APPROVAL' || !c.pending) return bad(['PENDING_APPROVAL']);
      if (c.pending.proposedBy === actor.id) return refuse('two_person_rule', 'the proposer cannot reject their own proposal; withdraw it by a note');
      return { ok: true, state: 'IN_REVIEW', set: { pending: null }, ...base, summary: 'PENDING_APPROVAL → IN_REVIEW (rejected)' };
    case 'escalate':
      if (from !== 'IN_REVIEW') return bad(['IN_REVIEW']);
      if (!req.escalation || !(ESCALATIONS as readonly string[]).includes(req.escalation)) return refuse('invalid_escalation', `escalation must be one of ${ESCALATIONS.join(', ')}`);
      return { ok: true, state: 'ESCALATED', set: { escalation: req.escalation, lockedUntil: null }, ...base, summary: `IN_REVIEW → ESCALATED: ${req.escalation}` };
    case 'close':
      if (from !== 'RESOLVED' && from !== 'ESCALATED') return bad(['RESOLVED', 'ESCALATED']);
      return { ok: true, state: 'CLOSED', set: {}, resolvesFindings: true, applyCorrection: null, summary: `${from} → CLOSED` };
    case 'reopen':
      if (from === 'OPEN' || from === 'REOPENED' || from === 'TRIAGED') return bad(['IN_REVIEW', 'PENDING_APPROVAL', 'RESOLVED', 'ESCALATED', 'CLOSED']);
      return { ok: true, state: 'REOPENED', set: { pending: null, lockedUntil: null }, ...base, summary: `${from} → REOPENED` };
    default:
      return refuse('invalid_action', `action must be one of ${CASE_ACTIONS.join(', ')}`);
  }
}
