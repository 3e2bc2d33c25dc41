/**
 * Writes the C.Hasil-KWK v1 templates (workers/reader/templates/*.json) from one layout description.
 * The JSON files are the source of truth at run time (renderer, reader, decoder read them); this
 * script only exists so that the seven layouts share their geometry without hand-copying numbers.
 * A new layout (another paper size, another page split) is a new JSON file with a new id/version:
 * never edit a published template's geometry in place, photos already read refer to it.
 *
 *   npx tsx workers/reader/template/generate.ts
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FieldSpec, FormTemplate, IdentitySpec, LineSpec, RectMm, TextSpec } from './types.js';
import { markIdFor } from './pagemark.js';

// F4 / folio (215 × 330 mm): the paper Indonesian offices print on, "A4-ish" with room for 3-box rows.
const PAGE = { width: 215, height: 330 };
const FID = 10;
const FID_MARGIN = 8;
const BOX = 9;
const BOX_PITCH = 11;
const LEFT = 12;
const RIGHT = 203;
const COL_L = 98;
const COL_P = 133;
const COL_J = 168;
const COL_W = 35;
const ROW_H = 11;
const LINE = 0.3;
const HEAVY = 0.5;

const r1 = (v: number) => Math.round(v * 100) / 100;
const rect = (x: number, y: number, w: number, h: number): RectMm => ({ x: r1(x), y: r1(y), w: r1(w), h: r1(h) });

function boxesAt(groupX: number, rowY: number, rowH: number): RectMm[] {
  const span = BOX + 2 * BOX_PITCH;
  const x0 = groupX + (COL_W - span) / 2;
  const y0 = rowY + (rowH - BOX) / 2;
  return [0, 1, 2].map((i) => rect(x0 + i * BOX_PITCH, y0, BOX, BOX));
}

interface Builder {
  text: TextSpec[];
  lines: LineSpec[];
  fields: FieldSpec[];
}

function t(b: Builder, text: string, x: number, y: number, sizeMm: number, opts: { bold?: boolean; align?: 'left' | 'center' | 'right' } = {}) {
  b.text.push({ text, x: r1(x), y: r1(y), sizeMm, ...(opts.bold ? { bold: true } : {}), ...(opts.align && opts.align !== 'left' ? { align: opts.align } : {}) });
}
function hline(b: Builder, x1: number, x2: number, y: number, w = LINE) {
  b.lines.push({ x1: r1(x1), y1: r1(y), x2: r1(x2), y2: r1(y), widthMm: w });
}
function vline(b: Builder, x: number, y1: number, y2: number, w = LINE) {
  b.lines.push({ x1: r1(x), y1: r1(y1), x2: r1(x), y2: r1(y2), widthMm: w });
}

const PAGE_COUNT = 2;

function common(b: Builder, page: 'administrasi' | 'perolehan') {
  const pageNo = page === 'administrasi' ? 1 : 2;
  // Form id box, top right, with the page mark under it (as on the 2024 plano).
  b.lines.push(
    { x1: 162, y1: 20, x2: 196, y2: 20, widthMm: HEAVY },
    { x1: 162, y1: 31, x2: 196, y2: 31, widthMm: HEAVY },
    { x1: 162, y1: 20, x2: 162, y2: 31, widthMm: HEAVY },
    { x1: 196, y1: 20, x2: 196, y2: 31, widthMm: HEAVY },
  );
  t(b, 'MODEL', 179, 23.5, 2.6, { bold: true, align: 'center' });
  t(b, 'C.HASIL-KWK', 179, 27.5, 2.8, { bold: true, align: 'center' });
  t(b, `Halaman ${pageNo} dari ${PAGE_COUNT}`, 179, 34.5, 2.4, { bold: true, align: 'center' });

  t(b, 'BERITA ACARA DAN SERTIFIKAT HASIL PENGHITUNGAN PEROLEHAN SUARA', 88, 22, 3.2, { bold: true, align: 'center' });
  t(b, 'DI TEMPAT PEMUNGUTAN SUARA', 88, 27, 3.2, { bold: true, align: 'center' });
  t(b, 'TAHUN 2024', 88, 46, 3.2, { bold: true, align: 'center' });

  const labels: [string, number, number][] = [
    ['Provinsi', 14, 65],
    ['Kabupaten / Kota', 14, 73],
    ['Kecamatan', 110, 65],
    ['Kelurahan / Desa', 110, 73],
    ['Nomor TPS', 110, 81],
  ];
  for (const [l, x, y] of labels) {
    t(b, l, x, y, 2.6, { bold: true });
    t(b, ':', x + 27, y, 2.6, { bold: true });
  }
  t(b, `Pilkada 2024 · Formulir Model C.Hasil-KWK · Halaman ${pageNo} dari ${PAGE_COUNT}`, 22, 325, 2.2);
}

const header = {
  provinsi: rect(44, 61.5, 60, 5.5),
  kabupaten: rect(44, 69.5, 60, 5.5),
  kecamatan: rect(140, 61.5, 62, 5.5),
  desa: rect(140, 69.5, 62, 5.5),
  tps: rect(140, 77.5, 62, 5.5),
};

function fiducials(): FormTemplate['fiducials'] {
  const far = PAGE.width - FID_MARGIN - FID;
  const low = PAGE.height - FID_MARGIN - FID;
  return {
    sizeMm: FID,
    corners: [rect(FID_MARGIN, FID_MARGIN, FID, FID), rect(far, FID_MARGIN, FID, FID), rect(far, low, FID, FID), rect(FID_MARGIN, low, FID, FID)],
  };
}

const PAGE_MARK = rect(174, 38, 20, 20);

/** Column header of an L / P / J table at y (7 mm tall). */
function lpjHeader(b: Builder, y: number, jOnly = false) {
  hline(b, LEFT, RIGHT, y, HEAVY);
  t(b, 'URAIAN', (LEFT + (jOnly ? COL_J : COL_L)) / 2, y + 4.5, 2.4, { bold: true, align: 'center' });
  if (!jOnly) {
    t(b, 'LAKI-LAKI (L)', COL_L + COL_W / 2, y + 4.5, 2.4, { bold: true, align: 'center' });
    t(b, 'PEREMPUAN (P)', COL_P + COL_W / 2, y + 4.5, 2.4, { bold: true, align: 'center' });
    t(b, 'JUMLAH (L+P)', COL_J + COL_W / 2, y + 4.5, 2.4, { bold: true, align: 'center' });
  } else {
    t(b, 'JUMLAH', COL_J + COL_W / 2, y + 4.5, 2.4, { bold: true, align: 'center' });
  }
  hline(b, LEFT, RIGHT, y + 7);
}

