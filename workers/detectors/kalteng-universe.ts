/**
 * The Kalimantan Tengah Pilkada 2024 universe built from the public data in `<repo>/../shared/data`
 * for tests, benchmarks and evaluate.ts (never at run time: that folder is not shipped). Every
 * kecamatan gets exactly the Pilkada TPS count KPU published (progres.total), spread over its desa in
 * proportion to the desa's Pemilu 2024 TPS (largest remainder); the kecamatan prior of each race is
 * its real per-kecamatan result.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Universe, UniverseContest, UniverseTps } from './synthetic.js';

export const SHARED_DATA_DIR = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

export function sharedDataAvailable(dir = SHARED_DATA_DIR): boolean {
  return existsSync(`${dir}/pilkada2024/pkwkp/62/62.json`);
}

interface HhcwFile { tungsura: { chart: Record<string, unknown>; table: Record<string, Record<string, unknown> & { progres?: { total: number } }> } }

const candidateIds = (row: Record<string, unknown>) => Object.keys(row).filter((k) => /^\d{7}$/.test(k)).sort();

export function loadKaltengUniverse(dir = SHARED_DATA_DIR, prov = '62'): Universe {
  const read = <T>(p: string): T => JSON.parse(readFileSync(`${dir}/${p}`, 'utf8')) as T;
  const provFile = read<HhcwFile>(`pilkada2024/pkwkp/${prov}/${prov}.json`);
  const kabCodes = Object.keys(provFile.tungsura.table).sort();
  const paslonP = read<Record<string, Record<string, { nomor_urut: number }>>>('pilkada2024/paslon/pkwkp.json')[prov];
  const paslonK = read<Record<string, Record<string, { nomor_urut: number }>>>('pilkada2024/paslon/pkwkk.json');
  const byNumber = (m: Record<string, { nomor_urut: number }>) => Object.keys(m).sort((a, b) => m[a].nomor_urut - m[b].nomor_urut);
  const contests: UniverseContest[] = [{ id: `pkwkp-${prov}`, type: 'pkwkp', areaCode: prov, candidates: byNumber(paslonP) }];
  const priors = new Map<string, Map<string, Record<string, number>>>([[`pkwkp-${prov}`, new Map()]]);

  // Desa per kecamatan (Kemendagri codes without dots) and Pemilu TPS per desa.
  const desaByKec = new Map<string, string[]>();
  for (const line of readFileSync(`${dir}/wilayah/villages.csv`, 'utf8').split('\n').slice(1)) {
    if (!line.startsWith(`${prov}.`)) continue;
    const [code, kec] = line.split(',');
    const k = kec.replace(/\./g, '');
    const list = desaByKec.get(k) ?? [];
    list.push(code.replace(/\./g, ''));
    desaByKec.set(k, list);
  }
  const pemiluTps = new Map<string, number>();
  for (const line of readFileSync(`${dir}/tps/kpu_tps_ppwp_2024_${prov}.csv`, 'utf8').split('\n').slice(1)) {
    const cols = line.split(',');
    if (cols.length < 5) continue;
    const desa = cols[4].replace(/\./g, '');
    pemiluTps.set(desa, (pemiluTps.get(desa) ?? 0) + 1);
  }

  const tps: UniverseTps[] = [];
  for (const kab of kabCodes) {
    const gov = read<HhcwFile>(`pilkada2024/pkwkp/${prov}/${kab}.json`);
    const kabRacePath = `pilkada2024/pkwkk/${prov}/${kab}.json`;
    const kabRace = existsSync(`${dir}/${kabRacePath}`) ? read<HhcwFile>(kabRacePath) : null;
    if (kabRace && paslonK[kab]) {
      const id = `pkwkk-${kab}`;
      contests.push({ id, type: 'pkwkk', areaCode: kab, candidates: byNumber(paslonK[kab]) });
      priors.set(id, new Map());
      for (const [kec, row] of Object.entries(kabRace.tungsura.table))
        priors.get(id)!.set(kec, Object.fromEntries(candidateIds(row).map((c) => [c, Number(row[c]) || 0])));
    }
    for (const [kec, row] of Object.entries(gov.tungsura.table).sort()) {
      priors.get(`pkwkp-${prov}`)!.set(kec, Object.fromEntries(candidateIds(row).map((c) => [c, Number(row[c]) || 0])));
      const count = row.progres?.total ?? 0;
      const desa = (desaByKec.get(kec) ?? []).sort();
      if (desa.length === 0 || count === 0) continue;
      // Largest remainder over Pemilu TPS weights (at least weight 1 so that every desa may get one).
      const w = desa.map((d) => Math.max(1, pemiluTps.get(d) ?? 1));
      const W = w.reduce((a, b) => a + b, 0);
      const exact = w.map((x) => (x * count) / W);
      const alloc = exact.map(Math.floor);
      let left = count - alloc.reduce((a, b) => a + b, 0);
      const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      for (let i = 0; left > 0; i = (i + 1) % order.length, left--) alloc[order[i][1]]++;
      desa.forEach((d, i) => {
        for (let n = 1; n <= alloc[i]; n++)
          tps.push({ code: `${d}${String(n).padStart(3, '0')}`, desaCode: d, kecCode: kec, kabCode: kab, provCode: prov });
      });
    }
  }
  return { tps, contests, priors };
}

/** Kab/kota codes present in a universe (helper for reports). */
export function kabCodesOf(u: Universe): string[] {
  return [...new Set(u.tps.map((t) => t.kabCode))].sort();
}

export function listPilkadaProvinces(dir = SHARED_DATA_DIR): string[] {
  return readdirSync(`${dir}/pilkada2024/pkwkp`).sort();
}
