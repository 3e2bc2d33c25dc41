/**
 * Builds the data rekap ships (db/data/*, client/public/geo/*) from the public sources in
 * ../shared/data. Run after the sources change:
 *
 *   npx tsx db/seed/build-data.ts [--source <dir>] [--skip-geo]
 *
 * The sources use two code lists: Kemendagri 2025 (wilayah, boundaries) and KPU's frozen 2023 list
 * (Pilkada tables, the KPU TPS tree). Most codes agree, but some kecamatan/desa were renumbered or
 * split, so KPU codes are matched to Kemendagri codes by code *and* name (see mapArea). What could
 * not be matched is listed in db/data/build-report.json instead of being guessed.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseCsvObjects } from './csv.js';
import { allocate } from './plan.js';
import { DATA_FILES, type ContestData, type ContestsFile, type CandidateData } from './data.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const { values: opts } = parseArgs({
  options: { source: { type: 'string' }, 'skip-geo': { type: 'boolean', default: false } },
  strict: true,
});
const src = (opts.source ?? fileURLToPath(new URL('../shared/data/', `file://${repoRoot}`))).replace(/\/?$/, '/');
const outDir = `${repoRoot}db/data/`;
const geoDir = `${repoRoot}client/public/geo/`;

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const read = (rel: string) => {
  const path = src + rel;
  if (!existsSync(path)) throw new Error(`missing source file ${path} (pass --source <shared/data dir>)`);
  return readFileSync(path, 'utf8');
};
const readJson = <T>(rel: string): T => JSON.parse(read(rel)) as T;
const undot = (code: string) => code.replace(/\./g, '');

// ---------- names ----------

/** Upper-case letters and digits only, without "(KEL)", "DESA", "KELURAHAN" decorations. */
function normName(name: string): string {
  return name
    .toUpperCase()
    .replace(/\((KEL|DESA|KELURAHAN)\)/g, '')
    .replace(/^(DESA|KELURAHAN|KEL\.)\s+/, '')
    .replace(/[^A-Z0-9]/g, '');
}

function bigrams(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < s.length - 1; i++) m.set(s.slice(i, i + 2), (m.get(s.slice(i, i + 2)) ?? 0) + 1);
  return m;
}

/** Dice coefficient over character bigrams: tolerant of the spelling variants between KPU and Kemendagri. */
function dice(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length < 2 || b.length < 2) return 0;
  const A = bigrams(a);
  const B = bigrams(b);
  let inter = 0;
  for (const [k, n] of A) inter += Math.min(n, B.get(k) ?? 0);
  return (2 * inter) / (a.length - 1 + (b.length - 1));
}

function similarNames(a: string, b: string): boolean {
  const x = normName(a);
  const y = normName(b);
  if (x === y) return true;
  if (Math.min(x.length, y.length) >= 4 && (x.includes(y) || y.includes(x))) return true;
  return dice(x, y) >= 0.6;
}

// ---------- Kemendagri areas ----------

interface Area { code: string; name: string; parent: string | null; level: number; lat: number | null; lon: number | null }
const areas = new Map<string, Area>();
const childrenOf = new Map<string, string[]>();

function loadWilayah() {
  const files: [string, number, string | null][] = [
    ['wilayah/provinces.csv', 1, null],
    ['wilayah/regencies.csv', 2, 'province_code'],
    ['wilayah/districts.csv', 3, 'regency_code'],
    ['wilayah/villages.csv', 4, 'district_code'],
  ];
  for (const [file, level, parentCol] of files) {
    for (const r of parseCsvObjects(read(file), ['code', 'name', ...(parentCol ? [parentCol] : [])])) {
      const code = undot(r.code);
      const parent = parentCol ? undot(r[parentCol]) : null;
      areas.set(code, { code, name: r.name.trim(), parent, level, lat: null, lon: null });
      if (parent) {
        if (!childrenOf.has(parent)) childrenOf.set(parent, []);
        childrenOf.get(parent)!.push(code);
      }
    }
  }
}

interface GeoFeature { type: 'Feature'; properties: Record<string, unknown>; geometry: { type: string; coordinates: unknown } }
interface GeoCollection { type: 'FeatureCollection'; features: GeoFeature[] }

