import { Router } from 'express';
import type { Sql } from '../../../db/client.js';
import {
  areaPath,
  childAreasWithCounts,
  contestDates,
  findArea,
  missingTps,
  NATIONAL_CODE,
  pollsCloseAt,
  practiceTalliesForArea,
  timeZoneOfProvince,
  tpsCounts,
} from '../../../db/repositories/areas.js';
import { talliesForArea } from '../../../db/repositories/tallies.js';
import type { AreaLevel, AreaResponse, MissingTpsResponse } from '../../contract/index.js';
import { badRequest, notFound } from '../errors.js';

const AREA_CODE = /^(00|\d{2}|\d{4}|\d{6}|\d{10})$/;
const MISSING_LIMIT_MAX = 2000;

/** `?latihan=1` (or `practice=1`) asks for the practice election; anything else but 0/1 is refused. */
function practiceFlag(q: Record<string, unknown>): boolean {
  const raw = q.latihan ?? q.practice;
  if (raw === undefined) return false;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw badRequest('latihan must be 1 or 0', { latihan: raw }, 'invalid_practice_flag');
}

export function areasRouter(sql: Sql): Router {
  const router = Router();
  // Fill the TPS count and contest caches now, so the first dashboard visit does not pay for them.
  void tpsCounts(sql).catch(() => undefined);
  void contestDates(sql).catch(() => undefined);

  const areaOf = async (code: string) => {
    const clean = code.replace(/\./g, '');
    if (!AREA_CODE.test(clean)) throw badRequest(`"${code}" is not an area code (2, 4, 6 or 10 digits, dots allowed)`, undefined, 'invalid_area_code');
    const area = await findArea(sql, clean);
    if (!area) throw notFound(`area ${clean}`, 'area_not_found');
    return area;
  };

  const handler = async (code: string, practice: boolean): Promise<AreaResponse> => {
    const area = await areaOf(code);
    // TPS counts come from a precomputed map (db/repositories/areas.ts tpsCounts), not a scan per request.
    const [path, children, counts, dates] = await Promise.all([areaPath(sql, area.code), childAreasWithCounts(sql, area), tpsCounts(sql), contestDates(sql)]);
    const tpsCount = counts.get(area.code) ?? 0;
    const { tallies, candidates } = practice ? await practiceTalliesForArea(sql, area.code, tpsCount) : await talliesForArea(sql, area.code, () => tpsCount);
    const known = tallies.every((t) => dates.has(t.contestId)) ? dates : await contestDates(sql, { fresh: true });
    const closeOf = (contestId: string) => {
      const d = known.get(contestId);
      // The zone is the area's province; at national level, the race's own province.
      return d ? pollsCloseAt(d.date, area.code === NATIONAL_CODE ? d.areaCode : area.code) : null;
    };
    return {
      area: { code: area.code, name: area.name, level: area.level as AreaLevel, parentCode: area.parentCode, lat: area.lat, lon: area.lon },
      path: path.map((p) => ({ code: p.code, name: p.name, level: p.level as AreaLevel })),
      tpsCount,
      children: children.map((c) => ({ code: c.code, name: c.name, level: c.level as AreaLevel, tpsCount: c.tpsCount, lat: c.lat, lon: c.lon })),
      tallies: tallies.map((t) => ({
        ...t,
        updatedAt: t.updatedAt ? new Date(t.updatedAt).toISOString() : null,
        pollsCloseAt: closeOf(t.contestId),
        candidates: candidates.filter((c) => c.contestId === t.contestId).map(({ contestId: _c, ...rest }) => rest),
      })),
      ...(practice ? { practice: true } : {}),
    };
  };

  router.get('/areas', async (req, res) => {
    res.json(await handler(NATIONAL_CODE, practiceFlag(req.query)));
  });
  router.get('/areas/:code', async (req, res) => {
    res.json(await handler(req.params.code, practiceFlag(req.query)));
  });

  // What the command centre chases: TPS of the area with nothing published yet in one race.
  router.get('/areas/:code/missing', async (req, res) => {
    const area = await areaOf(req.params.code);
    const contestId = String(req.query.kontes ?? req.query.contest ?? '');
    if (!contestId) throw badRequest('kontes (contest id) is required, e.g. ?kontes=pkwkp-62', undefined, 'missing_contest');
    const rawLimit = req.query.limit === undefined ? '500' : String(req.query.limit);
    if (!/^\d{1,5}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > MISSING_LIMIT_MAX) {
      throw badRequest(`limit must be a whole number from 1 to ${MISSING_LIMIT_MAX}`, { limit: rawLimit }, 'invalid_limit');
    }
    // A contest created since the cache was filled (the practice mirror is made on first use) is
    // looked up again before it is called unknown.
    const contest = (await contestDates(sql)).get(contestId) ?? (await contestDates(sql, { fresh: true })).get(contestId);
    if (!contest) throw notFound(`contest ${contestId}`, 'contest_not_found');
    // The race must cover the area (or lie inside it): a kab/kota race seen from elsewhere is a mistake.
    const covers = contest.areaCode === NATIONAL_CODE || area.code === NATIONAL_CODE || area.code.startsWith(contest.areaCode) || contest.areaCode.startsWith(area.code);
    if (!covers) throw badRequest(`contest ${contestId} does not cover area ${area.code}`, { contest: contestId, area: area.code }, 'contest_not_in_area');
    const limit = Number(rawLimit);
    const { total, rows } = await missingTps(sql, area, { id: contestId, areaCode: contest.areaCode }, limit);
    const zoneArea = area.code === NATIONAL_CODE ? contest.areaCode : area.code;
    const body: MissingTpsResponse = {
      area: { code: area.code, name: area.name, level: area.level as AreaLevel },
      contestId,
      pollsCloseAt: pollsCloseAt(contest.date, zoneArea),
      timeZone: timeZoneOfProvince(zoneArea).name,
      total,
      limit,
      tps: rows,
      generatedAt: new Date().toISOString(),
    };
    res.set('Cache-Control', 'no-store').json(body);
  });
  return router;
}
