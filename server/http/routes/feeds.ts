import { Router, type Request, type Response } from 'express';
import type { Sql } from '../../../db/client.js';
import { auditHead } from '../../../db/repositories/audit.js';
import { candidatesOf, changesSince, latestChangeVersion, tpsUnits } from '../../../db/repositories/feeds.js';
import type { AreaLevel, AuditHeadResponse, ChangesResponse, ResultsResponse } from '../../contract/index.js';
import { roomJson, roomState, RoomError } from '../../realtime/snapshot.js';
import { badRequest, HttpError, notFound } from '../errors.js';

/**
 * Public feeds: results per contest and area (JSON and CSV), the change feed, Sirekap-shaped "hhcw"
 * JSON for existing scrapers, and the audit head. All cacheable: express sets a weak ETag from the
 * body and answers If-None-Match with 304; Cache-Control lets a CDN absorb election-night load.
 */

const PUBLIC_CACHE = 'public, max-age=5, stale-while-revalidate=30';
const AREA_CODE = /^(00|\d{2}|\d{4}|\d{6}|\d{10})$/;

function areaParam(raw: string): string {
  const code = raw.replace(/\./g, '');
  if (!AREA_CODE.test(code)) throw badRequest(`"${raw}" is not an area code (00, or 2, 4, 6 or 10 digits)`, undefined, 'invalid_area_code');
  return code;
}

async function results(sql: Sql, contestId: string, area: string): Promise<ResultsResponse> {
  try {
    const state = await roomState(sql, contestId, area);
    return toResults(state, await candidatesOf(sql, contestId));
  } catch (err) {
    if (err instanceof RoomError) throw new HttpError(err.status, err.code, err.message);
    throw err;
  }
}

function toResults(state: Awaited<ReturnType<typeof roomState>>, candidates: Awaited<ReturnType<typeof candidatesOf>>): ResultsResponse {
  return {
    contest: { id: state.contest.id, name: state.contest.name, type: state.contest.type, areaCode: state.contest.areaCode },
    area: { code: state.area.code, name: state.area.name, level: state.area.level as AreaLevel, parentCode: state.area.parentCode },
    candidates: candidates.map((c) => ({ ...c })),
    version: state.version,
    tally: state.tally,
    children: state.children.map((c) => ({ ...c.unit, name: c.name, level: c.level as AreaLevel | 5 })),
    generatedAt: new Date().toISOString(),
  };
}

