/**
 * Deterministic detectors (INTEGRITY §0.3: they outrank statistics): hard-rule failures, cross-contest
 * X1–X3, duplicate photos D1/D2 and identical numbers D3, wrong page, edits after publication T1/T2,
 * source disagreement M1 and recap mismatch R1. Each is a pure function from evidence to Findings.
 */
import { evaluateCrossContest, type RuleResult } from '../rules/index.js';
import { hamming } from './dhash.js';
import { DETECTOR_PARAMS } from './params.js';
import type { Finding, FindingKind } from './types.js';

export interface TpsRef { tpsCode: string; desaCode: string; kecCode?: string }

const ruleKind = (r: { class: 'HARD' | 'SOFT' }): FindingKind => (r.class === 'HARD' ? 'HARD' : 'FORM_INCONSISTENT');

/**
 * One finding per failed rule id (its checks gathered): the publish step's verdict, or a record's
 * own arithmetic for an imported source. `fieldName` renames fields for display (Pemilu keys).
 */
export function hardRuleFindings(
  tps: TpsRef, contestId: string, results: readonly RuleResult[],
  opts: { evidence?: string[]; source?: string; fieldName?: (k: string) => string } = {},
): Finding[] {
  const byRule = new Map<string, Extract<RuleResult, { status: 'FAIL' }>[]>();
  for (const r of results) if (r.status === 'FAIL') byRule.set(r.rule, [...(byRule.get(r.rule) ?? []), r]);
  const rename = opts.fieldName ?? ((k: string) => k);
  return [...byRule.entries()].map(([rule, fails]) => {
    const worst = fails.reduce((a, b) => (Math.abs(b.delta) > Math.abs(a.delta) ? b : a));
    const checks = fails.map((f) => ({ check: renameIn(f.check, rename), delta: f.delta, fields: f.fields.map(rename) }));
    return {
      rule,
      kind: ruleKind(worst),
      tpsCode: tps.tpsCode,
      contestId,
      areaCode: tps.desaCode,
      confidence: 1,
      impactVotes: Math.abs(worst.delta),
      message: `Aturan ${rule} gagal: ${checks[0].check} (Δ = ${worst.delta > 0 ? '+' : ''}${worst.delta})${opts.source ? ` [sumber ${opts.source}]` : ''} / rule ${rule} fails`,
      detail: { class: worst.class, checks, source: opts.source ?? null },
      evidence: opts.evidence ?? [],
    };
  });
}

function renameIn(text: string, rename: (k: string) => string): string {
  return text.replace(/[a-z_]+(?:_[lpj])?/g, (m) => rename(m));
}

/** X1–X3 between the wider race (governor / PPWP) and a narrower one at the same TPS. */
export function crossContestFindings(
  tps: TpsRef,
  upper: { contestId: string; values: Record<string, number> },
  lower: { contestId: string; values: Record<string, number> },
  evidence: string[] = [],
): Finding[] {
  const results = evaluateCrossContest({ upper: upper.values, lower: lower.values });
  return hardRuleFindings(tps, upper.contestId, results, { evidence }).map((f) => ({
    ...f,
    key: lower.contestId,
    message: `${f.message} (${upper.contestId} vs ${lower.contestId})`,
    detail: { ...f.detail, upperContest: upper.contestId, lowerContest: lower.contestId },
  }));
}

export interface PhotoRef extends TpsRef {
  contestId: string;
  kecCode: string;
  photoSha256: string;
  /** dHash (hex) of the photo or of its aligned handwritten regions, when computed. */
  dhash?: string | null;
  /** Total votes on the form (impact when the photo is a duplicate). */
  votes?: number;
}

/**
 * D1: the same bytes submitted for two different TPS; D2: perceptually the same photo (dHash
 * distance ≤ dhashMax) within the same desa, then the same kecamatan. One finding per TPS of each
 * pair, naming the other TPS, so each TPS's case shows it.
 */
