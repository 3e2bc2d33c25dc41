/**
 * `npx tsx bench/reader-same.ts [--photos 50] [--dir bench/tmp/read-bench-1-heldout-g2] [--no-real]`
 *
 * The reader's speed work must not change what it reads. This compares, box by box:
 * - normaliseBox (workers/reader/digits/preprocess.ts) against the frozen session-3 version
 *   (bench/normalise-reference.ts) on every real KPPS crop in ../shared/data/digits, on every box cut
 *   from the first --photos cached bench photos (with both second-look re-cuts), on the MNIST test
 *   part and on synthetic X / blank boxes: largest |difference| per pixel (must be ≤ 1e-3), boxes that
 *   differ at all, and boxes whose `empty` differs (must be 0);
 * - the digit ensemble's logits of one image alone and inside a batch (bitwise): the reader computes
 *   blank boxes' logits once and reuses them, which is right only if no image's logits depend on the
 *   rest of its batch.
 * Prints one JSON document; exit code 1 when anything differs beyond those limits.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { normaliseBox, type RawImage } from '../workers/reader/digits/preprocess.js';
import { normaliseBox as referenceNormaliseBox } from './normalise-reference.js';
import { decodeImage, hasRealCrops, loadMnist, mnistAsRaw, realCropsDir } from '../workers/reader/digits/data.js';
import { syntheticBlank, syntheticX } from '../workers/reader/digits/synth.js';
import { rng } from '../workers/reader/digits/cnn.js';
import { loadDigitModel } from '../workers/reader/digits/model.js';
import { readBenchDir } from './read-photos.js';
import { processCpuMs as cpuMs } from '../workers/reader/cpu-time.js';

const { values: args } = parseArgs({
  options: {
    photos: { type: 'string', default: '50' },
    dir: { type: 'string' },
    'no-real': { type: 'boolean', default: false },
  },
});
const here = path.dirname(new URL(import.meta.url).pathname);
const dir = args.dir ?? [readBenchDir('bench-1', 'heldout'), path.join(here, 'tmp', 'read-bench-1-heldout-g2')].find((d) => existsSync(d));
const log = (s: string) => process.stderr.write(`reader-same: ${s}\n`);

interface Compared {
  boxes: number;
  maxDiff: number;
  boxesDiffering: number;
  emptyDiffers: number;
  inkFractionMaxDiff: number;
  /** Normalise CPU ms per box, reference and current (interleaved, same boxes). */
  referenceMsPerBox: number;
  currentMsPerBox: number;
}

function compare(images: RawImage[]): Compared {
  const out: Compared = { boxes: images.length, maxDiff: 0, boxesDiffering: 0, emptyDiffers: 0, inkFractionMaxDiff: 0, referenceMsPerBox: 0, currentMsPerBox: 0 };
  let tRef = 0;
  let tCur = 0;
  for (const img of images) {
    let c = cpuMs();
    const a = referenceNormaliseBox(img);
    tRef += cpuMs() - c;
    c = cpuMs();
    const b = normaliseBox(img);
    tCur += cpuMs() - c;
    if (a.empty !== b.empty) out.emptyDiffers++;
    out.inkFractionMaxDiff = Math.max(out.inkFractionMaxDiff, Math.abs(a.inkFraction - b.inkFraction));
    let d = 0;
    for (let k = 0; k < a.pixels.length; k++) d = Math.max(d, Math.abs(a.pixels[k]! - b.pixels[k]!));
    if (d > 0) out.boxesDiffering++;
    out.maxDiff = Math.max(out.maxDiff, d);
  }
  const r4 = (v: number) => Math.round((v / Math.max(1, images.length)) * 1e4) / 1e4;
  out.referenceMsPerBox = r4(tRef);
  out.currentMsPerBox = r4(tCur);
  return out;
}

