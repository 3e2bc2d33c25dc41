/**
 * REST shapes for KPPS capture: who the device is (GET /api/operators/me), the practice election
 * ("mode latihan", GET /api/practice, POST /api/practice/reset) and the operator list per area for the
 * command centre (GET /api/operators?area=).
 */
import type { AreaRef, CandidateInfo } from './areas.js';

export interface CaptureContest {
  id: string;
  name: string;
  type: 'pkwkp' | 'pkwkk' | 'ppwp';
  isPractice: boolean;
  /** For a practice contest: the real contest it mirrors. */
  mirrorOf: string | null;
  candidates: CandidateInfo[];
}

/** GET /api/operators/me — the signed-in device/person and, for a TPS-bound operator, its TPS and contests. */
export interface OperatorMeResponse {
  user: { id: number; name: string; role: string; scopeCode: string | null };
  tps: { code: string; number: number; desaCode: string; votersL: number; votersP: number } | null;
  path: AreaRef[];
  /** Real contests covering the TPS, then their practice mirrors. */
  contests: CaptureContest[];
  practice: PracticeInfo;
}

/** GET /api/practice — the sandbox election. */
export interface PracticeInfo {
  electionId: string;
  name: string;
  contests: number;
  submissions: number;
  results: number;
  lastResetAt: string | null;
}

/** POST /api/practice/reset (admin) answer. */
export interface PracticeResetResponse {
  deleted: { submissions: number; readings: number; results: number; corrections: number; anomalies: number; tallies: number };
  /** Change-feed version of the reset (live screens of practice rooms follow it). */
  version: number | null;
  at: string;
}

export interface OperatorRow {
  userId: number;
  name: string;
  /** The TPS (or area) the operator's token is bound to. */
  scopeCode: string | null;
  tpsNumber: number | null;
  desaName: string | null;
  /** Uploads to the real election (practice uploads are counted apart). */
  uploads: number;
  practiceUploads: number;
  confirmations: number;
  lastUploadAt: string | null;
  /** Latest of token use and upload. */
  lastSeenAt: string | null;
}

/** GET /api/operators?area=<code> — who has uploaded, who has not, last seen. */
export interface OperatorListResponse {
  area: AreaRef;
  operators: OperatorRow[];
  summary: { operators: number; uploaded: number; notUploaded: number; tpsTotal: number; tpsWithoutOperator: number };
  generatedAt: string;
}

/**
 * GET /api/capture/readings/:id/frame — how the reader's page frame (where field `roi`s live) sits in
 * the original photo: a 3×3 homography (row-major) from frame pixels to photo pixels.
 */
export interface ReadingFrameResponse {
  readingId: number;
  photoUrl: string;
  templateId: string;
  pxPerMm: number;
  homography: number[][];
}