export function duplicatePhotoFindings(photos: readonly PhotoRef[], params = DETECTOR_PARAMS.dup): Finding[] {
  const out: Finding[] = [];
  const seenPairs = new Set<string>();
  const emit = (rule: 'D1' | 'D2', a: PhotoRef, b: PhotoRef, distance: number) => {
    const pair = [a.tpsCode, b.tpsCode].sort().join('|') + '|' + rule;
    if (seenPairs.has(pair)) return;
    seenPairs.add(pair);
    for (const [x, y] of [[a, b], [b, a]] as const) {
      out.push({
        rule, kind: 'DUPLICATE', tpsCode: x.tpsCode, contestId: x.contestId, areaCode: x.desaCode,
        confidence: rule === 'D1' ? 1 : Math.max(0.6, 1 - distance / 20),
        impactVotes: x.votes ?? 0,
        key: y.tpsCode,
        message: rule === 'D1'
          ? `Foto yang sama persis dipakai untuk TPS ${x.tpsCode} dan ${y.tpsCode} / the same photo was submitted for two TPS`
          : `Foto hampir sama (jarak dHash ${distance}) dengan TPS ${y.tpsCode} / near-duplicate photo of another TPS`,
        detail: { otherTps: y.tpsCode, otherContest: y.contestId, photo: x.photoSha256, otherPhoto: y.photoSha256, distance },
        evidence: [`photo:${x.photoSha256}`, `photo:${y.photoSha256}`],
      });
    }
  };
  const bySha = new Map<string, PhotoRef[]>();
  for (const p of photos) bySha.set(p.photoSha256, [...(bySha.get(p.photoSha256) ?? []), p]);
  for (const group of bySha.values()) {
    for (let i = 0; i < group.length; i++)
      for (let j = i + 1; j < group.length; j++) if (group[i].tpsCode !== group[j].tpsCode) emit('D1', group[i], group[j], 0);
  }
  // D2 within a kecamatan (which contains the desa scope): the wrong-TPS upload is local.
  const byKec = new Map<string, PhotoRef[]>();
  for (const p of photos) if (p.dhash) byKec.set(p.kecCode, [...(byKec.get(p.kecCode) ?? []), p]);
  for (const group of byKec.values()) {
    for (let i = 0; i < group.length; i++)
      for (let j = i + 1; j < group.length; j++) {
        const a = group[i], b = group[j];
        if (a.tpsCode === b.tpsCode || a.photoSha256 === b.photoSha256 || a.dhash!.length !== b.dhash!.length) continue;
        const d = hamming(a.dhash!, b.dhash!);
        if (d <= params.dhashMax) emit('D2', a, b, d);
      }
  }
  return out;
}

/**
 * D3: identical numeric vectors at two TPS of the same desa (≥ minFieldsNumeric fields, most of them
 * large enough that a chance match is implausible). Across a kabupaten chance matches are expected,
 * so only the desa scope is used.
 */
export function identicalVectorFindings(rows: readonly (TpsRef & { contestId: string; values: Record<string, number>; fields: string[] })[], params = DETECTOR_PARAMS.dup): Finding[] {
  const out: Finding[] = [];
  const byDesa = new Map<string, typeof rows[number][]>();
  for (const r of rows) byDesa.set(`${r.contestId}|${r.desaCode}`, [...(byDesa.get(`${r.contestId}|${r.desaCode}`) ?? []), r]);
  for (const group of byDesa.values()) {
    for (let i = 0; i < group.length; i++)
      for (let j = i + 1; j < group.length; j++) {
        const a = group[i], b = group[j];
        const fields = a.fields.filter((f) => a.values[f] !== undefined && a.values[f] === b.values[f]);
        const large = fields.filter((f) => a.values[f] >= 20).length;
        if (fields.length < params.minFieldsNumeric || fields.length < a.fields.length || large < 3) continue;
        for (const [x, y] of [[a, b], [b, a]] as const)
          out.push({
            rule: 'D3', kind: 'DUPLICATE', tpsCode: x.tpsCode, contestId: x.contestId, areaCode: x.desaCode, confidence: 0.9,
            impactVotes: x.values.suara_sah ?? 0, key: y.tpsCode,
            message: `Angka TPS ${x.tpsCode} sama persis dengan TPS ${y.tpsCode} (${fields.length} kolom) / identical numbers at two TPS of one desa`,
            detail: { otherTps: y.tpsCode, fields }, evidence: [`result:${x.tpsCode}/${x.contestId}`, `result:${y.tpsCode}/${y.contestId}`],
          });
      }
  }
  return out;
}