async function realCrops(): Promise<RawImage[]> {
  if (args['no-real'] || !hasRealCrops()) return [];
  const d = realCropsDir();
  const files = readdirSync(d).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  const out: RawImage[] = [];
  for (const f of files) out.push(await decodeImage(readFileSync(path.join(d, f))));
  return out;
}

async function photoBoxes(): Promise<{ images: RawImage[]; photos: number; rejected: number }> {
  const n = Number(args.photos);
  if (!dir || n <= 0) return { images: [], photos: 0, rejected: 0 };
  const { loadCv } = await import('../workers/reader/cv/opencv.js');
  const { analysePhoto } = await import('../workers/reader/cv/page.js');
  const { loadTemplates } = await import('../workers/reader/template/index.js');
  const { ReadReject } = await import('../workers/reader/cv/reject.js');
  const cv = loadCv();
  const templates = loadTemplates();
  const images: RawImage[] = [];
  let photos = 0;
  let rejected = 0;
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `${String(i).padStart(5, '0')}.jpg`);
    if (!existsSync(file)) break;
    try {
      const a = analysePhoto(cv, readFileSync(file), templates);
      photos++;
      for (const f of a.fields) f.boxes.forEach((b, k) => images.push(b, f.recut(k, -1), f.recut(k, 2)));
    } catch (err) {
      if (!(err instanceof ReadReject)) throw err;
      rejected++;
    }
  }
  return { images, photos, rejected };
}

/** Each image's logits alone vs inside batches (bitwise), and the blank image's at several positions. */
function batchIndependence(images: RawImage[]) {
  const model = loadDigitModel();
  const backend = model.activeBackend();
  const px = images.slice(0, 40).map((img) => normaliseBox(img).pixels);
  const zero = new Float32Array(784);
  let differing = 0;
  const batch = model.logitsBatch(px);
  px.forEach((p, i) => {
    const alone = model.logitsBatch([p])[0]!;
    if (alone.some((v, k) => v !== batch[i]![k])) differing++;
  });
  // The blank image alone, first, in the middle and last of a batch (the reader's cache is the first).
  const ref = model.logitsBatch([zero])[0]!;
  for (const at of [0, 17, px.length]) {
    const withZero = [...px.slice(0, at), zero, ...px.slice(at)];
    // Bypass the cache: the model's own logitsBatch would answer the blank from it.
    const l = backend === 'opencv' ? (model as unknown as { dnn: { logits(x: Float32Array[]): Float32Array[] } }).dnn.logits(withZero)[at]! : model.logits(zero);
    if (l.some((v, k) => v !== ref[k])) differing++;
  }
  return { backend, images: px.length, differing };
}

async function main() {
  const t0 = performance.now();
  const real = await realCrops();
  log(`${real.length} real crops`);
  const { images: cut, photos, rejected } = await photoBoxes();
  log(`${cut.length} boxes and re-cuts from ${photos} photos of ${dir ?? '(none)'}`);
  const mnist = loadMnist('test').map((s) => mnistAsRaw(s.pixels));
  const rand = rng(11);
  const synthetic: RawImage[] = [];
  for (let i = 0; i < 500; i++) synthetic.push(syntheticX(rand), syntheticBlank(rand));
  const results = {
    realCrops: compare(real),
    photoBoxes: { photos, rejected, dir: dir ? path.relative(process.cwd(), dir) : null, ...compare(cut) },
    mnistTest: compare(mnist),
    syntheticXBlank: compare(synthetic),
  };
  const logits = batchIndependence(cut.length ? cut : mnist);
  const all = Object.values(results);
  const ok = all.every((r) => r.maxDiff <= 1e-3 && r.emptyDiffers === 0) && logits.differing === 0;
  const doc = { bench: 'reader-same', at: new Date().toISOString(), ok, limits: { maxDiff: 1e-3, emptyDiffers: 0 }, normaliseBox: results, logitsBatchIndependence: logits, seconds: Math.round((performance.now() - t0) / 100) / 10 };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  if (!ok) process.exit(1);
}

await main();
