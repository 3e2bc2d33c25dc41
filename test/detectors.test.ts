// Detector unit behaviour: exact streaming state, each statistical detector's false positives on clean
// synthetic data and its hits on planted anomalies (INTEGRITY §8.3), and the deterministic detectors.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import sharp from 'sharp';
import { bhAdjust, chi2Sf, histogramMedianMad, normalSf, poissonSf } from '../workers/detectors/stats.js';
import { StatState } from '../workers/detectors/state.js';
import { runStatistical } from '../workers/detectors/statistical.js';
import { generateElection, type Universe, type UniverseTps } from '../workers/detectors/synthetic.js';
import { turnoutFindings } from '../workers/detectors/turnout.js';
import { siblingFindings } from '../workers/detectors/sibling.js';
import { extremeCellFindings } from '../workers/detectors/extreme-cell.js';
import { lastDigitFindings } from '../workers/detectors/last-digit.js';
import { benford2Findings } from '../workers/detectors/benford2.js';
import { dhash, hamming } from '../workers/detectors/dhash.js';
import {
  crossContestFindings, duplicatePhotoFindings, editFindings, isDigitShaped, recapFindings, sourceMismatchFinding, wrongPageFinding,
} from '../workers/detectors/deterministic.js';
import { Rng } from '../workers/detectors/random.js';
import type { TpsRecord } from '../workers/detectors/types.js';

/** A province of K kabupaten × C kecamatan × D desa × T TPS with three candidates (INTEGRITY §5.0 layout, smaller). */
function gridUniverse(k: number, c: number, d: number, t: number): Universe {
  const tps: UniverseTps[] = [];
  for (let a = 1; a <= k; a++)
    for (let b = 1; b <= c; b++)
      for (let e = 1; e <= d; e++)
        for (let f = 1; f <= t; f++) {
          const kab = `99${String(a).padStart(2, '0')}`, kec = `${kab}${String(b).padStart(2, '0')}`, desa = `${kec}${String(2000 + e)}`;
          tps.push({ code: `${desa}${String(f).padStart(3, '0')}`, desaCode: desa, kecCode: kec, kabCode: kab, provCode: '99' });
        }
  return { tps, contests: [{ id: 'pkwkp-99', type: 'pkwkp', areaCode: '99', candidates: ['c1', 'c2', 'c3'] }] };
}

const stateOf = (records: TpsRecord[]) => {
  const s = new StatState();
  for (const r of records) s.upsert(r);
  return s;
};

describe('distribution functions', () => {
  it('match reference values', () => {
    expect(chi2Sf(16.919, 9)).toBeCloseTo(0.05, 4);
    expect(chi2Sf(27.877, 9)).toBeCloseTo(0.001, 5);
    expect(normalSf(1.959964)).toBeCloseTo(0.025, 5);
    expect(poissonSf(5, 0.1)).toBeCloseTo(7.6678e-8, 11);
    const q = bhAdjust([0.01, 0.04, 0.03, 0.5]);
    [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5].forEach((v, i) => expect(q[i]).toBeCloseTo(v, 12));
  });

  it('histogram median and MAD equal the brute-force values', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 200 }), (xs) => {
      const h = new Int32Array(1001);
      for (const x of xs) h[x]++;
      const sorted = [...xs].sort((a, b) => a - b);
      const med = (a: number[]) => (a[Math.floor((a.length - 1) / 2)] + a[Math.floor(a.length / 2)]) / 2;
      const m = med(sorted);
      const mad = med(xs.map((x) => Math.abs(x - m)).sort((a, b) => a - b));
      const got = histogramMedianMad(h, xs.length);
      return got.median === m && got.mad === mad;
    }));
  });
});