const boundaryFiles = () => readdirSync(src + 'boundaries').filter((f) => f.endsWith('.geojson')).sort();

function loadCentroids() {
  let n = 0;
  for (const f of boundaryFiles()) {
    const fc = readJson<GeoCollection>(`boundaries/${f}`);
    for (const feat of fc.features) {
      const a = areas.get(undot(String(feat.properties.code)));
      const lat = Number(feat.properties.lat);
      const lon = Number(feat.properties.lng);
      if (!a || !Number.isFinite(lat) || !Number.isFinite(lon)) continue;
      if (a.lat === null) n++;
      a.lat = Math.round(lat * 1e5) / 1e5;
      a.lon = Math.round(lon * 1e5) / 1e5;
    }
  }
  return n;
}

// ---------- KPU code → Kemendagri code ----------

type Match = 'code' | 'name' | 'renamed' | 'fuzzy';

/** Normalised-name index of Kemendagri areas under each parent (kab/kota or kecamatan). */
const nameIndex = new Map<string, Map<string, string[]>>();
function indexUnder(parent: string, level: number): Map<string, string[]> {
  const key = `${parent}:${level}`;
  let idx = nameIndex.get(key);
  if (!idx) {
    idx = new Map();
    const walk = (code: string) => {
      for (const c of childrenOf.get(code) ?? []) {
        const a = areas.get(c)!;
        if (a.level === level) {
          const n = normName(a.name);
          if (!idx!.has(n)) idx!.set(n, []);
          idx!.get(n)!.push(c);
        } else if (a.level < level) walk(c);
      }
    };
    walk(parent);
    nameIndex.set(key, idx);
  }
  return idx;
}

/**
 * Match a KPU area to a Kemendagri code at the same level. Order: the same code with a similar name
 * (spelling variants), then a unique exact name within the narrowest known parent, then the same
 * code even though renamed, then the best fuzzy name within the parent. Null when nothing fits.
 */
function mapArea(kpuCode: string, kpuName: string, level: number, parents: (string | null)[]): { code: string; how: Match } | null {
  const same = areas.get(kpuCode);
  if (same && same.level === level && similarNames(same.name, kpuName)) return { code: kpuCode, how: 'code' };
  const n = normName(kpuName);
  for (const p of parents) {
    if (!p || !areas.has(p)) continue;
    const hits = indexUnder(p, level).get(n);
    if (hits && hits.length === 1) return { code: hits[0], how: 'name' };
  }
  if (same && same.level === level) return { code: kpuCode, how: 'renamed' };
  const p = parents.find((x) => x && areas.has(x));
  if (p) {
    let best: { code: string; score: number } | null = null;
    for (const [name, codes] of indexUnder(p, level)) {
      const s = dice(n, name);
      if (codes.length === 1 && s >= 0.75 && (!best || s > best.score)) best = { code: codes[0], score: s };
    }
    if (best) return { code: best.code, how: 'fuzzy' };
  }
  return null;
}

// ---------- build ----------

function buildAreas(): string {
  const lines = ['code\tname\tlat\tlon'];
  const sorted = [...areas.values()].sort((a, b) => a.level - b.level || (a.code < b.code ? -1 : 1));
  for (const a of sorted) {
    if (/[\t\n]/.test(a.name)) throw new Error(`area ${a.code} name contains a tab or newline`);
    lines.push(`${a.code}\t${a.name}\t${a.lat ?? ''}\t${a.lon ?? ''}`);
  }
  return lines.join('\n') + '\n';
}

interface Paslon { nama: string; warna: string; nomor_urut: number }
interface HhcwFile { tungsura: { chart: { progres?: { total: number } }; table: Record<string, { progres?: { total: number } }> } }

/** Short place name for a race title: "Kabupaten Kotawaringin Barat" → "Kotawaringin Barat". */
function contestName(type: 'pkwkp' | 'pkwkk', area: Area): string {
  if (type === 'pkwkp') return `Pemilihan Gubernur dan Wakil Gubernur ${area.name}`;
  const isKota = /^Kota\s/i.test(area.name);
  const place = area.name.replace(/^(Kabupaten|Kota)\s+/i, '');
  return isKota ? `Pemilihan Wali Kota dan Wakil Wali Kota ${place}` : `Pemilihan Bupati dan Wakil Bupati ${place}`;
}