/** PAGE: the page declared at upload differs from the page mark read on the photo. */
export function wrongPageFinding(s: TpsRef & { contestId: string; declaredPage: string | null; readPage: string | null; photoSha256: string; submissionId?: number }): Finding | null {
  if (!s.declaredPage || !s.readPage || s.declaredPage === s.readPage) return null;
  return {
    rule: 'PAGE', kind: 'HARD', tpsCode: s.tpsCode, contestId: s.contestId, areaCode: s.desaCode, confidence: 0.95, impactVotes: 0,
    key: s.photoSha256,
    message: `Halaman tertukar: diunggah sebagai ${s.declaredPage}, terbaca ${s.readPage} / wrong page: uploaded as ${s.declaredPage}, reads as ${s.readPage}`,
    detail: { declaredPage: s.declaredPage, readPage: s.readPage, submissionId: s.submissionId ?? null },
    evidence: [`photo:${s.photoSha256}`],
  };
}

export interface ResultVersion {
  version: number;
  status: 'published' | 'quarantined' | 'incomplete';
  values: Record<string, number>;
  /** Rule ids failing in this version. */
  failing: string[];
  actor?: string;
  reason?: string | null;
  /** A berita acara (minutes) reference attached to the edit. */
  beritaAcara?: string | null;
  at?: string;
}

/** Δ = ±d·10^k with d ≤ 9 on one field: the shape of a one-digit misread (617 → 117). */
export function isDigitShaped(delta: number): boolean {
  const a = Math.abs(delta);
  if (a === 0) return false;
  let k = 1;
  while (a % (k * 10) === 0) k *= 10;
  return a / k <= DETECTOR_PARAMS.temporal.digitShapedMaxDigit;
}

/**
 * T1/T2 over a TPS's version history: every change to a version that was published is recorded.
 * A single digit-shaped change that makes failing rules pass is an OCR fix (CONTEXT); anything else is
 * TEMPORAL, stronger without a berita acara and when it breaks rules.
 */
export function editFindings(tps: TpsRef, contestId: string, versions: readonly ResultVersion[]): Finding[] {
  const out: Finding[] = [];
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1], cur = sorted[i];
    if (prev.status !== 'published') continue;
    const changed = [...new Set([...Object.keys(prev.values), ...Object.keys(cur.values)])]
      .filter((k) => (prev.values[k] ?? null) !== (cur.values[k] ?? null))
      .map((k) => ({ field: k, from: prev.values[k] ?? null, to: cur.values[k] ?? null, delta: (cur.values[k] ?? 0) - (prev.values[k] ?? 0) }));
    if (changed.length === 0) continue;
    const repaired = prev.failing.length > 0 && cur.failing.length === 0;
    const broke = cur.failing.some((r) => !prev.failing.includes(r));
    const digitShaped = changed.length <= 2 && changed.every((c) => isDigitShaped(c.delta));
    const ocrFix = digitShaped && repaired;
    const impact = Math.max(...changed.map((c) => Math.abs(c.delta)));
    out.push({
      rule: ocrFix ? 'T2' : 'T1',
      kind: ocrFix ? 'CONTEXT' : 'TEMPORAL',
      tpsCode: tps.tpsCode, contestId, areaCode: tps.desaCode,
      confidence: ocrFix ? 0.3 : broke ? 1 : cur.beritaAcara ? 0.4 : 0.8,
      impactVotes: impact,
      key: `v${cur.version}`,
      message: ocrFix
        ? `Koreksi digit setelah terbit (v${prev.version} → v${cur.version}) memperbaiki aritmetika / a digit fix after publication repaired the arithmetic`
        : `Perubahan setelah terbit (v${prev.version} → v${cur.version}): ${changed.map((c) => `${c.field} ${c.from}→${c.to}`).join(', ')}${cur.beritaAcara ? '' : ', tanpa berita acara'} / edit after publication`,
      detail: { fromVersion: prev.version, toVersion: cur.version, changed, digitShaped, repaired, broke, beritaAcara: cur.beritaAcara ?? null, actor: cur.actor ?? null, reason: cur.reason ?? null, at: cur.at ?? null },
      evidence: [`result:${tps.tpsCode}/${contestId}/v${prev.version}`, `result:${tps.tpsCode}/${contestId}/v${cur.version}`],
    });
  }
  return out;
}

