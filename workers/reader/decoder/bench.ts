/**
 * Decoder micro-benchmark: decode seeded synthetic pages (the §8.1 noise model) for every template
 * kind and print one JSON document: time per page (wall and CPU), states explored, the class mix, the
 * share auto-published (READ_OK + AUTO_CORRECTED) and the wrong values among auto-published fields.
 *
 *   npx tsx workers/reader/decoder/bench.ts [--n 200] [--error 0.03] [--seed 1]
 *
 * `machine.loop1e8Ms` is the CPU time of a fixed 10⁸-step loop in the same run, so figures taken on a
 * loaded machine can be compared with figures taken on an idle one.
 */
import { templateFor } from '../template/index.js';
import type { FormTemplate } from '../template/types.js';
import { decodePage } from './decode.js';
import { noisyPage, seededRng, trueAdministrasi, truePerolehan } from './noise.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`bench: --${name} needs a positive number\n`);
    process.exit(2);
  }
  return v;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

function calibrationLoopMs(): number {
  const c0 = process.cpuUsage();
  const a = new Float64Array(1000);
  let s = 0;
  for (let i = 0; i < 1e8; i++) s += a[i % 1000]! + i;
  const c = process.cpuUsage(c0);
  if (s < 0) console.log(s);
  return (c.user + c.system) / 1000;
}

function benchTemplate(tpl: FormTemplate, n: number, errorRate: number, seed: number, topMin: number) {
  const rng = seededRng(seed);
  const pages = Array.from({ length: n }, () => {
    const truth = tpl.page === 'administrasi' ? trueAdministrasi(rng) : truePerolehan(rng, tpl.candidateCount!);
    return { truth, fields: noisyPage(tpl.fields, truth, rng, { errorRate, topMin }) };
  });
  // Warm-up (JIT) on a few pages, not counted.
  for (const p of pages.slice(0, Math.min(10, n))) decodePage(p.fields, tpl.identities);
  const classes: Record<string, number> = {};
  const wall: number[] = [];
  let states = 0;
  let accepted = 0;
  let exactForms = 0;
  let wrongForms = 0;
  let wrongFields = 0;
  let acceptedFields = 0;
  const c0 = process.cpuUsage();
  for (const p of pages) {
    const t0 = performance.now();
    const r = decodePage(p.fields, tpl.identities);
    wall.push(performance.now() - t0);
    states += r.stats.states;
    classes[r.cls] = (classes[r.cls] ?? 0) + 1;
    const wrong = Object.keys(p.truth).filter((k) => r.values[k] !== p.truth[k]).length;
    if (!wrong) exactForms++;
    if (r.cls === 'READ_OK' || r.cls === 'AUTO_CORRECTED') {
      accepted++;
      acceptedFields += Object.keys(p.truth).length;
      if (wrong) wrongForms++;
      wrongFields += wrong;
    }
  }
  const cpu = process.cpuUsage(c0);
  const round = (x: number, d = 3) => Number(x.toFixed(d));
  return {
    template: tpl.id,
    fields: tpl.fields.length,
    boxes: tpl.fields.reduce((a, f) => a + f.boxes.length, 0),
    identities: tpl.identities.length,
    n,
    msPerPage: { mean: round(wall.reduce((a, b) => a + b, 0) / n), p50: round(quantile(wall, 0.5)), p95: round(quantile(wall, 0.95)), max: round(Math.max(...wall)) },
    cpuMsPerPage: round((cpu.user + cpu.system) / 1000 / n),
    statesPerPage: Math.round(states / n),
    classes,
    mapExactRate: round(exactForms / n, 4),
    autoPublished: round(accepted / n, 4),
    wrongAutoPublishedForms: wrongForms,
    wrongAutoPublishedFields: wrongFields,
    wrongAmongAutoPublishedFields: round(wrongFields / Math.max(1, acceptedFields), 6),
  };
}

const n = Math.round(arg('n', 200));
const errorRate = arg('error', 0.03);
const seed = Math.round(arg('seed', 1));
const loop = calibrationLoopMs();
// The §8.1 model (correct boxes' top class ~ U(0.7, 0.999)) and a sharper classifier (U(0.95, 0.999)).
const run = (topMin: number) => [
  benchTemplate(templateFor('perolehan', 6), n, errorRate, seed, topMin),
  benchTemplate(templateFor('perolehan', 3), n, errorRate, seed + 1, topMin),
  benchTemplate(templateFor('perolehan', 1), n, errorRate, seed + 2, topMin),
  benchTemplate(templateFor('administrasi'), n, errorRate, seed + 3, topMin),
];
const spec = run(0.7);
const sharp = run(0.95);
console.log(
  JSON.stringify(
    {
      bench: 'decoder',
      noise: {
        model: 'INTEGRITY §8.1 (workers/reader/decoder/noise.ts)',
        boxErrorRate: errorRate,
        seed,
        specNoise: 'correct boxes: top ~ U(0.70, 0.999)',
        sharpClassifier: 'correct boxes: top ~ U(0.95, 0.999)',
      },
      machine: { loop1e8Ms: Number(loop.toFixed(1)), loadavg: (await import('node:os')).loadavg().map((x) => Number(x.toFixed(2))) },
      pages: { specNoise: spec, sharpClassifier: sharp },
    },
    null,
    2,
  ),
);