function buildContests(report: Record<string, unknown>): ContestsFile {
  const contests: ContestData[] = [];
  const problems: string[] = [];
  for (const type of ['pkwkp', 'pkwkk'] as const) {
    const paslon = readJson<Record<string, Record<string, Paslon>>>(`pilkada2024/paslon/${type}.json`);
    for (const [areaCode, pairs] of Object.entries(paslon).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const area = areas.get(areaCode);
      if (!area) {
        problems.push(`${type}-${areaCode}: no such area in wilayah`);
        continue;
      }
      const file = `pilkada2024/${type}/${areaCode.slice(0, 2)}/${areaCode}.json`;
      const kpuTpsTotal = existsSync(src + file) ? (readJson<HhcwFile>(file).tungsura.chart.progres?.total ?? null) : null;
      const candidates: CandidateData[] = Object.entries(pairs)
        .map(([id, p]) => {
          if (!/^\d{7}$/.test(id)) problems.push(`${type}-${areaCode}: paslon id ${id} is not 7 digits`);
          const isEmptyColumn = /^\s*KOLOM\s+KOSONG/i.test(p.nama);
          const [head, ...rest] = p.nama.split(' - ');
          return {
            id,
            number: p.nomor_urut,
            headName: isEmptyColumn ? 'Kolom Kosong' : head.trim(),
            deputyName: isEmptyColumn ? '' : rest.join(' - ').trim(),
            colour: /^#[0-9a-f]{6}$/i.test(p.warna) ? p.warna.toUpperCase() : '#9E9E9E',
            isEmptyColumn,
          };
        })
        .sort((a, b) => a.number - b.number);
      const real = candidates.filter((c) => !c.isEmptyColumn);
      // A single-pair race is a vote against the empty box (UU 10/2016 art. 54C); KPU lists it, but
      // add it if a source ever omits it so the form always has two columns.
      if (real.length === 1 && candidates.length === 1) {
        candidates.push({ id: `${type}-${areaCode}-kosong`, number: real[0].number === 1 ? 2 : 1, headName: 'Kolom Kosong', deputyName: '', colour: '#BDBDBD', isEmptyColumn: true });
        candidates.sort((a, b) => a.number - b.number);
      }
      if (new Set(candidates.map((c) => c.number)).size !== candidates.length) problems.push(`${type}-${areaCode}: duplicate nomor urut`);
      contests.push({ id: `${type}-${areaCode}`, type, areaCode, name: contestName(type, area), kpuTpsTotal, candidates });
    }
  }
  report.contests = {
    total: contests.length,
    pkwkp: contests.filter((c) => c.type === 'pkwkp').length,
    pkwkk: contests.filter((c) => c.type === 'pkwkk').length,
    candidates: contests.reduce((n, c) => n + c.candidates.length, 0),
    emptyColumnRaces: contests.filter((c) => c.candidates.some((x) => x.isEmptyColumn)).length,
    problems,
  };
  return {
    election: { id: 'pilkada2024', name: 'Pilkada Serentak 2024', kind: 'pilkada', pollingDate: '2024-11-27' },
    source: 'KPU Sirekap Pilkada 2024 (paslon), via github.com/razanfawwaz/pilkada-scrap',
    contests,
  };
}

/** KPU Pilkada TPS per kecamatan (KPU code): `progres.total` in the kab/kota files of either race. */
function pilkadaKecamatanTotals(report: Record<string, unknown>): Map<string, number> {
  const totals = new Map<string, number>();
  const conflicts: string[] = [];
  for (const type of ['pkwkp', 'pkwkk']) {
    for (const prov of readdirSync(`${src}pilkada2024/${type}`).filter((d) => /^\d{2}$/.test(d)).sort()) {
      for (const f of readdirSync(`${src}pilkada2024/${type}/${prov}`).filter((x) => /^\d{4}\.json$/.test(x)).sort()) {
        const file = readJson<HhcwFile>(`pilkada2024/${type}/${prov}/${f}`);
        for (const [code, row] of Object.entries(file.tungsura.table)) {
          const total = row.progres?.total;
          if (!/^\d{6}$/.test(code) || typeof total !== 'number') continue;
          const prev = totals.get(code);
          if (prev !== undefined && prev !== total) conflicts.push(`${code}: ${prev} vs ${total}`);
          // The governor race is read first; it is the one every TPS of the province takes part in.
          if (prev === undefined) totals.set(code, total);
        }
      }
    }
  }
  report.pilkadaKecamatan = { count: totals.size, tps: [...totals.values()].reduce((a, b) => a + b, 0), conflicts };
  return totals;
}

