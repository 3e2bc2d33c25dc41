/**
 * Photographed boxes: handwriting written into synthetic forms, photographed (workers/reader/synth),
 * then cut by the real reader (analysePhoto: decode, find, cut) and labelled from the generator's ground
 * truth. This is the domain the digit model meets in production: a raw KPPS crop and the same
 * handwriting photographed on a form differ (ink redrawn at pen strength, blur, JPEG, warp, a cut that
 * is never the dataset's). Held-out real crops read 0.6% wrong raw but 1.3% once photographed and cut
 * (generator 4, 200 bench photos; 4.6% with generator 2, whose photos lost pale strokes).
 *
 * Training and validation photos carry training-side handwriting (training-split TPS crops, MNIST's
 * training part; see synth/handwriting.ts), so nothing of the test TPS leaks. Each seed names one set
 * of photos: the training data uses PHOTO_TRAIN_SEED, model selection PHOTO_VALIDATION_SEED (never
 * trained on) and PHOTO_CALIBRATION_SEED (the calibration TPS's writers and MNIST's test part: writers
 * no weights were trained on), and none is the bench's `bench-1`.
 *
 * Cache: `<repo>/.data/digit-photo-boxes/<seed>-g<generator>-f<format>/`, one `NNNNN.bin` (box pixels,
 * grey bytes, main cut then the two second-look re-cuts) and one `NNNNN.json` (box list) per photo;
 * the JSON is written last, so a photo is cached exactly when its JSON exists.
 *
 * Generation runs in child processes of at most PHOTOS_PER_CHILD photos each: @napi-rs/canvas leaks
 * native memory (~65 MB a photo) that only process exit returns.
 *
 *   npx tsx workers/reader/digits/photo-boxes.ts --seed digits-val-1 --n 120 [--workers 2] [--eval DIR ...]
 * generates (if missing) and, with --eval, prints each weights folder's box errors on the set.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BOX_CLASSES, boxReadRight, type BoxClass } from '../types.js';
import { averageViews, needsSecondLook, SECOND_LOOK_INSETS } from './second-look.js';
import { expectedCalibrationError } from './calibrate.js';
import type { RawImage } from './preprocess.js';
import { hasRealCrops, realCropsDir } from './data.js';

/** Seed of the photos whose boxes are training data. */
export const PHOTO_TRAIN_SEED = 'digits-photo-train-1';
/** Seed of the photos used to choose between candidate weights (never trained on). */
export const PHOTO_VALIDATION_SEED = 'digits-photo-val-1';
/**
 * Seed of photos written only by the calibration TPS's writers (session 5): the validation seed's
 * writers are the training side's, so a model that remembers them scores well there. Run D misread
 * 40% fewer validation boxes than the session-3 weights but only 10% fewer held-out bench boxes.
 */
export const PHOTO_CALIBRATION_SEED = 'digits-photo-cal-1';
/** Whose handwriting a seed's photos carry. */
const handwritingOf = (seed: string) => (seed === PHOTO_CALIBRATION_SEED ? ('calibration' as const) : ('train' as const));
/** Bumped when the cached layout or what is cut changes (2: paper folds are lifted out of the cuts, cv/boxes.ts findCreases). */
export const PHOTO_BOX_FORMAT = 2;
const PHOTOS_PER_CHILD = 60;

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

export interface PhotoBox {
  /** Main cut, then one per SECOND_LOOK_INSETS entry (the reader's second look). */
  views: RawImage[];
  /** What the generator wrote: '0'–'9', 'X' or 'blank'. */
  cls: BoxClass;
  /** Index in BOX_CLASSES. */
  target: number;
  /** Glyph source kind: 'real' (KPPS crop), 'mnist', 'drawn', 'empty'. */
  source: string;
  /** A leading (not units) box: a filler there may be read as any filler. */
  leading: boolean;
  photo: number;
}

interface BoxRecord { key: string; b: number; cls: BoxClass; source: string; leading: boolean; sizes: [number, number][] }

async function synthVersion(): Promise<number> {
  return (await import('../synth/index.js')).SYNTH_GENERATOR_VERSION;
}

export async function photoBoxesDir(seed: string): Promise<string> {
  return join(repoRoot, '.data', 'digit-photo-boxes', `${seed}-g${await synthVersion()}-f${PHOTO_BOX_FORMAT}`);
}

const name = (i: number) => String(i).padStart(5, '0');

