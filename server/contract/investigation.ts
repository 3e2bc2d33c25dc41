/**
 * REST and event shapes of the investigation module (findings, cases, exports). Statistical
 * findings carry `statistical: true`: the UI must say that a statistic is not proof.
 */

export type FindingKindDto =
  | 'HARD' | 'SOURCE_MISMATCH' | 'RECAP' | 'DUPLICATE' | 'TEMPORAL' | 'FORM_INCONSISTENT' | 'STAT_TPS' | 'STAT_REGION' | 'CONTEXT'
  | 'hard_rule' | 'soft_rule';

export interface FindingDto {
  id: number;
  rule: string;
  kind: FindingKindDto | string;
  statistical: boolean;
  contestId: string | null;
  tpsCode: string | null;
  areaCode: string;
  severity: number;
  confidence: number;
  impactVotes: number;
  /** Bahasa Indonesia first, English second. */
  message: string;
  /** References to evidence: `photo:<sha256>`, `result:<tps>/<contest>/v<n>`, `source:kpu/<file>`, … */
  evidence: string[];
  detail: Record<string, unknown>;
  status: 'active' | 'resolved';
  createdAt: string;
  updatedAt: string;
}

export interface FindingsResponse { total: number; findings: FindingDto[] }
/** GET /api/anomalies: the same findings, under the name the anomaly feed uses. */
export interface AnomaliesResponse { total: number; anomalies: FindingDto[] }
/** GET /api/anomalies/counts?area=&contest=: active findings per child area code (the map's anomaly colouring). */
export interface AnomalyCountsResponse { area: string; counts: Record<string, number> }

export type CaseStateDto = 'OPEN' | 'TRIAGED' | 'IN_REVIEW' | 'PENDING_APPROVAL' | 'RESOLVED' | 'ESCALATED' | 'CLOSED' | 'REOPENED';
export type CaseBandDto = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

export interface CaseDto {
  id: number;
  tpsCode: string;
  contestId: string;
  areaCode: string;
  state: CaseStateDto;
  severity: number;
  band: CaseBandDto;
  findingCount: number;
  assigneeId: number | null;
  resolution: string | null;
  reasonCode: string | null;
  escalation: string | null;
  duplicateOfId: number | null;
  /** A resolution waiting for a second person (two-person rule). */
  pending: { resolution: string; proposedBy: number; proposedRole: string; proposedAt: string; correction: Record<string, number> | null; reasonCode: string | null; note: string | null } | null;
  lockedUntil: string | null;
  slaDueAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface CasesResponse { total: number; cases: CaseDto[] }

export interface CaseNoteDto { id: number; authorId: number | null; authorName: string | null; kind: 'note' | 'transition' | 'system'; body: string; createdAt: string }

export interface CaseDetailResponse {
  case: CaseDto;
  findings: FindingDto[];
  notes: CaseNoteDto[];
  /** rekap's own result versions for this TPS and contest (values as read/published). */
  results: { version: number; stage: string; status: string; isCurrent: boolean; values: Record<string, number>; createdAt: string }[];
  /** Other sources for the same TPS (e.g. KPU's Sirekap JSON). */
  sources: { source: string; values: Record<string, number>; sourceTs: string | null; importedFrom: string | null; importedAt: string }[];
  photos: { submissionId: number; photoSha256: string; page: string | null; source: string; receivedAt: string }[];
  audit: { id: number; at: string; actor: string; action: string; hash: string }[];
}

export type CaseActionDto = 'triage' | 'claim' | 'release' | 'resolve' | 'approve' | 'reject' | 'escalate' | 'close' | 'reopen' | 'assign';

export interface CaseTransitionRequest {
  action: CaseActionDto;
  resolution?: 'CORRECTED_OCR' | 'FORM_ERROR' | 'FORM_COPY_ERROR' | 'SOURCE_MISMATCH' | 'FALSE_ALARM' | 'DUPLICATE';
  reasonCode?: string;
  duplicateOfId?: number;
  escalation?: 'BAWASLU_TEMUAN' | 'KPU_CORRECTION_REQUEST' | 'RECOUNT_RECOMMENDED';
  /** Corrected field values (changes a published number: needs a second person). */
  correction?: Record<string, number>;
  assigneeId?: number | null;
  note?: string;
  /** Optimistic concurrency: the case version the client saw. */
  version?: number;
}

/**
 * Answer to a transition. When the action approved a number change (CORRECTED_OCR etc. with
 * `correction`), the change is published as a KPU correction of the TPS result: proposed by the
 * person who resolved the case, approved by the one who approved it (GET /api/tps/:code shows it
 * with both names). `correction` says what happened to it.
 */
export interface CaseTransitionResponse {
  case: CaseDto;
  correction?: {
    /** Id in the TPS's corrections list. */
    id: number;
    /** 'created': a new result version; 'unchanged': the values were already so. */
    outcome: string;
    /** Status of the new result version (a correction that breaks the arithmetic is quarantined like any other). */
    status: string | null;
    version: number | null;
  };
}

export interface CaseNoteRequest { body: string }

/** Pushed as Socket.IO `investigation` events (and on PostgreSQL channel `rekap_investigation`). */
export type InvestigationEvent =
  | { type: 'finding'; id: number; rule: string; kind: string; tpsCode: string | null; contestId: string | null; areaCode: string; severity: number; status: 'active' | 'resolved' }
  | { type: 'case'; id: number; tpsCode: string; contestId: string; state: CaseStateDto; severity: number; band: CaseBandDto };
