/**
 * Builds the small boundary files the dashboard draws first (client/public/geo/fast/) from the
 * boundaries already shipped in client/public/geo/ (written by db/seed/build-data.ts), so it runs
 * offline on any checkout:
 *
 *   npx tsx db/seed/build-boundaries.ts
 *
 * Why: the national file kept ~42,000 points in ~19,000 rings (every islet of the archipelago) and
 * the kab/kota file was one 1.1 MB download for the whole country. Building SVG paths for all that
 * took seconds on a loaded machine before the first map appeared. Each map view only needs what it
 * can show: rings bigger than a few pixels, vertices more than about a pixel apart, at the zoom that
 * fits the view. So one file per view:
 *   provinsi           38 provinces (national view)
 *   kabkota-<prov>     the kab/kota of one province (province view)
 *   kecamatan-<kab>    the kecamatan of one kab/kota (kab/kota view)
 *   desa-<kec>         the desa of one kecamatan (kecamatan view), where desa shapes are shipped
 * The files sit in a folder named by a hash of their contents (fast/<hash>/), so the server can mark
 * them immutable; the folder name is written as a TypeScript module the client bundles
 * (client/src/lib/geoFiles.ts), saving the round trip of a manifest. A view whose file is absent
 * (desa outside the provinces that ship desa shapes) gets a 404 and the map draws points instead.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Feature, FeatureCollection, MultiPolygon, Polygon, Position } from 'geojson';
import { feature } from 'topojson-client';
import { topology } from 'topojson-server';
import { presimplify, simplify } from 'topojson-simplify';
import { quantize } from 'topojson-client';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const geoDir = `${repoRoot}client/public/geo/`;
const outDir = `${geoDir}fast/`;
const manifestModule = `${repoRoot}client/src/lib/geoFiles.ts`;

/** Width in CSS pixels a view is drawn at (the map pane on a laptop); sets what "a pixel" is. */
const VIEW_PX = 900;
/** Vertices closer than this (as triangle area, in px²) are dropped; rings smaller than RING_PX² go. */
const VERTEX_PX2 = 0.6;
const RING_PX = 2.5;

type AreaFeature = Feature<Polygon | MultiPolygon, { code: string; name: string }>;

function load(file: string): AreaFeature[] {
  const topo = JSON.parse(readFileSync(geoDir + file, 'utf8'));
  const fc = feature(topo, topo.objects.areas) as unknown as FeatureCollection;
  return fc.features.filter((f) => f.geometry && (f.geometry.type === 'Polygon' || f.geometry.type === 'MultiPolygon')) as AreaFeature[];
}

function ringArea(ring: Position[]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return Math.abs(a / 2);
}

function extentOf(features: AreaFeature[]): number {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const f of features) {
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const p of polys) for (const [x, y] of p[0]) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
  }
  return Math.max(x1 - x0, y1 - y0, 1e-6);
}

/**
 * Drop the parts of each feature smaller than `minArea` (islets invisible at this zoom), but always
 * keep a feature's largest part: every area stays on the map, clickable.
 */
function dropSpecks(features: AreaFeature[], minArea: number): AreaFeature[] {
  return features.map((f) => {
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    const sized = polys.map((p) => ({ p: p.filter((ring, i) => i === 0 || ringArea(ring) >= minArea), a: ringArea(p[0]) }));
    const biggest = sized.reduce((m, s) => (s.a > m.a ? s : m), sized[0]);
    const kept = sized.filter((s) => s.a >= minArea || s === biggest).map((s) => s.p);
    const geometry: Polygon | MultiPolygon = kept.length === 1 ? { type: 'Polygon', coordinates: kept[0] } : { type: 'MultiPolygon', coordinates: kept };
    return { type: 'Feature', properties: { code: f.properties.code, name: f.properties.name }, geometry };
  });
}

const sizes: Record<string, number> = {};
const digest = createHash('sha256');
let workDir = '';

/** Simplify for a view `VIEW_PX` wide showing these features, quantise, write with a content hash. */
function write(name: string, features: AreaFeature[]): void {
  const deg = extentOf(features);
  const pxPerDeg = VIEW_PX / deg;
  const unit = 1 / pxPerDeg; // one pixel in degrees
  const kept = dropSpecks(features, (RING_PX * unit) ** 2);
  const fc = { type: 'FeatureCollection', features: kept };
  const raw = presimplify(topology({ areas: fc as never }) as never);
  const simple = simplify(raw, VERTEX_PX2 * unit * unit) as unknown as { arcs: number[][][] };
  simple.arcs = simple.arcs.map((arc) => arc.map((p) => [p[0], p[1]]));
  // ~0.1 px steps at the view's zoom: finer than the eye, far fewer digits than raw degrees.
  const text = JSON.stringify(quantize(simple as never, Math.ceil(VIEW_PX * 10)));
  digest.update(name).update(text);
  writeFileSync(`${workDir}${name}.json`, text);
  sizes[name] = text.length;
}

function main() {
  const index = JSON.parse(readFileSync(geoDir + 'index.json', 'utf8')) as { provinces: string; kabkota: string; kecamatan: string[]; desa: string[] };
  if (existsSync(outDir)) rmSync(outDir, { recursive: true });
  workDir = `${outDir}tmp/`;
  mkdirSync(workDir, { recursive: true });

  write('provinsi', load(index.provinces));

  const byPrefix = (features: AreaFeature[], len: number) => {
    const out = new Map<string, AreaFeature[]>();
    for (const f of features) {
      const k = f.properties.code.slice(0, len);
      if (!out.has(k)) out.set(k, []);
      out.get(k)!.push(f);
    }
    return [...out].sort(([a], [b]) => a.localeCompare(b));
  };
  for (const [prov, feats] of byPrefix(load(index.kabkota), 2)) write(`kabkota-${prov}`, feats);
  for (const file of index.kecamatan) for (const [kab, feats] of byPrefix(load(file), 4)) write(`kecamatan-${kab}`, feats);
  for (const file of index.desa) for (const [kec, feats] of byPrefix(load(file), 6)) write(`desa-${kec}`, feats);

  const version = digest.digest('hex').slice(0, 12);
  renameSync(workDir, `${outDir}${version}/`);
  writeFileSync(
    manifestModule,
    `// Generated by db/seed/build-boundaries.ts from client/public/geo/: do not edit by hand.\n` +
      `// Folder of the small per-view boundary files (named by a hash of their contents, served immutable):\n` +
      `// provinsi.json, kabkota-<prov>.json, kecamatan-<kab>.json, desa-<kec>.json.\n` +
      `export const GEO_FAST_DIR = '/geo/fast/${version}/';\n` +
      `/** Provinces whose desa shapes are shipped (elsewhere desa are drawn as points, no request made). */\n` +
      `export const GEO_DESA_PROVINCES: readonly string[] = ${JSON.stringify(index.desa.map((f) => /(\d{2})\.json$/.exec(f)![1]))};\n`,
  );
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  const big = Object.entries(sizes).sort((a, b) => b[1] - a[1]).slice(0, 5);
  process.stdout.write(`${JSON.stringify({ files: readdirSync(`${outDir}${version}`).length, totalBytes: total, provinsi: sizes.provinsi, largest: Object.fromEntries(big) })}\n`);
}

main();
