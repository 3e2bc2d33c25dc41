import type { CandidateInfo } from '../../../server/contract/index.js';
import type { Lang } from '../lib/i18n.js';

/**
 * Texts of the capture screens, Bahasa Indonesia first. Kept beside the capture code (not in the
 * dashboard's table) because the officer's words differ: plain, short, no jargon.
 */
const T = {
  title: ['Kirim C.Hasil', 'Send C.Hasil'],
  loginTitle: ['Masuk dengan token perangkat', 'Sign in with the device token'],
  loginHelp: ['Tempel token dari panitia (rekap token create --role operator --tps …) atau buka tautan perangkat.', 'Paste the token from the committee (rekap token create --role operator --tps …) or open the device link.'],
  tokenLabel: ['Token', 'Token'],
  signIn: ['Masuk', 'Sign in'],
  signOut: ['Keluar', 'Sign out'],
  badToken: ['Token ditolak: {m}', 'Token refused: {m}'],
  notKpps: ['Token ini tidak terikat pada satu TPS. Gunakan token operator TPS.', 'This token is not bound to one polling station. Use a TPS operator token.'],
  offlineCached: ['Tanpa jaringan: memakai data perangkat yang tersimpan', 'No network: using the data saved on this device'],
  practice: ['Mode latihan', 'Practice mode'],
  practiceBanner: ['MODE LATIHAN — kiriman ini tidak mengubah hasil resmi', 'PRACTICE MODE — these uploads never change official results'],
  contest: ['Pemilihan', 'Contest'],
  page: ['Halaman formulir', 'Form page'],
  pageAuto: ['Otomatis (tanda halaman)', 'Automatic (page mark)'],
  pageAdmin: ['Hal. 1 · Administrasi', 'P. 1 · Administration'],
  pageVotes: ['Hal. 2 · Perolehan suara', 'P. 2 · Vote count'],
  takePhoto: ['Ambil foto', 'Take photo'],
  chooseFile: ['Pilih dari galeri', 'Choose from gallery'],
  frameHelp: ['Letakkan formulir datar, seluruh halaman di dalam bingkai, keempat tanda sudut terlihat, tanpa bayangan. Jangan menutupi kode halaman (kanan atas) dengan jari.', 'Lay the form flat, the whole page inside the frame, all four corner marks visible, no shadows. Keep your fingers off the page code (top right).'],
  send: ['Kirim foto', 'Send photo'],
  retake: ['Foto ulang', 'Retake'],
  cancel: ['Batal', 'Cancel'],
  outbox: ['Antrean kiriman', 'Outbox'],
  outboxEmpty: ['Tidak ada yang menunggu', 'Nothing waiting'],
  online: ['Terhubung', 'Online'],
  offline: ['Tanpa jaringan — kiriman menunggu dan dikirim otomatis', 'Offline — uploads wait and are sent automatically'],
  stQueued: ['Menunggu jaringan', 'Waiting for network'],
  stSending: ['Mengirim…', 'Sending…'],
  stDone: ['Terkirim', 'Sent'],
  stFailed: ['Ditolak', 'Refused'],
  photoItem: ['Foto {page}', 'Photo {page}'],
  confirmItem: ['Konfirmasi', 'Confirmation'],
  netError: ['Jaringan tidak tersedia; dicoba lagi otomatis', 'No network; will retry automatically'],
  practiceTally: ['Hasil latihan di desa ini (bukan hasil resmi)', 'Practice results in this village (not official)'],
  practiceTallyLine: ['{x} dari {y} TPS · suara sah {s}', '{x} of {y} polling stations · valid votes {s}'],
  tryAgain: ['Kirim lagi', 'Send again'],
  clearDone: ['Hapus yang terkirim dari daftar', 'Clear sent items'],
  attempts: ['percobaan {n}', 'attempt {n}'],
  duplicate: ['(sudah diterima sebelumnya)', '(already received before)'],
  readback: ['Hasil baca mesin', 'Machine reading'],
  reading: ['Sedang dibaca… hasil muncul otomatis', 'Reading… the result appears by itself'],
  rejectedTitle: ['Foto tidak dapat dibaca', 'The photo could not be read'],
  failedTitle: ['Pembacaan gagal', 'Reading failed'],
  readbackHelp: ['Bandingkan setiap angka dengan formulir. Ubah angka yang salah, lalu tekan Sesuai.', 'Compare each number with the form. Change any wrong number, then press Matches.'],
  checkThis: ['periksa', 'check'],
  changedByReader: ['diperbaiki mesin', 'fixed by the reader'],
  youChanged: ['diubah', 'changed'],
  confirm: ['✔ Sesuai', '✔ Matches'],
  confirmCorrected: ['✔ Simpan koreksi ({n} angka)', '✔ Save correction ({n} numbers)'],
  confirmQueued: ['Konfirmasi masuk antrean', 'Confirmation queued'],
  problems: ['Angka tidak cocok', 'Numbers do not add up'],
  noProblems: ['Semua jumlah cocok', 'All totals add up'],
  serverRules: ['Pemeriksaan server', 'Server checks'],
  kppsSaved: ['Versi KPPS v{v} tersimpan: {who}, {at}', 'KPPS version v{v} saved: {who}, {at}'],
  statusPublished: ['Diterbitkan', 'Published'],
  statusQuarantined: ['Menunggu verifikasi', 'Awaiting verification'],
  statusIncomplete: ['Belum lengkap (halaman lain belum ada)', 'Incomplete (other page missing)'],
  history: ['Riwayat versi', 'Version history'],
  stage_machine: ['Baca mesin', 'Machine read'],
  stage_kpps: ['Dikonfirmasi KPPS', 'KPPS confirmed'],
  stage_reviewer: ['Dikoreksi peninjau', 'Reviewer corrected'],
  stage_recap: ['Rekap D.Hasil', 'Recap D.Hasil'],
  earlierPhotos: ['Foto sebelumnya (tetap disimpan sebagai bukti)', 'Earlier photos (kept as evidence)'],
  tpsLine: ['TPS {n} · {desa}', 'Polling station {n} · {desa}'],
  operator: ['Petugas: {name}', 'Officer: {name}'],
  practiceReset: ['Reset latihan (admin)', 'Reset practice (admin)'],
} as const satisfies Record<string, readonly [string, string]>;

