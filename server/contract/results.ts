/**
 * REST shapes for results, feeds, submissions, TPS detail, corrections and the audit head.
 * The server produces exactly these; the dashboard imports them as types only.
 */
import type { AreaLevel, AreaRef, CandidateInfo } from './areas.js';

export type ResultStage = 'machine' | 'kpps' | 'reviewer' | 'recap';
/** published: every hard rule holds; quarantined: "menunggu verifikasi" (a HARD rule fails); incomplete: pages missing. */
export type ResultStatus = 'published' | 'quarantined' | 'incomplete';
export type SubmissionStatus = 'received' | 'reading' | 'read' | 'rejected' | 'failed';
export type ReadingClass = 'READ_OK' | 'AUTO_CORRECTED' | 'FORM_INCONSISTENT' | 'NEEDS_REVIEW' | 'REJECTED';

/** INTEGRITY §3. UNKNOWN is not PASS. */
export type RuleResult =
  | { rule: string; class: 'HARD' | 'SOFT'; status: 'PASS' }
  | { rule: string; class: 'HARD' | 'SOFT'; status: 'FAIL'; delta: number; fields: string[] }
  | { rule: string; class: 'HARD' | 'SOFT'; status: 'UNKNOWN'; missing: string[] };

/**
 * The numbers of one unit (an area, or one TPS inside a desa) in one contest. Votes by candidate id
 * count published TPS only; quarantined TPS are counted apart ("dikarantina: N TPS, M suara").
 */
export interface UnitTally {
  code: string;
  votes: Record<string, number>;
  suaraSah: number;
  suaraTidakSah: number;
  tpsExpected: number;
  tpsPublished: number;
  tpsQuarantined: number;
  /** tpsExpected − published − quarantined (never negative). */
  tpsMissing: number;
  quarantinedVotes: number;
  votersRegistered: number;
  votersUsed: number;
  /** votersUsed / votersRegistered over published TPS, null before the first one. */
  turnout: number | null;
  /** Change-feed version of the last change to this unit (0 = never changed). */
  version: number;
  updatedAt: string | null;
  /** Only for a TPS unit (children of a desa): its current result status and version. */
  status?: ResultStatus;
  resultVersion?: number;
  stage?: ResultStage;
}

/** GET /api/results/:contest/:area (JSON; CSV with ?format=csv or a .csv suffix). */
export interface ResultsResponse {
  contest: { id: string; name: string; type: 'pkwkp' | 'pkwkk' | 'ppwp'; areaCode: string };
  area: AreaRef & { parentCode: string | null };
  candidates: CandidateInfo[];
  /** Change-feed version this response is consistent with; pass it to /api/changes?since= or the socket. */
  version: number;
  tally: UnitTally;
  /** Child areas (or TPS when the area is a desa) with their tallies, by code order. */
  children: (UnitTally & { name: string; level: AreaLevel | 5 })[];
  generatedAt: string;
}

/** One row of the change feed: one TPS state change, with every area it touched (national first). */
export interface ChangeEntry {
  version: number;
  contestId: string;
  tpsCode: string;
  areaCodes: string[];
  kind: 'published' | 'quarantined' | 'incomplete' | 'corrected' | 'confirmed' | 'reset';
  at: string;
}

/** GET /api/changes?since=<version>&contest=&area=&limit= */
export interface ChangesResponse {
  since: number;
  /** Highest version included; pass it as the next `since`. */
  version: number;
  /** True when more changes exist after `version` (ask again). */
  more: boolean;
  changes: ChangeEntry[];
}

/** POST /api/submissions → 202 (new) or 200 (same photo, TPS and contest already received). */
export interface SubmissionAccepted {
  id: number;
  statusUrl: string;
  photoSha256: string;
  duplicate: boolean;
  /** One entry per photo when several were sent; the first is repeated above. */
  submissions: { id: number; statusUrl: string; photoSha256: string; duplicate: boolean }[];
}

/** GET /api/submissions/:id */
export interface SubmissionStatusResponse {
  id: number;
  tpsCode: string;
  contestId: string;
  page: string | null;
  status: SubmissionStatus;
  statusReason: string | null;
  photoSha256: string;
  photoUrl: string;
  receivedAt: string;
  reading: { id: number; cls: ReadingClass; page: string | null; readerVersion: string; createdAt: string } | null;
}

