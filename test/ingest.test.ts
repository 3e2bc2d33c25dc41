/**
 * The spine end to end on a real PostgreSQL: HTTP upload → pg-boss read-page job → reading stored →
 * publish-tps job → hard rules → tallies → Socket.IO delta, plus the upload refusals.
 *
 * The photos are synthetic images made with sharp; the reading is injected through the worker's
 * reader seam (the same job path the real reader pool uses), keyed by the photo's SHA-256, because
 * what is under test here is the pipeline, not handwriting recognition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { io as ioClient, type Socket } from 'socket.io-client';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { loadConfig } from '../server/config.js';
import { startApi, type RunningApi } from '../server/runtime/api.js';
import { startWorkers, type RunningWorkers } from '../workers/runtime.js';
import { createUserWithToken } from '../db/repositories/tokens.js';
import type { ReadInput } from '../workers/jobs/handlers.js';
import type { PageReading } from '../workers/reader/types.js';
import type { ClientToServerEvents, RoomDelta, ServerToClientEvents, SubscribeAck, SubmissionAccepted, SubmissionStatusResponse, ResultsResponse } from '../server/contract/index.js';
import { verifyAuditChain } from '../db/repositories/audit.js';
import { candidateCount, formValues, pickTps, readingFor, rng, type TpsInfo } from './ingest-helpers.js';

const CONTEST = 'pkwkp-62';

async function syntheticPhoto(seed: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  // A "photographed page": paper-coloured background with a seeded pattern, so every seed gives new bytes.
  const r = rng(seed);
  const rects = Array.from({ length: 40 }, () => `<rect x="${Math.floor(r() * 1100)}" y="${Math.floor(r() * 1600)}" width="${20 + Math.floor(r() * 80)}" height="${10 + Math.floor(r() * 30)}" fill="#333"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1240" height="1754"><rect width="100%" height="100%" fill="#f4f1e8"/>${rects}<text x="80" y="120" font-size="48">C.HASIL ${seed}</text></svg>`;
  const img = sharp(Buffer.from(svg));
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 80 }).toBuffer();
}

/** A valid PNG header declaring width × height, with a tiny IDAT: what a pixel-flood upload looks like. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('upload → read → publish → aggregate → socket delta', () => {
  let db: TestDatabase;
  let dataDir: string;
  let api: RunningApi;
  let workers: RunningWorkers;
  let token: string;
  let reviewerToken: string;
  let tps: TpsInfo;
  let outsider: TpsInfo;
  let n: number;
  let values: Record<string, number>;
  const readings = new Map<string, PageReading | 'poison'>();
  const readCalls: string[] = [];
  const logged: unknown[] = [];
  const sockets: Socket[] = [];

  const reader = async (input: ReadInput): Promise<PageReading> => {
    // The stored copy is re-encoded (SECURITY.md); its file name is the original upload's SHA-256.
    const hash = /([0-9a-f]{64})\.[a-z]+$/.exec(input.path)?.[1] ?? '';
    readCalls.push(hash);
    const r = readings.get(hash);
    if (r === 'poison') throw new Error('reader crashed on this photo');
    if (!r) throw new Error(`test reader has no reading for ${hash}`);
    return r;
  };

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    dataDir = mkdtempSync(join(tmpdir(), 'rekap-ingest-'));
    const config = loadConfig({ DATABASE_URL: db.url, REKAP_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', REKAP_SERVE_CLIENT: '0', REKAP_DELTA_INTERVAL_MS: '100', REKAP_MAX_UPLOAD_MB: '5' });
    const log = (msg: string, err?: unknown) => logged.push([msg, String(err ?? '')]);
    workers = await startWorkers({ config, database: db, url: db.url, log, reader, maintenanceIntervalSeconds: 1, timings: { 'read-page': { retryLimit: 1, retryDelaySeconds: 1, retryBackoff: false } } });
    api = await startApi(config, db, log, { databaseUrl: db.url, queue: workers.queue });
    [tps, outsider] = await pickTps(db.sql, '6201', 2);
    n = await candidateCount(db.sql, CONTEST);
    values = formValues(tps, n, rng(7));
    token = (await createUserWithToken(db.sql, { name: 'KPPS test', role: 'kpps', scopeCode: tps.code })).token;
    reviewerToken = (await createUserWithToken(db.sql, { name: 'reviewer', role: 'kpu_reviewer', scopeCode: '62' })).token;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await api?.close();
    await workers?.stop();
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function upload(photo: Buffer | null, fields: Record<string, string>, auth: string | null = token, filename = 'page.jpg') {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    if (photo) form.append('photo', new Blob([new Uint8Array(photo)]), filename);
    const res = await fetch(`${api.url}/api/submissions`, { method: 'POST', body: form, headers: auth ? { authorization: `Bearer ${auth}` } : {} });
    return { status: res.status, body: (await res.json()) as SubmissionAccepted & { error?: { code: string; message: string } } };
  }

  async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; log: ${JSON.stringify(logged.slice(-5))}`);
      await sleep(100);
    }
  }

  function connect(): Promise<Socket<ServerToClientEvents, ClientToServerEvents>> {
    const s: Socket<ServerToClientEvents, ClientToServerEvents> = ioClient(api.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    sockets.push(s);
    return new Promise((resolve, reject) => {
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
  }

  const storedFiles = () => {
    const dir = join(dataDir, 'photos');
    const walk = (d: string): string[] => {
      try {
        return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [f]));
      } catch {
        return [];
      }
    };
    return walk(dir).length;
  };
  const counts = async () => {
    const [r] = await db.sql`select (select count(*)::int from photos) as photos, (select count(*)::int from submissions) as subs`;
    return { photos: r.photos, subs: r.subs, files: storedFiles() };
  };

  it('two pages uploaded → both read → TPS published → desa and national tallies → one socket delta', async () => {
    const socket = await connect();
    const deltas: RoomDelta[] = [];
    socket.on('delta', (d) => deltas.push(d));
    const ack = await socket.timeout(5000).emitWithAck('subscribe', { area: tps.desaCode, contest: CONTEST }) as SubscribeAck;
    expect(ack.ok).toBe(true);
    if (!ack.ok || ack.state.kind !== 'snapshot') throw new Error('expected a snapshot');
    expect(ack.state.children[tps.code]).toMatchObject({ tpsPublished: 0, tpsMissing: 1 });
    const national = await connect();
    const nationalDeltas: RoomDelta[] = [];
    national.on('delta', (d) => nationalDeltas.push(d));
    expect(((await national.timeout(5000).emitWithAck('subscribe', { area: '00', contest: CONTEST })) as SubscribeAck).ok).toBe(true);

    const page1 = await syntheticPhoto(1);
    const page2 = await syntheticPhoto(2);
    readings.set(sha(page1), readingFor(values, 'administrasi'));
    readings.set(sha(page2), readingFor(values, 'perolehan'));

    const r1 = await upload(page1, { tps: tps.code, contest: CONTEST, page: 'administrasi' });
    expect(r1.status).toBe(202);
    expect(r1.body.statusUrl).toBe(`/api/submissions/${r1.body.id}`);
    expect(r1.body.photoSha256).toBe(sha(page1));
    const r2 = await upload(page2, { tps: tps.code, contest: CONTEST, page: 'perolehan' });
    expect(r2.status).toBe(202);

    for (const id of [r1.body.id, r2.body.id]) {
      const st = await waitFor(async () => {
        const res = await fetch(`${api.url}/api/submissions/${id}`);
        const body = (await res.json()) as SubmissionStatusResponse;
        return body.status === 'read' ? body : null;
      }, `submission ${id} read`);
      expect(st.reading?.cls).toBe('READ_OK');
    }
    const delta = await waitFor(async () => deltas.find((d) => d.tps.some((t) => t.code === tps.code && t.status === 'published')), 'the published delta');
    const unit = delta.children[tps.code];
    expect(unit).toMatchObject({ status: 'published', suaraSah: values.suara_sah, suaraTidakSah: values.suara_tidak_sah, tpsPublished: 1 });
    expect(delta.tally?.suaraSah).toBe(values.suara_sah);
    const candidates = await db.sql<{ id: string; number: number }[]>`select id, number from candidates where contest_id = ${CONTEST} order by number`;
    for (const c of candidates) expect(unit.votes[c.id]).toBe(values[`suara_paslon_${c.number}`]);
    await waitFor(async () => nationalDeltas.find((d) => d.tally && d.tally.suaraSah === values.suara_sah), 'the national delta');

    const res = await fetch(`${api.url}/api/results/${CONTEST}/${tps.desaCode}`);
    expect(res.headers.get('cache-control')).toContain('max-age');
    const etag = res.headers.get('etag');
    expect(etag).toBeTruthy();
    const body = (await res.json()) as ResultsResponse;
    expect(body.tally.suaraSah).toBe(values.suara_sah);
    expect(body.version).toBeGreaterThanOrEqual(delta.version);
    const again = await fetch(`${api.url}/api/results/${CONTEST}/${tps.desaCode}`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);

    // Traceability: the result version points at both readings; each reading at a photo; the audit log names them.
    const [result] = await db.sql`select reading_ids from tps_results where tps_code = ${tps.code} and is_current`;
    expect(result.reading_ids).toHaveLength(2);
    const audit = await db.sql`select action, photo_sha256 from audit_log where entity_id like ${tps.code + ':%'} order by id`;
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['submission.received', 'reading.stored', 'result.machine.published']));
    expect(audit.filter((a) => a.photo_sha256 === sha(page2)).length).toBeGreaterThanOrEqual(2);
    expect((await verifyAuditChain(db.sql)).ok).toBe(true);
  }, 60_000);

  it('the same photo again returns the existing submission (200) and counts once', async () => {
    const page2 = await syntheticPhoto(2);
    const before = await counts();
    const readsBefore = readCalls.length;
    const again = await upload(page2, { tps: tps.code, contest: CONTEST, page: 'perolehan' });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    await sleep(1500);
    expect(await counts()).toEqual(before);
    expect(readCalls.length).toBe(readsBefore);
    const [t] = await db.sql`select tps_published, suara_sah from area_tallies where contest_id = ${CONTEST} and area_code = '00'`;
    expect(t.tps_published).toBe(1);
    expect(Number(t.suara_sah)).toBe(values.suara_sah);
  });

  it('refuses bad uploads with 4xx naming the problem, and stores nothing', async () => {
    const before = await counts();
    const good = await syntheticPhoto(3);
    const big = pngHeaderOnly(20000, 20000);
    expect((await sharp(big, { limitInputPixels: false }).metadata()).width).toBe(20000);
    const cases: [string, Promise<{ status: number; body: { error?: { code: string } } }>, number, string][] = [
      ['empty', upload(Buffer.alloc(0), { tps: tps.code, contest: CONTEST }), 400, 'empty_photo'],
      ['truncated', upload(good.subarray(0, Math.floor(good.length / 2)), { tps: tps.code, contest: CONTEST }), 400, 'truncated_image'],
      ['not an image', upload(Buffer.from('%PDF-1.4 this is not a photo\n'.repeat(50)), { tps: tps.code, contest: CONTEST }, token, 'form.jpg'), 415, 'not_an_image'],
      ['20000×20000 PNG', upload(big, { tps: tps.code, contest: CONTEST }, token, 'big.png'), 413, 'too_many_pixels'],
      ['TPS outside scope', upload(good, { tps: outsider.code, contest: CONTEST }), 403, 'tps_out_of_scope'],
      ['no token', upload(good, { tps: tps.code, contest: CONTEST }, null), 401, 'auth_required'],
      ['bad token', upload(good, { tps: tps.code, contest: CONTEST }, 'rk_nope'), 401, 'invalid_token'],
      ['too large', upload(Buffer.concat([good, Buffer.alloc(6 * 1024 * 1024)]), { tps: tps.code, contest: CONTEST }), 413, 'photo_too_large'],
      ['unknown contest', upload(good, { tps: tps.code, contest: 'pkwkk-6299' }), 404, 'contest_not_found'],
      ['bad tps field', upload(good, { tps: '12', contest: CONTEST }), 400, 'invalid_tps'],
      ['no photo', upload(null, { tps: tps.code, contest: CONTEST }), 400, 'missing_photo'],
    ];
    for (const [name, p, status, code] of cases) {
      const r = await p;
      expect(r.status, name).toBe(status);
      expect(r.body.error?.code, name).toBe(code);
    }
    const notMultipart = await fetch(`${api.url}/api/submissions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(notMultipart.status).toBe(415);
    expect(await counts()).toEqual(before);
  });

  it('an H1 failure is quarantined, stays out of totals, raises an anomaly event and shows in the review queue', async () => {
    const [other] = await pickTps(db.sql, tps.desaCode, 3).then((l) => l.filter((t) => t.code !== tps.code));
    const opToken = (await createUserWithToken(db.sql, { name: 'KPPS 2', role: 'kpps', scopeCode: other.code })).token;
    const socket = await connect();
    const anomalies: unknown[] = [];
    socket.on('anomaly', (a) => anomalies.push(a));
    await socket.timeout(5000).emitWithAck('subscribe', { area: tps.desaCode, contest: CONTEST });
    const bad = formValues(other, n, rng(9));
    bad.suara_paslon_1 += 500;
    const photo = await syntheticPhoto(9);
    readings.set(sha(photo), readingFor(bad, 'perolehan', 'FORM_INCONSISTENT'));
    const before = (await db.sql`select suara_sah, tps_quarantined from area_tallies where contest_id = ${CONTEST} and area_code = '00'`)[0];
    const r = await upload(photo, { tps: other.code, contest: CONTEST }, opToken);
    expect(r.status).toBe(202);
    const row = await waitFor(async () => (await db.sql`select status, rules from tps_results where tps_code = ${other.code} and is_current`)[0], 'quarantine');
    expect(row.status).toBe('quarantined');
    const after = (await db.sql`select suara_sah, tps_quarantined, quarantined_votes from area_tallies where contest_id = ${CONTEST} and area_code = '00'`)[0];
    expect(Number(after.suara_sah)).toBe(Number(before.suara_sah));
    expect(after.tps_quarantined).toBe(before.tps_quarantined + 1);
    await waitFor(async () => anomalies.find((a) => (a as { rule: string; tpsCode: string }).rule === 'H1' && (a as { tpsCode: string }).tpsCode === other.code), 'the anomaly event');
    const queue = await (await fetch(`${api.url}/api/review-queue?contest=${CONTEST}&area=62`, { headers: { authorization: `Bearer ${reviewerToken}` } })).json() as { items: { tpsCode: string; reason: string; failingRules: { rule: string; delta?: number }[] }[] };
    const item = queue.items.find((i) => i.tpsCode === other.code)!;
    expect(item.reason).toBe('quarantined');
    expect(item.failingRules).toContainEqual(expect.objectContaining({ rule: 'H1', delta: 500 }));

    // A reviewer proposes the right numbers; releasing a quarantine needs a second person with another role.
    const fixed = formValues(other, n, rng(9));
    const post = (path: string, body: unknown, auth: string) => fetch(`${api.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const proposed = await post(`/api/tps/${other.code}/${CONTEST}/corrections`, { values: fixed, reason: 'paslon 1 misread: 5 read where the form has X' }, reviewerToken);
    expect(proposed.status).toBe(202);
    const { correction } = await proposed.json() as { correction: { id: number; state: string } };
    expect(correction.state).toBe('pending');
    const self = await post(`/api/corrections/${correction.id}/approve`, {}, reviewerToken);
    expect(self.status).toBe(403);
    const sameRole = (await createUserWithToken(db.sql, { name: 'reviewer 2', role: 'kpu_reviewer', scopeCode: '62' })).token;
    expect((await post(`/api/corrections/${correction.id}/approve`, {}, sameRole)).status).toBe(403);
    const admin = (await createUserWithToken(db.sql, { name: 'admin', role: 'admin', scopeCode: null })).token;
    const approved = await post(`/api/corrections/${correction.id}/approve`, {}, admin);
    expect(approved.status).toBe(200);
    const cur = (await db.sql`select status, stage, version from tps_results where tps_code = ${other.code} and is_current`)[0];
    expect(cur).toMatchObject({ status: 'published', stage: 'reviewer', version: 2 });
    const detail = await (await fetch(`${api.url}/api/tps/${other.code}`)).json() as { contests: { contestId: string; versions: unknown[]; current: { stage: string } }[]; submissions: { photoUrl: string; readings: unknown[] }[]; audit: unknown[] };
    const c = detail.contests.find((x) => x.contestId === CONTEST)!;
    expect(c.versions).toHaveLength(2);
    expect(c.current.stage).toBe('reviewer');
    expect(detail.submissions[0].readings).toHaveLength(1);
    expect((await fetch(`${api.url}${detail.submissions[0].photoUrl}`)).status).toBe(200);
    expect(detail.audit.length).toBeGreaterThanOrEqual(4);
  }, 60_000);

  it('a poison photo stops after its retries and shows why', async () => {
    const photo = await syntheticPhoto(11);
    readings.set(sha(photo), 'poison');
    const r = await upload(photo, { tps: tps.code, contest: CONTEST });
    expect(r.status).toBe(202);
    const st = await waitFor(async () => {
      const body = (await (await fetch(`${api.url}/api/submissions/${r.body.id}`)).json()) as SubmissionStatusResponse;
      return body.status === 'failed' ? body : null;
    }, 'failed status', 30_000);
    expect(st.statusReason).toContain('reader crashed');
    expect(readCalls.filter((h) => h === sha(photo)).length).toBe(2); // first try + 1 retry, then no more
  }, 40_000);

  it('a reading the reader was unsure of (NEEDS_REVIEW) is not published, even when its arithmetic holds', async () => {
    const [third] = (await pickTps(db.sql, tps.desaCode, 5)).filter((t) => t.code !== tps.code).slice(-1);
    const opToken = (await createUserWithToken(db.sql, { name: 'KPPS 3', role: 'kpps', scopeCode: third.code })).token;
    const v = formValues(third, n, rng(21));
    const photo = await syntheticPhoto(21);
    readings.set(sha(photo), readingFor(v, 'perolehan', 'NEEDS_REVIEW'));
    expect((await upload(photo, { tps: third.code, contest: CONTEST }, opToken)).status).toBe(202);
    const row = await waitFor(async () => (await db.sql`select status, rules from tps_results where tps_code = ${third.code} and is_current`)[0], 'result');
    expect(row.status).toBe('quarantined');
    expect(row.rules.find((r: { rule: string }) => r.rule === 'NEEDS_REVIEW')).toMatchObject({ status: 'FAIL' });
    expect(row.rules.filter((r: { status: string; rule: string }) => r.status === 'FAIL' && r.rule !== 'NEEDS_REVIEW')).toEqual([]);
  }, 40_000);
});