export type CaptureKey = keyof typeof T;

/**
 * What an officer should do about a refused photo, by the reader's reason (workers/reader/cv/reject.ts).
 * The reason code alone ("page_mark_unreadable") means nothing at a polling station.
 */
const REJECT_ADVICE: Record<string, readonly [string, string]> = {
  not_an_image: ['Berkas ini bukan foto. Ambil foto formulir dengan kamera.', 'This file is not a photo. Take a photo of the form with the camera.'],
  unsupported_format: ['Format foto tidak didukung. Kirim JPEG atau PNG (matikan mode HEIC di kamera).', 'Photo format not supported. Send a JPEG or PNG (turn off HEIC in the camera).'],
  truncated_image: ['Foto terkirim tidak utuh. Kirim lagi.', 'The photo arrived incomplete. Send it again.'],
  image_too_large: ['Foto terlalu besar. Kurangi resolusi kamera lalu foto ulang.', 'The photo is too large. Lower the camera resolution and retake.'],
  image_too_small: ['Foto terlalu kecil untuk dibaca. Foto ulang lebih dekat dengan resolusi penuh.', 'The photo is too small to read. Retake closer, at full resolution.'],
  no_page_found: ['Formulir tidak ditemukan. Foto seluruh halaman dengan keempat tanda sudut terlihat.', 'No form found. Photograph the whole page with all four corner marks visible.'],
  page_cropped: ['Sebagian kotak angka terpotong. Mundur sedikit dan foto seluruh halaman.', 'Some number boxes are cut off. Step back and photograph the whole page.'],
  page_mark_unreadable: ['Kode halaman (kotak hitam-putih kanan atas) tidak terbaca. Jangan tutupi dengan jari, hindari silau, foto ulang.', 'The page code (black-and-white square, top right) could not be read. Keep fingers off it, avoid glare, retake.'],
  unknown_template: ['Formulir ini bukan C.Hasil pemilihan ini. Periksa halaman yang difoto.', 'This form is not this contest\'s C.Hasil. Check the page you photographed.'],
  misaligned: ['Kotak angka tidak sejajar. Letakkan kertas rata, foto tegak dari atas.', 'The number boxes do not line up. Lay the sheet flat and photograph it straight from above.'],
  wrong_page: ['Halaman yang difoto bukan halaman yang dipilih. Pilih halaman yang benar atau foto halaman lain.', 'The photographed page is not the page chosen. Choose the right page or photograph the other one.'],
  wrong_candidate_count: ['Formulir ini dicetak untuk jumlah pasangan calon yang lain. Periksa formulir pemilihan ini.', 'This form is printed for another number of candidate pairs. Check this contest\'s form.'],
};

