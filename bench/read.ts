/**
 * `npm run bench:read [-- --n 1000 --workers 2 --seed bench-1 --handwriting heldout|train --skip-digits --fuse 40 --decode-beside --fingers 0..4 --bend 0..0.05 --bend-x 0..0.05 --megapixels 0.5..12]`
 *
 * Prints one JSON document: the digit reader on held-out real crops and MNIST (the digits engineer's
 * evaluateDigits), and the whole reader on N synthetic photographed forms (workers/reader/synth,
 * cached under bench/tmp/read-<seed>/): share auto-published, wrong numbers among auto-published
 * fields, form-exact rate per class, rejections by reason, time per photo by step beside the time to
 * only decode the same JPEGs (wall and CPU), why forms went to review, what fusing a second photo of
 * the same sheet does for them (--fuse N), the reader processes' peak resident memory (VmHWM), and
 * the machine and its load average. Progress goes to stderr.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createReaderPool, READER_EXEC_ARGV, readerProcessEnv, TSX_LOADER as tsx } from '../workers/reader/process/pool.js';
import { BOX_CLASSES, type PageReading } from '../workers/reader/types.js';
import { boxReadRight, rotatingElection, SYNTH_GENERATOR_VERSION } from '../workers/reader/synth/index.js';
import { readBenchDir } from './read-photos.js';
import { DECODER_PARAMS } from '../workers/reader/decoder/params.js';
import { hasRealCrops, realCropsDir } from '../workers/reader/digits/data.js';
import { processCpuMs as cpuMs } from '../workers/reader/cpu-time.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    seed: { type: 'string', default: 'bench-1' },
    mistakes: { type: 'string', default: '0.05' },
    unreadable: { type: 'string', default: '0.02' },
    'skip-digits': { type: 'boolean', default: false },
    /**
     * Whose handwriting fills the forms: 'heldout' (default) only writers the digit model never saw
     * (held-out TPS crops, MNIST's test part), so the figure is what unseen KPPS writing gets;
     * 'train' the training-side writers.
     */
    handwriting: { type: 'string', default: 'heldout' },
    /** Second photos of up to this many NEEDS_REVIEW forms, fused with the first (0: skip). */
    fuse: { type: 'string', default: '40' },
    /** Also time the plain decode inside each reader process beside its read (decodeBesideRead*; off by default: the extra 36 MB decode changes the reader's own allocator state). */
    'decode-beside': { type: 'boolean', default: false },
    /**
     * Paint this many fingers (1–4) over sheet corners of every photo before reading it (bench/fingers.ts;
     * cached beside the photos): how the reader copes with officers holding the form. 0: off.
     */
    fingers: { type: 'string', default: '0' },
    /**
     * Bow every photo by this share of its height (bench/bend.ts; after the fingers, cached beside the
     * photos): a sheet that is not flat. 0: off.
     */
    bend: { type: 'string', default: '0' },
    /** The same bow sideways: every row of the photo moves right (bench/bend.ts). 0: off. */
    'bend-x': { type: 'string', default: '0' },
    /**
     * Scale every photo down to this many megapixels and re-encode it (bench/shrink.ts; after the
     * fingers and the bow): a photo forwarded through a chat app (~2 MP) or taken by an older phone. 0: off.
     */
    megapixels: { type: 'string', default: '0' },
    'gen-worker': { type: 'string' },
    'decode-worker': { type: 'boolean', default: false },
  },
});
const N = Number(args.n);
const WORKERS = Math.max(1, Number(args.workers));
const SEED = args.seed!;
const HANDWRITING = args.handwriting === 'train' ? 'train' : 'heldout';
if (args.handwriting !== HANDWRITING) {
  process.stderr.write(`bench:read: --handwriting must be heldout or train, not ${args.handwriting}\n`);
  process.exit(2);
}
const DIR = readBenchDir(SEED, HANDWRITING);
const log = (s: string) => process.stderr.write(`bench:read: ${s}\n`);

