/**
 * Box errors of one or more weights folders on the cached bench photos (`npm run bench:read` writes
 * them), counted like bench/read-box-errors.ts (decode, analysePage, cut, classify with the reader's
 * second look, compare with the ground truth) but with the weights given here instead of the committed
 * ones, so a candidate can be scored without touching the working tree's weights. The bench's seed
 * (`bench-1`, held-out handwriting) is for the final figure of the chosen weights only: never select on it.
 *   npx tsx workers/reader/digits/tools/bench-boxes.ts <weights dir> [...] [--seed bench-1] [--handwriting heldout] [--n 200]
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readBenchDir } from '../../../../bench/read-photos.js';
import { loadCv } from '../../cv/opencv.js';
import { analysePhoto } from '../../cv/page.js';
import { ReadReject } from '../../cv/reject.js';
import { loadTemplates } from '../../template/index.js';
import { BOX_CLASSES, type BoxClass } from '../../types.js';
import { loadDigitModel } from '../model.js';
import { evaluatePhotoBoxes, type PhotoBox } from '../photo-boxes.js';
import { SECOND_LOOK_INSETS } from '../second-look.js';
import { normaliseBox } from '../preprocess.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string', default: 'bench-1' }, handwriting: { type: 'string', default: 'heldout' }, n: { type: 'string', default: '200' } },
});
const dir = readBenchDir(values.seed!, values.handwriting === 'train' ? 'train' : 'heldout');
if (!existsSync(dir)) {
  process.stderr.write(`bench-boxes: ${dir} does not exist (npm run bench:read writes it)\n`);
  process.exit(2);
}
const cv = loadCv();
cv.setNumThreads(1);
const templates = loadTemplates();
const boxes: PhotoBox[] = [];
let photos = 0;
let rejected = 0;
for (let i = 0; i < Number(values.n); i++) {
  const name = String(i).padStart(5, '0');
  if (!existsSync(path.join(dir, `${name}.jpg`))) break;
  const truth = JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as { boxes: Record<string, { class: BoxClass; source: string }[]> };
  let analysis;
  try {
    analysis = analysePhoto(cv, readFileSync(path.join(dir, `${name}.jpg`)), templates);
  } catch (err) {
    if (err instanceof ReadReject) {
      rejected++;
      continue;
    }
    throw err;
  }
  photos++;
  for (const f of analysis.fields) {
    const t = truth.boxes[f.key];
    f.boxes.forEach((img, b) => {
      const want = t?.[b];
      if (!want) return;
      boxes.push({ views: [img, ...SECOND_LOOK_INSETS.map((d) => f.recut(b, d))], cls: want.class, target: BOX_CLASSES.indexOf(want.class), source: want.source.split(':')[0]!, leading: b < f.boxes.length - 1, photo: i });
    });
  }
}
const normalised = boxes.map((b) => b.views.map((v) => normaliseBox(v).pixels));
for (const d of positionals) {
  const ev = evaluatePhotoBoxes(loadDigitModel(path.resolve(d)), boxes, normalised);
  console.log(JSON.stringify({ weights: d, seed: values.seed, handwriting: values.handwriting, photos, rejected, ...ev, nll: +ev.nll.toFixed(5), ece: +ev.ece.toFixed(5) }));
}