/**
 * M1: two sources for one TPS and contest disagree on a field both carry. `source` names the other
 * source (e.g. "kpu"); values are compared exactly (tol 0).
 */
export function sourceMismatchFinding(
  tps: TpsRef, contestId: string,
  ours: { values: Record<string, number>; ref: string },
  theirs: { source: string; values: Record<string, number>; ref: string },
  opts: { copyKind?: 'plano-vs-salinan' } = {},
): Finding | null {
  const diffs = Object.keys(theirs.values)
    .filter((k) => typeof ours.values[k] === 'number' && typeof theirs.values[k] === 'number' && ours.values[k] !== theirs.values[k])
    .sort()
    .map((k) => ({ field: k, ours: ours.values[k], theirs: theirs.values[k], delta: theirs.values[k] - ours.values[k] }));
  if (diffs.length === 0) return null;
  const impact = Math.max(...diffs.map((d) => Math.abs(d.delta)));
  const copy = opts.copyKind === 'plano-vs-salinan';
  return {
    rule: 'M1', kind: copy ? 'FORM_INCONSISTENT' : 'SOURCE_MISMATCH', tpsCode: tps.tpsCode, contestId, areaCode: tps.desaCode,
    confidence: 1, impactVotes: impact, key: theirs.source,
    message: `Sumber ${theirs.source} berbeda dengan bacaan foto di ${diffs.length} kolom (mis. ${diffs[0].field}: ${diffs[0].theirs} vs ${diffs[0].ours}) / ${theirs.source} disagrees with the photo reading${copy ? ' (FORM_COPY_ERROR)' : ''}`,
    detail: { source: theirs.source, diffs, label: copy ? 'FORM_COPY_ERROR' : 'SOURCE_MISMATCH' },
    evidence: [ours.ref, theirs.ref],
  };
}

/**
 * R1: Σ over the desa's TPS of each field against the desa row of the D.Hasil recap. When the recap's
 * per-TPS annex is given, the difference is attributed to the TPS whose values differ.
 */
export function recapFindings(
  desaCode: string, contestId: string,
  tpsRows: readonly { tpsCode: string; values: Record<string, number> }[],
  recap: { values: Record<string, number>; perTps?: Record<string, Record<string, number>>; ref: string },
): Finding[] {
  const diffs: { field: string; sum: number; recap: number; delta: number }[] = [];
  for (const [k, v] of Object.entries(recap.values)) {
    const s = tpsRows.reduce((acc, r) => acc + (r.values[k] ?? 0), 0);
    if (s !== v) diffs.push({ field: k, sum: s, recap: v, delta: v - s });
  }
  if (diffs.length === 0) return [];
  const impact = Math.max(...diffs.map((d) => Math.abs(d.delta)));
  const blamed = recap.perTps
    ? tpsRows.filter((r) => Object.entries(recap.perTps![r.tpsCode] ?? {}).some(([k, v]) => r.values[k] !== v)).map((r) => r.tpsCode)
    : [];
  const base = {
    rule: 'R1', kind: 'RECAP' as const, contestId, confidence: 1,
    message: `Jumlah TPS di desa ${desaCode} berbeda dengan D.Hasil (${diffs[0].field}: Σ ${diffs[0].sum} vs ${diffs[0].recap}) / TPS sum differs from the D.Hasil recap`,
    detail: { desaCode, diffs, blamedTps: blamed },
    evidence: [recap.ref, ...tpsRows.map((r) => `result:${r.tpsCode}/${contestId}`)],
  };
  if (blamed.length === 0) return [{ ...base, tpsCode: null, areaCode: desaCode, impactVotes: impact }];
  return blamed.map((t) => ({ ...base, tpsCode: t, areaCode: desaCode, impactVotes: impact }));
}
