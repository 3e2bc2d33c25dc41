/**
 * Child process of the simulator's PhotoFactory: renders one photographed page per message. Uses the
 * synth building blocks (template, printed form, handwriting, camera damage) with the numbers it is
 * given; the handwriting comes from the held-out writers, never the digit model's training side.
 */
import type { PhotoJob } from './photos.js';
import { templateFor } from '../../workers/reader/template/index.js';
import { renderFormCanvas } from '../../workers/reader/render/index.js';
import { boxClasses, loadGlyphLibrary, pageValues, Rng, type LeadingFill } from '../../workers/reader/synth/index.js';
import { randomPen, writeBox } from '../../workers/reader/synth/handwriting.js';
import { photograph, planPhoto } from '../../workers/reader/synth/photo.js';

const library = loadGlyphLibrary({ part: 'heldout' });

async function render(job: PhotoJob): Promise<Buffer> {
  const lib = await library;
  const template = templateFor(job.page, job.page === 'perolehan' ? job.candidateCount : undefined);
  const values = pageValues(template, job.values);
  const photoRng = new Rng(`${job.seed}:photo`);
  const plan = planPhoto(photoRng, template.sizeMm, { unreadable: job.unreadable });
  const { canvas } = renderFormCanvas(template, job.header, { dpi: plan.renderPxPerMm * 25.4 });
  const hand = new Rng(`${job.seed}:hand`);
  const pen = randomPen(hand, lib.real.size > 0);
  const habit = hand.weighted<LeadingFill>({ X: 0.8, '0': 0.15, blank: 0.05 });
  const ctx = canvas.getContext('2d');
  for (const f of template.fields) {
    const fill: LeadingFill = habit === 'X' && hand.chance(0.04) ? '0' : habit;
    boxClasses(values[f.key]!, f.boxes.length, fill).forEach((cls, i) => writeBox(ctx, lib, cls, f.boxes[i]!, hand, pen));
  }
  return photograph(canvas, plan, photoRng).jpeg;
}

process.on('message', (m: { id: number; job: PhotoJob }) => {
  const cpu = process.cpuUsage();
  render(m.job).then(
    (jpeg) => {
      const used = process.cpuUsage(cpu);
      process.send!({ id: m.id, jpeg: jpeg.toString('base64'), cpuMs: (used.user + used.system) / 1000 });
    },
    (err: Error) => process.send!({ id: m.id, error: err.message }),
  );
});
process.on('disconnect', () => process.exit(0));