interface PersonRow { key: string; id: string; en: string }

function personRows(b: Builder, rows: PersonRow[], top: number): number {
  let y = top;
  for (const row of rows) {
    t(b, row.id, LEFT + 3, y + ROW_H / 2 + 1, 2.5);
    const cols: [string, number, string, string][] = [
      ['l', COL_L, 'L', 'male'],
      ['p', COL_P, 'P', 'female'],
      ['j', COL_J, 'Jumlah', 'total'],
    ];
    for (const [suffix, x, idCol, enCol] of cols) {
      b.fields.push({ key: `${row.key}_${suffix}`, label: { id: `${row.id} (${idCol})`, en: `${row.en} (${enCol})` }, boxes: boxesAt(x, y, ROW_H) });
    }
    y += ROW_H;
    hline(b, LEFT, RIGHT, y);
  }
  return y;
}

function tableVerticals(b: Builder, top: number, bottom: number, jOnly = false) {
  vline(b, LEFT, top, bottom, HEAVY);
  vline(b, RIGHT, top, bottom, HEAVY);
  if (!jOnly) {
    vline(b, COL_L, top, bottom);
    vline(b, COL_P, top, bottom);
  }
  vline(b, COL_J, top, bottom);
}

const EPS_IN_PAGE = 0.03;
const EPS_BALLOTS = 0.08;
const EPS_BOUND = 0.03;

function sum(id: string, rule: string, total: string, parts: string[], epsilon: number): IdentitySpec {
  return { id, rule, kind: 'sum', total, parts, epsilon };
}
function le(id: string, total: string, part: string): IdentitySpec {
  return { id, rule: 'H10', kind: 'le', total, parts: [part], epsilon: EPS_BOUND };
}

