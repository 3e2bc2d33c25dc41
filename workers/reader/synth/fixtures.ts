/**
 * Regenerates the small committed fixtures in test/fixtures/forms/ (deterministic):
 *   npx tsx workers/reader/synth/fixtures.ts
 * The synthetic photo uses MNIST and drawn glyphs only: the real KPPS crops may not be redistributed,
 * and a photo made from them would carry their pixels into the repository.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { templateFor } from '../template/index.js';
import { renderForm, type FormHeader } from '../render/index.js';
import { generateTpsValues, loadGlyphLibrary, pageValues, Rng, synthesizePhoto, type SynthContest } from './index.js';

const DIR = fileURLToPath(new URL('../../../test/fixtures/forms/', import.meta.url));

const area = { provinsi: 'KALIMANTAN TENGAH', kabupaten: 'KOTA PALANGKA RAYA', kecamatan: 'PAHANDUT', desa: 'LANGKAI', tps: '005' };
const candidates = [1, 2, 3].map((number) => ({ number, headName: `CALON KEPALA ${number}`, deputyName: `CALON WAKIL ${number}` }));
const contestTitle = 'Pemilihan Gubernur dan Wakil Gubernur Kalimantan Tengah';

async function main() {
  mkdirSync(DIR, { recursive: true });
  const header: FormHeader = { ...area, contestTitle, candidates };
  const all = generateTpsValues(new Rng('fixtures'), 3, { votersL: 151, votersP: 162 });
  for (const t of [templateFor('administrasi'), templateFor('perolehan', 3)]) {
    const values = pageValues(t, all);
    const name = `clean-${t.page}${t.candidateCount ? `-${t.candidateCount}` : ''}`;
    writeFileSync(`${DIR}${name}.png`, await renderForm(t, header, { dpi: 100, values }));
    writeFileSync(`${DIR}${name}.json`, `${JSON.stringify({ templateId: t.id, dpi: 100, values }, null, 1)}\n`);
  }
  const contest: SynthContest = { id: 'pkwkp-62', jenis: 'pkwkp', candidateCount: 3, paslonIds: [], header: { contestTitle, candidates } };
  const lib = await loadGlyphLibrary({ realCrops: false });
  const { jpeg, truth } = await synthesizePhoto(1, contest, [{ code: '6271011001005', votersL: 151, votersP: 162, header: area }], { seed: 'fixtures', mistakes: 0, unreadable: 0, page: 'both' }, lib);
  writeFileSync(`${DIR}synth-perolehan-3.jpg`, jpeg);
  writeFileSync(`${DIR}synth-perolehan-3.json`, `${JSON.stringify({ ...truth, file: 'synth-perolehan-3.jpg' }, null, 1)}\n`);
  console.log(`fixtures written to ${DIR}`);
}

await main();
