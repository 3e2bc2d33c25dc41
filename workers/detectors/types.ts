/**
 * Shapes shared by every detector. A detector turns evidence (TPS results, photos, sources, edits)
 * into Findings; workers/cases gathers findings into one case per TPS and contest.
 */

/** Kinds and their severity weights follow INTEGRITY §6.2–6.3. */
export type FindingKind =
  | 'HARD' | 'SOURCE_MISMATCH' | 'RECAP' | 'DUPLICATE' | 'TEMPORAL'
  | 'FORM_INCONSISTENT' | 'STAT_TPS' | 'STAT_REGION' | 'CONTEXT';

export const FINDING_KINDS: readonly FindingKind[] = [
  'HARD', 'SOURCE_MISMATCH', 'RECAP', 'DUPLICATE', 'TEMPORAL', 'FORM_INCONSISTENT', 'STAT_TPS', 'STAT_REGION', 'CONTEXT',
];

/** Kinds produced by statistical tests: never proof, and the UI says so. */
export const STATISTICAL_KINDS: ReadonlySet<FindingKind> = new Set(['STAT_TPS', 'STAT_REGION']);

export interface Finding {
  /** Rule or detector id: H1…H16, X1–X3, R1, M1, D1–D3, T1/T2, PAGE, TURNOUT_Z, SIBLING, EXTREME_CELL, LAST_DIGIT, … */
  rule: string;
  kind: FindingKind;
  /** Null for region findings. */
  tpsCode: string | null;
  contestId: string | null;
  /** The TPS's desa for a TPS finding; the region (kecamatan / kab/kota) for a region finding. */
  areaCode: string;
  /** 0..1: how sure the detector is (1 for a failed identity; 1 − p for a statistical test, capped). */
  confidence: number;
  /** Votes that would move if the finding is right (|residual|, excess over expectation, whole TPS for a duplicate). */
  impactVotes: number;
  /** One line, Bahasa Indonesia first, English second. */
  message: string;
  /** Numbers behind the finding (residuals, z, p, baseline, checkpoint) so that it can be re-checked. */
  detail: Record<string, unknown>;
  /** References to the evidence: `photo:<sha256>`, `reading:<id>`, `result:<tps>/<contest>/v<n>`, `source:kpu/<file>`. */
  evidence: string[];
  /** Extra key part when one rule can fire several times for one TPS (e.g. the other TPS of a duplicate pair). */
  key?: string;
}

/** The idempotency key of a finding: re-running a detector on the same evidence updates, never duplicates. */
export function findingKey(f: Pick<Finding, 'rule' | 'contestId' | 'tpsCode' | 'areaCode' | 'key'>): string {
  return [f.rule, f.contestId ?? '-', f.tpsCode ?? `area:${f.areaCode}`, f.key ?? ''].join('|');
}

/**
 * One TPS result in one contest, as the statistical detectors see it. Keys follow the Sirekap
 * administrasi names (INTEGRITY §1.1); votes are keyed by candidate id.
 */
export interface TpsRecord {
  tpsCode: string;
  contestId: string;
  desaCode: string;
  kecCode: string;
  kabCode: string;
  /** R_dpt: registered on the DPT (form value). */
  registered: number;
  /** U_dpt: voters on the DPT who voted. */
  votersDpt: number;
  /** U_tot. */
  votersTotal: number;
  votes: Record<string, number>;
  suaraSah: number;
  suaraTidakSah: number;
  /** Noken TPS legally report 100%/100%: context only, never in the extreme cell. */
  noken?: boolean;
}

/** Tests of region statistics name one of these levels. */
export type RegionLevel = 'kecamatan' | 'kabupaten';
