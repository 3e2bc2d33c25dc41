/**
 * Draws a C.Hasil-KWK page from its template: the printable blank form (with the TPS header) and, for
 * tests and synthetic forms, typed values in the boxes. Everything is drawn in millimetres through one
 * scale transform, so the PNG (any dpi) and the vector PDF share one drawing routine and the pixels
 * land exactly where the template says (the reader relies on this).
 *
 * Public entry points: renderForm (PNG/PDF buffer), renderFormCanvas (the canvas, for synth to draw
 * handwriting on), drawForm (onto any 2D context already scaled to mm), fitText, FONT_STACK.
 */
import { createCanvas, PDFDocument, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { FormTemplate, RectMm } from '../template/types.js';
import { PAGE_MARK_CELLS, pageMarkMatrix } from '../template/pagemark.js';

/** Fonts present on Debian and most Linux desktops; canvas falls back to any sans if none is. */
export const FONT_STACK = '"Liberation Sans", "DejaVu Sans", "Nimbus Sans", Arial, sans-serif';

export interface CandidateName { number: number; headName: string; deputyName: string }

/** What the printed header says: area names, TPS number, contest title and candidate names. */
export interface FormHeader {
  provinsi: string;
  kabupaten: string;
  kecamatan: string;
  desa: string;
  /** TPS number as printed ("001"), optionally followed by the 13-digit code. */
  tps: string;
  /** e.g. "PEMILIHAN GUBERNUR DAN WAKIL GUBERNUR KALIMANTAN TENGAH". */
  contestTitle?: string;
  candidates?: CandidateName[];
}

export interface RenderOptions {
  /** Raster resolution (PNG); 150 by default. Ignored for PDF, which is vector. */
  dpi?: number;
  format?: 'png' | 'pdf';
  /**
   * Typed values written into the boxes (a clean stand-in for handwriting: tests and the reader's
   * render→read round trip). Keys are the template's field keys; absent keys stay blank.
   */
  values?: Record<string, number | null | undefined>;
  /** How unused leading boxes of typed values are filled: 'X' (observed practice) or '0'. */
  leadingFill?: 'X' | '0';
}

export const DEFAULT_DPI = 150;

export function pageSizePx(template: FormTemplate, dpi: number): { width: number; height: number } {
  return { width: Math.round((template.sizeMm.width * dpi) / 25.4), height: Math.round((template.sizeMm.height * dpi) / 25.4) };
}

/** Font size (mm) that makes text fit a width, never larger than maxMm. */
export function fitText(ctx: SKRSContext2D, text: string, maxWidthMm: number, maxMm: number, bold = false): number {
  let size = maxMm;
  for (let i = 0; i < 20; i++) {
    ctx.font = `${bold ? 'bold ' : ''}${size}px ${FONT_STACK}`;
    const w = ctx.measureText(text).width;
    if (w <= maxWidthMm) break;
    size *= Math.max(0.5, maxWidthMm / w) * 0.98;
  }
  ctx.font = `${bold ? 'bold ' : ''}${size}px ${FONT_STACK}`;
  return size;
}

/**
 * The box classes a value is written as: right-aligned digits, leading boxes filled with the filler.
 * 0 renders as [fill, fill, '0'] (DOMAIN §5.5). Throws for a value that does not fit the boxes.
 */
export function boxGlyphs(value: number, boxes: number, leadingFill: 'X' | '0' = 'X'): string[] {
  if (!Number.isInteger(value) || value < 0 || value >= 10 ** boxes) throw new RangeError(`value ${value} does not fit ${boxes} boxes`);
  const digits = String(value);
  return Array.from({ length: boxes }, (_, i) => {
    const j = i - (boxes - digits.length);
    return j >= 0 ? digits[j]! : leadingFill;
  });
}

function strokeRectInside(ctx: SKRSContext2D, r: RectMm, lineMm: number) {
  ctx.lineWidth = lineMm;
  ctx.strokeRect(r.x + lineMm / 2, r.y + lineMm / 2, r.w - lineMm, r.h - lineMm);
}

/** Draws the whole page onto a context whose unit is 1 mm (caller applies the scale). */
export function drawForm(ctx: SKRSContext2D, template: FormTemplate, header: FormHeader, opts: RenderOptions = {}): void {
  const { width, height } = template.sizeMm;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#000000';
  ctx.strokeStyle = '#000000';
  ctx.lineCap = 'butt';

  for (const l of template.lines ?? []) {
    ctx.lineWidth = l.widthMm;
    ctx.beginPath();
    ctx.moveTo(l.x1, l.y1);
    ctx.lineTo(l.x2, l.y2);
    ctx.stroke();
  }

  ctx.textBaseline = 'alphabetic';
  for (const t of template.text) {
    ctx.font = `${t.bold ? 'bold ' : ''}${t.sizeMm}px ${FONT_STACK}`;
    ctx.textAlign = t.align ?? 'left';
    ctx.fillText(t.text, t.x, t.y);
  }

  // Fiducials: 2 × 2 checkerboards, black top-left and bottom-right.
  for (const c of template.fiducials.corners) {
    const h = template.fiducials.sizeMm / 2;
    ctx.fillRect(c.x, c.y, h, h);
    ctx.fillRect(c.x + h, c.y + h, h, h);
  }

  // Page mark, plus its id printed sideways to its left (as on the plano) for humans.
  const m = template.pageMark;
  const cell = m.w / PAGE_MARK_CELLS;
  const matrix = pageMarkMatrix(template.markId);
  for (let r = 0; r < PAGE_MARK_CELLS; r++) {
    for (let c = 0; c < PAGE_MARK_CELLS; c++) {
      // Slight overdraw closes hairline seams between adjacent black cells after anti-aliasing.
      if (matrix[r]![c]) ctx.fillRect(m.x + c * cell, m.y + r * cell, cell + 0.02, cell + 0.02);
    }
  }
  ctx.save();
  ctx.translate(m.x - cell * 1.4, m.y + m.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.font = `bold 2.6px ${FONT_STACK}`;
  ctx.textAlign = 'center';
  ctx.fillText(String(template.markId), 0, 0);
  ctx.restore();

  // Header values.
  ctx.textAlign = 'left';
  for (const key of ['provinsi', 'kabupaten', 'kecamatan', 'desa', 'tps'] as const) {
    const r = template.header[key];
    ctx.lineWidth = 0.2;
    ctx.setLineDash([0.4, 0.6]);
    ctx.beginPath();
    ctx.moveTo(r.x, r.y + r.h);
    ctx.lineTo(r.x + r.w, r.y + r.h);
    ctx.stroke();
    ctx.setLineDash([]);
    const text = header[key] ?? '';
    if (text) {
      fitText(ctx, text, r.w - 1, r.h * 0.7);
      ctx.fillText(text, r.x + 0.5, r.y + r.h * 0.78);
    }
  }
  if (template.contestTitle && header.contestTitle) {
    const r = template.contestTitle;
    fitText(ctx, header.contestTitle.toUpperCase(), r.w, r.h * 0.75, true);
    ctx.textAlign = 'center';
    ctx.fillText(header.contestTitle.toUpperCase(), r.x + r.w / 2, r.y + r.h * 0.8);
    ctx.textAlign = 'left';
  }
  for (const row of template.candidateRows ?? []) {
    const r = row.name;
    if (row.number === 0) {
      fitText(ctx, 'KOLOM KOSONG', r.w, r.h * 0.35, true);
      ctx.fillText('KOLOM KOSONG', r.x + 1, r.y + r.h * 0.62);
      continue;
    }
    const c = header.candidates?.find((x) => x.number === row.number);
    if (!c) continue;
    fitText(ctx, c.headName, r.w - 2, r.h * 0.3, true);
    ctx.fillText(c.headName, r.x + 1, r.y + r.h * 0.42);
    fitText(ctx, c.deputyName, r.w - 2, r.h * 0.3);
    ctx.fillText(c.deputyName, r.x + 1, r.y + r.h * 0.85);
  }

  const boxLine = template.boxLineMm ?? 0.4;
  for (const f of template.fields) for (const b of f.boxes) strokeRectInside(ctx, b, boxLine);

  if (opts.values) {
    for (const f of template.fields) {
      const v = opts.values[f.key];
      if (v === null || v === undefined) continue;
      const glyphs = boxGlyphs(v, f.boxes.length, opts.leadingFill ?? 'X');
      glyphs.forEach((g, i) => drawTypedGlyph(ctx, f.boxes[i]!, g));
    }
  }
}

/** A typed digit or a drawn X filling most of a box: the "clean handwriting" of a test render. */
export function drawTypedGlyph(ctx: SKRSContext2D, r: RectMm, glyph: string): void {
  ctx.save();
  if (glyph === 'X') {
    const p = r.w * 0.22;
    ctx.lineWidth = r.w * 0.08;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(r.x + p, r.y + p);
    ctx.lineTo(r.x + r.w - p, r.y + r.h - p);
    ctx.moveTo(r.x + r.w - p, r.y + p);
    ctx.lineTo(r.x + p, r.y + r.h - p);
    ctx.stroke();
  } else {
    ctx.font = `${r.h * 0.72}px ${FONT_STACK}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(glyph, r.x + r.w / 2, r.y + r.h / 2 + r.h * 0.03);
  }
  ctx.restore();
}

/** The page as a raster canvas (1 px = 25.4/dpi mm); synth draws handwriting onto it afterwards. */
export function renderFormCanvas(template: FormTemplate, header: FormHeader, opts: RenderOptions = {}): { canvas: Canvas; pxPerMm: number } {
  const dpi = opts.dpi ?? DEFAULT_DPI;
  if (!(dpi >= 30 && dpi <= 1200)) throw new RangeError(`dpi must be 30..1200, got ${dpi}`);
  const { width, height } = pageSizePx(template, dpi);
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const pxPerMm = width / template.sizeMm.width;
  ctx.setTransform(pxPerMm, 0, 0, height / template.sizeMm.height, 0, 0);
  drawForm(ctx, template, header, opts);
  return { canvas, pxPerMm };
}

/** PNG (raster at opts.dpi) or PDF (vector, page size = template size) of one page. */
export async function renderForm(template: FormTemplate, header: FormHeader, opts: RenderOptions = {}): Promise<Buffer> {
  if ((opts.format ?? 'png') === 'pdf') {
    const pt = 72 / 25.4;
    const doc = new PDFDocument({ title: `${template.formType} ${template.page} ${header.tps}`, creator: 'rekap' });
    const ctx = doc.beginPage(template.sizeMm.width * pt, template.sizeMm.height * pt);
    ctx.scale(pt, pt);
    // The PDF context is the same Skia canvas API under another declared type.
    drawForm(ctx as unknown as SKRSContext2D, template, header, opts);
    doc.endPage();
    return doc.close();
  }
  const { canvas } = renderFormCanvas(template, header, opts);
  return canvas.encode('png');
}