describe('streaming state (T-S-17)', () => {
  it('random arrival order with edits gives the same state and findings as a batch build', () => {
    const u = gridUniverse(2, 6, 4, 6);
    const el = generateElection(u, 7, { stuffing: 3 });
    const batch = stateOf(el.results.map((r) => r.record));
    const rng = new Rng(99);
    const order = [...el.results].sort(() => rng.next() - 0.5);
    const streamed = new StatState();
    for (const r of order) {
      // A wrong first version, then the edit that replaces it: subtract old, add new.
      if (rng.next() < 0.3) streamed.upsert({ ...r.record, votes: { ...r.record.votes, c1: r.record.votes.c1 + 100 }, votersDpt: Math.max(0, r.record.votersDpt - 7) });
      streamed.upsert(r.record);
      if (rng.next() < 0.05) { streamed.remove(r.tpsCode, r.contestId); streamed.upsert(r.record); }
    }
    expect(streamed.fingerprintOfState()).toBe(batch.fingerprintOfState());
    expect(JSON.stringify(runStatistical(streamed).findings)).toBe(JSON.stringify(runStatistical(batch).findings));
  });
});

describe('statistical detectors on a 9,600-TPS synthetic province', () => {
  const u = gridUniverse(6, 20, 10, 8);
  const clean = generateElection(u, 11);
  const cleanState = stateOf(clean.results.map((r) => r.record));
  const cleanRun = runStatistical(cleanState);

  it('clean data: turnout |M| > 5 flags ≤ 0.05% of TPS, sibling BH ≤ 2, no region flags', () => {
    const by = (rule: string) => cleanRun.findings.filter((f) => f.rule === rule).length;
    expect(by('TURNOUT_Z')).toBeLessThanOrEqual(Math.ceil(0.0005 * u.tps.length));
    expect(by('SIBLING')).toBeLessThanOrEqual(2);
    expect(by('EXTREME_CELL')).toBe(0);
    expect(by('LAST_DIGIT')).toBeLessThanOrEqual(1);
    expect(benford2Findings(cleanState, 'pkwkp-99')).toEqual([]);
  });

  it('turnout z flags a TPS pushed far from its kecamatan, and only as a statistic', () => {
    const r = { ...clean.results[500].record };
    r.votersDpt = Math.round(0.1 * r.registered); // 10% turnout where the kecamatan votes at ~68%
    const s = stateOf(clean.results.map((x) => (x.tpsCode === r.tpsCode ? r : x.record)));
    const f = turnoutFindings(s, 'pkwkp-99').findings.filter((x) => x.tpsCode === r.tpsCode);
    expect(f).toHaveLength(1);
    expect(f[0].kind).toBe('STAT_TPS');
    expect(f[0].message).toContain('bukan bukti');
    // A TPS moved by a few points stays quiet.
    const mild = { ...clean.results[500].record, votersDpt: clean.results[500].record.votersDpt + 5 };
    const s2 = stateOf(clean.results.map((x) => (x.tpsCode === mild.tpsCode ? mild : x.record)));
    expect(turnoutFindings(s2, 'pkwkp-99').findings.filter((x) => x.tpsCode === mild.tpsCode)).toEqual([]);
  });

  it('sibling test flags a swapped TPS in a homogeneous desa and nothing else (T-S-6)', () => {
    const target = clean.results.find((r) => Math.abs(r.record.votes.c1 - r.record.votes.c3) > 0.5 * r.record.suaraSah)!;
    const swapped = { ...target.record, votes: { ...target.record.votes, c1: target.record.votes.c3, c3: target.record.votes.c1 } };
    const s = stateOf(clean.results.map((x) => (x.tpsCode === target.tpsCode ? swapped : x.record)));
    const flagged = siblingFindings(s, 'pkwkp-99').findings.map((f) => f.tpsCode);
    expect(flagged).toContain(target.tpsCode);
    expect(flagged.length).toBeLessThanOrEqual(3);
  });

  it('extreme cell flags a kabupaten with extreme fraud in its TPS, not noken 100%/100% (T-S-2, T-S-4)', () => {
    const kab = '9901';
    const fraud = (r: TpsRecord): TpsRecord => {
      const n = r.registered;
      return { ...r, votersDpt: n, votersTotal: n, suaraSah: n, votes: { c1: n - 2, c2: 1, c3: 1 } };
    };
    const inKab = clean.results.filter((r) => r.record.kabCode === kab);
    const hit = new Set(inKab.filter((_, i) => i % 25 === 0).map((r) => r.tpsCode)); // ~4%
    const s = stateOf(clean.results.map((r) => (hit.has(r.tpsCode) ? fraud(r.record) : r.record)));
    const found = extremeCellFindings(s, 'pkwkp-99').findings.map((f) => f.areaCode);
    expect(found).toContain(kab);
    expect(found.filter((a) => a.length === 4 && a !== kab)).toEqual([]);
    // Same TPS marked noken: legal, so no extreme-cell finding.
    const sn = stateOf(clean.results.map((r) => (hit.has(r.tpsCode) ? { ...fraud(r.record), noken: true } : r.record)));
    expect(extremeCellFindings(sn, 'pkwkp-99').findings).toEqual([]);
  });

  it('last-digit test flags fabricated digits in one kabupaten and never names a TPS (T-S-7)', () => {
    const kab = '9902';
    const rng = new Rng(3);
    const s = stateOf(clean.results.map((r) => {
      if (r.record.kabCode !== kab) return r.record;
      const v = r.record.votes.c1;
      const fake = v - (v % 10) + (rng.next() < 0.5 ? 7 : rng.int(10)); // Iran-like: 7 over-represented
      return { ...r.record, votes: { ...r.record.votes, c1: fake } };
    }));
    const f = lastDigitFindings(s, 'pkwkp-99').findings;
    expect(f.some((x) => x.areaCode === kab && x.key === 'c1')).toBe(true);
    expect(f.every((x) => x.tpsCode === null && x.kind === 'STAT_REGION')).toBe(true);
  });
});

