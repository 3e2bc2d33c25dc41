import { Router, type RequestHandler } from 'express';
import { homography4 } from '../crops.js';
import type { Database } from '../../../db/client.js';
import { areaPath, findArea } from '../../../db/repositories/areas.js';
import { ensurePracticeElection, PRACTICE_PREFIX, practiceStatus, realContestOf } from '../../../db/seed/practice.js';
import { authenticate, requireActor } from '../../auth/index.js';
import { templateById } from '../../../workers/reader/template/index.js';
import type { AreaLevel, CaptureContest, OperatorListResponse, OperatorMeResponse, OperatorRow, ReadingFrameResponse } from '../../contract/index.js';
import { badRequest, HttpError, notFound } from '../errors.js';

/**
 * GET /api/operators/me — who this device is, its TPS and the contests it may upload (real, then the
 * practice mirrors); also marks the token as seen, which is what "last seen" means in the operator list.
 * GET /api/operators?area= — the command centre's list of KPPS operators under an area: who uploaded,
 * who has not, when each was last seen. Practice uploads are counted apart and never as "uploaded".
 */
/**
 * The homography taking four source points to four destination points, as a 3×3 matrix for the
 * capture screen (which draws crops in the browser). One solver serves both this and the review
 * crops (`server/http/crops.ts`). Null when the points are degenerate.
 */
