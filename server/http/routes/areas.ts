import { Router } from 'express';
import type { Sql } from '../../../db/client.js';
import { areaPath, childAreasWithTpsCounts, findArea, NATIONAL_CODE, tpsCountIn } from '../../../db/repositories/areas.js';
import { talliesForArea } from '../../../db/repositories/tallies.js';
import type { AreaLevel, AreaResponse } from '../../contract/index.js';
import { badRequest, notFound } from '../errors.js';

const AREA_CODE = /^(00|\d{2}|\d{4}|\d{6}|\d{10})$/;

export function areasRouter(sql: Sql): Router {
  const router = Router();

  const handler = async (code: string): Promise<AreaResponse> => {
    const clean = code.replace(/\./g, '');
    if (!AREA_CODE.test(clean)) throw badRequest(`"${code}" is not an area code (2, 4, 6 or 10 digits, dots allowed)`, undefined, 'invalid_area_code');
    const area = await findArea(sql, clean);
    if (!area) throw notFound(`area ${clean}`, 'area_not_found');
    const [path, children, tpsCount] = await Promise.all([areaPath(sql, clean), childAreasWithTpsCounts(sql, area), tpsCountIn(sql, area)]);
    const { tallies, candidates } = await talliesForArea(sql, clean, () => tpsCount);
    return {
      area: { code: area.code, name: area.name, level: area.level as AreaLevel, parentCode: area.parentCode, lat: area.lat, lon: area.lon },
      path: path.map((p) => ({ code: p.code, name: p.name, level: p.level as AreaLevel })),
      tpsCount,
      children: children.map((c) => ({ code: c.code, name: c.name, level: c.level as AreaLevel, tpsCount: c.tpsCount, lat: c.lat, lon: c.lon })),
      tallies: tallies.map((t) => ({
        ...t,
        updatedAt: t.updatedAt ? new Date(t.updatedAt).toISOString() : null,
        candidates: candidates.filter((c) => c.contestId === t.contestId).map(({ contestId: _c, ...rest }) => rest),
      })),
    };
  };

  router.get('/areas', async (_req, res) => {
    res.json(await handler(NATIONAL_CODE));
  });
  router.get('/areas/:code', async (req, res) => {
    res.json(await handler(req.params.code));
  });
  return router;
}
