import { describe, expect, it } from 'vitest';
import { evaluateCrossContest, evaluateTps, type PageValues, type RuleResult, type TpsRuleInput } from './index.js';
import { reserveBallots } from './constants.js';

/** A Pilkada TPS that satisfies every rule: DPT 250 (120 L / 130 P), reserve ceil(2.5% × 250) = 7. */
function cleanAdministrasi(): PageValues {
  return {
    pemilih_dpt_l: 120, pemilih_dpt_p: 130, pemilih_dpt_j: 250,
    pemilih_dpph_l: 2, pemilih_dpph_p: 1, pemilih_dpph_j: 3,
    pemilih_dptb_l: 1, pemilih_dptb_p: 2, pemilih_dptb_j: 3,
    pemilih_total_l: 123, pemilih_total_p: 133, pemilih_total_j: 256,
    pengguna_dpt_l: 95, pengguna_dpt_p: 105, pengguna_dpt_j: 200,
    pengguna_dpph_l: 2, pengguna_dpph_p: 1, pengguna_dpph_j: 3,
    pengguna_dptb_l: 1, pengguna_dptb_p: 2, pengguna_dptb_j: 3,
    pengguna_total_l: 98, pengguna_total_p: 108, pengguna_total_j: 206,
    pemilih_disabilitas_l: 2, pemilih_disabilitas_p: 1, pemilih_disabilitas_j: 3,
    pengguna_disabilitas_l: 1, pengguna_disabilitas_p: 1, pengguna_disabilitas_j: 2,
    surat_diterima: 257, surat_digunakan: 206, surat_dikembalikan: 1, surat_tidak_digunakan: 50,
  };
}
function cleanPerolehan(): PageValues {
  return { suara_paslon_1: 100, suara_paslon_2: 60, suara_paslon_3: 40, suara_sah: 200, suara_tidak_sah: 6, suara_total: 206 };
}
function cleanInput(): TpsRuleInput {
  return {
    administrasi: cleanAdministrasi(),
    perolehan: cleanPerolehan(),
    register: { votersL: 120, votersP: 130, isSpecial: false },
    candidateCount: 3,
  };
}

function byRule(results: RuleResult[], rule: string): RuleResult[] {
  return results.filter((r) => r.rule === rule);
}
function failures(results: RuleResult[]): RuleResult[] {
  return results.filter((r) => r.status === 'FAIL');
}

describe('evaluateTps on a consistent TPS', () => {
  it('passes every rule and is publishable and complete', () => {
    const v = evaluateTps(cleanInput());
    expect(failures(v.results)).toEqual([]);
    expect(v.results.filter((r) => r.status === 'UNKNOWN')).toEqual([]);
    expect(v).toMatchObject({ publishable: true, complete: true, quarantined: false });
    for (let h = 1; h <= 15; h++) expect(byRule(v.results, `H${h}`).length, `H${h}`).toBeGreaterThan(0);
  });
});

/**
 * Per rule: a mutation that must make exactly that rule FAIL with the given delta (other rules may fail
 * too, as on a real form), and the fields whose absence must make it UNKNOWN.
 */
interface RuleCase {
  rule: string;
  check?: string;
  mutate: (i: TpsRuleInput) => void;
  delta: number;
  unknownWhen: (i: TpsRuleInput) => void;
  hard?: boolean;
}
const A = (i: TpsRuleInput) => i.administrasi as PageValues;
const P = (i: TpsRuleInput) => i.perolehan as PageValues;

