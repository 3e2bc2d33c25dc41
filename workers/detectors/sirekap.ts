/**
 * Sirekap's public per-TPS JSON (DOMAIN §7.1) as a second source: parse one record into field values
 * and check the record's own arithmetic with the hard rules. Pemilu keys differ from Pilkada ones
 * (Pemilu `pengguna_dptb` = moved-in, `pengguna_non_dpt` = e-KTP), so values are mapped onto the
 * rule engine's keys for checking and the field names are mapped back for display.
 */
import { evaluateTps, type RuleResult } from '../rules/index.js';
import { hardRuleFindings } from './deterministic.js';
import type { Finding } from './types.js';

export interface SirekapRecord {
  tpsCode: string;
  /** Candidate id → votes (the chart without its `"null": null` entry). Empty when not digitised. */
  chart: Record<string, number>;
  /** administrasi numbers as served (Pemilu keys). Empty when not digitised. */
  administrasi: Record<string, number>;
  ts: string | null;
  psu: string | null;
  images: string[];
}

export class SirekapFormatError extends Error {}

const TPS_CODE = /^\d{13}$/;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 99_999;

/** One raw record → SirekapRecord, or a SirekapFormatError naming what is wrong. */
export function parseSirekapRecord(tpsCode: string, raw: unknown): SirekapRecord {
  if (!TPS_CODE.test(tpsCode)) throw new SirekapFormatError(`"${tpsCode}" is not a 13-digit TPS code`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SirekapFormatError(`TPS ${tpsCode}: record is not an object`);
  const r = raw as Record<string, unknown>;
  const chart: Record<string, number> = {};
  if (r.chart !== null && r.chart !== undefined) {
    if (typeof r.chart !== 'object' || Array.isArray(r.chart)) throw new SirekapFormatError(`TPS ${tpsCode}: chart is not an object`);
    for (const [k, v] of Object.entries(r.chart as Record<string, unknown>)) {
      if (k === 'null' || k === 'persen' || v === null) continue;
      if (!/^\d{6,7}$/.test(k)) throw new SirekapFormatError(`TPS ${tpsCode}: chart key "${k}" is not a candidate id`);
      if (!isCount(v)) throw new SirekapFormatError(`TPS ${tpsCode}: chart["${k}"] = ${JSON.stringify(v)} is not a vote count`);
      chart[k] = v;
    }
  }
  const administrasi: Record<string, number> = {};
  if (r.administrasi !== null && r.administrasi !== undefined) {
    if (typeof r.administrasi !== 'object' || Array.isArray(r.administrasi)) throw new SirekapFormatError(`TPS ${tpsCode}: administrasi is not an object`);
    for (const [k, v] of Object.entries(r.administrasi as Record<string, unknown>)) {
      if (v === null) continue;
      if (!/^[a-z_]+$/.test(k)) throw new SirekapFormatError(`TPS ${tpsCode}: administrasi key "${k}" is not a field name`);
      if (!isCount(v)) throw new SirekapFormatError(`TPS ${tpsCode}: administrasi.${k} = ${JSON.stringify(v)} is not a count`);
      administrasi[k] = v;
    }
  }
  const images = Array.isArray(r.images) ? (r.images.filter((x) => typeof x === 'string') as string[]) : [];
  return { tpsCode, chart, administrasi, ts: typeof r.ts === 'string' ? r.ts : null, psu: typeof r.psu === 'string' ? r.psu : null, images };
}

/** Records of one file: `{ tps: { code: raw } }` (a bundle), `{ code: raw }`, or one raw record named `<code>.json`. */
export function recordsOfFile(fileName: string, json: unknown): { records: SirekapRecord[]; errors: string[] } {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new SirekapFormatError('top level is not a JSON object');
  const o = json as Record<string, unknown>;
  let entries: [string, unknown][];
  if (o.tps && typeof o.tps === 'object' && !Array.isArray(o.tps)) entries = Object.entries(o.tps as Record<string, unknown>);
  else if ('chart' in o || 'administrasi' in o) {
    const m = /(\d{13})(?:\.json)?$/.exec(fileName.replace(/\\/g, '/').split('/').pop() ?? '');
    if (!m) throw new SirekapFormatError('a single TPS record must be named <13-digit TPS code>.json');
    entries = [[m[1], o]];
  } else if (Object.keys(o).length > 0 && Object.keys(o).every((k) => TPS_CODE.test(k))) entries = Object.entries(o);
  else throw new SirekapFormatError('not a Sirekap TPS file (expected {tps: {...}}, {<tps code>: record} or one record with chart/administrasi)');
  const records: SirekapRecord[] = [];
  const errors: string[] = [];
  for (const [code, raw] of entries) {
    try {
      records.push(parseSirekapRecord(code, raw));
    } catch (err) {
      if (!(err instanceof SirekapFormatError)) throw err;
      errors.push(err.message);
    }
  }
  return { records, errors };
}

/** The values stored for the source: candidate ids and administrasi keys as served. */
export function sourceValues(r: SirekapRecord): Record<string, number> {
  return { ...r.chart, ...r.administrasi };
}

const PEMILU_TO_RULES: Record<string, string> = { pengguna_dptb: 'pengguna_dpph', pengguna_non_dpt: 'pengguna_dptb' };
const RULES_TO_PEMILU: Record<string, string> = { pengguna_dpph: 'pengguna_dptb', pengguna_dptb: 'pengguna_non_dpt' };

function mapKey(k: string, table: Record<string, string>): string {
  const m = /^(.*)_([lpj])$/.exec(k);
  if (m && table[m[1]]) return `${table[m[1]]}_${m[2]}`;
  return table[k] ?? k;
}

/** The record's own arithmetic (H1–H15 that its fields allow; the rest are UNKNOWN and not reported). */
export function checkSirekapRecord(r: SirekapRecord, candidateIds: readonly string[]): RuleResult[] {
  const hasVotes = Object.keys(r.chart).length > 0;
  const administrasi: Record<string, number> = {};
  const perolehan: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.administrasi)) {
    if (k.startsWith('suara_')) perolehan[k] = v;
    else administrasi[mapKey(k, PEMILU_TO_RULES)] = v;
  }
  if (hasVotes) candidateIds.forEach((id, i) => { if (r.chart[id] !== undefined) perolehan[`suara_paslon_${i + 1}`] = r.chart[id]; });
  return evaluateTps({
    administrasi: Object.keys(administrasi).length ? administrasi : null,
    perolehan: Object.keys(perolehan).length ? perolehan : null,
    register: null, candidateCount: candidateIds.length, hasEmptyColumn: false, election: 'PEMILU_2024',
  }).results;
}

