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

interface CheckedPhoto {
  /** SHA-256 of the bytes as received: the photo's identity, dedupe key and evidence hash. */
  sha256: string;
  bytes: Buffer;
  kind: ImageKind;
  /** The re-encoded, metadata-free copy that is stored and served, and its own hash. */
  stored: Buffer;
  storedSha256: string;
  width: number;
  height: number;
  exif: ExifEvidence | null;
}

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
  const clean = await reencode(file.bytes, kind, limits, label);
  return { sha256: createHash('sha256').update(file.bytes).digest('hex'), bytes: file.bytes, kind, ...clean, exif: readExifEvidence(meta.exif) };
}

/**
 * The stored copy is re-encoded (ASVS 5.2.2, RELIABILITY §8.5): EXIF orientation applied to the
 * pixels first (so the reader and the reviewer see the page upright), then written fresh with no
 * metadata (EXIF, GPS, XMP, ICC: colour converted to sRGB, 8 bits). Whatever rode along in the file
 * (a polyglot tail, scripts in comments, the phone's location) is gone. The original's SHA-256 stays the
 * photo's identity and evidence hash; the evidence EXIF fields are read before stripping (readExifEvidence).
 */
async function reencode(bytes: Buffer, kind: ImageKind, limits: UploadLimits, label: string): Promise<{ stored: Buffer; storedSha256: string; width: number; height: number }> {
  try {
    const img = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'error' }).rotate().toColourspace('srgb');
    const out = kind.mime === 'image/png' ? img.png({ compressionLevel: 6 }) : kind.mime === 'image/webp' ? img.webp({ quality: 92 }) : img.jpeg({ quality: 92 });
    const { data, info } = await out.toBuffer({ resolveWithObject: true });
    return { stored: data, storedSha256: createHash('sha256').update(data).digest('hex'), width: info.width, height: info.height };
  } catch (err) {
    throw new HttpError(400, 'undecodable_image', `photo ${label} cannot be decoded: ${(err as Error).message}`);
  }
}

/** EXIF fields kept as evidence: when and with what the photo was taken, and where (GPS). */
export interface ExifEvidence { capturedAt?: string; offset?: string; make?: string; model?: string; software?: string; gps?: { lat: number; lon: number } }

/**
 * A small, bounds-checked TIFF/EXIF reader for the few evidence fields (IFD0, the EXIF IFD, the GPS
 * IFD). Hostile EXIF cannot hurt: every offset is checked and any inconsistency ends the read.
 */