const cases: RuleCase[] = [
  { rule: 'H1', mutate: (i) => { P(i).suara_paslon_2 = 560; }, delta: 500, unknownWhen: (i) => { delete P(i).suara_paslon_3; } },
  { rule: 'H2', mutate: (i) => { P(i).suara_tidak_sah = 9; }, delta: 3, unknownWhen: (i) => { P(i).suara_tidak_sah = null; } },
  { rule: 'H3', check: 'pengguna_dpt_l + pengguna_dpph_l + pengguna_dptb_l = pengguna_total_l', mutate: (i) => { A(i).pengguna_total_l = 90; }, delta: 8, unknownWhen: (i) => { delete A(i).pengguna_dptb_l; } },
  { rule: 'H3', check: 'pemilih_dpt_j + pemilih_dpph_j + pemilih_dptb_j = pemilih_total_j', mutate: (i) => { A(i).pemilih_total_j = 259; }, delta: -3, unknownWhen: (i) => { delete A(i).pemilih_total_j; } },
  { rule: 'H4', mutate: (i) => { P(i).suara_total = 207; P(i).suara_tidak_sah = 7; }, delta: -1, unknownWhen: (i) => { i.administrasi = null; } },
  { rule: 'H5', mutate: (i) => { A(i).surat_digunakan = 216; A(i).surat_tidak_digunakan = 40; }, delta: 10, unknownWhen: (i) => { delete A(i).surat_digunakan; } },
  { rule: 'H6', mutate: (i) => { A(i).surat_dikembalikan = 4; }, delta: -3, unknownWhen: (i) => { delete A(i).surat_tidak_digunakan; } },
  { rule: 'H7', check: 'pengguna_dpt_l + pengguna_dpt_p = pengguna_dpt_j', mutate: (i) => { A(i).pengguna_dpt_p = 115; }, delta: 10, unknownWhen: (i) => { delete A(i).pengguna_dpt_j; } },
  { rule: 'H8', check: '0 ≤ field ≤ 999, integer', mutate: (i) => { P(i).suara_tidak_sah = 1006; }, delta: 7, unknownWhen: (i) => { i.administrasi = null; i.perolehan = null; } },
  { rule: 'H8', check: 'suara_paslon_1 ≤ suara_sah', mutate: (i) => { P(i).suara_paslon_1 = 230; }, delta: 30, unknownWhen: (i) => { delete P(i).suara_sah; } },
  { rule: 'H9', check: 'pemilih_dpt_j = register.dpt_j', mutate: (i) => { i.register = { votersL: 120, votersP: 135, isSpecial: false }; }, delta: -5, unknownWhen: (i) => { i.register = null; } },
  { rule: 'H10', check: 'pengguna_dpt_l ≤ pemilih_dpt_l', mutate: (i) => { A(i).pengguna_dpt_l = 125; }, delta: 5, unknownWhen: (i) => { delete A(i).pemilih_dpt_l; } },
  { rule: 'H10', check: 'pengguna_disabilitas_j ≤ pengguna_total_j', mutate: (i) => { A(i).pengguna_total_j = 1; }, delta: 1, unknownWhen: (i) => { delete A(i).pengguna_total_j; } },
  { rule: 'H11', mutate: (i) => { A(i).surat_diterima = 200; }, delta: 6, unknownWhen: (i) => { delete A(i).surat_diterima; } },
  { rule: 'H12', mutate: (i) => { A(i).surat_diterima = 262; }, delta: 3, hard: false, unknownWhen: (i) => { delete A(i).surat_diterima; } },
  { rule: 'H13', check: 'pengguna_total_j ≤ register.dpt_j + reserve(7) + extra(0)', mutate: (i) => { A(i).pengguna_total_j = 260; }, delta: 3, unknownWhen: (i) => { delete A(i).pengguna_total_j; } },
  { rule: 'H14', check: 'pemilih_dpt_j ≤ cap(600)', mutate: (i) => { A(i).pemilih_dpt_j = 610; }, delta: 10, unknownWhen: (i) => { delete A(i).pemilih_dpt_j; } },
  { rule: 'H15', mutate: (i) => { P(i).suara_total = 800; }, delta: 185, unknownWhen: (i) => { delete P(i).suara_total; } },
];

