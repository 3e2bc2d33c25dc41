import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve, extname } from 'node:path';
import { Router } from 'express';
import type { Sql } from '../../../db/client.js';
import { findPhoto, findSubmission, latestReadingOf } from '../../../db/repositories/submissions.js';
import type { SubmissionStatusResponse } from '../../contract/index.js';
import { HttpError, notFound } from '../errors.js';

/** GET /api/submissions/:id (status of an upload) and GET /api/photos/:sha256 (the evidence itself). */
export function submissionsRouter(deps: { sql: Sql; photoDir: string }): Router {
  const router = Router();
  const { sql } = deps;

  router.get('/submissions/:id', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(400, 'invalid_submission_id', `"${req.params.id}" is not a submission id`);
    const s = await findSubmission(sql, id);
    if (!s) throw notFound(`submission ${id}`, 'submission_not_found');
    const r = await latestReadingOf(sql, id);
    const body: SubmissionStatusResponse = {
      id: s.id, tpsCode: s.tpsCode, contestId: s.contestId, page: s.page, status: s.status, statusReason: s.statusReason,
      photoSha256: s.photoSha256, photoUrl: `/api/photos/${s.photoSha256}`, receivedAt: new Date(s.receivedAt).toISOString(),
      reading: r ? { id: Number(r.id), cls: r.cls as NonNullable<SubmissionStatusResponse['reading']>['cls'], page: r.page, readerVersion: r.readerVersion, createdAt: new Date(r.createdAt).toISOString() } : null,
    };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.get('/photos/:sha256', async (req, res) => {
    const sha = String(req.params.sha256).toLowerCase().replace(/\.(jpe?g|png|webp)$/, '');
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new HttpError(400, 'invalid_photo_hash', 'a photo is addressed by its 64-hex SHA-256');
    const photo = await findPhoto(sql, sha);
    if (!photo) throw notFound(`photo ${sha}`, 'photo_not_found');
    const root = resolve(deps.photoDir);
    const abs = resolve(join(root, photo.storedPath));
    if (!abs.startsWith(root + '/')) throw new HttpError(500, 'bad_photo_path', 'stored photo path escapes the photo directory');
    const st = await stat(abs).catch(() => null);
    if (!st) throw new HttpError(410, 'photo_missing', `photo ${sha} is recorded but its file is missing on this node`);
    // Content-addressed: the bytes behind a hash never change.
    // A server-generated name only (ASVS 5.4.1): never the uploader's file name.
    res.set({ 'Content-Type': photo.mime, 'Content-Length': String(st.size), 'Cache-Control': 'public, max-age=31536000, immutable', ETag: `"${sha}"`, 'X-Content-Type-Options': 'nosniff', 'Content-Disposition': `inline; filename="${sha}${extname(photo.storedPath)}"` });
    if (req.headers['if-none-match'] === `"${sha}"`) {
      res.status(304).end();
      return;
    }
    createReadStream(abs).pipe(res);
  });
  return router;
}