interface KpuNode { code: string; name: string; level: number; parent: string; tps: number }

function buildTpsPlan(report: Record<string, unknown>) {
  const kpecTotals = pilkadaKecamatanTotals(report);

  const kpu = new Map<string, KpuNode>();
  const kpuChildren = new Map<string, string[]>();
  for (const r of parseCsvObjects(read('tps/kpu_wilayah_ppwp_2024.csv'), ['kode_kpu', 'nama', 'tingkat', 'parent_kode_kpu', 'jumlah_tps'])) {
    const node = { code: r.kode_kpu, name: r.nama, level: Number(r.tingkat), parent: r.parent_kode_kpu, tps: Number(r.jumlah_tps) || 0 };
    kpu.set(node.code, node);
    if (!kpuChildren.has(node.parent)) kpuChildren.set(node.parent, []);
    kpuChildren.get(node.parent)!.push(node.code);
  }

  // Special-location TPS (9xx) per KPU desa, from whichever per-TPS lists exist (tps/kpu_tps_*.csv).
  const specialByKpuDesa = new Map<string, number>();
  for (const f of readdirSync(src + 'tps').filter((x) => /^kpu_tps_.*\.csv$/.test(x)).sort()) {
    for (const r of parseCsvObjects(read(`tps/${f}`), ['kode_desa_kpu', 'no_tps'])) {
      if (/^9\d\d$/.test(r.no_tps)) specialByKpuDesa.set(r.kode_desa_kpu, (specialByKpuDesa.get(r.kode_desa_kpu) ?? 0) + 1);
    }
  }

  // KawalPemilu 2019 register per Kemendagri desa (rows already matched to 2025 codes by name).
  const dpt2019 = new Map<string, { tps: number; l: number; p: number }>();
  for (const r of parseCsvObjects(read('tps/kawalpemilu2019_desa_dpt_tps.csv'), ['kode_kemendagri_2025', 'jumlah_tps', 'dpt_l', 'dpt_p'])) {
    const code = undot(r.kode_kemendagri_2025);
    const l = Number(r.dpt_l);
    const p = Number(r.dpt_p);
    if (!areas.has(code) || !(l >= 0) || !(p >= 0) || l + p === 0) continue;
    const prev = dpt2019.get(code) ?? { tps: 0, l: 0, p: 0 };
    dpt2019.set(code, { tps: prev.tps + Math.max(0, Number(r.jumlah_tps) || 0), l: prev.l + l, p: prev.p + p });
  }

  const kecMatches: Record<Match | 'none', number> = { code: 0, name: 0, renamed: 0, fuzzy: 0, none: 0 };
  const desaMatches: Record<Match | 'none', number> = { code: 0, name: 0, renamed: 0, fuzzy: 0, none: 0 };
  const unplaced: { kpuCode: string; name: string; tps: number }[] = [];
  const unmatchedKec: string[] = [];
  const plan = new Map<string, { tps: number; special: number }>();
  const kecLines = ['kpu_code\tarea_code\tname\ttps\tmatch'];

  for (const [kpuKec, total] of [...kpecTotals].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const node = kpu.get(kpuKec);
    const name = node?.name ?? '';
    const kecMatch = node ? mapArea(kpuKec, name, 3, [kpuKec.slice(0, 4)]) : areas.get(kpuKec)?.level === 3 ? { code: kpuKec, how: 'code' as Match } : null;
    kecMatches[kecMatch?.how ?? 'none']++;
    if (!kecMatch) unmatchedKec.push(`${kpuKec} ${name}`);
    kecLines.push(`${kpuKec}\t${kecMatch?.code ?? ''}\t${name}\t${total}\t${kecMatch?.how ?? 'none'}`);

    // KPU desa of this kecamatan, each matched to a Kemendagri desa, with its Pemilu 2024 TPS count as weight.
    const targets = new Map<string, { weight: number; special: number }>();
    for (const kd of kpuChildren.get(kpuKec) ?? []) {
      const d = kpu.get(kd)!;
      if (d.level !== 4) continue;
      const m = mapArea(kd, d.name, 4, [kecMatch?.code ?? null, kpuKec.slice(0, 4)]);
      desaMatches[m?.how ?? 'none']++;
      if (!m) continue;
      const t = targets.get(m.code) ?? { weight: 0, special: 0 };
      t.weight += d.tps > 0 ? d.tps : (dpt2019.get(m.code)?.tps ?? 0);
      t.special += specialByKpuDesa.get(kd) ?? 0;
      targets.set(m.code, t);
    }
    // No KPU desa list (missing from the scrape): spread over the Kemendagri desa of the matched kecamatan.
    if (targets.size === 0 && kecMatch) {
      for (const c of childrenOf.get(kecMatch.code) ?? []) targets.set(c, { weight: dpt2019.get(c)?.tps ?? 0, special: 0 });
    }
    if (targets.size === 0) {
      unplaced.push({ kpuCode: kpuKec, name, tps: total });
      continue;
    }
    const codes = [...targets.keys()].sort();
    const positive = codes.map((c) => targets.get(c)!.weight).filter((w) => w > 0);
    // A desa with no count in either source still has voters: give it the smallest observed weight.
    const floor = positive.length ? Math.min(...positive) : 1;
    const counts = allocate(total, codes.map((c) => targets.get(c)!.weight || floor));
    codes.forEach((c, i) => {
      if (counts[i] === 0) return;
      const p = plan.get(c) ?? { tps: 0, special: 0 };
      p.tps += counts[i];
      // Keep at least one regular TPS per desa; specials come out of the desa's allocation.
      p.special = Math.min(p.special + targets.get(c)!.special, p.tps - 1);
      plan.set(c, p);
    });
  }

  const lines = ['desa\ttps\tspecial\tdpt_l\tdpt_p'];
  let placed = 0;
  let specials = 0;
  let withDpt = 0;
  for (const code of [...plan.keys()].sort()) {
    const p = plan.get(code)!;
    const d = dpt2019.get(code);
    placed += p.tps;
    specials += Math.max(0, p.special);
    if (d) withDpt++;
    lines.push(`${code}\t${p.tps}\t${Math.max(0, p.special)}\t${d?.l ?? ''}\t${d?.p ?? ''}`);
  }
  report.tps = {
    placed,
    special: specials,
    desaWithTps: plan.size,
    desaWithDpt2019: withDpt,
    kecamatanMatches: kecMatches,
    desaMatches,
    unmatchedKecamatan: unmatchedKec,
    unplaced,
    kalimantanTengah: [...plan].filter(([c]) => c.startsWith('62')).reduce((n, [, p]) => n + p.tps, 0),
  };
  return { tpsDesa: lines.join('\n') + '\n', kecamatan: kecLines.join('\n') + '\n' };
}