describe('deterministic detectors', () => {
  const tps = { tpsCode: '6201011013001', desaCode: '6201011013', kecCode: '620101' };

  it('X1 fails when two races at one TPS disagree on DPT; X2 tolerates 2', () => {
    const upper = { pemilih_dpt_l: 100, pemilih_dpt_p: 100, pemilih_dpt_j: 200, pengguna_dpt_l: 80, pengguna_dpt_p: 80, pengguna_dpt_j: 160, pengguna_dpph_j: 2 };
    const ok = crossContestFindings(tps, { contestId: 'pkwkp-62', values: upper }, { contestId: 'pkwkk-6201', values: { ...upper, pengguna_dpt_l: 79, pengguna_dpt_j: 159 } });
    expect(ok).toEqual([]);
    const bad = crossContestFindings(tps, { contestId: 'pkwkp-62', values: upper }, { contestId: 'pkwkk-6201', values: { ...upper, pemilih_dpt_l: 90, pemilih_dpt_j: 190 } });
    expect(bad.map((f) => f.rule)).toEqual(['X1']);
    expect(bad[0].impactVotes).toBe(10);
  });

  it('D1 flags the same bytes at two TPS; D2 a resized re-encode; two different forms are far apart (T-S-12)', async () => {
    const img = async (seed: number) => {
      const r = new Rng(seed);
      const w = 18, h = 16, px = Buffer.alloc(w * h);
      for (let i = 0; i < px.length; i++) px[i] = r.int(256);
      // A smooth photo-like image (upsampled random field), stored as JPEG.
      return sharp(px, { raw: { width: w, height: h, channels: 1 } }).resize(360, 320, { kernel: 'cubic' }).jpeg({ quality: 90 }).toBuffer();
    };
    const a = await img(1), b = await img(2);
    const aCopy = await sharp(a).resize(250).jpeg({ quality: 60 }).toBuffer();
    const [ha, hb, hc] = [await dhash(a), await dhash(b), await dhash(aCopy)];
    expect(hamming(ha, hc)).toBeLessThanOrEqual(5);
    expect(hamming(ha, hb)).toBeGreaterThan(10);
    const photos = [
      { ...tps, contestId: 'pkwkp-62', photoSha256: 'aa', dhash: ha, votes: 300 },
      { ...tps, tpsCode: '6201011013002', contestId: 'pkwkp-62', photoSha256: 'aa', dhash: ha, votes: 300 },
      { ...tps, tpsCode: '6201011013003', contestId: 'pkwkp-62', photoSha256: 'cc', dhash: hc, votes: 280 },
      { ...tps, tpsCode: '6201011013004', contestId: 'pkwkp-62', photoSha256: 'bb', dhash: hb, votes: 250 },
    ];
    const f = duplicatePhotoFindings(photos);
    const pairs = new Set(f.map((x) => `${x.rule}:${x.tpsCode}>${x.key}`));
    expect(pairs.has('D1:6201011013001>6201011013002')).toBe(true);
    expect(pairs.has('D1:6201011013002>6201011013001')).toBe(true);
    expect(pairs.has('D2:6201011013001>6201011013003')).toBe(true);
    expect(f.some((x) => x.tpsCode === '6201011013004')).toBe(false);
  });

  it('wrong page: declared page 1 that reads as page 2', () => {
    expect(wrongPageFinding({ ...tps, contestId: 'pkwkp-62', declaredPage: '1', readPage: '2', photoSha256: 'ab' })?.rule).toBe('PAGE');
    expect(wrongPageFinding({ ...tps, contestId: 'pkwkp-62', declaredPage: '2', readPage: '2', photoSha256: 'ab' })).toBeNull();
  });

  it('edits after publication: +500 without berita acara is TEMPORAL; 617 → 117 repairing H1 is an OCR fix (T-S-13)', () => {
    expect(isDigitShaped(-500)).toBe(true);
    expect(isDigitShaped(37)).toBe(false);
    const v1 = { version: 1, status: 'published' as const, values: { suara_paslon_1: 117, suara_sah: 300 }, failing: [] };
    const v2 = { version: 2, status: 'quarantined' as const, values: { suara_paslon_1: 617, suara_sah: 300 }, failing: ['H1'] };
    const [t1] = editFindings(tps, 'pkwkp-62', [v1, v2]);
    expect(t1.rule).toBe('T1');
    expect(t1.kind).toBe('TEMPORAL');
    expect(t1.impactVotes).toBe(500);
    const w1 = { version: 1, status: 'published' as const, values: { suara_paslon_1: 617 }, failing: ['H1'] };
    const w2 = { version: 2, status: 'published' as const, values: { suara_paslon_1: 117 }, failing: [] };
    expect(editFindings(tps, 'pkwkp-62', [w1, w2])[0]).toMatchObject({ rule: 'T2', kind: 'CONTEXT' });
    // An edit of a version that was never published is not an edit after publication.
    expect(editFindings(tps, 'pkwkp-62', [{ ...v2, version: 1 }, { ...v1, version: 2 }])).toEqual([]);
  });

  it('M1: KPU says 617, the photo reads 117 (T-S-15); equal sources are quiet', () => {
    const f = sourceMismatchFinding(tps, 'ppwp', { values: { '100026': 117, suara_sah: 300 }, ref: 'result:x' }, { source: 'kpu', values: { '100026': 617, suara_sah: 300 }, ref: 'source:kpu' });
    expect(f).toMatchObject({ rule: 'M1', kind: 'SOURCE_MISMATCH', impactVotes: 500 });
    expect(sourceMismatchFinding(tps, 'ppwp', { values: { a: 1 }, ref: 'x' }, { source: 'kpu', values: { a: 1 }, ref: 'y' })).toBeNull();
  });

  it('R1: a desa recap row 150 above the TPS sum is blamed on the TPS whose annex row differs (T-H-10)', () => {
    const rows = [{ tpsCode: 'A', values: { p1: 100 } }, { tpsCode: 'B', values: { p1: 50 } }];
    const f = recapFindings('6201011013', 'pkwkp-62', rows, { values: { p1: 300 }, perTps: { A: { p1: 100 }, B: { p1: 200 } }, ref: 'recap:1' });
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ rule: 'R1', kind: 'RECAP', tpsCode: 'B', impactVotes: 150 });
    expect(recapFindings('6201011013', 'pkwkp-62', rows, { values: { p1: 150 }, ref: 'recap:1' })).toEqual([]);
  });
});