/** Photo i belongs to TPS slot ⌊i/2⌋ (both pages); slots cycle through 1..6 candidate pairs. */
const { contestFor, tps: TPS } = rotatingElection('bench', 9000001, '9901011001');
/** Photos one generator child makes before it exits and is replaced (see genWorker). */
const GEN_SLICE = 60;
const FINGERS = Number(args.fingers);
if (!(Number.isInteger(FINGERS) && FINGERS >= 0 && FINGERS <= 4)) {
  process.stderr.write(`bench:read: --fingers must be 0..4, not ${args.fingers}\n`);
  process.exit(2);
}
const BEND = Number(args.bend);
if (!(Number.isFinite(BEND) && BEND >= 0 && BEND <= 0.05)) {
  process.stderr.write(`bench:read: --bend must be 0..0.05 (a share of the photo height), not ${args.bend}\n`);
  process.exit(2);
}
const BEND_X = Number(args['bend-x']);
if (!(Number.isFinite(BEND_X) && BEND_X >= 0 && BEND_X <= 0.05)) {
  process.stderr.write(`bench:read: --bend-x must be 0..0.05 (a share of the photo width), not ${args['bend-x']}\n`);
  process.exit(2);
}
const MEGAPIXELS = Number(args.megapixels);
if (!(Number.isFinite(MEGAPIXELS) && (MEGAPIXELS === 0 || (MEGAPIXELS >= 0.5 && MEGAPIXELS <= 12)))) {
  process.stderr.write(`bench:read: --megapixels must be 0 (off) or 0.5..12, not ${args.megapixels}\n`);
  process.exit(2);
}
/** What is done to the generated photos before they are read (fingers, a bow, a smaller copy), as a folder suffix. */
const ALTERED = [FINGERS ? `fingers${FINGERS}` : '', BEND ? `bend${BEND}` : '', BEND_X ? `bendx${BEND_X}` : '', MEGAPIXELS ? `mp${MEGAPIXELS}` : ''].filter(Boolean).join('-');
/** The synthetic photo as generated, and the photo read (fingers painted on and bowed when asked). */
const generatedPath = (i: number) => path.join(DIR, `${String(i).padStart(5, '0')}.jpg`);
const photoPath = (i: number) => (ALTERED ? path.join(`${DIR}-${ALTERED}`, `${String(i).padStart(5, '0')}.jpg`) : generatedPath(i));
const truthPath = (i: number) => path.join(DIR, `${String(i).padStart(5, '0')}.json`);

/** Generator child: synthesises photos i ≡ k (mod m) that are not cached yet. */
async function genWorker(spec: string) {
  const [k, m] = spec.split('/').map(Number) as [number, number];
  const { synthesizePhoto, loadGlyphLibrary } = await import('../workers/reader/synth/index.js');
  const lib = await loadGlyphLibrary({ part: HANDWRITING });
  let made = 0;
  for (let i = k; i < N; i += m) {
    if (existsSync(truthPath(i))) continue;
    // The generator leaks native memory (~50 MB a photo, Skia): a child makes a slice, exits, and the
    // parent starts a fresh one (an unsliced run of 1,000 photos was killed by the kernel at ~470).
    if (made++ >= GEN_SLICE) break;
    const contest = contestFor(Math.floor(i / 2));
    const { jpeg, truth } = await synthesizePhoto(i, contest, TPS, { seed: SEED, mistakes: Number(args.mistakes), unreadable: Number(args.unreadable), page: 'both' }, lib);
    writeFileSync(generatedPath(i), jpeg);
    writeFileSync(truthPath(i), JSON.stringify(truth));
    // The page canvases (Skia, ~40 MB each) are native memory V8 does not count: without a
    // collection per photo a generator grew to 6 GB after ~120 photos.
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ done: i });
  }
}

