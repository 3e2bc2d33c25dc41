import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Busboy from 'busboy';
import sharp, { type Metadata } from 'sharp';
import { Router, type Request } from 'express';
import type { Database } from '../../../db/client.js';
import { appendAudit } from '../../../db/repositories/audit.js';
import { contestForTps, insertSubmission, tpsExists } from '../../../db/repositories/submissions.js';
import type { JobQueue } from '../../../workers/jobs/queue.js';
import { actorLabel, requireActor, requireScope } from '../../auth/index.js';
import type { SubmissionAccepted } from '../../contract/index.js';
import { HttpError } from '../errors.js';

/**
 * POST /api/submissions — multipart: `photo` (one or more photos of ONE page), `tps`, `contest`,
 * optional `page`. Checks run before anything is decoded or stored: auth and TPS scope, size cap
 * (busboy stops reading past it), magic bytes, the pixel count from the header (pixel floods), and a
 * truncation check on the container. Storage is by SHA-256; the same bytes for the same TPS and
 * contest return the existing submission (200) instead of a new one (202).
 */

export interface UploadLimits { maxBytes: number; maxPixels: number; maxFiles: number }

interface ReceivedFile { field: string; filename: string; bytes: Buffer }

const PAGE_VALUES = new Set(['administrasi', 'perolehan', '1', '2', '3']);

type ImageKind = { mime: 'image/jpeg' | 'image/png' | 'image/webp'; ext: string };

/** Magic bytes: what the file is, whatever its name or declared type says. */
export function sniffImage(b: Buffer): ImageKind | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { mime: 'image/jpeg', ext: 'jpg' };
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { mime: 'image/png', ext: 'png' };
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return { mime: 'image/webp', ext: 'webp' };
  return null;
}

/** A cut-off upload is refused before decoding: JPEG must end with EOI, PNG with its IEND chunk. */
export function looksComplete(b: Buffer, kind: ImageKind): boolean {
  if (kind.mime === 'image/jpeg') {
    // Some cameras pad after EOI: accept EOI within the last 64 bytes.
    const tail = b.subarray(Math.max(0, b.length - 64));
    for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return true;
    return false;
  }
  if (kind.mime === 'image/png') return b.length >= 12 && b.subarray(b.length - 12).includes(Buffer.from('IEND', 'latin1'));
  if (kind.mime === 'image/webp') return b.length >= 12 && b.readUInt32LE(4) + 8 <= b.length;
  return false;
}

function parseMultipart(req: Request, limits: UploadLimits): Promise<{ fields: Record<string, string>; files: ReceivedFile[] }> {
  return new Promise((resolve, reject) => {
    const type = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data/i.test(type)) {
      reject(new HttpError(415, 'multipart_required', 'send multipart/form-data with fields tps, contest and a file field "photo"'));
      return;
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limits.maxBytes * limits.maxFiles + 64 * 1024) {
      reject(new HttpError(413, 'upload_too_large', `upload is ${declared} bytes; at most ${limits.maxBytes} bytes per photo`));
      req.resume();
      return;
    }
    let bb: ReturnType<typeof Busboy>;
    try {
      bb = Busboy({ headers: req.headers, limits: { fileSize: limits.maxBytes, files: limits.maxFiles, fields: 20, fieldSize: 1024, parts: limits.maxFiles + 20 } });
    } catch (err) {
      reject(new HttpError(400, 'bad_multipart', `malformed multipart request: ${(err as Error).message}`));
      return;
    }
    const fields: Record<string, string> = {};
    const files: ReceivedFile[] = [];
    let failed: HttpError | null = null;
    const fail = (e: HttpError) => {
      if (!failed) failed = e;
    };
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new HttpError(400, 'field_too_long', `field "${name}" is too long`));
      fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (!failed) chunks.push(c);
      });
      stream.on('limit', () => fail(new HttpError(413, 'photo_too_large', `photo "${info.filename ?? field}" exceeds ${limits.maxBytes} bytes`)));
      stream.on('close', () => {
        if (!failed && !(stream as unknown as { truncated?: boolean }).truncated) files.push({ field, filename: info.filename ?? '', bytes: Buffer.concat(chunks, size) });
      });
    });
    bb.on('filesLimit', () => fail(new HttpError(400, 'too_many_photos', `at most ${limits.maxFiles} photos per submission`)));
    bb.on('partsLimit', () => fail(new HttpError(400, 'too_many_parts', 'too many multipart parts')));
    bb.on('fieldsLimit', () => fail(new HttpError(400, 'too_many_fields', 'too many form fields')));
    bb.on('error', (err: Error) => reject(new HttpError(400, 'bad_multipart', `malformed multipart request: ${err.message}`)));
    bb.on('close', () => (failed ? reject(failed) : resolve({ fields, files })));
    req.on('aborted', () => reject(new HttpError(400, 'upload_aborted', 'the upload was interrupted')));
    req.pipe(bb);
  });
}

interface CheckedPhoto { sha256: string; bytes: Buffer; kind: ImageKind; width: number; height: number }

