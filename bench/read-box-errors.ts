/**
 * `npx tsx bench/read-box-errors.ts [--seed bench-1] [--handwriting heldout|train] [--n 200] [--from 0] [--dump DIR]`
 *
 * Where the reader's box errors come from, on the cached bench photos (`npm run bench:read` writes
 * them to bench/tmp/read-<seed>/ with ground truth). Each photo is read in this process the way the
 * reader does it (decode, find, cut, classify) and every box's argmax is compared with what the
 * generator wrote. Prints one JSON document: error rate per truth class and per glyph source (real
 * KPPS crop, MNIST, drawn, empty), the confusions, and how much probability the classifier left on the
 * true class of a misread box (the decoder can only repair a box whose true class kept p ≥ 0.05).
 * With --dump, each misread box is written as PNGs (the cut box, and the 28×28 the classifier saw)
 * so a person can look at it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCv } from '../workers/reader/cv/opencv.js';
import { analysePhoto } from '../workers/reader/cv/page.js';
import { ReadReject } from '../workers/reader/cv/reject.js';
import { loadTemplates } from '../workers/reader/template/index.js';
import { classifyPage } from '../workers/reader/pipeline.js';
import { normaliseBox } from '../workers/reader/digits/preprocess.js';
import { BOX_CLASSES } from '../workers/reader/types.js';
import { boxReadRight } from '../workers/reader/synth/index.js';
import { readBenchDir } from './read-photos.js';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: 'bench-1' },
    handwriting: { type: 'string', default: 'heldout' },
    n: { type: 'string', default: '200' },
    from: { type: 'string', default: '0' },
    dump: { type: 'string' },
  },
});
const DIR = readBenchDir(args.seed!, args.handwriting === 'train' ? 'train' : 'heldout');
const from = Number(args.from);
const n = Number(args.n);
if (!existsSync(DIR)) {
  process.stderr.write(`read-box-errors: ${DIR} does not exist; run npm run bench:read -- --seed ${args.seed} --handwriting ${args.handwriting} first\n`);
  process.exit(2);
}
const cv = loadCv();
cv.setNumThreads(1);
const templates = loadTemplates();
const sourceKind = (s: string) => s.split(':')[0]!;

const perClass: Record<string, { n: number; wrong: number }> = {};
const perSource: Record<string, { n: number; wrong: number }> = {};
const confusion: Record<string, number> = {};
const pTrueOfErrors = { '<0.001': 0, '<0.02': 0, '<0.05': 0, '<0.2': 0, '>=0.2': 0 };
let boxes = 0;
let wrong = 0;
let photos = 0;
let rejected = 0;
const examples: string[] = [];
if (args.dump) mkdirSync(args.dump, { recursive: true });

for (let i = from; i < from + n; i++) {
  const name = String(i).padStart(5, '0');
  const photo = path.join(DIR, `${name}.jpg`);
  if (!existsSync(photo)) break;
  const truth = JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as { boxes: Record<string, { class: string; source: string }[]> };
  let analysis;
  try {
    analysis = analysePhoto(cv, readFileSync(photo), templates);
  } catch (err) {
    if (err instanceof ReadReject) {
      rejected++;
      continue;
    }
    throw err;
  }
  photos++;
  const { probs } = classifyPage(analysis.fields);
  let k = 0;
  for (const f of analysis.fields) {
    const t = truth.boxes[f.key];
    f.boxes.forEach((img, b) => {
      const p = probs[k++]!;
      const want = t?.[b];
      if (!want) return;
      const top = BOX_CLASSES[p.indexOf(Math.max(...p))]!;
      const ok = boxReadRight(want.class, top, b < f.boxes.length - 1);
      boxes++;
      const c = (perClass[want.class] ??= { n: 0, wrong: 0 });
      const s = (perSource[sourceKind(want.source)] ??= { n: 0, wrong: 0 });
      c.n++;
      s.n++;
      if (ok) return;
      wrong++;
      c.wrong++;
      s.wrong++;
      confusion[`${want.class}→${top}`] = (confusion[`${want.class}→${top}`] ?? 0) + 1;
      const pt = p[BOX_CLASSES.indexOf(want.class as (typeof BOX_CLASSES)[number])]!;
      const bucket = pt < 0.001 ? '<0.001' : pt < 0.02 ? '<0.02' : pt < 0.05 ? '<0.05' : pt < 0.2 ? '<0.2' : '>=0.2';
      pTrueOfErrors[bucket]++;
      const id = `${name}-${f.key}-${b}-${want.class}as${top}`;
      if (examples.length < 60) examples.push(`${id} p(true)=${pt.toFixed(4)} p(top)=${Math.max(...p).toFixed(3)} ${want.source}`);
      if (args.dump) {
        const raw = new cv.Mat(Buffer.from(img.data), img.height, img.width, cv.CV_8UC1);
        cv.imwrite(path.join(args.dump, `${id}.png`), raw.resize(img.height * 3, img.width * 3, 0, 0, cv.INTER_NEAREST));
        const norm = normaliseBox(img).pixels;
        const u8 = Buffer.from(Array.from(norm, (v) => 255 - Math.round(v * 255)));
        const m = new cv.Mat(u8, 28, 28, cv.CV_8UC1);
        cv.imwrite(path.join(args.dump, `${id}-norm.png`), m.resize(112, 112, 0, 0, cv.INTER_NEAREST));
      }
    });
  }
  if (photos % 25 === 0) process.stderr.write(`read-box-errors: ${photos} photos, ${wrong}/${boxes} boxes wrong\n`);
}

const rate = (o: Record<string, { n: number; wrong: number }>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { n: v.n, wrong: v.wrong, errorRate: v.n ? Math.round((v.wrong / v.n) * 1e5) / 1e5 : null }]));
const doc = {
  seed: args.seed,
  photos,
  rejected,
  boxes,
  wrong,
  errorRate: boxes ? Math.round((wrong / boxes) * 1e5) / 1e5 : null,
  perTruthClass: rate(perClass),
  perSource: rate(perSource),
  confusion: Object.fromEntries(Object.entries(confusion).sort((a, b) => b[1] - a[1])),
  pTrueOfErrors,
  examples,
};
const out = JSON.stringify(doc, null, 2);
if (args.dump) writeFileSync(path.join(args.dump, 'summary.json'), out);
process.stdout.write(`${out}\n`);