async function generate() {
  mkdirSync(DIR, { recursive: true });
  const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !existsSync(truthPath(i)));
  if (!missing.length) return;
  // Without ../shared/data the synthesiser quietly writes MNIST digits only (fine for a user's
  // `rekap synth`), which would cache a different, easier bench under the same name.
  if (!hasRealCrops()) {
    log(`the real KPPS crops (${realCropsDir()}) are not there; the bench's photos must carry real handwriting. Run it from a checkout with ../shared beside it.`);
    process.exit(2);
  }
  log(`synthesising ${missing.length} photos into ${DIR} (${WORKERS} processes)`);
  let done = 0;
  const runChild = (k: number) =>
    new Promise<void>((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), ['--gen-worker', `${k}/${WORKERS}`, '--n', String(N), '--seed', SEED, '--handwriting', HANDWRITING, '--mistakes', args.mistakes!, '--unreadable', args.unreadable!], {
        execArgv: ['--expose-gc', '--import', tsx],
        stdio: ['ignore', 2, 2, 'ipc'],
      });
      child.on('message', () => {
        if (++done % 50 === 0) log(`synthesised ${done}/${missing.length}`);
      });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`generator ${k} exited with ${code}`))));
    });
  const left = (k: number) => missing.some((i) => i % WORKERS === k && !existsSync(truthPath(i)));
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, k) => {
      while (left(k)) await runChild(k);
    }),
  );
}

/**
 * --fingers / --bend / --bend-x / --megapixels: the photos as altered, made once from the generated ones and cached. Each step
 * decodes and re-encodes its photo (both at once: two JPEG generations). The second photos of the
 * fusion step (--fuse) are read as generated, not altered.
 */
async function alterPhotos() {
  if (!ALTERED) return;
  const out = path.dirname(photoPath(0));
  mkdirSync(out, { recursive: true });
  const { loadCv } = await import('../workers/reader/cv/opencv.js');
  const { loadTemplates } = await import('../workers/reader/template/index.js');
  const { holdWithFingers } = await import('./fingers.js');
  const { bendSheet } = await import('./bend.js');
  const { shrinkPhoto } = await import('./shrink.js');
  const cv = loadCv();
  const widthOf = new Map(loadTemplates().map((t) => [t.id, t.sizeMm.width]));
  let made = 0;
  for (let i = 0; i < N; i++) {
    if (existsSync(photoPath(i))) continue;
    const truth = JSON.parse(readFileSync(truthPath(i), 'utf8'));
    let jpeg: Buffer = readFileSync(generatedPath(i));
    if (FINGERS) jpeg = holdWithFingers(cv, jpeg, truth.degradation.pageQuad, widthOf.get(truth.templateId) ?? 215, FINGERS, `${SEED}-fingers-${i}`);
    if (BEND) jpeg = bendSheet(cv, jpeg, BEND);
    if (BEND_X) jpeg = bendSheet(cv, jpeg, BEND_X, true);
    if (MEGAPIXELS) jpeg = shrinkPhoto(cv, jpeg, MEGAPIXELS);
    writeFileSync(photoPath(i), jpeg);
    if (++made % 100 === 0) log(`altered ${made} photos (${ALTERED})`);
  }
  if (made) log(`altered ${made} photos (${ALTERED}) into ${out}`);
}

const mean = (a: number[]) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : 0);
const quantile = (a: number[], q: number) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(q * a.length))]! : 0);

/** A decoder reason → its kind (the thresholds of INTEGRITY §4.5 it failed). */
function reasonKind(r: string): string {
  if (r.startsWith('post ')) return 'post < 0.95';
  if (r.startsWith('P(consistent)')) return 'P(consistent) < 0.99';
  if (r.startsWith('P(inconsistent)')) return 'P(inconsistent) < 0.95';
  if (r.startsWith('identities broken')) return 'identity broken at the best reading';
  if (r.includes('changed in one field')) return 'more than 2 boxes changed in a field';
  if (r.includes('changed on the page')) return 'more than 4 boxes changed on the page';
  if (r.startsWith('a changed box had p')) return `a changed box had p < ${DECODER_PARAMS.minChangedBoxProb}`;
  if (r.startsWith('a KPPS slip in')) return `single-slip check (P > ${DECODER_PARAMS.maxSlipProb})`;
  if (r.startsWith('inconsistent but a box is unsure')) return 'inconsistent with an unsure box';
  if (r.startsWith('search capped')) return 'search capped';
  return r;
}
const r1 = (v: number) => Math.round(v * 10) / 10;
const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

