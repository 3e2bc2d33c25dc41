import { Router, type RequestHandler } from 'express';
import type { Database } from '../../../db/client.js';
import { ensurePracticeElection, practiceStatus, resetPractice } from '../../../db/seed/practice.js';
import { actorLabel, authenticate, requireActor } from '../../auth/index.js';
import type { PracticeInfo, PracticeResetResponse } from '../../contract/index.js';
import { HttpError } from '../errors.js';

/**
 * Practice mode ("mode latihan"): GET /api/practice (what the sandbox holds), POST /api/practice/reset
 * (admin: clear every practice upload and result; the real election is never touched).
 * The mirror of the real contests is created on first use, so an existing database needs no migration
 * step and a new contest in the real seed appears in practice after the next start.
 */
export function practiceRouter(deps: { database: Database; log: (msg: string, err?: unknown) => void }): Router {
  const router = Router();
  const { sql } = deps.database;
  const auth = authenticate(sql);
  const withActor: RequestHandler = (req, res, next) => (req.actor ? next() : auth(req, res, next));
  let ready: Promise<unknown> | null = null;
  const ensure = () => (ready ??= ensurePracticeElection(deps.database).catch((err) => {
    ready = null;
    throw err;
  }));

  router.get('/practice', async (_req, res) => {
    await ensure();
    const s = await practiceStatus(sql);
    if (!s) throw new HttpError(503, 'practice_unavailable', 'the practice election could not be created: seed the real election first (rekap seed)');
    res.set('Cache-Control', 'no-store').json(s satisfies PracticeInfo);
  });

  router.post('/practice/reset', withActor, async (req, res) => {
    const actor = requireActor(req, ['admin']);
    await ensure();
    const out = await resetPractice(deps.database, { userId: actor.userId, label: actorLabel(actor) });
    deps.log(`practice election reset by ${actorLabel(actor)}: ${JSON.stringify(out.deleted)}`);
    res.json(out satisfies PracticeResetResponse);
  });
  return router;
}