/** Child: synthesises, reads and cuts photos i ≡ k (mod m), i < n, not cached yet; at most PHOTOS_PER_CHILD. */
async function genWorker(seed: string, k: number, m: number, n: number): Promise<void> {
  const dir = await photoBoxesDir(seed);
  const { synthesizePhoto, loadGlyphLibrary, rotatingElection } = await import('../synth/index.js');
  // Photo i belongs to TPS slot ⌊i/2⌋ (both pages); slots cycle through 1..6 candidate pairs.
  const { contestFor, tps: TPS } = rotatingElection('digits', 9100001, '9902021001');
  const { loadCv } = await import('../cv/opencv.js');
  const { analysePhoto } = await import('../cv/page.js');
  const { ReadReject } = await import('../cv/reject.js');
  const { loadTemplates } = await import('../template/index.js');
  const cv = loadCv();
  cv.setNumThreads(1);
  const templates = loadTemplates();
  const part = handwritingOf(seed);
  const lib = await loadGlyphLibrary({ part });
  if (lib.part !== part) throw new Error(`photo boxes of seed ${seed} must use ${part} handwriting`);
  let made = 0;
  for (let i = k; i < n; i += m) {
    if (existsSync(join(dir, `${name(i)}.json`))) continue;
    if (made++ >= PHOTOS_PER_CHILD) break;
    // No planted mistakes (the truth is what is written either way) and no deliberately unreadable photos.
    const { jpeg, truth } = await synthesizePhoto(i, contestFor(Math.floor(i / 2)), TPS, { seed, mistakes: 0, unreadable: 0, page: 'both' }, lib);
    const records: BoxRecord[] = [];
    const chunks: Uint8Array[] = [];
    try {
      const analysis = analysePhoto(cv, jpeg, templates);
      for (const f of analysis.fields) {
        const t = truth.boxes[f.key];
        if (!t) continue;
        f.boxes.forEach((img, b) => {
          const want = t[b];
          if (!want) return;
          const views = [img, ...SECOND_LOOK_INSETS.map((d) => f.recut(b, d))];
          records.push({ key: f.key, b, cls: want.class, source: want.source.split(':')[0]!, leading: b < f.boxes.length - 1, sizes: views.map((v) => [v.width, v.height]) });
          for (const v of views) chunks.push(v.data.subarray(0, v.width * v.height));
        });
      }
    } catch (err) {
      if (!(err instanceof ReadReject)) throw err;
      // A photo the reader rejects yields no boxes: cached as an empty list so it is not retried.
    }
    writeFileSync(join(dir, `${name(i)}.bin`), Buffer.concat(chunks));
    writeFileSync(join(dir, `${name(i)}.json`), JSON.stringify({ boxes: records }));
    (globalThis as { gc?: () => void }).gc?.();
  }
}

/** Makes sure photos 0..n−1 of `seed` are cached, generating the missing ones in child processes. */
export async function ensurePhotoBoxes(seed: string, n: number, workers = 2, log: (s: string) => void = () => {}): Promise<string> {
  const dir = await photoBoxesDir(seed);
  mkdirSync(dir, { recursive: true });
  const missing = () => Array.from({ length: n }, (_, i) => i).filter((i) => !existsSync(join(dir, `${name(i)}.json`)));
  const todo = missing().length;
  if (!todo) return dir;
  // Without the real KPPS crops the generator falls back to MNIST alone, and the cache would hold
  // photos that look like the seed's but carry none of its handwriting (bench:read refuses the same).
  if (!hasRealCrops()) throw new Error(`photo boxes: the real digit crops are not at ${realCropsDir()}; refusing to cache MNIST-only photos under seed ${seed}`);
  log(`photo boxes: synthesising and cutting ${todo} photos of seed ${seed} into ${dir} (${workers} processes)`);
  const t0 = Date.now();
  const { TSX_LOADER: tsx } = await import('../process/pool.js');
  const runChild = (k: number) =>
    new Promise<void>((res, rej) => {
      const child = fork(fileURLToPath(import.meta.url), ['--gen-worker', `${k}/${workers}`, '--n', String(n), '--seed', seed], {
        execArgv: ['--expose-gc', '--import', tsx],
        stdio: ['ignore', 2, 2, 'ipc'],
      });
      child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`photo-box generator ${k} exited with ${code}`))));
      child.on('error', rej);
    });
  const left = (k: number) => missing().some((i) => i % workers === k);
  await Promise.all(
    Array.from({ length: workers }, async (_, k) => {
      while (left(k)) {
        await runChild(k);
        log(`photo boxes: ${todo - missing().length}/${todo} photos (${Math.round((Date.now() - t0) / 1000)} s)`);
      }
    }),
  );
  return dir;
}

/** Reads the cached boxes of photos 0..n−1 (those cached; call ensurePhotoBoxes first). */
export async function loadPhotoBoxes(seed: string, n: number): Promise<PhotoBox[]> {
  const dir = await photoBoxesDir(seed);
  const out: PhotoBox[] = [];
  for (let i = 0; i < n; i++) {
    const jsonPath = join(dir, `${name(i)}.json`);
    if (!existsSync(jsonPath)) continue;
    const { boxes } = JSON.parse(readFileSync(jsonPath, 'utf8')) as { boxes: BoxRecord[] };
    const bin = readFileSync(join(dir, `${name(i)}.bin`));
    let off = 0;
    for (const r of boxes) {
      const views = r.sizes.map(([w, h]) => {
        const data = new Uint8Array(bin.buffer, bin.byteOffset + off, w * h);
        off += w * h;
        return { data, width: w, height: h, channels: 1 } as RawImage;
      });
      out.push({ views, cls: r.cls, target: BOX_CLASSES.indexOf(r.cls), source: r.source, leading: r.leading, photo: i });
    }
    if (off !== bin.length) throw new Error(`${jsonPath}: box sizes do not match ${name(i)}.bin`);
  }
  return out;
}

