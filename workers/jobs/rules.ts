import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { ContestInfo, EvaluateFn, RuleResult, TpsMaster, Verdict } from '../../db/repositories/publish.js';

/**
 * The publication gate. The hard rules proper live in `workers/rules` (INTEGRITY §2–3, decoder
 * engineer); when that module is present its `evaluateTps` is used. Until then, and as a floor, this
 * file evaluates the vote-arithmetic rules the publish path cannot do without (H1, H2, H4, H7, H8,
 * H9, H10, H13, H14, H15) with the same RuleResult semantics: UNKNOWN is not PASS.
 */

const PILKADA = { cap: 600, rate: 0.025 };
const PEMILU = { cap: 300, rate: 0.02 };

function pass(rule: string, cls: 'HARD' | 'SOFT' = 'HARD'): RuleResult { return { rule, class: cls, status: 'PASS' }; }
function check(rule: string, values: Record<string, number>, fields: string[], lhs: (v: Record<string, number>) => number, rhs: (v: Record<string, number>) => number, cmp: 'eq' | 'le' = 'eq', cls: 'HARD' | 'SOFT' = 'HARD'): RuleResult {
  const missing = fields.filter((f) => typeof values[f] !== 'number');
  if (missing.length) return { rule, class: cls, status: 'UNKNOWN', missing };
  const delta = lhs(values) - rhs(values);
  const ok = cmp === 'eq' ? delta === 0 : delta <= 0;
  return ok ? pass(rule, cls) : { rule, class: cls, status: 'FAIL', delta, fields };
}

/** Combine results of the same rule id (e.g. H7 over every person row): first FAIL wins, then UNKNOWN. */
function combine(rule: string, parts: RuleResult[]): RuleResult {
  const fail = parts.filter((p) => p.status === 'FAIL') as Extract<RuleResult, { status: 'FAIL' }>[];
  if (fail.length) return { rule, class: 'HARD', status: 'FAIL', delta: fail.reduce((a, f) => (Math.abs(f.delta) > Math.abs(a) ? f.delta : a), 0), fields: [...new Set(fail.flatMap((f) => f.fields))] };
  const unknown = parts.filter((p) => p.status === 'UNKNOWN') as Extract<RuleResult, { status: 'UNKNOWN' }>[];
  if (unknown.length === parts.length) return { rule, class: 'HARD', status: 'UNKNOWN', missing: [...new Set(unknown.flatMap((u) => u.missing))] };
  return pass(rule);
}

export function evaluateBuiltin(input: { tps: TpsMaster; contest: ContestInfo; values: Record<string, number> }): Verdict {
  const { tps, contest, values: v } = input;
  const params = contest.type === 'ppwp' ? PEMILU : PILKADA;
  const voteKeys = contest.candidates.map((c) => (c.isEmptyColumn ? 'suara_kolom_kosong' : `suara_paslon_${c.number}`));
  const dptMaster = tps.votersL + tps.votersP;
  const reserve = Math.ceil(params.rate * dptMaster);
  const results: RuleResult[] = [];

  results.push(check('H1', v, [...voteKeys, 'suara_sah'], (x) => voteKeys.reduce((a, k) => a + x[k], 0), (x) => x.suara_sah));
  results.push(check('H2', v, ['suara_sah', 'suara_tidak_sah', 'suara_total'], (x) => x.suara_sah + x.suara_tidak_sah, (x) => x.suara_total));
  const moved = contest.type === 'ppwp' ? 'pengguna_dptb' : 'pengguna_dpph';
  const ektp = contest.type === 'ppwp' ? 'pengguna_non_dpt' : 'pengguna_dptb';
  results.push(combine('H3', ['l', 'p', 'j'].map((s) => check('H3', v, [`pengguna_dpt_${s}`, `${moved}_${s}`, `${ektp}_${s}`, `pengguna_total_${s}`],
    (x) => x[`pengguna_dpt_${s}`] + x[`${moved}_${s}`] + x[`${ektp}_${s}`], (x) => x[`pengguna_total_${s}`]))));
  results.push(check('H4', v, ['pengguna_total_j', 'suara_total'], (x) => x.pengguna_total_j, (x) => x.suara_total));
  const personRows = [...new Set(Object.keys(v).filter((k) => /_(l|p|j)$/.test(k)).map((k) => k.slice(0, -2)))];
  results.push(combine('H7', personRows.map((row) => check('H7', v, [`${row}_l`, `${row}_p`, `${row}_j`], (x) => x[`${row}_l`] + x[`${row}_p`], (x) => x[`${row}_j`]))));
  const h8: RuleResult[] = Object.entries(v).map(([k, n]) => (Number.isInteger(n) && n >= 0 && n <= 999 ? pass('H8') : { rule: 'H8', class: 'HARD' as const, status: 'FAIL' as const, delta: n > 999 ? n - 999 : n, fields: [k] }));
  for (const k of voteKeys) if (typeof v[k] === 'number' && typeof v.suara_sah === 'number' && v[k] > v.suara_sah) h8.push({ rule: 'H8', class: 'HARD', status: 'FAIL', delta: v[k] - v.suara_sah, fields: [k, 'suara_sah'] });
  results.push(h8.length ? combine('H8', h8) : { rule: 'H8', class: 'HARD', status: 'UNKNOWN', missing: voteKeys });
  results.push(check('H9', v, ['pemilih_dpt_j'], (x) => x.pemilih_dpt_j, () => dptMaster));
  results.push(combine('H10', ['l', 'p', 'j'].map((s) => check('H10', v, [`pengguna_dpt_${s}`, `pemilih_dpt_${s}`], (x) => x[`pengguna_dpt_${s}`], (x) => x[`pemilih_dpt_${s}`], 'le'))));
  const usedKey = typeof v.pengguna_total_j === 'number' ? 'pengguna_total_j' : 'suara_total';
  results.push(check('H13', v, [usedKey], (x) => x[usedKey], () => dptMaster + reserve, 'le'));
  results.push(tps.isSpecial ? pass('H14') : check('H14', { dpt: dptMaster }, ['dpt'], (x) => x.dpt, () => params.cap, 'le'));
  const cap = tps.isSpecial ? dptMaster : params.cap;
  const totalKey = typeof v.suara_total === 'number' ? 'suara_total' : 'suara_sah';
  results.push(check('H15', v, [totalKey], (x) => x[totalKey], () => cap + Math.ceil(params.rate * cap), 'le'));

  const hardFail = results.some((r) => r.class === 'HARD' && r.status === 'FAIL');
  const complete = results.every((r) => r.status !== 'UNKNOWN');
  return { publishable: !hardFail, complete, quarantined: hardFail, results };
}