export function readExifEvidence(exif: Buffer | undefined): ExifEvidence | null {
  if (!exif || exif.length < 14) return null;
  const b = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  if (b.length < 8) return null;
  const le = b.toString('latin1', 0, 2) === 'II';
  if (!le && b.toString('latin1', 0, 2) !== 'MM') return null;
  const u16 = (o: number) => (o + 2 <= b.length ? (le ? b.readUInt16LE(o) : b.readUInt16BE(o)) : NaN);
  const u32 = (o: number) => (o + 4 <= b.length ? (le ? b.readUInt32LE(o) : b.readUInt32BE(o)) : NaN);
  const entries = (ifd: number): Map<number, { type: number; count: number; at: number }> => {
    const m = new Map<number, { type: number; count: number; at: number }>();
    const n = u16(ifd);
    if (!Number.isFinite(n) || n > 512) return m;
    for (let i = 0; i < n; i++) {
      const e = ifd + 2 + i * 12;
      const tag = u16(e), type = u16(e + 2), count = u32(e + 4);
      if (!Number.isFinite(tag) || !Number.isFinite(count)) break;
      const size = ({ 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 } as Record<number, number>)[type] ?? 0;
      const at = size * count <= 4 ? e + 8 : u32(e + 8);
      if (!size || !Number.isFinite(at) || at + size * count > b.length) continue;
      m.set(tag, { type, count, at });
    }
    return m;
  };
  const text = (m: Map<number, { type: number; count: number; at: number }>, tag: number) => {
    const e = m.get(tag);
    if (!e || e.type !== 2) return undefined;
    const v = b.toString('latin1', e.at, e.at + Math.min(e.count, 128)).replace(/\0[\s\S]*$/, '').trim();
    return v || undefined;
  };
  const rationals = (m: Map<number, { type: number; count: number; at: number }>, tag: number) => {
    const e = m.get(tag);
    if (!e || e.type !== 5 || e.count !== 3) return undefined;
    const r = [0, 1, 2].map((i) => u32(e.at + i * 8) / u32(e.at + i * 8 + 4));
    return r.every(Number.isFinite) ? r[0] + r[1] / 60 + r[2] / 3600 : undefined;
  };
  try {
    const ifd0 = entries(u32(4));
    const out: ExifEvidence = { make: text(ifd0, 0x010f), model: text(ifd0, 0x0110), software: text(ifd0, 0x0131) };
    const exifIfd = ifd0.get(0x8769);
    const sub = exifIfd ? entries(u32(exifIfd.at)) : new Map();
    const when = text(sub, 0x9003) ?? text(ifd0, 0x0132);
    const m = when && /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(when);
    if (m) out.capturedAt = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
    out.offset = text(sub, 0x9011);
    const gpsIfd = ifd0.get(0x8825);
    if (gpsIfd) {
      const g = entries(u32(gpsIfd.at));
      const lat = rationals(g, 2), lon = rationals(g, 4);
      if (lat !== undefined && lon !== undefined && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
        out.gps = { lat: (text(g, 1) === 'S' ? -lat : lat), lon: (text(g, 3) === 'W' ? -lon : lon) };
      }
    }
    const kept = Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as ExifEvidence;
    return Object.keys(kept).length ? kept : null;
  } catch {
    return null;
  }
}

/**
 * Content-addressed by the ORIGINAL's hash: aa/bb/<sha256>.<ext> holds the re-encoded copy; the EXIF
 * evidence (with GPS) goes to a sidecar <sha256>.exif.json that no route serves. Written to a temp
 * name, then renamed (atomic).
 */
async function storePhoto(photoDir: string, p: CheckedPhoto): Promise<string> {
  const rel = join(p.sha256.slice(0, 2), p.sha256.slice(2, 4), `${p.sha256}.${p.kind.ext}`);
  const abs = join(photoDir, rel);
  await mkdir(dirname(abs), { recursive: true });
  const put = async (path: string, data: Buffer | string) => {
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, data, { flag: 'wx' });
    await rename(tmp, path);
  };
  if (p.exif) await put(join(photoDir, p.sha256.slice(0, 2), p.sha256.slice(2, 4), `${p.sha256}.exif.json`), JSON.stringify({ photoSha256: p.sha256, exif: p.exif }));
  await put(abs, p.stored);
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
              // Evidence: the original's size and hash (photoSha256), the stored copy's hash, and when/with
              // what it was taken. The location stays in the unserved sidecar, out of the public audit view.
              after: {
                submissionId: submission.id, tpsCode, contestId, page, bytes: photo.bytes.length, width: photo.width, height: photo.height,
                storedSha256: photo.storedSha256, storedBytes: photo.stored.length,
                exif: photo.exif ? { capturedAt: photo.exif.capturedAt ?? null, offset: photo.exif.offset ?? null, make: photo.exif.make ?? null, model: photo.exif.model ?? null, hasGps: !!photo.exif.gps } : null,
              },
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
        if (!row) {
          await rm(join(deps.photoDir, rel), { force: true }).catch(() => {});
          await rm(join(deps.photoDir, rel.replace(/\.[a-z]+$/, '.exif.json')), { force: true }).catch(() => {});
        }
      }
      throw err;
    }
    const anyNew = results.some((r) => !r.duplicate);
    const body: SubmissionAccepted = { ...results[0], submissions: results };
    res.status(anyNew ? 202 : 200).location(results[0].statusUrl).json(body);
  });
  return router;
}