// ---------- geo ----------

async function buildGeo(report: Record<string, unknown>) {
  const { topology } = await import('topojson-server');
  const { presimplify, simplify, quantile } = await import('topojson-simplify');
  const { quantize } = await import('topojson-client');
  mkdirSync(geoDir, { recursive: true });
  const sizes: Record<string, number> = {};

  /**
   * Write one TopoJSON (object name "areas") keeping the `keep` share of points by visual importance
   * (Visvalingam weights; shared borders are simplified once, so neighbours stay gap-free), then
   * quantised to `q` steps across the file's extent: plenty for a choropleth, a fraction of the bytes.
   */
  const write = (file: string, features: GeoFeature[], keep: number, q: number) => {
    const fc = {
      type: 'FeatureCollection',
      features: features.map((f) => ({ type: 'Feature', properties: { code: undot(String(f.properties.code)), name: f.properties.name }, geometry: f.geometry })),
    };
    // The topojson typings want GeoJSON from @types/geojson; these plain objects are that shape.
    const raw = presimplify(topology({ areas: fc as never }) as never);
    const simple = simplify(raw, quantile(raw, keep)) as unknown as { arcs: number[][][] };
    // presimplify stores each point's weight as a third coordinate: drop it before quantising.
    simple.arcs = simple.arcs.map((arc) => arc.map((p) => [p[0], p[1]]));
    const text = JSON.stringify(quantize(simple as never, q));
    writeFileSync(geoDir + file, text);
    sizes[file] = text.length;
  };

  const prov = readJson<GeoCollection>('boundaries/provinsi.geojson').features;
  write('provinsi.json', prov, 0.05, 1e5);
  const kab = readJson<GeoCollection>('boundaries/kabupaten_kota.geojson').features;
  write('kabkota.json', kab, 0.25, 1e5);
  const kec = readJson<GeoCollection>('boundaries/kecamatan.geojson').features;
  const byProv = new Map<string, GeoFeature[]>();
  for (const f of kec) {
    const p = undot(String(f.properties.code)).slice(0, 2);
    if (!byProv.has(p)) byProv.set(p, []);
    byProv.get(p)!.push(f);
  }
  for (const [p, feats] of [...byProv].sort()) {
    // A province with a finer per-province file (kecamatan_62: 5 decimals) uses it instead.
    const fine = `boundaries/kecamatan_${p}.geojson`;
    write(`kecamatan-${p}.json`, existsSync(src + fine) ? readJson<GeoCollection>(fine).features : feats, 0.35, 1e5);
  }
  for (const f of boundaryFiles()) {
    const m = /^desa_(\d{2})\.geojson$/.exec(f);
    if (m) write(`desa-${m[1]}.json`, readJson<GeoCollection>(`boundaries/${f}`).features, 0.4, 1e5);
  }
  writeFileSync(geoDir + 'index.json', JSON.stringify({
    note: 'TopoJSON, one object "areas" per file; feature properties: code (Kemendagri without dots), name. Source: github.com/cahyadsn/wilayah_boundaries (MIT).',
    provinces: 'provinsi.json',
    kabkota: 'kabkota.json',
    kecamatan: [...byProv.keys()].sort().map((p) => `kecamatan-${p}.json`),
    desa: boundaryFiles().map((f) => /^desa_(\d{2})\.geojson$/.exec(f)?.[1]).filter(Boolean).map((p) => `desa-${p}.json`),
  }, null, 1) + '\n');
  report.geoBytes = sizes;
}