describe.each(cases)('$rule $check', (tc) => {
  const pick = (results: RuleResult[]) => byRule(results, tc.rule).filter((r) => !tc.check || r.check === tc.check);

  it('PASS on the consistent TPS', () => {
    const rs = pick(evaluateTps(cleanInput()).results);
    expect(rs.length).toBeGreaterThan(0);
    for (const r of rs) expect(r.status).toBe('PASS');
  });

  it('FAIL with the residual', () => {
    const input = cleanInput();
    tc.mutate(input);
    const v = evaluateTps(input);
    const failed = pick(v.results).filter((r) => r.status === 'FAIL');
    expect(failed.length, JSON.stringify(pick(v.results))).toBe(1);
    const f = failed[0]!;
    if (f.status !== 'FAIL') throw new Error('unreachable');
    expect(f.delta).toBe(tc.delta);
    expect(f.fields.length).toBeGreaterThan(0);
    expect(f.class).toBe(tc.hard === false ? 'SOFT' : 'HARD');
    expect(v.publishable).toBe(tc.hard === false ? !failures(v.results).some((r) => r.class === 'HARD') : false);
    if (tc.hard !== false) expect(v.quarantined).toBe(true);
  });

  it('UNKNOWN with the missing fields, never PASS', () => {
    const input = cleanInput();
    tc.unknownWhen(input);
    const rs = pick(evaluateTps(input).results);
    expect(rs.some((r) => r.status === 'UNKNOWN')).toBe(true);
    for (const r of rs) {
      expect(r.status).not.toBe('FAIL');
      if (r.status === 'UNKNOWN') expect(r.missing.length).toBeGreaterThan(0);
    }
  });
});

describe('INTEGRITY §8.2 hard-rule scenarios', () => {
  it('T-H-2: DPT 250, 3 e-KTP voters on top of the DPT → no H13/H15 flag (Pemilu reserve 5)', () => {
    const input = cleanInput();
    input.election = 'PEMILU_2024';
    expect(reserveBallots(250, 20)).toBe(5);
    A(input).pengguna_total_j = 253;
    const v = evaluateTps(input);
    expect(byRule(v.results, 'H13').filter((r) => r.status === 'FAIL')).toEqual([]);
    expect(byRule(v.results, 'H15').filter((r) => r.status === 'FAIL')).toEqual([]);
  });

  it('T-H-3: DPT 250, U_tot 258 → H13 FAIL by 3 (Pemilu)', () => {
    const input = cleanInput();
    input.election = 'PEMILU_2024';
    A(input).pengguna_total_j = 258;
    const h13 = byRule(evaluateTps(input).results, 'H13').find((r) => r.status === 'FAIL');
    expect(h13).toMatchObject({ status: 'FAIL', delta: 3 });
  });

  it('T-H-4: a lokasi-khusus TPS is capped by its own register, not 600', () => {
    const input = cleanInput();
    input.register = { votersL: 400, votersP: 300, isSpecial: true };
    Object.assign(A(input), { pemilih_dpt_l: 400, pemilih_dpt_p: 300, pemilih_dpt_j: 700 });
    Object.assign(P(input), { suara_paslon_1: 400, suara_paslon_2: 200, suara_paslon_3: 100, suara_sah: 700, suara_tidak_sah: 5, suara_total: 705 });
    const v = evaluateTps(input);
    expect([...byRule(v.results, 'H14'), ...byRule(v.results, 'H15')].map((r) => r.status)).toEqual(['PASS', 'PASS']);
    // The same numbers at a regular TPS break both caps.
    input.register = { votersL: 400, votersP: 300, isSpecial: false };
    const regular = evaluateTps(input);
    expect(byRule(regular.results, 'H14').every((r) => r.status === 'FAIL')).toBe(true);
    expect(byRule(regular.results, 'H15')[0]).toMatchObject({ status: 'FAIL', delta: 705 - 615 });
  });

  it('T-H-5: Pilkada DPT 520, TOT 530 (reserve 13) → no flag', () => {
    expect(reserveBallots(520, 25)).toBe(13);
    const input = cleanInput();
    input.register = { votersL: 260, votersP: 260, isSpecial: false };
    Object.assign(A(input), { pemilih_dpt_l: 260, pemilih_dpt_p: 260, pemilih_dpt_j: 520 });
    input.administrasi = null;
    Object.assign(P(input), { suara_paslon_1: 300, suara_paslon_2: 150, suara_paslon_3: 70, suara_sah: 520, suara_tidak_sah: 10, suara_total: 530 });
    const v = evaluateTps(input);
    expect(failures(v.results)).toEqual([]);
    P(input).suara_total = 534;
    P(input).suara_tidak_sah = 14;
    expect(byRule(evaluateTps(input).results, 'H13').find((r) => r.status === 'FAIL')).toMatchObject({ delta: 1 });
  });

  it('T-H-1: Aceh-like TOT 800 fails H15 and quarantines', () => {
    const input = cleanInput();
    Object.assign(P(input), { suara_paslon_1: 700, suara_paslon_2: 60, suara_paslon_3: 40, suara_sah: 800, suara_tidak_sah: 0, suara_total: 800 });
    const v = evaluateTps(input);
    expect(byRule(v.results, 'H15')[0]).toMatchObject({ status: 'FAIL', delta: 185 });
    expect(v.quarantined).toBe(true);
  });

  it('T-H-11: page 1 not uploaded → H4–H6 UNKNOWN; incomplete but publishable', () => {
    const input = cleanInput();
    input.administrasi = null;
    const v = evaluateTps(input);
    for (const rule of ['H4', 'H5', 'H6']) expect(byRule(v.results, rule).every((r) => r.status === 'UNKNOWN')).toBe(true);
    expect(v).toMatchObject({ publishable: true, complete: false, quarantined: false });
  });

  it('a single-candidate race counts kolom kosong in H1', () => {
    const input = cleanInput();
    input.candidateCount = 1;
    input.perolehan = { suara_paslon_1: 150, suara_kolom_kosong: 50, suara_sah: 200, suara_tidak_sah: 6, suara_total: 206 };
    expect(byRule(evaluateTps(input).results, 'H1')[0]!.status).toBe('PASS');
    delete P(input).suara_kolom_kosong;
    expect(byRule(evaluateTps(input).results, 'H1')[0]).toMatchObject({ status: 'UNKNOWN', missing: ['suara_kolom_kosong'] });
  });

  it('rejects malformed parameters with a clear error', () => {
    expect(() => evaluateTps({ ...cleanInput(), candidateCount: 0 })).toThrow(/candidateCount/);
    expect(() => evaluateTps({ ...cleanInput(), register: { votersL: -1, votersP: 2, isSpecial: false } })).toThrow(/votersL/);
  });
});