async function digitsFigures() {
  if (args['skip-digits']) return { realTop1: null, mnistTop1: null, ece: null, note: 'skipped (--skip-digits)' };
  try {
    const { evaluateDigits } = await import('../workers/reader/digits/evaluate.js');
    const e = await evaluateDigits();
    return { realTop1: r4(e.realTop1), realTop1Reviewed: r4(e.realTop1Reviewed), realReviewedLabels: e.realReviewedLabels, realTop1ZeroXMerged: r4(e.realTop1ZeroXMerged), realN: e.realN, mnistTop1: r4(e.mnistTop1), mnistN: e.mnistN, ece: r4(e.ece), eceUncalibrated: r4(e.eceUncalibrated), temperature: e.temperature, msPerBox: r4(e.msPerBox), normaliseMsPerBox: r4(e.normaliseMsPerBox), classifyMsPerBox: r4(e.classifyMsPerBox), backend: e.backend };
  } catch (err) {
    return { realTop1: null, mnistTop1: null, ece: null, note: `digit evaluation unavailable: ${(err as Error).message}` };
  }
}

async function main() {
  await generate();
  await alterPhotos();
  // Decode-only baseline: the same JPEGs, in this process, nothing else of ours running.
  const { loadCv } = await import('../workers/reader/cv/opencv.js');
  const cv = loadCv();
  cv.setNumThreads(1);
  const decodeGrayMs: number[] = [];
  const decodeGrayCpuMs: number[] = [];
  const decodeColourMs: number[] = [];
  const decodeColourCpuMs: number[] = [];
  const loadStart = os.loadavg();
  for (let i = 0; i < N; i++) {
    const bytes = readFileSync(photoPath(i));
    // The plain decode (IMREAD_COLOR, what any program that opens the photo does) and the
    // greyscale-only decode the reader itself uses (libjpeg skips the colour planes): both are
    // baselines; the reader's own decode step is timed inside the pipeline.
    const colour = timeDecode(cv, bytes, cv.IMREAD_COLOR | cv.IMREAD_IGNORE_ORIENTATION);
    decodeColourCpuMs.push(colour.cpuMs);
    decodeColourMs.push(colour.ms);
    const grey = timeDecode(cv, bytes, cv.IMREAD_GRAYSCALE | cv.IMREAD_IGNORE_ORIENTATION);
    decodeGrayCpuMs.push(grey.cpuMs);
    decodeGrayMs.push(grey.ms);
  }
  log(`decode-only pass done (${r1(mean(decodeColourMs))} ms colour, ${r1(mean(decodeGrayMs))} ms grey)`);
  const sameAllocator = await decodeInReaderEnv();
  log(`decode-only pass with the readers' allocator settings done (${r1(sameAllocator.cpuMs)} ms CPU colour)`);

  // A generous job timeout: on a shared, overloaded machine a photo can take tens of seconds.
  const pool = createReaderPool(WORKERS, { jobTimeoutMs: 300_000 });
  const readings: (PageReading | { error: string })[] = new Array(N);
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      pool
        .read(photoPath(i), {}, { decodeBaseline: args['decode-beside'] })
        .then((r) => (readings[i] = r))
        .catch((err: Error) => (readings[i] = { error: err.message }))
        .finally(() => {
          if (++done % 50 === 0) log(`read ${done}/${N}`);
        }),
    ),
  );
  const wallS = (performance.now() - started) / 1000;
  const peakRss = pool.peakRssMb();
  const restarts = pool.restarts();
  await pool.close();

  const byClass: Record<string, { n: number; exact: number }> = {};
  const rejectReasons: Record<string, number> = {};
  let autoPublished = 0;
  let autoFields = 0;
  let wrongAutoFields = 0;
  let wrongAutoForms = 0;
  let readableN = 0;
  let readableAuto = 0;
  // Forms the reader should publish: readable photos of consistent forms (a planted KPPS mistake must
  // never be auto-published, so those forms cannot count toward the share).
  let publishableN = 0;
  let publishableAuto = 0;
  // Publishable forms whose decoded values (x*, whatever the class) are all right: what the decoder
  // gets right before the publication thresholds decide whether it may go out unseen.
  let publishableExact = 0;
  // Per page: the perolehan page (the vote counts, ~20 boxes) and the administrasi page (102 boxes,
  // each number in a row and a column identity) fare very differently.
  const byPage: Record<string, { publishable: number; auto: number }> = {};
  let rejectedReadable = 0;
  let errors = 0;
  let plantedMistakes = 0;
  let plantedFlagged = 0;
  const steps: Record<string, number[]> = {};
  const cpuSteps: Record<string, number[]> = {};
  const totals: number[] = [];
  const cpuTotals: number[] = [];
  const besideMs: number[] = [];
  const besideCpuMs: number[] = [];
  const reviewReasons: Record<string, number> = {};
  const reviewTruth = { planted: 0, digitMisread: 0, lowConfidenceOnly: 0 };
  const reviewIdx: number[] = [];
  const wrongExamples: string[] = [];
  for (let i = 0; i < N; i++) {
    const truth = JSON.parse(readFileSync(truthPath(i), 'utf8'));
    const r = readings[i]!;
    if ('error' in r) {
      errors++;
      continue;
    }
    if (truth.readable) readableN++;
    const publishable = truth.readable && truth.mistakes.length === 0;
    if (publishable) publishableN++;
    for (const [k, v] of Object.entries(r.timingsMs)) if (k !== 'load' && k !== 'total') (steps[k] ??= []).push(v);
    totals.push(r.timingsMs.total! - (r.timingsMs.load ?? 0));
    const cpu = (r as { cpuMs?: Record<string, number> }).cpuMs;
    if (cpu) {
      for (const [k, v] of Object.entries(cpu)) if (k !== 'load' && k !== 'total') (cpuSteps[k] ??= []).push(v);
      cpuTotals.push(cpu.total! - (cpu.load ?? 0));
    }
    const beside = (r as { decodeBaseline?: { ms: number; cpuMs: number } }).decodeBaseline;
    if (beside) {
      besideMs.push(beside.ms);
      besideCpuMs.push(beside.cpuMs);
    }
    const c = (byClass[r.class] ??= { n: 0, exact: 0 });
    c.n++;
    if (r.class === 'REJECTED') {
      rejectReasons[r.rejectReason ?? '?'] = (rejectReasons[r.rejectReason ?? '?'] ?? 0) + 1;
      if (truth.readable) rejectedReadable++;
      continue;
    }
    const wrong = Object.keys(truth.values).filter((k) => r.fields[k]?.value !== truth.values[k]);
    if (wrong.length === 0) c.exact++;
    if (publishable && wrong.length === 0) publishableExact++;
    if (publishable) {
      const pg = (byPage[r.page ?? '?'] ??= { publishable: 0, auto: 0 });
      pg.publishable++;
      if (r.class === 'READ_OK' || r.class === 'AUTO_CORRECTED') pg.auto++;
    }
    if (r.class === 'NEEDS_REVIEW') {
      reviewIdx.push(i);
      for (const k of new Set(((r as { decoderReasons?: string[] }).decoderReasons ?? []).map(reasonKind))) reviewReasons[k] = (reviewReasons[k] ?? 0) + 1;
      // What the photo held: a planted KPPS mistake, a box the digit reader got wrong, or only doubt.
      if (truth.mistakes.length) reviewTruth.planted++;
      else if (misreadBoxes(r, truth) > 0) reviewTruth.digitMisread++;
      else reviewTruth.lowConfidenceOnly++;
    }
    if (truth.mistakes.length) {
      plantedMistakes++;
      if (r.class === 'FORM_INCONSISTENT' || r.class === 'NEEDS_REVIEW') plantedFlagged++;
    }
    if (r.class === 'READ_OK' || r.class === 'AUTO_CORRECTED') {
      autoPublished++;
      if (truth.readable) readableAuto++;
      if (publishable) publishableAuto++;
      autoFields += Object.keys(truth.values).length;
      wrongAutoFields += wrong.length;
      if (wrong.length) {
        wrongAutoForms++;
        if (wrongExamples.length < 10) wrongExamples.push(`${path.basename(photoPath(i))} ${r.class}: ${wrong.map((k) => `${k} ${r.fields[k]?.value}≠${truth.values[k]}`).join(', ')}`);
      }
    }
  }
  // The headline baseline is a decode-only pass (what a program that only decodes the JPEGs does).
  // Its CPU depends on the allocator more than on the JPEG: back to back, every 8–12 MP buffer is a
  // fresh mmap whose page faults cost more than the decode (one in-process test at load ~4: 86 ms
  // CPU back to back with glibc's defaults, 25 ms with MALLOC_MMAP_THRESHOLD_ raised so the blocks
  // are reused). The same decode timed inside the reader process beside each read (decodeBesideRead*)
  // is cheaper than the separate pass (57 vs 73 ms in one run at load 3–5); both are reported.
  const decodeMs = mean(decodeColourMs);
  const decodeGreyMs = mean(decodeGrayMs);
  const pipelineMs = mean(totals);
  const decodeCpu = mean(decodeColourCpuMs);
  const decodeGreyCpu = mean(decodeGrayCpuMs);
  const pipelineCpu = mean(cpuTotals);
  const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 100) / 100 : null);
  const fusion = await fuseSecondPhotos(reviewIdx.slice(0, Number(args.fuse)), readings);
  const doc = {
    bench: 'read',
    seed: SEED,
    handwriting: HANDWRITING,
    fingers: FINGERS,
    bend: BEND,
    bendX: BEND_X,
    megapixels: MEGAPIXELS,
    generatorVersion: SYNTH_GENERATOR_VERSION,
    at: new Date().toISOString(),
    digits: await digitsFigures(),
    forms: {
      n: N,
      readable: readableN,
      autoPublished: r4(autoPublished / N),
      autoPublishedOfReadable: readableN ? r4(readableAuto / readableN) : null,
      publishable: publishableN,
      autoPublishedOfPublishable: publishableN ? r4(publishableAuto / publishableN) : null,
      autoPublishedOfPublishableByPage: Object.fromEntries(Object.entries(byPage).map(([k, v]) => [k, { publishable: v.publishable, autoPublished: r4(v.auto / v.publishable) }])),
      decodedExactOfPublishable: publishableN ? r4(publishableExact / publishableN) : null,
      decodedExactNote: 'publishable forms whose decoded values are all right whatever their class: the gap to autoPublishedOfPublishable is what the publication thresholds (post, P(consistent), the single-slip check, p of a changed box) hold back so that a KPPS slip is never published as a misread',
      autoPublishedNote: 'autoPublished counts every photo (planted KPPS mistakes and deliberately unreadable photos included, which must not be published); autoPublishedOfPublishable counts readable photos of consistent forms, the ones the reader should publish.',
      wrongAutoPublished: wrongAutoFields,
      wrongAutoPublishedForms: wrongAutoForms,
      autoPublishedFields: autoFields,
      formExactByClass: Object.fromEntries(Object.entries(byClass).map(([k, v]) => [k, { n: v.n, exact: v.exact, rate: v.n ? r4(v.exact / v.n) : null }])),
      rejected: rejectReasons,
      rejectedButReadable: rejectedReadable,
      plantedMistakes: { forms: plantedMistakes, flagged: plantedFlagged },
      needsReview: { n: reviewIdx.length, byDecoderReason: reviewReasons, byTruth: reviewTruth },
      fusion,
      readerErrors: errors,
      wrongExamples,
    },
    timing: {
      pipelineMsPerPhoto: r1(pipelineMs),
      decodeMsPerPhoto: r1(decodeMs),
      pipelineOverDecode: ratio(pipelineMs, decodeMs),
      decodeBesideReadMsPerPhoto: besideMs.length ? r1(mean(besideMs)) : null,
      decodeGreyMsPerPhoto: r1(decodeGreyMs),
      pipelineOverGreyDecode: ratio(pipelineMs, decodeGreyMs),
      pipelineCpuMsPerPhoto: r1(pipelineCpu),
      decodeCpuMsPerPhoto: r1(decodeCpu),
      pipelineOverDecodeCpu: ratio(pipelineCpu, decodeCpu),
      decodeBesideReadCpuMsPerPhoto: besideCpuMs.length ? r1(mean(besideCpuMs)) : null,
      pipelineOverBesideReadDecodeCpu: besideCpuMs.length ? ratio(pipelineCpu, mean(besideCpuMs)) : null,
      decodeReaderAllocatorCpuMsPerPhoto: r1(sameAllocator.cpuMs),
      pipelineOverReaderAllocatorDecodeCpu: ratio(pipelineCpu, sameAllocator.cpuMs),
      decodeReaderAllocatorNote: 'the same plain colour decode in a process with the reader processes\' glibc allocator settings (process/pool.ts readerProcessEnv: photo-sized blocks reused instead of fresh mmaps): the like-for-like baseline, since the pipeline\'s own decode step runs with them',
      decodeGreyCpuMsPerPhoto: r1(decodeGreyCpu),
      pipelineOverGreyDecodeCpu: ratio(pipelineCpu, decodeGreyCpu),
      stepsMs: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, r1(mean(v))])),
      stepsCpuMs: Object.fromEntries(Object.entries(cpuSteps).map(([k, v]) => [k, r1(mean(v))])),
      pipelineCpuMsP50: r1(quantile(cpuTotals, 0.5)),
      pipelineCpuMsP95: r1(quantile(cpuTotals, 0.95)),
      workers: WORKERS,
      wallSeconds: r1(wallS),
      photosPerSecond: r1(N / wallS),
      note: 'pipelineMsPerPhoto is measured inside the reader process, from the bytes to the decoded fields (decode step included). decodeMsPerPhoto is a separate decode-only pass over the same JPEGs, in this process, with the plain full-resolution decode (cv.imdecode IMREAD_COLOR); decodeBesideRead* is the same decode timed in the reader process right before or after each read (alternating): same load, but partly reused memory blocks, so cheaper (see the comment in bench/read.ts). wallSeconds and photosPerSecond include those extra decodes. decodeGreyMsPerPhoto (separate pass) is the greyscale-only decode the reader itself uses, which libjpeg does several times faster by skipping the colour planes. *Cpu* figures are process CPU time (process.cpuUsage), less distorted by a busy machine than wall time.',
    },
    memory: { readerPeakRssMb: peakRss, readerRestarts: restarts, note: 'peak resident memory (VmHWM) of any reader process over the run' },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadAverageAtStart: loadStart.map((v) => Math.round(v * 100) / 100),
      loadAverageAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100),
    },
  };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

