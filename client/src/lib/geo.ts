import type { Feature, FeatureCollection, Geometry } from 'geojson';
import { feature as topoFeature } from 'topojson-client';
import { GEO_DESA_PROVINCES, GEO_FAST_DIR } from './geoFiles.js';

/**
 * Boundaries shipped with the client (see docs/DATA.md and docs/DASHBOARD.md). Files are TopoJSON
 * or GeoJSON; features carry `code` (Kemendagri code; dots are stripped to match the API).
 */
export interface AreaProps {
  code: string;
  name: string;
}
export type AreaFeature = Feature<Geometry, AreaProps>;

/**
 * One small file per map view (db/seed/build-boundaries.ts writes them into a content-hashed folder):
 * simplified and quantised for the zoom that view is drawn at, islets below a few pixels dropped.
 * National → provinsi.json; province → kabkota-<prov>.json; kab/kota → kecamatan-<kab>.json;
 * kecamatan → desa-<kec>.json (only where desa shapes are shipped; elsewhere the map draws points).
 */
const FILE_OF_LEVEL: ((code: string) => string)[] = [
  () => 'provinsi.json',
  (code) => `kabkota-${code.slice(0, 2)}.json`,
  (code) => `kecamatan-${code.slice(0, 4)}.json`,
  (code) => `desa-${code.slice(0, 6)}.json`,
];

/** File that holds the shapes of the children of an area at `level` (0 national … 3 kecamatan). */
export function childShapesFile(level: number, code: string): string | null {
  if (level === 3 && !GEO_DESA_PROVINCES.includes(code.slice(0, 2))) return null;
  return FILE_OF_LEVEL[level]?.(code) ?? null;
}

/** File that holds the shape of the area itself (to outline it, e.g. a desa with its TPS list). */
export function ownShapeFile(level: number, code: string): string | null {
  return level >= 1 ? childShapesFile(level - 1, code) : null;
}

const fileCache = new Map<string, Promise<AreaFeature[] | null>>();
const readyFiles = new Set<string>();

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
      const res = await fetch(GEO_FAST_DIR + file);
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
      const out = feats.map(normalise).filter((f): f is AreaFeature => f !== null);
      readyFiles.add(file);
      return out;
    })().catch(() => null);
    fileCache.set(file, hit);
  }
  return hit;
}

/** Shapes of the direct children of an area, or null when none are shipped for it. */
export async function childShapes(level: number, code: string): Promise<AreaFeature[] | null> {
  const file = childShapesFile(level, code);
  if (!file) return null;
  const all = await loadFile(file);
  if (!all) return null;
  const childLen = [2, 4, 6, 10][level];
  const out = level === 0 ? all.filter((f) => f.properties.code.length === 2) : all.filter((f) => f.properties.code.length === childLen && f.properties.code.startsWith(code));
  return out.length ? out : null;
}

export async function ownShape(level: number, code: string): Promise<AreaFeature | null> {
  const file = ownShapeFile(level, code);
  if (!file) return null;
  const all = await loadFile(file);
  return all?.find((f) => f.properties.code === code) ?? null;
}

/** Start loading the file the next drill-down step will need, so the step itself does not wait. */
export function prefetchChildShapes(level: number, code: string): void {
  const file = childShapesFile(level, code);
  if (file) void loadFile(file);
}

/** Whether the shapes of an area's children are parsed and in memory already. */
export function cachedFileReady(level: number, code: string): boolean {
  const file = childShapesFile(level, code);
  return file ? readyFiles.has(file) : false;
}


/**
 * Put a view's file in the browser's HTTP cache without parsing it (files are immutable, so a later
 * load comes from the cache). Used for the many possible next steps of the national map, where
 * parsing all of them ahead would cost more than it saves.
 */
const warmed = new Set<string>();
export function warmChildShapes(level: number, code: string): void {
  const file = childShapesFile(level, code);
  if (!file || warmed.has(file) || fileCache.has(file)) return;
  warmed.add(file);
  void fetch(GEO_FAST_DIR + file, { priority: 'low' } as RequestInit)
    .then((r) => r.arrayBuffer())
    .catch(() => warmed.delete(file));
}