describe('cross-contest rules X1–X3', () => {
  it('PASS, FAIL with delta, UNKNOWN', () => {
    const upper = cleanAdministrasi();
    const lower = cleanAdministrasi();
    expect(evaluateCrossContest({ upper, lower }).every((r) => r.status === 'PASS')).toBe(true);

    // T-H-8: R_dpt differs between the two races' forms.
    const x1 = evaluateCrossContest({ upper, lower: { ...lower, pemilih_dpt_j: 251 } }).filter((r) => r.rule === 'X1' && r.status === 'FAIL');
    expect(x1).toEqual([expect.objectContaining({ delta: -1, class: 'HARD' })]);

    const x2ok = evaluateCrossContest({ upper, lower: { ...lower, pengguna_dpt_j: 202 } }).filter((r) => r.rule === 'X2');
    expect(x2ok.every((r) => r.status === 'PASS')).toBe(true);
    const x2 = evaluateCrossContest({ upper, lower: { ...lower, pengguna_dpt_j: 203 } }).find((r) => r.rule === 'X2' && r.status === 'FAIL');
    expect(x2).toMatchObject({ delta: -3, class: 'SOFT' });

    const x3 = evaluateCrossContest({ upper, lower: { ...lower, pengguna_dpph_j: 5 } }).find((r) => r.rule === 'X3');
    expect(x3).toMatchObject({ status: 'FAIL', delta: 2 });

    const unknown = evaluateCrossContest({ upper, lower: null });
    expect(unknown.every((r) => r.status === 'UNKNOWN')).toBe(true);
  });
});