function administrasi(): FormTemplate {
  const b: Builder = { text: [], lines: [], fields: [] };
  common(b, 'administrasi');
  t(b, 'PEMILIHAN KEPALA DAERAH DAN WAKIL KEPALA DAERAH', 88, 34, 3.2, { bold: true, align: 'center' });

  // I. Voters and users of the right to vote.
  t(b, 'I.   DATA PEMILIH DAN PENGGUNA HAK PILIH', LEFT, 92, 3, { bold: true });
  const iTop = 94;
  lpjHeader(b, iTop);
  t(b, 'A.  DATA PEMILIH', LEFT + 2, iTop + 11.5, 2.6, { bold: true });
  hline(b, LEFT, RIGHT, iTop + 13);
  let y = personRows(
    b,
    [
      { key: 'pemilih_dpt', id: '1. Pemilih dalam Daftar Pemilih Tetap (DPT)', en: 'Registered on the voter roll (DPT)' },
      { key: 'pemilih_dpph', id: '2. Pemilih pindahan (DPPh)', en: 'Registered, moved in (DPPh)' },
      { key: 'pemilih_dptb', id: '3. Pemilih tambahan, KTP-el (DPTb)', en: 'Registered, additional e-KTP (DPTb)' },
      { key: 'pemilih_total', id: '4. Jumlah pemilih (A.1 + A.2 + A.3)', en: 'Registered, total' },
    ],
    iTop + 13,
  );
  t(b, 'B.  PENGGUNA HAK PILIH', LEFT + 2, y + 4.5, 2.6, { bold: true });
  hline(b, LEFT, RIGHT, y + 6);
  y = personRows(
    b,
    [
      { key: 'pengguna_dpt', id: '1. Pengguna hak pilih dalam DPT', en: 'Voted, on the voter roll (DPT)' },
      { key: 'pengguna_dpph', id: '2. Pengguna hak pilih pindahan (DPPh)', en: 'Voted, moved in (DPPh)' },
      { key: 'pengguna_dptb', id: '3. Pengguna hak pilih KTP-el (DPTb)', en: 'Voted, additional e-KTP (DPTb)' },
      { key: 'pengguna_total', id: '4. Jumlah pengguna hak pilih (B.1 + B.2 + B.3)', en: 'Voted, total' },
    ],
    y + 6,
  );
  tableVerticals(b, iTop, y);
  hline(b, LEFT, RIGHT, y, HEAVY);

  // II. Ballots, KWK row order (diterima, dikembalikan, tidak digunakan, digunakan): map by key, never by position.
  t(b, 'II.  DATA PENGGUNAAN SURAT SUARA', LEFT, 206, 3, { bold: true });
  const iiTop = 208;
  lpjHeader(b, iiTop, true);
  y = iiTop + 7;
  const ballots: [string, string, string][] = [
    ['surat_diterima', '1. Surat suara diterima, termasuk cadangan 2,5% dari DPT', 'Ballots received (incl. reserve)'],
    ['surat_dikembalikan', '2. Surat suara dikembalikan pemilih (rusak / keliru coblos)', 'Ballots returned spoiled'],
    ['surat_tidak_digunakan', '3. Surat suara tidak digunakan / tidak terpakai', 'Ballots unused'],
    ['surat_digunakan', '4. Surat suara yang digunakan', 'Ballots used'],
  ];
  for (const [key, id, en] of ballots) {
    t(b, id, LEFT + 3, y + ROW_H / 2 + 1, 2.5);
    b.fields.push({ key, label: { id, en }, boxes: boxesAt(COL_J, y, ROW_H) });
    y += ROW_H;
    hline(b, LEFT, RIGHT, y);
  }
  tableVerticals(b, iiTop, y, true);
  hline(b, LEFT, RIGHT, y, HEAVY);

  // III. Voters with disability.
  t(b, 'III. DATA PEMILIH DISABILITAS', LEFT, 265, 3, { bold: true });
  const iiiTop = 267;
  lpjHeader(b, iiiTop);
  y = personRows(
    b,
    [
      { key: 'pemilih_disabilitas', id: '1. Pemilih disabilitas terdaftar', en: 'Disabled voters registered' },
      { key: 'pengguna_disabilitas', id: '2. Pemilih disabilitas yang memilih', en: 'Disabled voters who voted' },
    ],
    iiiTop + 7,
  );
  tableVerticals(b, iiiTop, y);
  hline(b, LEFT, RIGHT, y, HEAVY);

  const identities: IdentitySpec[] = [];
  for (const g of ['pemilih', 'pengguna'] as const) {
    for (const s of ['l', 'p', 'j']) {
      identities.push(sum(`H3_${g}_${s}`, 'H3', `${g}_total_${s}`, [`${g}_dpt_${s}`, `${g}_dpph_${s}`, `${g}_dptb_${s}`], EPS_IN_PAGE));
    }
  }
  for (const row of ['pemilih_dpt', 'pemilih_dpph', 'pemilih_dptb', 'pemilih_total', 'pengguna_dpt', 'pengguna_dpph', 'pengguna_dptb', 'pengguna_total', 'pemilih_disabilitas', 'pengguna_disabilitas']) {
    identities.push(sum(`H7_${row}`, 'H7', `${row}_j`, [`${row}_l`, `${row}_p`], EPS_IN_PAGE));
  }
  identities.push(sum('H6_surat', 'H6', 'surat_diterima', ['surat_digunakan', 'surat_dikembalikan', 'surat_tidak_digunakan'], EPS_BALLOTS));
  identities.push(sum('H5_surat_digunakan', 'H5', 'surat_digunakan', ['pengguna_total_j'], EPS_BALLOTS));
  for (const s of ['l', 'p', 'j']) {
    identities.push(le(`H10_dpt_${s}`, `pemilih_dpt_${s}`, `pengguna_dpt_${s}`));
    identities.push(le(`H10_dpph_${s}`, `pemilih_dpph_${s}`, `pengguna_dpph_${s}`));
    identities.push(le(`H10_disabilitas_${s}`, `pemilih_disabilitas_${s}`, `pengguna_disabilitas_${s}`));
  }
  identities.push(le('H10_disabilitas_pengguna', 'pengguna_total_j', 'pengguna_disabilitas_j'));

  return {
    id: 'c-hasil-kwk-administrasi-v1',
    version: 1,
    formType: 'C.HASIL-KWK',
    page: 'administrasi',
    markId: markIdFor('administrasi'),
    sizeMm: PAGE,
    fiducials: fiducials(),
    pageMark: PAGE_MARK,
    header,
    contestTitle: rect(20, 36.5, 136, 5),
    fields: b.fields,
    identities,
    text: b.text,
    lines: b.lines,
    boxLineMm: 0.4,
  };
}

