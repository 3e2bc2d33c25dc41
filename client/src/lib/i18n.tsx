import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

/**
 * Two languages: Bahasa Indonesia (default, the language of KPU, Bawaslu and most readers) and
 * English. Each key has both texts side by side so a missing translation is visible in review.
 * `{name}` placeholders are filled from the vars argument.
 */
export type Lang = 'id' | 'en';

const texts = {
  appTitle: ['rekap', 'rekap'],
  tagline: ['Hasil dari foto formulir C.Hasil', 'Results from C.Hasil form photos'],
  navMap: ['Peta', 'Map'],
  navReview: ['Antrean tinjau', 'Review queue'],
  navAnomalies: ['Anomali', 'Anomalies'],
  langSwitch: ['English', 'Bahasa Indonesia'],
  live: ['Langsung', 'Live'],
  connecting: ['Menghubungkan…', 'Connecting…'],
  reconnecting: ['Menyambung ulang… angka mungkin tertinggal', 'Reconnecting… figures may be behind'],
  offline: ['Terputus', 'Disconnected'],
  loading: ['Memuat…', 'Loading…'],
  error: ['Gagal memuat', 'Failed to load'],
  retry: ['Coba lagi', 'Retry'],
  notFound: ['Halaman tidak ditemukan', 'Page not found'],
  national: ['Indonesia', 'Indonesia'],
  contest: ['Pemilihan', 'Contest'],
  pkwkp: ['Gubernur', 'Governor'],
  pkwkk: ['Bupati/Wali Kota', 'Regent/Mayor'],
  ppwp: ['Presiden', 'President'],
  perProvince: ['Gubernur di tiap provinsi', 'Governor in each province'],
  perProvinceHelp: ['Setiap provinsi diwarnai menurut paslon gubernur yang unggul di provinsi itu. Pilih provinsi untuk rinciannya.', 'Each province is coloured by the governor pair leading there. Pick a province for details.'],
  leaderEach: ['Warna paslon yang unggul di tiap wilayah', 'Colour of the pair leading in each area'],
  tpsTitle: ['TPS {n}', 'Polling station {n}'],
  currentResult: ['Hasil saat ini', 'Current result'],
  noResult: ['Belum ada hasil untuk pemilihan ini', 'No result for this contest yet'],
  page: ['Halaman', 'Page'],
  receivedAt: ['Diterima', 'Received'],
  decoderChanges: ['Perubahan oleh dekoder', 'Decoder changes'],
  noChanges: ['Tidak ada perubahan', 'No changes'],
  residuals: ['Selisih identitas', 'Identity residuals'],
  alignment: ['Kecocokan templat', 'Template alignment'],
  pageByLayout: ['halaman dikenali dari tata letak kotak (tanda halaman tidak terbaca)', 'page told by its box layout (page mark not read)'],
  corrections: ['Koreksi', 'Corrections'],
  proposedBy: ['Diusulkan oleh #{id}', 'Proposed by #{id}'],
  approvedBy: ['Disetujui oleh #{id}', 'Approved by #{id}'],
  stateLabel: ['Keadaan', 'State'],
  createdBy: ['Oleh', 'By'],
  changedFields: ['Isian berubah', 'Changed fields'],
  hash: ['Hash', 'Hash'],
  evidence: ['Bukti', 'Evidence'],
  openPhoto: ['Buka foto asli', 'Open original photo'],
  reviewReason: ['Sebab', 'Reason'],
  reasonPlaceholder: ['mis. angka dibaca ulang dari foto', 'e.g. digits re-read from the photo'],
  confirmReason: ['Dikonfirmasi sesuai foto', 'Confirmed as on the photo'],
  submitted: ['Tersimpan: koreksi #{id} ({state})', 'Saved: correction #{id} ({state})'],
  pendingCorrections: ['Koreksi menunggu persetujuan', 'Corrections awaiting approval'],
  approved: ['Disetujui: koreksi #{id}', 'Approved: correction #{id}'],
  failingRules: ['Aturan gagal', 'Failing rules'],
  signedInAs: ['Token tersimpan', 'Token saved'],
  selectItem: ['Pilih butir di kiri', 'Pick an item on the left'],
  anomaliesNoRest: ['Daftar lengkap belum tersedia di server; menampilkan anomali baru secara langsung', 'The full list is not available from the server yet; showing new anomalies live'],
  minSeverity: ['Tingkat minimal', 'Minimum severity'],
  kind: ['Jenis', 'Kind'],
  detail: ['Rincian', 'Detail'],
  newLive: ['baru', 'new'],
  colourBy: ['Warna', 'Colour'],
  modeLeader: ['Unggul', 'Leader'],
  modeMargin: ['Selisih', 'Margin'],
  modeProgress: ['Progres', 'Progress'],
  modeTurnout: ['Partisipasi', 'Turnout'],
  modeAnomalies: ['Anomali', 'Anomalies'],
  progress: ['{x} dari {y} TPS ({z})', '{x} of {y} polling stations ({z})'],
  quarantined: ['{n} TPS dikarantina ({v} suara belum dihitung)', '{n} polling stations quarantined ({v} votes not counted)'],
  noQuarantine: ['Tidak ada TPS dikarantina', 'No quarantined polling stations'],
  lastUpdate: ['Pembaruan terakhir: {t}', 'Last update: {t}'],
  noUpdateYet: ['Belum ada hasil', 'No results yet'],
  votes: ['Suara', 'Votes'],
  share: ['Persentase', 'Share'],
  validVotes: ['Suara sah', 'Valid votes'],
  invalidVotes: ['Suara tidak sah', 'Invalid votes'],
  registered: ['Pemilih terdaftar (DPT)', 'Registered voters'],
  turnout: ['Partisipasi', 'Turnout'],
  emptyColumn: ['Kolom kosong', 'Empty column'],
  candidateNo: ['Paslon {n}', 'Pair {n}'],
  children: ['Wilayah di bawahnya', 'Areas within'],
  tpsList: ['Daftar TPS', 'Polling stations'],
  name: ['Nama', 'Name'],
  tps: ['TPS', 'Polling stations'],
  leader: ['Unggul', 'Leader'],
  margin: ['Selisih', 'Margin'],
  noData: ['belum ada data', 'no data yet'],
  missingTps: ['TPS belum mengunggah', 'Polling stations not yet uploaded'],
  missingSince: ['{d} sejak TPS ditutup', '{d} since polls closed'],
  missingNone: ['Semua TPS sudah mengunggah', 'Every polling station has uploaded'],
  reasonNeedsReview: ['Perlu ditinjau', 'Needs review'],
  reasonInconsistent: ['Formulir tidak konsisten', 'Form inconsistent'],
  noVotesYet: ['Grafik muncul setelah formulir pertama terbit', 'The chart appears once the first form is published'],
  missingTitle: ['TPS belum masuk', 'Polling stations not yet in'],
  missingSummary: ['{n} TPS belum masuk · TPS ditutup {t} {z}', '{n} polling stations not yet in · polls closed {t} {z}'],
  missingShowAll: ['Tampilkan semua {n}', 'Show all {n}'],
  missingShowing: ['Menampilkan {n} dari {m}', 'Showing {n} of {m}'],
  pollsOpen: ['TPS masih dibuka', 'polls still open'],
  sinceClose: ['Sejak TPS ditutup', 'Since polls closed'],
  desa: ['Desa/Kel.', 'Village'],
  kecamatan: ['Kecamatan', 'District'],
  uploadedWaiting: ['Foto diterima, menunggu', 'Photo received, pending'],
  nothingUploaded: ['Belum ada foto', 'No photo yet'],
  practiceBanner: ['LATIHAN / PRACTICE — data latihan, bukan hasil resmi · practice data, not official results', 'PRACTICE / LATIHAN — practice data, not official results · data latihan, bukan hasil resmi'],
  practiceExit: ['Kembali ke hasil resmi', 'Back to official results'],
  navPractice: ['Latihan', 'Practice'],
  missingUnavailable: ['Daftar TPS yang belum mengunggah belum tersedia', 'The list of missing polling stations is not available yet'],
  embed: ['Sematkan di situs Anda', 'Embed on your site'],
  embedMap: ['Peta', 'Map'],
  embedScoreboard: ['Papan skor', 'Scoreboard'],
  copy: ['Salin', 'Copy'],
  copied: ['Tersalin', 'Copied'],
  hoverHint: ['Ketuk atau arahkan ke wilayah untuk rincian, klik untuk masuk', 'Tap or hover an area for details, click to drill down'],
  openTps: ['Buka TPS', 'Open polling station'],
  status: ['Status', 'Status'],
  published: ['Terbit', 'Published'],
  statusQuarantined: ['Dikarantina', 'Quarantined'],
  notUploaded: ['Belum diunggah', 'Not uploaded'],
  pending: ['Diproses', 'Processing'],
  legend: ['Keterangan', 'Legend'],
  photo: ['Foto formulir', 'Form photo'],
  photos: ['Foto', 'Photos'],
  field: ['Isian', 'Field'],
  readValue: ['Terbaca', 'Read'],
  probability: ['Peluang', 'Probability'],
  boxes: ['Kotak digit', 'Digit boxes'],
  changedByDecoder: ['Diubah dekoder', 'Changed by decoder'],
  rules: ['Aturan wajib', 'Hard rules'],
  versions: ['Riwayat versi', 'Version history'],
  audit: ['Jejak audit', 'Audit trail'],
  version: ['Versi', 'Version'],
  stage: ['Tahap', 'Stage'],
  time: ['Waktu', 'Time'],
  actor: ['Pelaku', 'Actor'],
  action: ['Tindakan', 'Action'],
  source: ['Sumber', 'Source'],
  readingClass: ['Kelas bacaan', 'Reading class'],
  noPhoto: ['Belum ada foto', 'No photo yet'],
  registeredLP: ['DPT: {l} L, {p} P', 'Registered: {l} M, {p} F'],
  review: ['Tinjau', 'Review'],
  reviewHelp: ['Tombol: J/K pindah, Enter konfirmasi, E koreksi, A setujui', 'Keys: J/K move, Enter confirm, E correct, A approve'],
  confirm: ['Konfirmasi', 'Confirm'],
  correct: ['Koreksi', 'Correct'],
  approve: ['Setujui', 'Approve'],
  reject: ['Tolak', 'Reject'],
  reason: ['Alasan', 'Reason'],
  impact: ['Dampak suara', 'Vote impact'],
  queueEmpty: ['Antrean kosong', 'Queue is empty'],
  awaitingApproval: ['Menunggu persetujuan orang kedua', 'Awaiting a second person\'s approval'],
  newQuarantine: ['Karantina baru: TPS {tps} — antrean diperbarui', 'New quarantine: TPS {tps} — queue refreshed'],
  signIn: ['Token akses', 'Access token'],
  signInHelp: ['Tempel token dari `rekap token create`', 'Paste a token from `rekap token create`'],
  save: ['Simpan', 'Save'],
  signOut: ['Keluar', 'Sign out'],
  needsToken: ['Halaman ini butuh token petugas', 'This page needs an officer token'],
  severity: ['Tingkat', 'Severity'],
  rule: ['Aturan', 'Rule'],
  area: ['Wilayah', 'Area'],
  all: ['Semua', 'All'],
  filter: ['Saring', 'Filter'],
  anomaliesEmpty: ['Belum ada anomali', 'No anomalies yet'],
  cases: ['Kasus', 'Cases'],
  critical: ['Kritis', 'Critical'],
  high: ['Tinggi', 'High'],
  medium: ['Sedang', 'Medium'],
  low: ['Rendah', 'Low'],
  backToMap: ['Kembali ke peta', 'Back to map'],
  dataCredits: ['Batas wilayah: cahyadsn/wilayah_boundaries (MIT). Kode wilayah: Kemendagri (ODbL).', 'Boundaries: cahyadsn/wilayah_boundaries (MIT). Area codes: Kemendagri (ODbL).'],
  fromPhotos: ['Setiap angka dapat ditelusuri ke foto, bacaan, petugas dan waktu', 'Every number traces to a photo, a reading, a person and a time'],
} as const satisfies Record<string, readonly [string, string]>;

