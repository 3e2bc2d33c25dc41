/**
 * Helpers for the ingest/publish/realtime/feeds tests: TPS of the seeded Kalimantan Tengah database and
 * plausible form values that satisfy every identity of INTEGRITY §2 for a TPS's master register.
 */
import { mulberry32 } from '../db/seed/random.js';
import type { Sql } from '../db/client.js';
import type { PageReading } from '../workers/reader/types.js';

export interface TpsInfo { code: string; votersL: number; votersP: number; desaCode: string; kecCode: string; kabCode: string; provCode: string }

export async function pickTps(sql: Sql, prefix: string, n: number, opts: { spread?: boolean } = {}): Promise<TpsInfo[]> {
  return sql<TpsInfo[]>`
    select code, voters_l as "votersL", voters_p as "votersP", desa_code as "desaCode", kec_code as "kecCode", kab_code as "kabCode", prov_code as "provCode"
    from tps where code like ${prefix + '%'} and not is_special and voters_l + voters_p between 50 and 600 order by ${opts.spread ? sql`md5(code)` : sql`code`} limit ${n}`;
}

export async function candidateCount(sql: Sql, contestId: string): Promise<number> {
  const [r] = await sql<{ n: number }[]>`select count(*)::int as n from candidates where contest_id = ${contestId} and not is_empty_column`;
  return r.n;
}

/** Deterministic PRNG so a failing run can be replayed. */
export const rng = mulberry32;

const split = (total: number, parts: number, r: () => number) => {
  const cuts = Array.from({ length: parts - 1 }, () => Math.floor(r() * (total + 1))).sort((a, b) => a - b);
  return [...cuts, total].map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]));
};

/** Both pages of a Pilkada C.Hasil for this TPS, consistent with its master register. */
export function formValues(tps: TpsInfo, candidates: number, r: () => number): Record<string, number> {
  const v: Record<string, number> = {};
  const dptL = tps.votersL, dptP = tps.votersP;
  const usedL = Math.floor(dptL * (0.5 + 0.4 * r()));
  const usedP = Math.floor(dptP * (0.5 + 0.4 * r()));
  const row = (name: string, l: number, p: number) => { v[`${name}_l`] = l; v[`${name}_p`] = p; v[`${name}_j`] = l + p; };
  row('pemilih_dpt', dptL, dptP);
  row('pemilih_dpph', 0, 0);
  row('pemilih_dptb', 0, 0);
  row('pemilih_total', dptL, dptP);
  row('pengguna_dpt', usedL, usedP);
  row('pengguna_dpph', 0, 0);
  row('pengguna_dptb', 0, 0);
  row('pengguna_total', usedL, usedP);
  const total = usedL + usedP;
  const invalid = Math.min(total, Math.floor(r() * 8));
  const sah = total - invalid;
  split(sah, candidates, r).forEach((n, i) => { v[`suara_paslon_${i + 1}`] = n; });
  v.suara_sah = sah;
  v.suara_tidak_sah = invalid;
  v.suara_total = total;
  return v;
}

/** A reading as the reader would return it for one page (used where a real photo read is not the point). */
export function readingFor(values: Record<string, number>, page: 'administrasi' | 'perolehan', cls: PageReading['class'] = 'READ_OK'): PageReading {
  const keys = Object.keys(values).filter((k) => (page === 'perolehan' ? k.startsWith('suara_') : !k.startsWith('suara_')));
  return {
    page, templateId: `test-${page}`, markId: null, alignmentScore: 0.99, class: cls,
    fields: Object.fromEntries(keys.map((k) => [k, { value: values[k], p: 0.99, raw: values[k], boxes: [], roi: [] }])),
    changes: [], residuals: {}, post: 0.99, pConsistent: 0.99, timingsMs: {}, readerVersion: 'test-reader',
  };
}

export const sumVotes = (v: Record<string, number>, n: number) => Array.from({ length: n }, (_, i) => v[`suara_paslon_${i + 1}`]).reduce((a, b) => a + b, 0);
