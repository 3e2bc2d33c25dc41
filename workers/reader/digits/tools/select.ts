/**
 * Model selection on the CALIBRATION TPS only (never the test TPS): errors and NLL (at the temperature
 * fitted on the same crops) for each candidate weights folder, and for ensembles that pool the members
 * of several folders. Development aid; reads ../shared/data.
 *   npx tsx workers/reader/digits/tools/select.ts <dir> [<dir> ...] [--combine] [--list]
 * (--list: also name the wrong crops, as file:predicted class)
 */
import { parseArgs } from 'node:util';
import { BOX_CLASSES } from '../../types.js';
import { fitTemperature, nll } from '../calibrate.js';
import { loadRealCrops } from '../data.js';
import { reviewedTarget } from '../labels.js';
import { DigitModel, loadDigitModel } from '../model.js';
import { normaliseBox } from '../preprocess.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { combine: { type: 'boolean', default: false }, list: { type: 'boolean', default: false } } });
const crops = await loadRealCrops(['calibration']);
const pixels = crops.map((c) => normaliseBox(c.image).pixels);
const targets = crops.map((c, i) => reviewedTarget(c, pixels[i]));
const models = positionals.map((d) => ({ name: d, model: loadDigitModel(d) }));
const candidates = [...models];
if (values.combine && models.length > 1) {
  const first = models[0].model;
  candidates.push({ name: positionals.join(' + '), model: new DigitModel({ ...first.meta, members: models.reduce((s, m) => s + m.model.nets.length, 0) }, models.flatMap((m) => m.model.nets.map((n) => n.params))) });
}
for (const { name, model } of candidates) {
  const logits = model.logitsBatch(pixels);
  let errors = 0;
  const wrong: string[] = [];
  logits.forEach((l, i) => {
    let b = 0;
    for (let k = 1; k < l.length; k++) if (l[k] > l[b]) b = k;
    if (!targets[i].accept.includes(b)) {
      errors++;
      wrong.push(`${crops[i].file}:${BOX_CLASSES[b]}`);
    }
  });
  const withTarget = logits.map((l, i) => ({ l: Array.from(l), t: targets[i].target })).filter((x) => x.t !== null);
  const T = fitTemperature(withTarget.map((x) => x.l), withTarget.map((x) => x.t!));
  console.log(JSON.stringify({ name, members: model.nets.length, calibrationN: crops.length, errors, top1: +(1 - errors / crops.length).toFixed(4), temperature: +T.toFixed(3), nll: +nll(withTarget.map((x) => x.l), withTarget.map((x) => x.t!), T).toFixed(4), ...(values.list ? { wrong } : {}) }));
}
