/**
 * Saves the misclassified held-out crops (and their 28×28 normalised view) into a git-ignored folder so
 * a person can look at what limits accuracy. Development aid only; reads ../shared/data.
 *   npx tsx workers/reader/digits/tools/dump-errors.ts [--parts calibration,test] [--out .data/digit-errors]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { BOX_CLASSES } from '../../types.js';
import { loadRealCrops } from '../data.js';
import { reviewedTarget } from '../labels.js';
import { loadDigitModel } from '../model.js';
import { normaliseBox } from '../preprocess.js';
import { softmax } from '../cnn.js';
import type { SplitPart } from '../split.js';

const { values } = parseArgs({ options: { parts: { type: 'string', default: 'calibration,test' }, out: { type: 'string', default: '.data/digit-errors' }, weights: { type: 'string' } } });
const parts = values.parts!.split(',') as SplitPart[];
const model = values.weights ? loadDigitModel(values.weights) : loadDigitModel();
mkdirSync(values.out!, { recursive: true });
const crops = await loadRealCrops(parts);
let wrong = 0;
for (const c of crops) {
  const n = normaliseBox(c.image);
  const t = reviewedTarget(c, n.pixels);
  const p = softmax(model.logits(n.pixels), model.temperature);
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  if (t.accept.includes(best)) continue;
  wrong++;
  const truth = t.target === null ? '0X' : BOX_CLASSES[t.target];
  const name = `${c.part}_${truth}-as-${BOX_CLASSES[best]}_p${p[best].toFixed(2)}_${c.file.replace(/\s/g, '_')}`;
  const ch = c.image.channels ?? 3;
  await sharp(Buffer.from(c.image.data), { raw: { width: c.image.width, height: c.image.height, channels: ch as 1 | 3 | 4 } })
    .resize({ height: 112, kernel: 'nearest' })
    .png()
    .toFile(join(values.out!, `${name}.png`));
  const g = Buffer.from(Array.from(n.pixels, (v) => 255 - Math.round(v * 255)));
  await sharp(g, { raw: { width: 28, height: 28, channels: 1 } }).resize(112, 112, { kernel: 'nearest' }).png().toFile(join(values.out!, `${name}.norm.png`));
  console.log(`${name}  top3 ${p.map((v, k) => [v, k] as const).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([v, k]) => `${BOX_CLASSES[k]}:${v.toFixed(3)}`).join(' ')}`);
}
console.log(`${wrong} wrong of ${crops.length}`);