export interface FieldDetail {
  value: number | null;
  p: number | null;
  /** Per box, 12 probabilities ('0'..'9', 'X', 'blank'). */
  boxes?: number[][];
  /** Box rectangles in the warped page frame: [x, y, w, h]. */
  roi?: [number, number, number, number][];
}

export interface ReadingDetail {
  id: number;
  submissionId: number;
  readerVersion: string;
  page: string | null;
  cls: ReadingClass;
  alignmentScore: number | null;
  /** How the reader told which page this is: its page mark, or (the mark unread) its printed layout. */
  identifiedBy: 'page_mark' | 'layout' | null;
  values: Record<string, number>;
  fields: Record<string, FieldDetail>;
  changes: unknown[];
  residuals: Record<string, number>;
  rejectReason: string | null;
  createdAt: string;
}

export interface ResultVersion {
  id: number;
  version: number;
  stage: ResultStage;
  status: ResultStatus;
  isCurrent: boolean;
  values: Record<string, number>;
  votes: Record<string, number>;
  suaraSah: number | null;
  suaraTidakSah: number | null;
  rules: RuleResult[];
  readingIds: number[];
  correctionId: number | null;
  createdBy: number | null;
  createdAt: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  actorId: number | null;
  action: string;
  entity: string;
  entityId: string;
  before: unknown;
  after: unknown;
  photoSha256: string | null;
  hash: string;
}

export interface CorrectionInfo {
  id: number;
  tpsCode: string;
  contestId: string;
  stage: ResultStage;
  values: Record<string, number>;
  reason: string;
  baseVersion: number | null;
  proposedBy: number;
  proposedAt: string;
  approvedBy: number | null;
  approvedAt: string | null;
  state: 'pending' | 'approved' | 'rejected' | 'applied';
}

/** GET /api/tps/:code (all contests of the TPS; ?contest= narrows). */
export interface TpsDetailResponse {
  tps: { code: string; number: number; desaCode: string; kecCode: string; kabCode: string; provCode: string; votersL: number; votersP: number; isSpecial: boolean };
  path: AreaRef[];
  contests: {
    contestId: string;
    candidates: CandidateInfo[];
    /** The version shown to the public (explicit), or null when nothing was received yet. */
    current: ResultVersion | null;
    versions: ResultVersion[];
    corrections: CorrectionInfo[];
  }[];
  submissions: (SubmissionStatusResponse & { readings: ReadingDetail[] })[];
  anomalies: { id: number; rule: string; kind: string; contestId: string | null; severity: number; status: string; detail: unknown; createdAt: string }[];
  audit: AuditEntry[];
}

/** GET /api/review-queue?contest=&area=&limit= — what a person must look at, largest vote impact first. */
export interface ReviewQueueItem {
  tpsCode: string;
  contestId: string;
  reason: 'quarantined' | 'NEEDS_REVIEW' | 'FORM_INCONSISTENT';
  /** Votes at stake: suara_total (or suara sah) as read. */
  impact: number;
  failingRules: { rule: string; delta?: number; fields?: string[] }[];
  resultVersion: number | null;
  submissionId: number | null;
  readingId: number | null;
  photoUrl: string | null;
  since: string;
}
export interface ReviewQueueResponse { items: ReviewQueueItem[] }

/** POST /api/tps/:code/:contest/corrections body. */
export interface CorrectionRequest {
  /** The full set of field values the person read from the photo (Sirekap-style keys). */
  values: Record<string, number>;
  reason: string;
  stage?: 'reviewer' | 'recap';
  /** The result version the person looked at; a stale base is refused (409). */
  baseVersion?: number;
}
/** Correction answer: applied at once (nothing published changes) or pending a second person. */
export interface CorrectionResponse {
  correction: CorrectionInfo;
  /** The new current result when applied. */
  result: ResultVersion | null;
}

/** POST /api/tps/:code/:contest/confirm body (KPPS confirmation, stage 'kpps'). */
export interface KppsConfirmRequest {
  /** Omit to confirm the current machine reading as is. */
  values?: Record<string, number>;
}

/** GET /api/audit/head — public. */
export interface AuditHeadResponse {
  id: number;
  hash: string;
  at: string | null;
  count: number;
}
