import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve, extname } from 'node:path';
import { Router } from 'express';
import type { Sql } from '../../../db/client.js';
import { findPhoto, findSubmission, latestReadingOf, readingForCrops } from '../../../db/repositories/submissions.js';
import { templateById } from '../../../workers/reader/template/index.js';
import { applyH, cutRegion, decodeGrey, homography4, type GreyPhoto } from '../crops.js';
import type { SubmissionStatusResponse } from '../../contract/index.js';
import { HttpError, notFound } from '../errors.js';

/**
 * GET /api/submissions/:id (status of an upload), GET /api/photos/:sha256 (the evidence itself) and
 * GET /api/readings/:id/crops/:field.png[?box=i] (a field's boxes cut upright from that photo).
 */
export function submissionsRouter(deps: { sql: Sql; photoDir: string }): Router {
  const router = Router();
  const { sql } = deps;
  // Crops are immutable (a reading never changes, a photo is content-addressed): cache the PNGs, and
  // the last few decoded photos, since a review screen asks for every field of the same page at once.
  const pngCache = new Map<string, Buffer>();
  const photoCache = new Map<string, Promise<GreyPhoto>>();
  const remember = <V>(m: Map<string, V>, k: string, v: V, max: number) => {
    m.delete(k);
    m.set(k, v);
    while (m.size > max) m.delete(m.keys().next().value!);
  };

  router.get('/readings/:id/crops/:field', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(400, 'invalid_reading_id', `"${req.params.id}" is not a reading id`);
    const field = String(req.params.field).replace(/\.png$/, '');
    if (!/^[a-z0-9_]{1,64}$/.test(field)) throw new HttpError(400, 'invalid_field', `"${field}" is not a field key`);
    const boxParam = req.query.box;
    const box = boxParam === undefined ? null : Number(boxParam);
    if (box !== null && (!Number.isInteger(box) || box < 0 || box > 20)) throw new HttpError(400, 'invalid_box', 'box must be a box index 0..20');
    const key = `${id}:${field}:${box ?? 'all'}`;
    let png = pngCache.get(key);
    if (!png) {
      const r = await readingForCrops(sql, id);
      if (!r) throw notFound(`reading ${id}`, 'reading_not_found');
      const rois = r.detail.fields?.[field]?.roi;
      if (!rois?.length) throw new HttpError(404, 'field_not_read', `reading ${id} has no boxes for field ${field}`);
      if (box !== null && !rois[box]) throw new HttpError(404, 'box_not_found', `field ${field} has ${rois.length} boxes`);
      const frame = r.detail.frame;
      const template = r.detail.templateId ? templateById(r.detail.templateId) : null;
      if (!frame || frame.corners?.length !== 4 || !template) throw new HttpError(409, 'no_page_frame', `reading ${id} does not record where the page sat in the photo`);
      const centresMm = template.fiducials.corners.map((c) => ({ x: c.x + c.w / 2, y: c.y + c.h / 2 }));
      const h = homography4(centresMm, frame.corners.map(([x, y]) => ({ x, y })));
      // The whole field (all boxes, 1 mm of margin) or one box; 12 px/mm reads well on a phone.
      const P = frame.pxPerMm;
      const pick = box === null ? rois : [rois[box]];
      const x0 = Math.min(...pick.map((b) => b[0])) - (box === null ? P : 0);
      const y0 = Math.min(...pick.map((b) => b[1])) - (box === null ? P : 0);
      const x1 = Math.max(...pick.map((b) => b[0] + b[2])) + (box === null ? P : 0);
      const y1 = Math.max(...pick.map((b) => b[1] + b[3])) + (box === null ? P : 0);
      const root = resolve(deps.photoDir);
      const abs = resolve(join(root, r.storedPath));
      if (!abs.startsWith(root + '/')) throw new HttpError(500, 'bad_photo_path', 'stored photo path escapes the photo directory');
      if (!(await stat(abs).catch(() => null))) throw new HttpError(410, 'photo_missing', `the photo of reading ${id} is recorded but its file is missing on this node`);
      let photo = photoCache.get(r.photoSha256);
      if (!photo) {
        photo = decodeGrey(abs);
        photo.catch(() => photoCache.delete(r.photoSha256));
        remember(photoCache, r.photoSha256, photo, 4);
      }
      const corner = applyH(h, x0 / P, y0 / P);
      if (!Number.isFinite(corner.x) || !Number.isFinite(corner.y)) throw new HttpError(409, 'no_page_frame', `reading ${id} has an unusable page frame`);
      png = await cutRegion(await photo, h, [x0, y0, x1 - x0, y1 - y0], P, 12);
      remember(pngCache, key, png, 2000);
      res.set('X-Photo-Sha256', r.photoSha256);
    }
    res.set({ 'Content-Type': 'image/png', 'Cache-Control': 'public, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff' });
    res.end(png);
  });

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
