/**
 * What a printed page needs from the database: the contest (title, candidate names and count) and the
 * TPS's area names. Uses drizzle's typed query builder over db/schema (no SQL text here).
 */
import { and, asc, eq, inArray, like } from 'drizzle-orm';
import type { Database } from '../../../db/client.js';
import { areas, contests, candidates, tps } from '../../../db/schema/index.js';
import type { CandidateName, FormHeader } from './index.js';

export interface ContestForForm {
  id: string;
  name: string;
  type: string;
  areaCode: string;
  /** Paslon rows on the form (the "kolom kosong" row is not a candidate). */
  candidateCount: number;
  candidates: CandidateName[];
  /** KPU paslon ids in number order. */
  candidateIds: string[];
}

export class FormContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormContextError';
  }
}

export async function loadContestForForm(database: Database, contestId: string): Promise<ContestForForm> {
  const [c] = await database.db.select().from(contests).where(eq(contests.id, contestId));
  if (!c) throw new FormContextError(`unknown contest "${contestId}"`);
  const rows = await database.db.select().from(candidates).where(eq(candidates.contestId, contestId)).orderBy(asc(candidates.number));
  const real = rows.filter((r) => !r.isEmptyColumn);
  if (real.length < 1 || real.length > 6) throw new FormContextError(`contest ${contestId} has ${real.length} candidate pairs; the C.Hasil-KWK templates cover 1..6`);
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    areaCode: c.areaCode,
    candidateCount: real.length,
    candidates: real.map((r) => ({ number: r.number, headName: r.headName, deputyName: r.deputyName })),
    candidateIds: real.map((r) => r.id),
  };
}

/** The printed title line of a contest, from its type and area name. */
export function contestTitle(contest: Pick<ContestForForm, 'name'>): string {
  // Seeded names are already "Pemilihan Gubernur dan Wakil Gubernur Aceh"; older rows may omit "Pemilihan".
  return contest.name.toLowerCase().startsWith('pemilihan') ? contest.name : `Pemilihan ${contest.name}`;
}

/** The header of one TPS's page for one contest; the TPS must lie inside the contest's area. */
export async function headerForTps(database: Database, contest: ContestForForm, tpsCode: string): Promise<FormHeader> {
  if (!/^\d{13}$/.test(tpsCode)) throw new FormContextError(`TPS code must be 13 digits (desa code + TPS number), got "${tpsCode}"`);
  const [t] = await database.db.select().from(tps).where(eq(tps.code, tpsCode));
  if (!t) throw new FormContextError(`unknown TPS ${tpsCode}`);
  if (!tpsCode.startsWith(contest.areaCode)) throw new FormContextError(`TPS ${tpsCode} is not in the area of contest ${contest.id} (${contest.areaCode})`);
  const codes = [t.provCode, t.kabCode, t.kecCode, t.desaCode];
  const rows = await database.db.select().from(areas).where(inArray(areas.code, codes));
  const name = (code: string) => rows.find((r) => r.code === code)?.name ?? code;
  return {
    provinsi: name(t.provCode),
    kabupaten: name(t.kabCode),
    kecamatan: name(t.kecCode),
    desa: name(t.desaCode),
    tps: `${String(t.number).padStart(3, '0')}  (${tpsCode})`,
    contestTitle: contestTitle(contest),
    candidates: contest.candidates,
  };
}

/** Up to `limit` TPS of a contest's area with their registered voters, in code order (synth picks among them by seed). */
export async function tpsOfContest(database: Database, contest: ContestForForm, limit = 20000): Promise<{ code: string; votersL: number; votersP: number }[]> {
  return database.db
    .select({ code: tps.code, votersL: tps.votersL, votersP: tps.votersP })
    .from(tps)
    .where(and(like(tps.code, `${contest.areaCode}%`)))
    .orderBy(asc(tps.code))
    .limit(limit);
}