async function cachedResults(sql: Sql, contestId: string, area: string) {
  try {
    return await roomJson(sql, contestId, area, async (state) => toResults(state, await candidatesOf(sql, contestId)));
  } catch (err) {
    if (err instanceof RoomError) throw new HttpError(err.status, err.code, err.message);
    throw err;
  }
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  // Quote, and defuse spreadsheet formulas (a name starting with = + - @).
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function resultsCsv(r: ResultsResponse): string {
  const cands = r.candidates;
  const header = ['kode', 'nama', ...cands.map((c) => `paslon_${c.number}_${c.id}`), 'suara_sah', 'suara_tidak_sah', 'tps_total', 'tps_terbit', 'tps_karantina', 'suara_karantina', 'tps_belum', 'pemilih_terdaftar', 'pengguna_hak_pilih', 'versi', 'diperbarui'];
  const row = (u: ResultsResponse['tally'], name: string) => [u.code, name, ...cands.map((c) => u.votes[c.id] ?? 0), u.suaraSah, u.suaraTidakSah, u.tpsExpected, u.tpsPublished, u.tpsQuarantined, u.quarantinedVotes, u.tpsMissing, u.votersRegistered, u.votersUsed, u.version, u.updatedAt ?? ''];
  const lines = [header, row(r.tally, r.area.name), ...r.children.map((c) => row(c, c.name))];
  return lines.map((l) => l.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function sendCached(res: Response, body: unknown) {
  res.set('Cache-Control', PUBLIC_CACHE).json(body);
}

/**
 * Results change only when the change feed moves, so the feed version is the validator: a client or
 * CDN holding version v gets 304 until a newer change commits (the body's generatedAt notwithstanding).
 */
function notModified(req: Request, res: Response, tag: string): boolean {
  const etag = `W/"${tag}"`;
  res.set({ ETag: etag, 'Cache-Control': PUBLIC_CACHE });
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').map((s) => s.trim()).includes(etag)) {
    res.status(304).end();
    return true;
  }
  return false;
}

/** Sirekap's "YYYY-MM-DD HH:mm:ss" in WIB (UTC+7), as its feeds write it. */
function sirekapTs(d: Date | string | null): string {
  const t = d ? new Date(d) : new Date();
  return new Date(t.getTime() + 7 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
}

export function feedsRouter(deps: { sql: Sql }): Router {
  const router = Router();
  const { sql } = deps;

  router.get('/results/:contest/:area', async (req, res) => {
    let rawArea = String(req.params.area);
    let csv = req.query.format === 'csv';
    if (rawArea.endsWith('.csv')) {
      csv = true;
      rawArea = rawArea.slice(0, -4);
    } else if (rawArea.endsWith('.json')) rawArea = rawArea.slice(0, -5);
    if (req.query.format !== undefined && req.query.format !== 'csv' && req.query.format !== 'json') throw badRequest('format must be json or csv', undefined, 'invalid_format');
    const area = areaParam(rawArea);
    if (!csv) {
      // Serialised once per room version (server/realtime/snapshot.ts); the ETag moves only when this room's numbers do.
      const doc = await cachedResults(sql, req.params.contest, area);
      if (notModified(req, res, `${doc.etag}-json`)) return;
      res.type('application/json').send(doc.json);
      return;
    }
    const head = await latestChangeVersion(sql);
    if (notModified(req, res, `${req.params.contest}-${area}-${head}-${csv ? 'csv' : 'json'}`)) return;
    const body = await results(sql, req.params.contest, area);
    res.set('ETag', `W/"${req.params.contest}-${area}-${body.version}-${csv ? 'csv' : 'json'}"`);
    if (csv) {
      res.set({ 'Cache-Control': PUBLIC_CACHE, 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `inline; filename="rekap-${body.contest.id}-${body.area.code}-v${body.version}.csv"` });
      res.send(resultsCsv(body));
      return;
    }
    res.json(body);
  });

  router.get('/changes', async (req, res) => {
    const since = req.query.since === undefined ? 0 : Number(req.query.since);
    if (!Number.isSafeInteger(since) || since < 0) throw badRequest('since must be a non-negative integer version', undefined, 'invalid_since');
    const limit = req.query.limit === undefined ? 1000 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw badRequest('limit must be 1..10000', undefined, 'invalid_limit');
    const contestId = typeof req.query.contest === 'string' && req.query.contest ? req.query.contest : undefined;
    const area = typeof req.query.area === 'string' && req.query.area ? areaParam(req.query.area) : undefined;
    const rows = await changesSince(sql, since, { contestId, area, limit: limit + 1 });
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const head = await latestChangeVersion(sql);
    const body: ChangesResponse = {
      since,
      version: more ? Number(page[page.length - 1].version) : Math.max(since, head),
      more,
      changes: page.map((c) => ({ version: Number(c.version), contestId: c.contestId, tpsCode: c.tpsCode, areaCodes: c.areaCodes, kind: c.kind as ChangesResponse['changes'][number]['kind'], at: new Date(c.at).toISOString() })),
    };
    sendCached(res, body);
  });

  router.get('/audit/head', async (_req, res) => {
    const head: AuditHeadResponse = await auditHead(sql);
    res.set('Cache-Control', 'public, max-age=2').json(head);
  });

  /**
   * Sirekap-compatible Pilkada feed (DOMAIN §7.2): /api/hhcw/pkwkp/62.json, /api/hhcw/pkwkp/62/6201.json,
   * …/62/6201/620101/6201011013.json (table of TPS), …/{desa}/{tps13}.json (TPS detail).
   * Contest: pkwkp → pkwkp-<province>, pkwkk → pkwkk-<kab/kota>.
   */
  router.get(/^\/hhcw\/(pkwkp|pkwkk)\/((?:\d+\/)*\d+)(?:\.json)?$/, async (req, res) => {
    const type = (req.params as unknown as string[])[0];
    const codes = (req.params as unknown as string[])[1].split('/');
    const last = codes[codes.length - 1];
    const expected = [2, 4, 6, 10, 13];
    if (codes.length > 5 || codes.some((c, i) => c.length !== expected[i] || (i > 0 && !c.startsWith(codes[i - 1])))) {
      throw badRequest('path must be prov[/kab[/kec[/desa[/tps]]]] with nested codes (62/6201/620101/6201011013/6201011013001)', undefined, 'invalid_hhcw_path');
    }
    if (type === 'pkwkk' && codes.length < 2) throw badRequest('pkwkk feeds start at a kab/kota: /api/hhcw/pkwkk/62/6201.json', undefined, 'invalid_hhcw_path');
    const contestId = type === 'pkwkp' ? `pkwkp-${codes[0]}` : `pkwkk-${codes[1]}`;
    const candidates = await candidatesOf(sql, contestId);
    if (candidates.length === 0) throw notFound(`contest ${contestId}`, 'contest_not_found');
    const pct = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10000) / 100 : 0);
    if (last.length === 13) {
      const [t] = await tpsUnits(sql, contestId, [last]);
      if (!t) throw notFound(`TPS ${last}`, 'tps_not_found');
      const photos = await sql<{ sha: string }[]>`select photo_sha256 as sha from submissions where tps_code = ${last} and contest_id = ${contestId} and status = 'read' order by id`;
      const published = t.status === 'published';
      const chart: Record<string, number | null> = { null: null };
      for (const c of candidates) chart[c.id] = published ? (t.votes[c.id] ?? null) : null;
      const adminKeys = Object.keys(t.values).filter((k) => !k.startsWith('suara_paslon_') && k !== 'suara_kolom_kosong' && !k.startsWith('tally_rows'));
      sendCached(res, {
        mode: 'hhcw', ts: sirekapTs(t.updatedAt), psu: 'Reguler',
        status_suara: published, status_adm: published && adminKeys.some((k) => k.startsWith('pengguna_')),
        images: photos.map((p) => `/api/photos/${p.sha}`),
        tungsura: {
          chart: published ? chart : null,
          administrasi: published ? Object.fromEntries(adminKeys.map((k) => [k, t.values[k]])) : null,
        },
        // rekap's own fields: why a TPS is not counted ("menunggu verifikasi").
        rekap: { status: t.status, version: t.resultVersion, stage: t.stage },
      });
      return;
    }
    const body = await results(sql, contestId, last);
    const chartVotes = Object.fromEntries(candidates.map((c) => [c.id, body.tally.votes[c.id] ?? 0]));
    const progres = (u: { tpsExpected: number; tpsPublished: number }) => ({ total: u.tpsExpected, persen: pct(u.tpsPublished, u.tpsExpected), progres: u.tpsPublished });
    sendCached(res, {
      mode: 'hhcw', psu: 'Reguler', ts: sirekapTs(body.tally.updatedAt),
      progres: { total: body.tally.tpsExpected, progres: body.tally.tpsPublished },
      tungsura: {
        chart: { ...chartVotes, progres: progres(body.tally) },
        table: Object.fromEntries(body.children.map((c) => [c.code, {
          psu: 'Reguler', status_progress: c.tpsPublished > 0, progres: progres(c),
          ...Object.fromEntries(candidates.map((k) => [k.id, c.votes[k.id] ?? (c.tpsPublished > 0 ? 0 : null)])),
        }])),
      },
      rekap: { version: body.version, tps_karantina: body.tally.tpsQuarantined, suara_karantina: body.tally.quarantinedVotes },
    });
  });

  return router;
}