/**
 * The record's own arithmetic: identities (H1 Σ chart = sah, H2 sah + tidak sah = total, H3 lists add
 * up, H4 voters = ballots, H7 L + P = J) and H8 (no candidate above sah). Bounds that depend on facts
 * the feed does not carry (the TPS type's cap, separate ballots for moved voters: H10, H13–H15) are
 * left to the publish path, which knows the register; an arithmetically consistent record is never
 * flagged here.
 */
export const SIREKAP_ARITHMETIC_RULES: ReadonlySet<string> = new Set(['H1', 'H2', 'H3', 'H4', 'H7', 'H8']);

/** Findings for a record's failed arithmetic, with Sirekap field names and candidate ids in the text. */
export function sirekapFindings(r: SirekapRecord, contestId: string, candidateIds: readonly string[], sourceRef: string): Finding[] {
  const results = checkSirekapRecord(r, candidateIds).filter((x) => SIREKAP_ARITHMETIC_RULES.has(x.rule));
  const rename = (k: string) => {
    const p = /^suara_paslon_(\d+)$/.exec(k);
    if (p) return candidateIds[Number(p[1]) - 1] ?? k;
    return mapKey(k, RULES_TO_PEMILU);
  };
  return hardRuleFindings({ tpsCode: r.tpsCode, desaCode: r.tpsCode.slice(0, 10) }, contestId, results, { evidence: [sourceRef, ...r.images.map((u) => `kpu-image:${u}`)], source: 'kpu', fieldName: rename })
    .map((f) => ({ ...f, rule: f.rule, key: 'kpu', detail: { ...f.detail, sourceTs: r.ts } }));
}

export const PPWP_CANDIDATES = [
  { id: '100025', number: 1, headName: 'H. Anies Rasyid Baswedan, Ph.D.', deputyName: 'Dr. (H.C.) H. A. Muhaimin Iskandar', colour: '#8CB9BD' },
  { id: '100026', number: 2, headName: 'H. Prabowo Subianto', deputyName: 'Gibran Rakabuming Raka', colour: '#D8B4A0' },
  { id: '100027', number: 3, headName: 'H. Ganjar Pranowo, S.H., M.I.P.', deputyName: 'Prof. Dr. H. M. Mahfud MD', colour: '#C83E4D' },
] as const;