/** Boxes whose per-box argmax differs from what was written (the digit reader's own errors). */
function misreadBoxes(r: PageReading, truth: { boxes: Record<string, { class: string }[]> }): number {
  let n = 0;
  for (const [key, f] of Object.entries(r.fields)) {
    const t = truth.boxes[key];
    if (!t) continue;
    f.boxes.forEach((p, b) => {
      const want = t[b]?.class;
      if (want !== undefined && !boxReadRight(want, BOX_CLASSES[p.indexOf(Math.max(...p))]!, b < f.boxes.length - 1)) n++;
    });
  }
  return n;
}

/**
 * Photographs each NEEDS_REVIEW sheet again (same handwriting, new camera: synth photoVariant 1),
 * reads it, fuses the two readings' box probabilities (decoder fusePhotos) and decodes again: how
 * many become publishable, and whether any published number is wrong.
 */
async function fuseSecondPhotos(idx: number[], readings: (PageReading | { error: string })[]) {
  if (!idx.length) return { tried: 0 };
  const { synthesizePhoto, loadGlyphLibrary } = await import('../workers/reader/synth/index.js');
  const { fusePhotos, decodePage } = await import('../workers/reader/decoder/index.js');
  const { loadTemplates } = await import('../workers/reader/template/index.js');
  const templates = new Map(loadTemplates().map((t) => [t.id, t]));
  const lib = await loadGlyphLibrary({ part: HANDWRITING });
  const pool = createReaderPool(WORKERS, { jobTimeoutMs: 300_000 });
  const byClass: Record<string, number> = {};
  const secondAlone: Record<string, number> = {};
  let wrongFields = 0;
  let published = 0;
  const wrongExamples: string[] = [];
  try {
    for (const i of idx) {
      const first = readings[i] as PageReading;
      const contest = contestFor(Math.floor(i / 2));
      const { jpeg, truth } = await synthesizePhoto(i, contest, TPS, { seed: SEED, mistakes: Number(args.mistakes), unreadable: Number(args.unreadable), page: 'both', photoVariant: 1 }, lib);
      const second = await pool.read(jpeg);
      secondAlone[second.class] = (secondAlone[second.class] ?? 0) + 1;
      if (second.class === 'REJECTED' || second.templateId !== first.templateId) {
        byClass.secondPhotoRejected = (byClass.secondPhotoRejected ?? 0) + 1;
        continue;
      }
      const asFields = (r: PageReading) => Object.entries(r.fields).map(([key, f]) => ({ key, boxes: f.boxes }));
      const fused = decodePage(fusePhotos(asFields(first), asFields(second)), templates.get(first.templateId!)!.identities);
      byClass[fused.cls] = (byClass[fused.cls] ?? 0) + 1;
      if (fused.cls === 'READ_OK' || fused.cls === 'AUTO_CORRECTED') {
        published++;
        const wrong = Object.keys(truth.values).filter((k) => fused.values[k] !== truth.values[k]);
        wrongFields += wrong.length;
        if (wrong.length)
          wrongExamples.push(`${path.basename(photoPath(i))} ${fused.cls}${truth.mistakes.length ? ' (planted KPPS mistake)' : ''}: ${wrong.map((k) => `${k} ${fused.values[k]}≠${truth.values[k]} (first photo ${first.fields[k]?.value ?? '-'}, second ${second.fields[k]?.value ?? '-'})`).join(', ')}`);
      }
    }
  } finally {
    await pool.close();
  }
  return { tried: idx.length, fusedClass: byClass, secondPhotoAlone: secondAlone, published, wrongPublishedFields: wrongFields, wrongExamples };
}

