/**
 * The template catalogue: loads and validates every JSON layout in workers/reader/templates/ once.
 * Public entry points: loadTemplates, templateFor, templateByMarkId, templateById, fieldKeysFor,
 * parseTemplate (validate one JSON document), mmToPx.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { PageKind } from '../types.js';
import type { FormTemplate, RectMm } from './types.js';
import { MAX_MARK_ID, parseMarkId, PAGE_INDEX, FORM_TYPE_KWK } from './pagemark.js';

export type { FormTemplate, FieldSpec, IdentitySpec, RectMm, TextSpec, LineSpec } from './types.js';

export const TEMPLATE_DIR = fileURLToPath(new URL('../templates/', import.meta.url));
export const MAX_CANDIDATES = 6;

const num = z.number().finite();
const rectSchema = z.strictObject({ x: num.nonnegative(), y: num.nonnegative(), w: num.positive(), h: num.positive() });
const keySchema = z.string().regex(/^[a-z][a-z0-9_]*$/, 'field keys are lower_snake_case');

const templateSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  version: z.number().int().positive(),
  formType: z.literal('C.HASIL-KWK'),
  page: z.enum(['administrasi', 'perolehan']),
  candidateCount: z.number().int().min(1).max(MAX_CANDIDATES).optional(),
  markId: z.number().int().min(1).max(MAX_MARK_ID),
  sizeMm: z.strictObject({ width: num.positive(), height: num.positive() }),
  fiducials: z.strictObject({ sizeMm: num.positive(), corners: z.tuple([rectSchema, rectSchema, rectSchema, rectSchema]) }),
  pageMark: rectSchema,
  header: z.strictObject({ provinsi: rectSchema, kabupaten: rectSchema, kecamatan: rectSchema, desa: rectSchema, tps: rectSchema }),
  contestTitle: rectSchema.optional(),
  candidateRows: z.array(z.strictObject({ number: z.number().int().min(0).max(MAX_CANDIDATES), field: keySchema, name: rectSchema })).optional(),
  fields: z
    .array(
      z.strictObject({
        key: keySchema,
        label: z.strictObject({ id: z.string().min(1), en: z.string().min(1) }),
        boxes: z.array(rectSchema).min(1).max(5),
      }),
    )
    .min(1),
  identities: z.array(
    z.strictObject({
      id: z.string().min(1),
      rule: z.string().regex(/^H\d+$/),
      kind: z.enum(['sum', 'le']),
      total: keySchema,
      parts: z.array(keySchema).min(1),
      epsilon: num.min(0).max(0.5),
    }),
  ),
  text: z.array(
    z.strictObject({
      text: z.string(),
      x: num,
      y: num,
      sizeMm: num.positive(),
      bold: z.boolean().optional(),
      align: z.enum(['left', 'center', 'right']).optional(),
    }),
  ),
  lines: z.array(z.strictObject({ x1: num, y1: num, x2: num, y2: num, widthMm: num.positive() })).optional(),
  boxLineMm: num.positive().optional(),
});

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

function inside(r: RectMm, size: { width: number; height: number }) {
  return r.x + r.w <= size.width + 1e-9 && r.y + r.h <= size.height + 1e-9;
}
function overlaps(a: RectMm, b: RectMm) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Validates one template document: the zod shape, then the semantic checks a shape cannot express
 * (every rect on the page, boxes never overlap, identities only name fields of this page, the mark id
 * agrees with page and candidate count). Throws TemplateError naming the template and the problem.
 */
export function parseTemplate(json: unknown, source = 'template'): FormTemplate {
  const parsed = templateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TemplateError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const t = parsed.data as FormTemplate;
  const fail = (msg: string): never => {
    throw new TemplateError(`${source} (${t.id}): ${msg}`);
  };
  const keys = new Set<string>();
  const allBoxes: { key: string; r: RectMm }[] = [];
  for (const f of t.fields) {
    if (keys.has(f.key)) fail(`duplicate field ${f.key}`);
    keys.add(f.key);
    for (const r of f.boxes) {
      if (!inside(r, t.sizeMm)) fail(`box of ${f.key} lies outside the page`);
      for (const o of allBoxes) if (overlaps(o.r, r)) fail(`boxes of ${f.key} and ${o.key} overlap`);
      allBoxes.push({ key: f.key, r });
    }
  }
  for (const c of t.fiducials.corners) {
    if (!inside(c, t.sizeMm)) fail('a fiducial lies outside the page');
    if (Math.abs(c.w - t.fiducials.sizeMm) > 1e-9 || Math.abs(c.h - t.fiducials.sizeMm) > 1e-9) fail('fiducial rect size differs from fiducials.sizeMm');
  }
  if (!inside(t.pageMark, t.sizeMm)) fail('the page mark lies outside the page');
  if (Math.abs(t.pageMark.w - t.pageMark.h) > 1e-9) fail('the page mark must be square');
  for (const b of allBoxes) if (overlaps(b.r, t.pageMark)) fail(`box of ${b.key} overlaps the page mark`);
  const ids = new Set<string>();
  for (const idn of t.identities) {
    if (ids.has(idn.id)) fail(`duplicate identity ${idn.id}`);
    ids.add(idn.id);
    for (const k of [idn.total, ...idn.parts]) if (!keys.has(k)) fail(`identity ${idn.id} names unknown field ${k}`);
  }
  const mark = parseMarkId(t.markId);
  if (mark.formType !== FORM_TYPE_KWK || mark.page !== PAGE_INDEX[t.page]) fail(`mark id ${t.markId} does not encode page ${t.page}`);
  if (t.page === 'perolehan') {
    if (!t.candidateCount) fail('a perolehan template needs candidateCount');
    if (mark.candidateCount !== t.candidateCount) fail(`mark id ${t.markId} does not encode ${t.candidateCount} candidates`);
    for (const k of perolehanKeys(t.candidateCount!)) if (!keys.has(k)) fail(`missing field ${k}`);
  } else {
    if (t.candidateCount !== undefined) fail('an administrasi template has no candidateCount');
    for (const k of administrasiKeys()) if (!keys.has(k)) fail(`missing field ${k}`);
  }
  return t;
}