/** Whether class index `read` is right for a box (a leading filler may be read as any filler). */
export function photoBoxReadRight(box: Pick<PhotoBox, 'cls' | 'leading'>, read: number): boolean {
  return boxReadRight(box.cls, BOX_CLASSES[read]!, box.leading);
}
const FILLERS = new Set(['0', 'X', 'blank']);

export interface PhotoBoxEvaluation {
  boxes: number;
  /** Argmax wrong on the main cut alone. */
  wrong: number;
  /** Argmax wrong after the reader's second look (boxes under SECOND_LOOK_BELOW averaged with two re-cuts). */
  wrongSecondLook: number;
  /** Mean −log p(true class) on the main cut (fillers in leading boxes: the sum of the filler classes). */
  nll: number;
  /** ECE (15 bins) of the top-label probability on the main cut. */
  ece: number;
  perSource: Record<string, { n: number; wrong: number }>;
  confusions: Record<string, number>;
}

/**
 * Box errors of a model on photographed boxes, the way the reader classifies them (normaliseBox, the
 * model's calibrated probabilities, the second look). `normalised` lets a caller reuse normaliseBox output.
 */
export function evaluatePhotoBoxes(
  model: { classifyNormalised(images: Float32Array[]): number[][] },
  boxes: PhotoBox[],
  normalised: Float32Array[][],
): PhotoBoxEvaluation {
  const probs = model.classifyNormalised(normalised.map((v) => v[0]!));
  const argmax = (p: number[]) => p.indexOf(Math.max(...p));
  const ev: PhotoBoxEvaluation = { boxes: boxes.length, wrong: 0, wrongSecondLook: 0, nll: 0, ece: 0, perSource: {}, confusions: {} };
  const conf: number[] = [];
  const ok: boolean[] = [];
  const unsure = probs.flatMap((p, k) => (needsSecondLook(p) ? [k] : []));
  const again = model.classifyNormalised(unsure.flatMap((k) => normalised[k]!.slice(1)));
  const final = probs.map((p) => p);
  unsure.forEach((k, j) => {
    final[k] = averageViews([probs[k]!, ...again.slice(j * SECOND_LOOK_INSETS.length, (j + 1) * SECOND_LOOK_INSETS.length)]);
  });
  boxes.forEach((b, k) => {
    const p = probs[k]!;
    const fillerOk = b.leading && FILLERS.has(b.cls);
    const pTrue = fillerOk ? p[BOX_CLASSES.indexOf('0')]! + p[BOX_CLASSES.indexOf('X')]! + p[BOX_CLASSES.indexOf('blank')]! : p[b.target]!;
    ev.nll -= Math.log(Math.max(pTrue, 1e-12)) / boxes.length;
    const s = (ev.perSource[b.source] ??= { n: 0, wrong: 0 });
    s.n++;
    const top = argmax(p);
    conf.push(p[top]!);
    ok.push(photoBoxReadRight(b, top));
    if (!photoBoxReadRight(b, top)) {
      ev.wrong++;
      s.wrong++;
      const c = `${b.cls}→${BOX_CLASSES[top]}`;
      ev.confusions[c] = (ev.confusions[c] ?? 0) + 1;
    }
    if (!photoBoxReadRight(b, argmax(final[k]!))) ev.wrongSecondLook++;
  });
  ev.ece = expectedCalibrationError(conf, ok).ece;
  ev.confusions = Object.fromEntries(Object.entries(ev.confusions).sort((a, b) => b[1] - a[1]));
  return ev;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: PHOTO_VALIDATION_SEED },
      n: { type: 'string', default: '120' },
      workers: { type: 'string', default: '2' },
      eval: { type: 'string', multiple: true },
      'gen-worker': { type: 'string' },
    },
  });
  const seed = values.seed!;
  const n = Number(values.n);
  if (values['gen-worker']) {
    const [k, m] = values['gen-worker'].split('/').map(Number) as [number, number];
    await genWorker(seed, k, m, n);
    return 0;
  }
  if (seed === 'bench-1') {
    process.stderr.write('photo-boxes: bench-1 is the bench\'s held-out seed; pick another\n');
    return 2;
  }
  await ensurePhotoBoxes(seed, n, Number(values.workers), (s) => process.stderr.write(`${s}\n`));
  const boxes = await loadPhotoBoxes(seed, n);
  process.stderr.write(`photo boxes: ${boxes.length} boxes from ${n} photos of seed ${seed}\n`);
  if (!values.eval?.length) return 0;
  const { normaliseBox } = await import('./preprocess.js');
  const { loadDigitModel } = await import('./model.js');
  const normalised = boxes.map((b) => b.views.map((v) => normaliseBox(v).pixels));
  for (const d of values.eval) {
    const ev = evaluatePhotoBoxes(loadDigitModel(resolve(d)), boxes, normalised);
    console.log(JSON.stringify({ weights: d, seed, photos: n, ...ev, nll: +ev.nll.toFixed(5), ece: +ev.ece.toFixed(5) }));
  }
  return 0;
}

const isEntry = process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isEntry) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`photo-boxes: failed: ${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