/** One plain decode of a JPEG, timed (wall and process CPU ms); the pixels are dropped at once. */
function timeDecode(cv: { imdecode(b: Buffer, flags: number): { release(): void } }, bytes: Buffer, flags: number): { ms: number; cpuMs: number } {
  const t = performance.now();
  const c = cpuMs();
  cv.imdecode(bytes, flags).release();
  return { cpuMs: cpuMs() - c, ms: performance.now() - t };
}

/** The decode-only pass again, in a child process with the reader processes' environment. */
function decodeInReaderEnv(): Promise<{ ms: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    // The same photos the readers read (with --fingers, the painted ones).
    const child = fork(fileURLToPath(import.meta.url), ['--decode-worker', '--n', String(N), '--seed', SEED, '--handwriting', HANDWRITING, '--fingers', String(FINGERS), '--bend', String(BEND), '--bend-x', String(BEND_X), '--megapixels', String(MEGAPIXELS)], {
      execArgv: [...READER_EXEC_ARGV, '--import', tsx],
      env: readerProcessEnv(),
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    let got: { ms: number; cpuMs: number } | null = null;
    child.on('message', (m: { ms: number; cpuMs: number }) => (got = m));
    child.on('exit', (code) => (got ? resolve(got) : reject(new Error(`decode worker exited with ${code}`))));
    child.on('error', reject);
  });
}

async function decodeWorker() {
  const { loadCv } = await import('../workers/reader/cv/opencv.js');
  const cv = loadCv();
  cv.setNumThreads(1);
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = timeDecode(cv, readFileSync(photoPath(i)), cv.IMREAD_COLOR | cv.IMREAD_IGNORE_ORIENTATION);
    cpu.push(t.cpuMs);
    ms.push(t.ms);
  }
  process.send!({ ms: mean(ms), cpuMs: mean(cpu) });
  process.disconnect();
}

if (args['decode-worker']) {
  await decodeWorker();
} else if (args['gen-worker']) {
  await genWorker(args['gen-worker']);
} else {
  await main();
}
