/**
 * Upload defences (ASVS V5, RELIABILITY §7): a corpus of hostile or odd files generated here (no
 * fixtures on disk) and a property-based fuzz test (fast-check). Every refusal is a 4xx with a JSON
 * error naming the problem, nothing refused is stored, the server never answers 5xx or dies, and its
 * memory stays bounded while it chews through the fuzz cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import fc from 'fast-check';
import { createUserWithToken } from '../../db/repositories/tokens.js';
import { readExifEvidence } from '../../server/http/routes/upload.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let token = '';
let tps = '';
const CONTEST = 'pkwkp-62';
const MAX_MB = 2;

beforeAll(async () => {
  server = await startTestServer({ template: 'kalteng', env: { REKAP_MAX_UPLOAD_MB: String(MAX_MB), REKAP_MAX_UPLOAD_MEGAPIXELS: '50', REKAP_RATE_PER_TOKEN: '0', REKAP_RATE_PER_IP: '0' } });
  [{ code: tps }] = await server.db.sql<{ code: string }[]>`select code from tps where code like '62%' order by code limit 1`;
  token = (await createUserWithToken(server.db.sql, { name: 'upload kpps', role: 'kpps', scopeCode: tps })).token;
});

afterAll(async () => {
  await server?.close();
});

async function upload(bytes: Buffer | Uint8Array, opts: { filename?: string; type?: string; tps?: string; contest?: string } = {}) {
  const form = new FormData();
  form.set('tps', opts.tps ?? tps);
  form.set('contest', opts.contest ?? CONTEST);
  form.set('photo', new Blob([new Uint8Array(bytes)], { type: opts.type ?? 'image/jpeg' }), opts.filename ?? 'c1.jpg');
  const res = await fetch(`${server.url}/api/submissions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  let json: { error?: { code: string; message: string } } | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, headers: res.headers };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => statSync(join(dir, f)).isFile());
}

const base = () => sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 240, g: 240, b: 235 } } });

/** PNG header claiming a huge size, with a valid CRC-less structure: the header alone must be enough to refuse it. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(16)), chunk('IEND', Buffer.alloc(0))]);
}

describe('bad-file corpus', () => {
  it('refuses each hostile file with its own 4xx code and stores nothing', async () => {
    const jpeg = await base().jpeg().toBuffer();
    const corpus: [string, Buffer, number, string][] = [
      ['0 bytes', Buffer.alloc(0), 400, 'empty_photo'],
      ['truncated JPEG', jpeg.subarray(0, Math.floor(jpeg.length / 2)), 400, 'truncated_image'],
      ['HTML posing as a JPEG', Buffer.from('<html><script>alert(1)</script></html>'), 415, 'not_an_image'],
      ['polyglot: JPEG followed by a ZIP/script payload', Buffer.concat([jpeg, Buffer.from('PK\u0003\u0004' + '<script>alert(1)</script>'.repeat(20))]), 400, 'truncated_image'],
      ['polyglot: PDF header then JPEG', Buffer.concat([Buffer.from('%PDF-1.4\n'), jpeg]), 415, 'not_an_image'],
      ['14000×14000 PNG header (pixel flood)', pngHeaderOnly(14000, 14000), 413, 'too_many_pixels'],
      ['over the byte limit', Buffer.concat([jpeg.subarray(0, 3), Buffer.alloc(MAX_MB * 1024 * 1024 + 10)]), 413, 'photo_too_large'],
      ['tiny image', await sharp({ create: { width: 40, height: 40, channels: 3, background: '#fff' } }).png().toBuffer(), 422, 'image_too_small'],
    ];
    const before = filesUnder(server.config.photoDir).length;
    const [{ n: rowsBefore }] = await server.db.sql<{ n: number }[]>`select count(*)::int as n from submissions`;
    const got: string[] = [];
    for (const [name, bytes, status, code] of corpus) {
      const r = await upload(bytes);
      got.push(`${name}: ${r.status} ${r.json?.error?.code}`);
      expect(r.status, name).toBe(status);
      expect(r.json?.error?.code, name).toBe(code);
      expect(r.json?.error?.message.length, name).toBeGreaterThan(5);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(filesUnder(server.config.photoDir).length).toBe(before);
    const [{ n: rowsAfter }] = await server.db.sql<{ n: number }[]>`select count(*)::int as n from submissions`;
    expect(rowsAfter).toBe(rowsBefore);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    console.log(JSON.stringify({ corpus: got }));
  });

  it('accepts odd but genuine photos (CMYK, 16-bit, EXIF-rotated) under an internal name, never 5xx', async () => {
    const cases: [string, Buffer][] = [
      ['CMYK JPEG', await base().toColourspace('cmyk').jpeg().toBuffer()],
      ['16-bit PNG', await base().toColourspace('rgb16').png().toBuffer()],
      ['EXIF orientation 6', await base().withMetadata({ orientation: 6 }).jpeg().toBuffer()],
    ];
    for (const [name, bytes] of cases) {
      const r = await upload(bytes, { filename: '../../etc/passwd.jpg' });
      expect(r.status, `${name}: ${JSON.stringify(r.json)}`).toBe(202);
    }
    // Stored by content hash only: the client's file name never reaches the disk.
    const stored = filesUnder(server.config.photoDir);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    for (const f of stored) expect(f).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\.(jpg|png|webp|exif\.json)$/);
  });
});

describe('re-encoding before storage', () => {
  it('stores an upright, metadata-free copy under the original hash; EXIF evidence kept apart; GPS never public', async () => {
    // A phone photo: rotated by EXIF (orientation 6), with device, capture time, GPS and an ICC profile,
    // plus bytes smuggled after the image (a polyglot tail) that must not survive re-encoding.
    const pixels = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 250, g: 250, b: 245 } } })
      .composite([{ input: { create: { width: 80, height: 80, channels: 3, background: { r: 10, g: 10, b: 10 } } }, left: 0, top: 0 }])
      .png().toBuffer();
    const jpeg = await sharp(pixels)
      .withExif({ IFD0: { Make: 'samsung', Model: 'SM-A127F', DateTime: '2024:02:14 13:05:09' }, IFD2: { DateTimeOriginal: '2024:02:14 13:05:07', OffsetTimeOriginal: '+07:00' }, IFD3: { GPSLatitudeRef: 'S', GPSLatitude: '2/1 12/1 36/1', GPSLongitudeRef: 'E', GPSLongitude: '113/1 54/1 0/1' } })
      .withMetadata({ orientation: 6, icc: 'p3' })
      .jpeg({ quality: 90 })
      .toBuffer();
    const tail = Buffer.from('<script>alert(1)</script><?php system($_GET["c"]); ?>');
    const original = Buffer.concat([jpeg, tail, Buffer.from([0xff, 0xd9])]);
    const originalSha = createHash('sha256').update(original).digest('hex');
    const inMeta = await sharp(original).metadata();
    expect(inMeta.orientation).toBe(6);
    expect(inMeta.exif).toBeDefined();

    const r = await upload(original, { filename: 'IMG_0001.jpg' });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    const body = r.json as unknown as { photoSha256: string; id: number };
    expect(body.photoSha256).toBe(originalSha);

    const served = await fetch(`${server.url}/api/photos/${originalSha}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('content-disposition')).toBe(`inline; filename="${originalSha}.jpg"`);
    const bytes = Buffer.from(await served.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).not.toBe(originalSha);
    expect(bytes.includes(Buffer.from('<script>'))).toBe(false);
    expect(bytes.includes(Buffer.from('samsung'))).toBe(false);
    const outMeta = await sharp(bytes).metadata();
    expect(outMeta.exif).toBeUndefined();
    expect(outMeta.icc).toBeUndefined();
    expect(outMeta.xmp).toBeUndefined();
    expect(outMeta.orientation ?? 1).toBe(1);
    // Orientation applied to the pixels: 640×480 landscape shot held sideways is stored 480×640, and the
    // black square that was top-left in the sensor image is now top-right.
    expect([outMeta.width, outMeta.height]).toEqual([480, 640]);
    const { data, info } = await sharp(bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => data[y * info.width + x];
    expect(at(info.width - 20, 20)).toBeLessThan(60);
    expect(at(20, 20)).toBeGreaterThan(200);

    const [row] = await server.db.sql`select width, height, byte_size from photos where sha256 = ${originalSha}`;
    expect([row.width, row.height, Number(row.byte_size)]).toEqual([480, 640, original.length]);
    // Evidence: capture time and device in the hash-chained audit row; GPS only in the unserved sidecar.
    const [audit] = await server.db.sql`select after from audit_log where photo_sha256 = ${originalSha} and action = 'submission.received'`;
    expect(audit.after.exif).toEqual({ capturedAt: '2024-02-14T13:05:07', offset: '+07:00', make: 'samsung', model: 'SM-A127F', hasGps: true });
    expect(audit.after.storedSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const sidecar = JSON.parse(readFileSync(join(server.config.photoDir, originalSha.slice(0, 2), originalSha.slice(2, 4), `${originalSha}.exif.json`), 'utf8'));
    expect(sidecar.exif.gps.lat).toBeCloseTo(-(2 + 12 / 60 + 36 / 3600), 6);
    expect(sidecar.exif.gps.lon).toBeCloseTo(113.9, 6);
    const publicView = await (await fetch(`${server.url}/api/tps/${tps}`)).text();
    expect(publicView).toContain(originalSha);
    expect(publicView).not.toMatch(/-2\.21|113\.9/);

    // Dedupe stays on the original's hash: the same bytes again are the same submission.
    const again = await upload(original, { filename: 'copy.jpg' });
    expect(again.status).toBe(200);
    expect((again.json as unknown as { id: number; duplicate: boolean })).toMatchObject({ id: body.id, duplicate: true });
  });

  it('reads EXIF evidence defensively: hostile or cut EXIF gives null or partial fields, never a throw', () => {
    expect(readExifEvidence(undefined)).toBeNull();
    expect(readExifEvidence(Buffer.from('Exif\0\0II*\0'))).toBeNull();
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (junk) => {
      const withHeader = Buffer.concat([Buffer.from('Exif\0\0II*\0\x08\0\0\0'), Buffer.from(junk)]);
      const r = readExifEvidence(withHeader);
      expect(r === null || typeof r === 'object').toBe(true);
    }), { numRuns: 500 });
  });
});

describe('fuzz (fast-check)', () => {
  it('mutated images and random bytes: always a JSON 4xx or an accepted upload, never 5xx, memory bounded', async () => {
    const jpeg = await base().jpeg({ quality: 60 }).toBuffer();
    const png = await base().png().toBuffer();
    const mutation = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 4096 }).map((b) => ({ kind: 'random', bytes: Buffer.from(b) })),
      fc.record({ src: fc.constantFrom(jpeg, png), cut: fc.nat() }).map(({ src, cut }) => ({ kind: 'truncate', bytes: src.subarray(0, cut % src.length) })),
      fc.record({ src: fc.constantFrom(jpeg, png), flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 32 }) }).map(({ src, flips }) => {
        const b = Buffer.from(src);
        for (const [at, v] of flips) b[at % b.length] = v;
        return { kind: 'flip', bytes: b };
      }),
      fc.record({ src: fc.constantFrom(jpeg, png), junk: fc.uint8Array({ maxLength: 512 }), front: fc.boolean() }).map(({ src, junk, front }) => ({ kind: 'splice', bytes: front ? Buffer.concat([Buffer.from(junk), src]) : Buffer.concat([src, Buffer.from(junk)]) })),
    );
    const rss0 = process.memoryUsage().rss;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(mutation, fc.constantFrom('c1.jpg', 'x.php', '', '../../a.png'), async (m, filename) => {
        const r = await upload(m.bytes, { filename });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status >= 500) return false;
        if (r.status >= 400) return typeof r.json?.error?.code === 'string';
        return r.status === 202 || r.status === 200;
      }),
      { numRuns: Number(process.env.REKAP_FUZZ_RUNS ?? 150), seed: Number(process.env.REKAP_FUZZ_SEED ?? 20241127) },
    );
    // Random text fields next to a genuine photo.
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), async (t, c) => {
        const r = await upload(jpeg, { tps: t, contest: c });
        return r.status >= 400 && r.status < 500 && typeof r.json?.error?.code === 'string';
      }),
      { numRuns: 60, seed: 7 },
    );
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(200);
    const growthMb = (process.memoryUsage().rss - rss0) / 1e6;
    console.log(JSON.stringify({ fuzzStatuses: Object.fromEntries(statuses), rssGrowthMb: Math.round(growthMb) }));
    expect(growthMb).toBeLessThan(400);
  });
});