function perolehan(n: number): FormTemplate {
  const b: Builder = { text: [], lines: [], fields: [] };
  common(b, 'perolehan');
  t(b, 'PEMILIHAN KEPALA DAERAH DAN WAKIL KEPALA DAERAH', 88, 34, 3.2, { bold: true, align: 'center' });

  t(b, 'IV.  DATA PEROLEHAN SUARA PASANGAN CALON', LEFT, 92, 3, { bold: true });
  const top = 94;
  const NUM_R = 28;
  const rowH = 15;
  hline(b, LEFT, RIGHT, top, HEAVY);
  t(b, 'NO. URUT', (LEFT + NUM_R) / 2, top + 4.5, 2.4, { bold: true, align: 'center' });
  t(b, 'NAMA PASANGAN CALON', (NUM_R + COL_J) / 2, top + 4.5, 2.4, { bold: true, align: 'center' });
  t(b, 'JUMLAH SUARA SAH', COL_J + COL_W / 2, top + 4.5, 2.4, { bold: true, align: 'center' });
  hline(b, LEFT, RIGHT, top + 7);
  let y = top + 7;
  const rows: { number: number; field: string }[] = [];
  for (let i = 1; i <= n; i++) rows.push({ number: i, field: `suara_paslon_${i}` });
  // A single-paslon race is a vote against an empty column (PKPU: "kolom kosong").
  if (n === 1) rows.push({ number: 0, field: 'suara_kolom_kosong' });
  const candidateRows: NonNullable<FormTemplate['candidateRows']> = [];
  for (const row of rows) {
    if (row.number > 0) t(b, String(row.number), (LEFT + NUM_R) / 2, y + rowH / 2 + 1.5, 5, { bold: true, align: 'center' });
    candidateRows.push({ number: row.number, field: row.field, name: rect(NUM_R + 2, y + 1, COL_J - NUM_R - 4, rowH - 2) });
    b.fields.push({
      key: row.field,
      label:
        row.number > 0
          ? { id: `Suara sah pasangan calon nomor urut ${row.number}`, en: `Valid votes for candidate pair ${row.number}` }
          : { id: 'Suara sah kolom kosong', en: 'Valid votes for the empty column' },
      boxes: boxesAt(COL_J, y, rowH),
    });
    y += rowH;
    hline(b, LEFT, RIGHT, y);
  }
  vline(b, LEFT, top, y, HEAVY);
  vline(b, RIGHT, top, y, HEAVY);
  vline(b, NUM_R, top, y);
  vline(b, COL_J, top, y);
  hline(b, LEFT, RIGHT, y, HEAVY);

  const vTitle = y + 9;
  t(b, 'V.   DATA SUARA SAH DAN SUARA TIDAK SAH', LEFT, vTitle, 3, { bold: true });
  const vTop = vTitle + 2;
  lpjHeader(b, vTop, true);
  y = vTop + 7;
  const vRowH = 13;
  const sumLabel = n === 1 ? 'IV.1 + kolom kosong' : Array.from({ length: n }, (_, i) => `IV.${i + 1}`).join(' + ');
  const vRows: [string, string, string][] = [
    ['suara_sah', `A. Jumlah seluruh suara sah (${sumLabel})`, 'Valid votes, total'],
    ['suara_tidak_sah', 'B. Jumlah suara tidak sah', 'Invalid votes'],
    ['suara_total', 'C. Jumlah seluruh suara sah dan tidak sah (A + B)', 'All votes (valid + invalid)'],
  ];
  for (const [key, id, en] of vRows) {
    t(b, id, LEFT + 3, y + vRowH / 2 + 1, 2.5);
    b.fields.push({ key, label: { id, en }, boxes: boxesAt(COL_J, y, vRowH) });
    y += vRowH;
    hline(b, LEFT, RIGHT, y);
  }
  tableVerticals(b, vTop, y, true);
  hline(b, LEFT, RIGHT, y, HEAVY);

  // Signatures: decoration only, nothing here is read.
  const sTop = y + 10;
  t(b, 'KELOMPOK PENYELENGGARA PEMUNGUTAN SUARA', (LEFT + RIGHT) / 2, sTop, 2.6, { bold: true, align: 'center' });
  t(b, 'Ketua,', 40, sTop + 6, 2.5, { align: 'center' });
  t(b, '( .................................... )', 40, sTop + 22, 2.5, { align: 'center' });
  t(b, 'Anggota,', 150, sTop + 6, 2.5, { align: 'center' });
  t(b, '( .................................... )', 150, sTop + 22, 2.5, { align: 'center' });

  const paslon = rows.map((r) => r.field);
  return {
    id: `c-hasil-kwk-perolehan-${n}-v1`,
    version: 1,
    formType: 'C.HASIL-KWK',
    page: 'perolehan',
    candidateCount: n,
    markId: markIdFor('perolehan', n),
    sizeMm: PAGE,
    fiducials: fiducials(),
    pageMark: PAGE_MARK,
    header,
    contestTitle: rect(20, 36.5, 136, 5),
    candidateRows,
    fields: b.fields,
    identities: [
      sum('H1_suara_sah', 'H1', 'suara_sah', paslon, EPS_IN_PAGE),
      sum('H2_suara_total', 'H2', 'suara_total', ['suara_sah', 'suara_tidak_sah'], EPS_IN_PAGE),
    ],
    text: b.text,
    lines: b.lines,
    boxLineMm: 0.4,
  };
}

export function buildTemplates(): FormTemplate[] {
  return [administrasi(), ...[1, 2, 3, 4, 5, 6].map(perolehan)];
}

const isEntry = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntry) {
  const dir = fileURLToPath(new URL('../templates/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  for (const tpl of buildTemplates()) {
    writeFileSync(`${dir}${tpl.id}.json`, `${JSON.stringify(tpl, null, 1)}\n`);
    console.log(`${tpl.id}.json: ${tpl.fields.length} fields, ${tpl.identities.length} identities, mark ${tpl.markId}`);
  }
}