const PERSON_ROWS = ['pemilih_dpt', 'pemilih_dpph', 'pemilih_dptb', 'pemilih_total', 'pengguna_dpt', 'pengguna_dpph', 'pengguna_dptb', 'pengguna_total', 'pemilih_disabilitas', 'pengguna_disabilitas'];
const BALLOT_KEYS = ['surat_diterima', 'surat_dikembalikan', 'surat_tidak_digunakan', 'surat_digunakan'];

function administrasiKeys(): string[] {
  return [...PERSON_ROWS.flatMap((r) => ['l', 'p', 'j'].map((s) => `${r}_${s}`)), ...BALLOT_KEYS];
}
function perolehanKeys(n: number): string[] {
  const keys = Array.from({ length: n }, (_, i) => `suara_paslon_${i + 1}`);
  if (n === 1) keys.push('suara_kolom_kosong');
  return [...keys, 'suara_sah', 'suara_tidak_sah', 'suara_total'];
}

let cache: FormTemplate[] | null = null;

/** Every template in workers/reader/templates/, validated (throws TemplateError on the first bad one). */
export function loadTemplates(dir = TEMPLATE_DIR): FormTemplate[] {
  if (dir === TEMPLATE_DIR && cache) return cache;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const out: FormTemplate[] = [];
  for (const f of files) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(`${dir}${dir.endsWith('/') ? '' : '/'}${f}`, 'utf8'));
    } catch (err) {
      throw new TemplateError(`${f}: not valid JSON (${(err as Error).message})`);
    }
    const t = parseTemplate(json, f);
    if (`${t.id}.json` !== f) throw new TemplateError(`${f}: file name must be <id>.json (id is ${t.id})`);
    out.push(t);
  }
  const marks = new Map<number, string>();
  for (const t of out) {
    const prev = marks.get(t.markId);
    // Two versions of one layout may share a mark only if they never coexist; we keep it simple: unique.
    if (prev) throw new TemplateError(`${t.id}: mark id ${t.markId} already used by ${prev}`);
    marks.set(t.markId, t.id);
  }
  if (dir === TEMPLATE_DIR) cache = out;
  return out;
}

/** The template for a page; perolehan needs the contest's candidate count (1..6). */
export function templateFor(page: PageKind, candidateCount?: number): FormTemplate {
  const all = loadTemplates();
  if (page === 'perolehan') {
    if (!Number.isInteger(candidateCount) || candidateCount! < 1 || candidateCount! > MAX_CANDIDATES) {
      throw new TemplateError(`a perolehan page needs a candidate count of 1..${MAX_CANDIDATES}, got ${candidateCount}`);
    }
  }
  const hits = all.filter((t) => t.page === page && (page === 'administrasi' || t.candidateCount === candidateCount));
  if (hits.length === 0) throw new TemplateError(`no template for page ${page}${page === 'perolehan' ? ` with ${candidateCount} candidates` : ''}`);
  // Newest version wins when a layout has been revised.
  return hits.sort((a, b) => b.version - a.version)[0]!;
}

/** The template a decoded page mark points to, or null for an id no template carries. */
export function templateByMarkId(id: number): FormTemplate | null {
  return loadTemplates().find((t) => t.markId === id) ?? null;
}

export function templateById(id: string): FormTemplate | null {
  return loadTemplates().find((t) => t.id === id) ?? null;
}

/** Every mark id a template carries: the candidate set for decodePageMarkNearest. */
export function knownMarkIds(): number[] {
  return loadTemplates().map((t) => t.markId);
}

/** The field keys of both pages for a contest with this many candidates, administrasi first. */
export function fieldKeysFor(contestCandidateCount: number): string[] {
  return [...templateFor('administrasi').fields.map((f) => f.key), ...templateFor('perolehan', contestCandidateCount).fields.map((f) => f.key)];
}

/** Millimetres to pixels at a given resolution. */
export function mmToPx(mm: number, dpi: number): number {
  return (mm * dpi) / 25.4;
}