async function checkPhoto(file: ReceivedFile, limits: UploadLimits, index: number): Promise<CheckedPhoto> {
  const label = file.filename ? `"${file.filename}"` : `#${index + 1}`;
  if (file.bytes.length === 0) throw new HttpError(400, 'empty_photo', `photo ${label} is empty`);
  const kind = sniffImage(file.bytes);
  if (!kind) throw new HttpError(415, 'not_an_image', `photo ${label} is not a JPEG, PNG or WebP image (by its content)`);
  if (!looksComplete(file.bytes, kind)) throw new HttpError(400, 'truncated_image', `photo ${label} is truncated (the ${kind.mime} file does not end properly)`);
  let meta: Metadata;
  try {
    // Header only: no pixel is decoded here.
    meta = await sharp(file.bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new HttpError(400, 'unreadable_image', `photo ${label} has an unreadable ${kind.mime} header: ${(err as Error).message}`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (!width || !height) throw new HttpError(400, 'unreadable_image', `photo ${label} has no dimensions in its header`);
  if (width * height > limits.maxPixels) {
    throw new HttpError(413, 'too_many_pixels', `photo ${label} is ${width}×${height} (${((width * height) / 1e6).toFixed(1)} MP); at most ${(limits.maxPixels / 1e6).toFixed(0)} MP`, { width, height });
  }
  if (Math.min(width, height) < 200) throw new HttpError(422, 'image_too_small', `photo ${label} is ${width}×${height}: too small to read a form`);
  return { sha256: createHash('sha256').update(file.bytes).digest('hex'), bytes: file.bytes, kind, width, height };
}

/** Content-addressed path: aa/bb/<sha256>.<ext>; written to a temp name, then renamed (atomic). */
async function storePhoto(photoDir: string, p: CheckedPhoto): Promise<string> {
  const rel = join(p.sha256.slice(0, 2), p.sha256.slice(2, 4), `${p.sha256}.${p.kind.ext}`);
  const abs = join(photoDir, rel);
  await mkdir(dirname(abs), { recursive: true });
  const tmp = `${abs}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, p.bytes, { flag: 'wx' });
  await rename(tmp, abs);
  return rel;
}

export function uploadRouter(deps: { database: Database; queue: JobQueue | null; photoDir: string; limits: UploadLimits }): Router {
  const router = Router();
  const { sql } = deps.database;

  router.post('/submissions', async (req, res) => {
    const actor = requireActor(req, ['kpps', 'kpu_operator', 'admin']);
    if (!deps.queue) throw new HttpError(503, 'queue_unavailable', 'this node cannot accept uploads (job queue not started)');
    const { fields, files } = await parseMultipart(req, deps.limits);
    const tpsCode = (fields.tps ?? '').replace(/\./g, '').trim();
    const contestId = (fields.contest ?? '').trim();
    const page = fields.page?.trim() || null;
    if (!/^\d{13}$/.test(tpsCode)) throw new HttpError(400, 'invalid_tps', `field "tps" must be a 13-digit TPS code, got "${fields.tps ?? ''}"`);
    if (!contestId) throw new HttpError(400, 'missing_contest', 'field "contest" is required (e.g. pkwkp-62)');
    if (page && !PAGE_VALUES.has(page)) throw new HttpError(400, 'invalid_page', `field "page" must be one of ${[...PAGE_VALUES].join(', ')}`);
    requireScope(actor, tpsCode);
    if (files.length === 0) throw new HttpError(400, 'missing_photo', 'no photo: send the image in a file field named "photo"');
    if (!(await tpsExists(sql, tpsCode))) throw new HttpError(404, 'tps_not_found', `TPS ${tpsCode} does not exist`);
    const contest = await contestForTps(sql, contestId, tpsCode);
    if (!contest) throw new HttpError(404, 'contest_not_found', `contest ${contestId} does not exist or does not cover TPS ${tpsCode}`);

    // Every photo is checked before any is stored: one bad photo refuses the whole request.
    const checked: CheckedPhoto[] = [];
    for (const [i, f] of files.entries()) checked.push(await checkPhoto(f, deps.limits, i));

    const stored: { photo: CheckedPhoto; rel: string }[] = [];
    const results: SubmissionAccepted['submissions'] = [];
    try {
      for (const p of checked) stored.push({ photo: p, rel: await storePhoto(deps.photoDir, p) });
      await sql.begin(async (tx) => {
        for (const { photo, rel } of stored) {
          const { submission, created } = await insertSubmission(tx, { sha256: photo.sha256, byteSize: photo.bytes.length, mime: photo.kind.mime, width: photo.width, height: photo.height, storedPath: rel },
            { tpsCode, contestId, page, source: 'kpps', uploaderId: actor.userId });
          if (created) {
            await appendAudit(tx, [{
              actorId: actor.userId, actor: actorLabel(actor), action: 'submission.received', entity: 'submission',
              entityId: `${tpsCode}:${contestId}:submission:${submission.id}`,
              after: { submissionId: submission.id, tpsCode, contestId, page, bytes: photo.bytes.length, width: photo.width, height: photo.height },
              photoSha256: photo.sha256,
            }]);
            await deps.queue!.send('read-page', { submissionId: submission.id }, { tx });
          }
          results.push({ id: submission.id, statusUrl: `/api/submissions/${submission.id}`, photoSha256: photo.sha256, duplicate: !created });
        }
      });
    } catch (err) {
      // Nothing half-stored: a photo file whose row did not commit is removed (other rows may share it by hash).
      for (const { photo, rel } of stored) {
        const [row] = await sql`select 1 from photos where sha256 = ${photo.sha256}`.catch(() => [undefined]);
        if (!row) await rm(join(deps.photoDir, rel), { force: true }).catch(() => {});
      }
      throw err;
    }
    const anyNew = results.some((r) => !r.duplicate);
    const body: SubmissionAccepted = { ...results[0], submissions: results };
    res.status(anyNew ? 202 : 200).location(results[0].statusUrl).json(body);
  });
  return router;
}