/** The officer's advice for a refused photo, or null for a reason without one. */
export function rejectAdvice(reason: string | null | undefined, lang: Lang): string | null {
  const a = reason ? REJECT_ADVICE[reason] : undefined;
  return a ? a[lang === 'en' ? 1 : 0] : null;
}
export function ct(lang: Lang, key: CaptureKey, vars?: Record<string, string | number>): string {
  let s: string = T[key][lang === 'en' ? 1 : 0];
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

const SPLIT: Record<string, [string, string]> = { l: ['laki-laki', 'men'], p: ['perempuan', 'women'], j: ['jumlah', 'total'] };
const ROWS: Record<string, [string, string]> = {
  pemilih_dpt: ['Pemilih DPT', 'Voters on DPT'],
  pemilih_dpph: ['Pemilih DPPh (pindahan)', 'Moved-in voters (DPPh)'],
  pemilih_dptb: ['Pemilih DPTb (KTP-el)', 'ID-card voters (DPTb)'],
  pemilih_total: ['Jumlah pemilih', 'Total voters'],
  pengguna_dpt: ['Pengguna hak pilih DPT', 'DPT voters who voted'],
  pengguna_dpph: ['Pengguna hak pilih DPPh', 'DPPh voters who voted'],
  pengguna_dptb: ['Pengguna hak pilih DPTb', 'DPTb voters who voted'],
  pengguna_total: ['Jumlah pengguna hak pilih', 'Total who voted'],
  pengguna_non_dpt: ['Pengguna non-DPT', 'Non-DPT voters'],
  pemilih_disabilitas: ['Pemilih disabilitas', 'Voters with disabilities'],
  pengguna_disabilitas: ['Pengguna disabilitas', 'Voters with disabilities who voted'],
};
const SINGLE: Record<string, [string, string]> = {
  suara_sah: ['Jumlah suara sah', 'Valid votes'],
  suara_tidak_sah: ['Jumlah suara tidak sah', 'Invalid votes'],
  suara_total: ['Jumlah suara sah + tidak sah', 'Valid + invalid votes'],
  suara_kolom_kosong: ['Suara kolom kosong', 'Empty-column votes'],
  surat_diterima: ['Surat suara diterima', 'Ballots received'],
  surat_digunakan: ['Surat suara digunakan', 'Ballots used'],
  surat_dikembalikan: ['Surat suara rusak/dikembalikan', 'Ballots spoilt/returned'],
  surat_tidak_digunakan: ['Surat suara tidak digunakan', 'Ballots unused'],
};

/** A field key in the officer's words: "Suara paslon 1 (NAMA – NAMA)", "Pemilih DPT (perempuan)". */
export function fieldLabel(key: string, lang: Lang, candidates: CandidateInfo[] = []): string {
  const i = lang === 'en' ? 1 : 0;
  const m = /^suara_paslon_(\d+)$/.exec(key);
  if (m) {
    const c = candidates.find((x) => x.number === Number(m[1]) && !x.isEmptyColumn);
    const base = lang === 'en' ? `Votes for pair ${m[1]}` : `Suara paslon ${m[1]}`;
    return c ? `${base} (${c.headName} – ${c.deputyName})` : base;
  }
  if (SINGLE[key]) return SINGLE[key][i];
  const r = /^(.*)_([lpj])$/.exec(key);
  if (r && ROWS[r[1]]) return `${ROWS[r[1]][i]} (${SPLIT[r[2]][i]})`;
  return key;
}

/** Field order on the form: votes page top to bottom, then the administration page. */
export function fieldOrder(key: string): number {
  const m = /^suara_paslon_(\d+)$/.exec(key);
  if (m) return Number(m[1]);
  const fixed = ['suara_kolom_kosong', 'suara_sah', 'suara_tidak_sah', 'suara_total'];
  if (fixed.includes(key)) return 50 + fixed.indexOf(key);
  return 100;
}

/** Hard rules (INTEGRITY §2) in plain words, for the server's verdict on the result. */
const RULES: Record<string, [string, string]> = {
  H1: ['jumlah suara paslon tidak sama dengan suara sah', 'the pairs\u2019 votes do not add up to the valid votes'],
  H2: ['suara sah + tidak sah tidak sama dengan jumlah suara', 'valid + invalid votes do not equal the total'],
  H3: ['DPT + DPPh + DPTb tidak sama dengan jumlahnya', 'DPT + DPPh + DPTb do not equal their total'],
  H4: ['jumlah pengguna hak pilih tidak sama dengan jumlah suara', 'voters who voted do not equal the votes cast'],
  H5: ['surat suara digunakan tidak sama dengan pengguna hak pilih', 'ballots used do not equal voters who voted'],
  H6: ['surat diterima tidak sama dengan digunakan + rusak + sisa', 'ballots received do not equal used + spoilt + unused'],
  H7: ['laki-laki + perempuan tidak sama dengan jumlah', 'men + women do not equal the total'],
  H8: ['suara satu paslon melebihi suara sah', 'one pair has more votes than all valid votes'],
  H9: ['jumlah DPT tidak sama dengan daftar pemilih TPS ini', 'the DPT count differs from this station\u2019s register'],
  H10: ['pengguna hak pilih melebihi pemilih terdaftar', 'more voters voted than were registered'],
  H11: ['pengguna hak pilih melebihi surat suara diterima', 'more voters than ballots received'],
  H12: ['surat suara diterima di luar DPT + cadangan', 'ballots received outside DPT + reserve'],
  H13: ['jumlah suara melebihi DPT + cadangan', 'votes exceed DPT + reserve'],
  H14: ['DPT melebihi batas pemilih per TPS', 'DPT exceeds the per-station cap'],
  H15: ['jumlah suara melebihi batas TPS', 'votes exceed the station cap'],
  M1: ['dua halaman memberi angka berbeda untuk isian yang sama', 'two pages give different numbers for the same field'],
};
export function ruleText(rule: string, lang: Lang): string {
  return RULES[rule]?.[lang === 'en' ? 1 : 0] ?? rule;
}

export interface Problem { rule: string; text: string; fields: string[] }

/**
 * The form's own arithmetic on the numbers as the officer sees them now (before sending), so a typo
 * in a correction is caught on the phone. Only identities whose fields are all present are checked.
 */
export function checkValues(v: Record<string, number>, lang: Lang): Problem[] {
  const out: Problem[] = [];
  const has = (...k: string[]) => k.every((x) => typeof v[x] === 'number');
  const en = lang === 'en';
  const paslon = Object.keys(v).filter((k) => /^suara_paslon_\d+$/.test(k) || k === 'suara_kolom_kosong');
  if (paslon.length && has('suara_sah')) {
    const sum = paslon.reduce((a, k) => a + v[k], 0);
    if (sum !== v.suara_sah) out.push({ rule: 'H1', fields: [...paslon, 'suara_sah'], text: en ? `the pairs' votes add up to ${sum}, not to the valid votes (${v.suara_sah})` : `jumlah suara paslon (${sum}) tidak sama dengan suara sah (${v.suara_sah})` });
  }
  if (has('suara_sah', 'suara_tidak_sah', 'suara_total') && v.suara_sah + v.suara_tidak_sah !== v.suara_total) {
    out.push({ rule: 'H2', fields: ['suara_sah', 'suara_tidak_sah', 'suara_total'], text: en ? `valid + invalid = ${v.suara_sah + v.suara_tidak_sah}, but the total says ${v.suara_total}` : `suara sah + tidak sah = ${v.suara_sah + v.suara_tidak_sah}, tetapi jumlah suara tertulis ${v.suara_total}` });
  }
  for (const who of ['pemilih', 'pengguna']) {
    for (const s of ['l', 'p', 'j']) {
      const k = [`${who}_dpt_${s}`, `${who}_dpph_${s}`, `${who}_dptb_${s}`, `${who}_total_${s}`];
      if (has(...k) && v[k[0]] + v[k[1]] + v[k[2]] !== v[k[3]]) out.push({ rule: 'H3', fields: k, text: `${fieldLabel(k[3], lang)}: ${v[k[0]] + v[k[1]] + v[k[2]]} ≠ ${v[k[3]]}` });
    }
  }
  for (const row of Object.keys(v).filter((k) => k.endsWith('_j')).map((k) => k.slice(0, -2))) {
    if (has(`${row}_l`, `${row}_p`, `${row}_j`) && v[`${row}_l`] + v[`${row}_p`] !== v[`${row}_j`]) {
      out.push({ rule: 'H7', fields: [`${row}_l`, `${row}_p`, `${row}_j`], text: `${fieldLabel(`${row}_j`, lang)}: ${v[`${row}_l`]} + ${v[`${row}_p`]} ≠ ${v[`${row}_j`]}` });
    }
  }
  if (has('pengguna_total_j', 'suara_total') && v.pengguna_total_j !== v.suara_total) {
    out.push({ rule: 'H4', fields: ['pengguna_total_j', 'suara_total'], text: en ? `${v.pengguna_total_j} voters voted but ${v.suara_total} votes were counted` : `pengguna hak pilih ${v.pengguna_total_j}, tetapi jumlah suara ${v.suara_total}` });
  }
  return out;
}
