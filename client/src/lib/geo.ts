import type { Feature, FeatureCollection, Geometry } from 'geojson';
import { feature as topoFeature } from 'topojson-client';

/**
 * Boundaries shipped with the client in /geo (see docs/DATA.md): provinces and kab/kota for the
 * whole country, kecamatan per province, desa where shipped, listed in /geo/index.json. Files are
 * TopoJSON or GeoJSON; features carry `code` (Kemendagri code; dots are stripped to match the API).
 */
export interface AreaProps {
  code: string;
  name: string;
}
export type AreaFeature = Feature<Geometry, AreaProps>;

const GEO_BASE = '/geo/';

/** client/public/geo/index.json, written by the data build (docs/DATA.md). */
interface GeoManifest {
  provinces?: string;
  kabkota?: string;
  kecamatan?: string[];
  desa?: string[];
}

let manifest: Promise<GeoManifest> | null = null;
function loadManifest(): Promise<GeoManifest> {
  manifest ??= fetch(GEO_BASE + 'index.json')
    .then((r) => (r.ok ? (r.json() as Promise<GeoManifest>) : {}))
    .catch(() => ({}));
  return manifest;
}

/** The file of one province among a list (files are split per province: "kecamatan-62.json"). */
function perProvince(files: string[] | undefined, prov: string): string | null {
  return files?.find((f) => new RegExp(`(^|[^0-9])${prov}(\\.|[^0-9])`).test(f)) ?? null;
}

/** File that holds the shapes of the children of an area at `level` (0 national … 3 kecamatan). */
export async function childShapesFile(level: number, code: string): Promise<string | null> {
  const m = await loadManifest();
  const prov = code.slice(0, 2);
  switch (level) {
    case 0:
      return m.provinces ?? null;
    case 1:
      return m.kabkota ?? null;
    case 2:
      return perProvince(m.kecamatan, prov);
    case 3:
      return perProvince(m.desa, prov);
    default:
      return null;
  }
}

/** File that holds the shape of the area itself (to outline it, e.g. a desa with its TPS list). */
export function ownShapeFile(level: number, code: string): Promise<string | null> {
  return level >= 1 ? childShapesFile(level - 1, code) : Promise.resolve(null);
}

const fileCache = new Map<string, Promise<AreaFeature[] | null>>();

function normalise(f: Feature): AreaFeature | null {
  const p = (f.properties ?? {}) as Record<string, unknown>;
  const raw = p.code ?? p.kode ?? p.id ?? f.id;
  if (raw == null || !f.geometry) return null;
  return { type: 'Feature', geometry: f.geometry, properties: { code: String(raw).replace(/\./g, ''), name: String(p.name ?? p.nama ?? raw) } };
}

async function loadFile(file: string): Promise<AreaFeature[] | null> {
  let hit = fileCache.get(file);
  if (!hit) {
    hit = (async () => {
      const res = await fetch(GEO_BASE + file);
      // A missing file is normal (desa shipped for one province only): the map falls back to points.
      if (!res.ok) return null;
      const ct = res.headers.get('content-type') ?? '';
      if (!ct.includes('json')) return null; // the SPA fallback answered index.html
      const data = (await res.json()) as { type: string; objects?: Record<string, unknown>; features?: Feature[] };
      const feats: Feature[] = [];
      if (data.type === 'Topology' && data.objects) {
        for (const obj of Object.values(data.objects)) {
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          const fc = topoFeature(data as any, obj as any) as unknown as FeatureCollection | Feature;
          if (fc.type === 'FeatureCollection') feats.push(...fc.features);
          else feats.push(fc);
        }
      } else if (data.type === 'FeatureCollection' && data.features) {
        feats.push(...data.features);
      }
      return feats.map(normalise).filter((f): f is AreaFeature => f !== null);
    })().catch(() => null);
    fileCache.set(file, hit);
  }
  return hit;
}

/** Shapes of the direct children of an area, or null when none are shipped for it. */
export async function childShapes(level: number, code: string): Promise<AreaFeature[] | null> {
  const file = await childShapesFile(level, code);
  if (!file) return null;
  const all = await loadFile(file);
  if (!all) return null;
  const childLen = [2, 4, 6, 10][level];
  const out = level === 0 ? all.filter((f) => f.properties.code.length === 2) : all.filter((f) => f.properties.code.length === childLen && f.properties.code.startsWith(code));
  return out.length ? out : null;
}

export async function ownShape(level: number, code: string): Promise<AreaFeature | null> {
  const file = await ownShapeFile(level, code);
  if (!file) return null;
  const all = await loadFile(file);
  return all?.find((f) => f.properties.code === code) ?? null;
}

/** Start loading the file the next drill-down step will need, so the step itself does not wait. */
export function prefetchChildShapes(level: number, code: string): void {
  void childShapesFile(level, code).then((file) => {
    if (file) void loadFile(file);
  });
}