export function homographyFrom(src: [number, number][], dst: [number, number][]): number[][] | null {
  const pt = ([x, y]: [number, number]) => ({ x, y });
  try {
    const h = homography4(src.map(pt), dst.map(pt));
    return [h.slice(0, 3), h.slice(3, 6), h.slice(6, 9)];
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
const AREA = /^(00|\d{2}|\d{4}|\d{6}|\d{10}|\d{13})$/;

export function operatorsRouter(deps: { database: Database }): Router {
  const router = Router();
  const { sql } = deps.database;
  const auth = authenticate(sql);
  const withActor: RequestHandler = (req, res, next) => (req.actor ? next() : auth(req, res, next));
  let practiceReady: Promise<unknown> | null = null;
  const ensurePractice = () => (practiceReady ??= ensurePracticeElection(deps.database).catch((err) => {
    practiceReady = null;
    throw err;
  }));

  router.get('/operators/me', withActor, async (req, res) => {
    const actor = requireActor(req, ['kpps', 'kpu_operator', 'kpu_reviewer', 'bawaslu', 'admin']);
    await ensurePractice();
    await sql`update tokens set last_seen_at = now() where id = ${actor.tokenId}`;
    const tpsCode = actor.scopeCode && /^\d{13}$/.test(actor.scopeCode) ? actor.scopeCode : null;
    let tps: OperatorMeResponse['tps'] = null;
    let path: OperatorMeResponse['path'] = [];
    let contests: CaptureContest[] = [];
    if (tpsCode) {
      const [t] = await sql`select code, number, desa_code, voters_l, voters_p from tps where code = ${tpsCode}`;
      if (!t) throw notFound(`TPS ${tpsCode} of this token`, 'tps_not_found');
      tps = { code: t.code, number: t.number, desaCode: t.desa_code, votersL: t.voters_l, votersP: t.voters_p };
      const desa = await findArea(sql, t.desa_code);
      const areas = [...(await areaPath(sql, t.desa_code)), ...(desa ? [desa] : [])];
      path = areas.map((a) => ({ code: a.code, name: a.name, level: a.level as AreaLevel }));
      const rows = await sql<{ id: string; name: string; type: CaptureContest['type']; isPractice: boolean }[]>`
        select c.id, c.name, c.type, e.is_practice as "isPractice" from contests c join elections e on e.id = c.election_id
        where ${tpsCode} like c.area_code || '%' order by e.is_practice, length(c.area_code), c.id`;
      const cands = rows.length
        ? await sql<{ contestId: string; id: string; number: number; headName: string; deputyName: string; colour: string; isEmptyColumn: boolean }[]>`
            select contest_id as "contestId", id, number, head_name as "headName", deputy_name as "deputyName", colour, is_empty_column as "isEmptyColumn"
            from candidates where contest_id in ${sql(rows.map((r) => r.id))} order by contest_id, number`
        : [];
      contests = rows.map((r) => ({
        id: r.id, name: r.name, type: r.type, isPractice: r.isPractice, mirrorOf: r.isPractice ? realContestOf(r.id) : null,
        candidates: cands.filter((k) => k.contestId === r.id).map(({ contestId: _c, ...k }) => k),
      }));
    }
    const practice = await practiceStatus(sql);
    if (!practice) throw new HttpError(503, 'practice_unavailable', 'the practice election is missing: seed the real election first (rekap seed)');
    const body: OperatorMeResponse = { user: { id: actor.userId, name: actor.name, role: actor.role, scopeCode: actor.scopeCode }, tps, path, contests, practice };
    res.set('Cache-Control', 'no-store').json(body);
  });

  // Public like the reading itself (GET /api/tps/:code): it only says where the page sat in the photo.
  router.get('/capture/readings/:id/frame', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw badRequest(`"${req.params.id}" is not a reading id`, undefined, 'invalid_reading_id');
    const [r] = await sql`select r.id, r.detail, s.photo_sha256 from readings r join submissions s on s.id = r.submission_id where r.id = ${id}`;
    if (!r) throw notFound(`reading ${id}`, 'reading_not_found');
    const frame = r.detail?.frame as { pxPerMm?: number; corners?: [number, number][] } | null | undefined;
    const template = typeof r.detail?.templateId === 'string' ? templateById(r.detail.templateId) : null;
    if (!frame?.pxPerMm || frame.corners?.length !== 4 || !template) {
      throw new HttpError(404, 'no_frame', `reading ${id} does not record where the page sat in the photo (rejected, or read before frames were kept)`);
    }
    const src = template.fiducials.corners.map((c) => [(c.x + c.w / 2) * frame.pxPerMm!, (c.y + c.h / 2) * frame.pxPerMm!] as [number, number]);
    const homography = homographyFrom(src, frame.corners);
    if (!homography) throw new HttpError(422, 'degenerate_frame', `reading ${id} has a degenerate page frame`);
    const body: ReadingFrameResponse = { readingId: id, photoUrl: `/api/photos/${r.photo_sha256}`, templateId: template.id, pxPerMm: frame.pxPerMm, homography };
    res.set('Cache-Control', 'public, max-age=3600').json(body);
  });

  router.get('/operators', withActor, async (req, res) => {
    requireActor(req, ['kpu_operator', 'kpu_reviewer', 'bawaslu', 'admin']);
    const raw = typeof req.query.area === 'string' && req.query.area ? req.query.area.replace(/\./g, '') : '00';
    if (!AREA.test(raw)) throw badRequest(`"${req.query.area}" is not an area code (00, 2, 4, 6, 10 or 13 digits)`, undefined, 'invalid_area_code');
    const area = raw === '00' ? { code: '00', name: 'Indonesia', level: 0 } : await findArea(sql, raw);
    if (!area) throw notFound(`area ${raw}`, 'area_not_found');
    const prefix = raw === '00' ? '' : raw;
    const rows = await sql`
      with ops as (
        select u.id, u.name, u.scope_code from users u
        where u.role = 'kpps' and u.revoked_at is null and coalesce(u.scope_code, '') like ${prefix + '%'}
      ), up as (
        select s.uploader_id as id,
               count(*) filter (where s.contest_id not like ${PRACTICE_PREFIX + '%'})::int as uploads,
               count(*) filter (where s.contest_id like ${PRACTICE_PREFIX + '%'})::int as practice,
               max(s.received_at) filter (where s.contest_id not like ${PRACTICE_PREFIX + '%'}) as last_upload,
               max(s.received_at) as last_any
        from submissions s where s.uploader_id in (select id from ops) group by s.uploader_id
      ), conf as (
        select created_by as id, count(*)::int as n from tps_results
        where stage = 'kpps' and created_by in (select id from ops) and contest_id not like ${PRACTICE_PREFIX + '%'} group by created_by
      ), seen as (
        select user_id as id, max(last_seen_at) as at from tokens where user_id in (select id from ops) group by user_id
      )
      select ops.id, ops.name, ops.scope_code, t.number as tps_number, a.name as desa_name,
             coalesce(up.uploads, 0) as uploads, coalesce(up.practice, 0) as practice, coalesce(conf.n, 0) as confirmations,
             up.last_upload, greatest(seen.at, up.last_any) as last_seen
      from ops left join up on up.id = ops.id left join conf on conf.id = ops.id left join seen on seen.id = ops.id
      left join tps t on t.code = ops.scope_code left join areas a on a.code = t.desa_code
      order by (coalesce(up.uploads, 0) > 0), ops.scope_code nulls last, ops.name
      limit 5000`;
    const [counts] = await sql<{ total: number; without: number }[]>`
      select count(*)::int as total,
             count(*) filter (where not exists (select 1 from users u where u.role = 'kpps' and u.revoked_at is null and u.scope_code = t.code))::int as without
      from tps t where t.code like ${prefix + '%'}`;
    const operators: OperatorRow[] = rows.map((r) => ({
      userId: Number(r.id), name: r.name, scopeCode: r.scope_code, tpsNumber: r.tps_number ?? null, desaName: r.desa_name ?? null,
      uploads: r.uploads, practiceUploads: r.practice, confirmations: r.confirmations, lastUploadAt: iso(r.last_upload), lastSeenAt: iso(r.last_seen),
    }));
    const uploaded = operators.filter((o) => o.uploads > 0).length;
    const body: OperatorListResponse = {
      area: { code: area.code, name: area.name, level: area.level as AreaLevel },
      operators,
      summary: { operators: operators.length, uploaded, notUploaded: operators.length - uploaded, tpsTotal: counts.total, tpsWithoutOperator: counts.without },
      generatedAt: new Date().toISOString(),
    };
    res.set('Cache-Control', 'no-store').json(body);
  });
  return router;
}