async function main() {
  const t0 = Date.now();
  const report: Record<string, unknown> = { builtFrom: opts.source ? src : '<repo>/../shared/data/', builtAt: new Date().toISOString() };
  loadWilayah();
  const levels = [1, 2, 3, 4].map((l) => [...areas.values()].filter((a) => a.level === l).length);
  log(`areas: ${levels.join(' / ')}`);
  const centroids = loadCentroids();
  report.areas = { provinces: levels[0], kabkota: levels[1], kecamatan: levels[2], desa: levels[3], withCentroid: centroids };

  mkdirSync(outDir, { recursive: true });
  const files: Record<string, string> = {};
  files[DATA_FILES.areas] = buildAreas();
  const contests = buildContests(report);
  files[DATA_FILES.contests] = JSON.stringify(contests);
  const { tpsDesa, kecamatan } = buildTpsPlan(report);
  files[DATA_FILES.tpsDesa] = tpsDesa;
  files[DATA_FILES.kecamatanTps] = kecamatan;
  const sizes: Record<string, number> = {};
  for (const [name, text] of Object.entries(files)) {
    // mtime 0 in the gzip header: rebuilding the same sources gives byte-identical files.
    const gz = gzipSync(Buffer.from(text, 'utf8'), { level: 9 });
    gz.writeUInt32LE(0, 4);
    writeFileSync(outDir + name, gz);
    sizes[name] = gz.length;
  }
  report.dataBytes = sizes;
  if (!opts['skip-geo']) await buildGeo(report);
  writeFileSync(outDir + 'build-report.json', JSON.stringify(report, null, 1) + '\n');
  log(JSON.stringify({ ...report, tps: { ...(report.tps as object), unplaced: undefined, unmatchedKecamatan: undefined } }));
  log(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s; data ${Object.values(sizes).reduce((a, b) => a + b, 0)} bytes in ${outDir}`);
}

main().catch((err) => {
  process.stderr.write(`build-data: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
