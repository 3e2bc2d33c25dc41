/**
 * Number and time formatting. Indonesian readers expect 1.234.567 and 12,3%: Intl 'id-ID' gives
 * exactly that. Formatters are cached per locale because Intl constructors are slow and tables
 * format thousands of cells.
 */
const intCache = new Map<string, Intl.NumberFormat>();
const pctCache = new Map<string, Intl.NumberFormat>();

export function formatInt(n: number | null | undefined, locale = 'id-ID'): string {
  if (n == null || !Number.isFinite(n)) return '–';
  let f = intCache.get(locale);
  if (!f) intCache.set(locale, (f = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 })));
  return f.format(n);
}

/** ratio 0..1 → "12,34%" (id) / "12.34%" (en). */
export function formatPct(ratio: number | null | undefined, locale = 'id-ID', digits = 2): string {
  if (ratio == null || !Number.isFinite(ratio)) return '–';
  const key = `${locale}:${digits}`;
  let f = pctCache.get(key);
  if (!f) pctCache.set(key, (f = new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f.format(ratio);
}

export function formatDateTime(iso: string | null | undefined, locale = 'id-ID'): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'Asia/Jakarta' }).format(d) + ' WIB';
}

/** A duration in ms as "2 j 5 m" / "2 h 5 m"; from a day on "3 hr 4 j" / "3 d 4 h". */
export function formatDuration(ms: number, lang: 'id' | 'en' = 'id'): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const mins = Math.floor(ms / 60_000);
  const d = Math.floor(mins / 1440);
  const h = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  const hu = lang === 'en' ? 'h' : 'j';
  if (d > 0) return `${formatInt(d, lang === 'en' ? 'en-GB' : 'id-ID')} ${lang === 'en' ? 'd' : 'hr'} ${h} ${hu}`;
  return h > 0 ? `${h} ${hu} ${m} m` : `${m} m`;
}

/** Clock time of an instant in one of Indonesia's zones ("13.00" / "13:00"). */
export function formatClock(iso: string, zone: 'WIB' | 'WITA' | 'WIT' | string, locale = 'id-ID'): string {
  const tz = zone === 'WIT' ? 'Asia/Jayapura' : zone === 'WITA' ? 'Asia/Makassar' : 'Asia/Jakarta';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: tz }).format(d);
}

/** Share of a part in a total, or null when the total is zero (never show 0/0 as 0%). */
export function ratio(part: number, total: number): number | null {
  return total > 0 ? part / total : null;
}