type ExternalEvaluate = (input: {
  administrasi: Record<string, number> | null; perolehan: Record<string, number> | null;
  register: { votersL: number; votersP: number; isSpecial: boolean } | null; candidateCount: number; hasEmptyColumn?: boolean;
  election?: 'PILKADA_2024' | 'PEMILU_2024';
}) => Verdict;

/** Split merged TPS values into the two pages workers/rules expects (a page with no field = not digitised). */
export function splitPages(values: Record<string, number>) {
  const perolehan: Record<string, number> = {};
  const administrasi: Record<string, number> = {};
  let nPer = 0, nAdm = 0;
  for (const k in values) {
    if (k.startsWith('suara_') || k.startsWith('tally_rows')) { perolehan[k] = values[k]; nPer++; }
    else { administrasi[k] = values[k]; nAdm++; }
  }
  return { perolehan: nPer ? perolehan : null, administrasi: nAdm ? administrasi : null };
}

/**
 * The evaluator used by publishing: workers/rules' evaluateTps (H1–H15, one result per check) when it
 * loads; the builtin floor above when it does not, or if it throws on an input.
 */
export async function loadEvaluator(log?: (msg: string, err?: unknown) => void): Promise<EvaluateFn> {
  let external: ExternalEvaluate | null = null;
  try {
    const mod = (await import(pathToFileURL(join(import.meta.dirname, '..', 'rules', 'index.ts')).href).catch(() =>
      import(pathToFileURL(join(import.meta.dirname, '..', 'rules', 'index.js')).href))) as { evaluateTps?: ExternalEvaluate };
    if (typeof mod.evaluateTps === 'function') external = mod.evaluateTps;
  } catch {
    external = null;
  }
  if (!external) return evaluateBuiltin;
  const ext = external;
  return (input) => {
    try {
      const emptyColumn = input.contest.candidates.some((c) => c.isEmptyColumn);
      return ext({
        ...splitPages(input.values),
        register: { votersL: input.tps.votersL, votersP: input.tps.votersP, isSpecial: input.tps.isSpecial },
        candidateCount: input.contest.candidates.filter((c) => !c.isEmptyColumn).length,
        hasEmptyColumn: emptyColumn,
        election: input.contest.type === 'ppwp' ? 'PEMILU_2024' : 'PILKADA_2024',
      });
    } catch (err) {
      log?.('workers/rules evaluateTps failed; using the builtin hard rules', err);
      return evaluateBuiltin(input);
    }
  };
}
