/**
 * Speed of the digit reader on one form's worth of boxes: normaliseBox and the ensemble forward
 * (OpenCV dnn and the TypeScript reference), wall and CPU ms per box, with the load average beside it.
 * Prints one JSON document. Reads real held-out crops from ../shared/data when present, else
 * synthetic boxes.
 *   npx tsx workers/reader/digits/tools/bench-speed.ts [--boxes 100] [--reps 5]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { rng } from '../cnn.js';
import { hasRealCrops, loadRealCrops } from '../data.js';
import { loadDigitModel } from '../model.js';
import { normaliseBox, type RawImage } from '../preprocess.js';
import { syntheticX } from '../synth.js';

const { values } = parseArgs({ options: { boxes: { type: 'string', default: '100' }, reps: { type: 'string', default: '5' } } });
const nBoxes = Number(values.boxes);
const reps = Number(values.reps);
let images: RawImage[];
let source: string;
if (hasRealCrops()) {
  images = (await loadRealCrops(['test'])).slice(0, nBoxes).map((c) => c.image);
  source = 'real held-out crops';
} else {
  const rand = rng(7);
  images = Array.from({ length: nBoxes }, () => syntheticX(rand));
  source = 'synthetic X boxes (no ../shared/data)';
}
const model = loadDigitModel();

/** Best-of-reps (least disturbed by other processes) wall and CPU ms per box. */
function measure(fn: () => void): { wallMsPerBox: number; cpuMsPerBox: number } {
  fn(); // warm-up: JIT, OpenCV net allocation
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, t);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  const r3 = (v: number) => Math.round((v / images.length) * 1000) / 1000;
  return { wallMsPerBox: r3(wall), cpuMsPerBox: r3(cpu) };
}

let norms: Float32Array[] = [];
const normalise = measure(() => {
  norms = images.map((img) => normaliseBox(img).pixels);
});
model.backend = 'ts';
let ref: Float32Array[] = [];
const ts = measure(() => {
  ref = model.logitsBatch(norms);
});
model.backend = 'auto';
const backend = model.activeBackend();
let fast: Float32Array[] = [];
const opencv = backend === 'opencv' ? measure(() => (fast = model.logitsBatch(norms))) : null;
let maxLogitDiff = 0;
for (let i = 0; i < fast.length; i++) for (let k = 0; k < ref[i].length; k++) maxLogitDiff = Math.max(maxLogitDiff, Math.abs(fast[i][k] - ref[i][k]));
const total = opencv ?? ts;
console.log(
  JSON.stringify(
    {
      source,
      boxes: images.length,
      members: model.nets.length,
      normalise,
      classifyTs: ts,
      classifyOpencv: opencv,
      maxLogitDiff,
      msPerBox: { wall: Math.round((normalise.wallMsPerBox + total.wallMsPerBox) * 1000) / 1000, cpu: Math.round((normalise.cpuMsPerBox + total.cpuMsPerBox) * 1000) / 1000, backend },
      loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    },
    null,
    2,
  ),
);