export type TextKey = keyof typeof texts;
export type Translate = (key: TextKey, vars?: Record<string, string | number>) => string;

export function translate(lang: Lang, key: TextKey, vars?: Record<string, string | number>): string {
  const pair = texts[key];
  let s: string = pair ? pair[lang === 'en' ? 1 : 0] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t: Translate;
  /** Intl locale for numbers and dates: 1.234.567 in Indonesian, 1,234,567 in English. */
  locale: string;
}

const I18nContext = createContext<I18n | null>(null);
const STORAGE_KEY = 'rekap.lang';

export function initialLang(search = typeof location !== 'undefined' ? location.search : ''): Lang {
  const fromUrl = new URLSearchParams(search).get('lang');
  if (fromUrl === 'en' || fromUrl === 'id') return fromUrl;
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'en' || stored === 'id') return stored;
  } catch {
    /* storage blocked (embeds in third-party iframes): default language */
  }
  return 'id';
}

export function I18nProvider({ children, lang: forced }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(forced ?? initialLang());
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    document.documentElement.lang = l;
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      /* ignore */
    }
  }, []);
  const value = useMemo<I18n>(
    () => ({ lang, setLang, t: (k, v) => translate(lang, k, v), locale: lang === 'en' ? 'en-GB' : 'id-ID' }),
    [lang, setLang],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error('useI18n outside I18nProvider');
  return ctx;
}
