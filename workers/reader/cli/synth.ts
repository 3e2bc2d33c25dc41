/**
 * `rekap synth --contest <id> --n <N> --out <dir> [--seed S] [--mistakes 0.05] [--unreadable 0.05]
 *   [--page both|administrasi|perolehan] [--candidates N] [--handwriting train|heldout] [--no-db] [--no-real-crops]`
 *
 * Writes N synthetic photos (<index>-<tps>-<page>.jpg) with their ground truth (<same name>.json) and
 * prints one summary JSON document on stdout. The contest, its candidates and the TPS (area names,
 * registered voters) come from the database; --no-db uses invented names (with --candidates).
 * Same seed and same database → the same files.
 */
import { mkdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, cliDatabase, parseCliArgs, progress } from '../../../server/cli/context.js';
import { FormContextError, headerForTps, loadContestForForm, tpsOfContest } from '../render/context.js';
import { loadGlyphLibrary, Rng, synthesizePhoto, synthPlan, type SynthContest, type SynthPage, type SynthTps } from '../synth/index.js';
import type { Database } from '../../../db/client.js';

const USAGE =
  'usage: rekap synth --contest <id> --n <N> --out <dir> [--seed S] [--mistakes 0.05] [--unreadable 0.05] [--page both|administrasi|perolehan] [--candidates N] [--handwriting train|heldout] [--no-db] [--no-real-crops]';

function share(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new CliError(`--${name} must be a share between 0 and 1, got "${raw}"`);
  return v;
}

/** The TPS a slot shows: the same rule synthesizePhoto uses, so the CLI can resolve only the TPS it needs. */
function pickIndex(seed: string, slot: number, count: number): number {
  const items = Array.from({ length: count }, (_, i) => i);
  return new Rng(`${seed}:pick:${slot}`).pick(items);
}

function offlineContest(id: string, n: number): { contest: SynthContest; tps: SynthTps[] } {
  const jenis = id.startsWith('pkwkk') ? 'pkwkk' : 'pkwkp';
  const contest: SynthContest = {
    id,
    jenis,
    candidateCount: n,
    paslonIds: Array.from({ length: n }, (_, i) => String(9000001 + i)),
    header: {
      contestTitle: jenis === 'pkwkp' ? 'Pemilihan Gubernur dan Wakil Gubernur Provinsi Contoh' : 'Pemilihan Bupati dan Wakil Bupati Kabupaten Contoh',
      candidates: Array.from({ length: n }, (_, i) => ({ number: i + 1, headName: `CALON KEPALA ${i + 1}`, deputyName: `CALON WAKIL ${i + 1}` })),
    },
  };
  const tps: SynthTps[] = Array.from({ length: 50 }, (_, i) => ({
    code: `9901011001${String(i + 1).padStart(3, '0')}`,
    header: { provinsi: 'PROVINSI CONTOH', kabupaten: 'KABUPATEN CONTOH', kecamatan: 'KECAMATAN CONTOH', desa: 'DESA CONTOH', tps: String(i + 1).padStart(3, '0') },
  }));
  return { contest, tps };
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, {
    contest: { type: 'string' },
    n: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    mistakes: { type: 'string' },
    unreadable: { type: 'string' },
    page: { type: 'string' },
    candidates: { type: 'string' },
    handwriting: { type: 'string' },
    'no-db': { type: 'boolean' },
    'no-real-crops': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.contest) throw new CliError(`--contest is required\n${USAGE}`);
  if (!values.out) throw new CliError(`--out is required\n${USAGE}`);
  const n = Number(values.n);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new CliError(`--n must be a whole number ≥ 1, got "${values.n ?? ''}"`);
  const page = (values.page ?? 'both') as SynthPage;
  if (!['both', 'administrasi', 'perolehan'].includes(page)) throw new CliError(`--page must be both, administrasi or perolehan, got "${values.page}"`);
  const seed = values.seed ?? '1';
  const handwriting = values.handwriting ?? 'train';
  if (handwriting !== 'train' && handwriting !== 'heldout') throw new CliError(`--handwriting must be train or heldout, got "${handwriting}"`);
  const mistakes = share('mistakes', values.mistakes, 0.05);
  const unreadable = share('unreadable', values.unreadable, 0.05);
  let candidates: number | undefined;
  if (values.candidates !== undefined) {
    candidates = Number(values.candidates);
    if (!Number.isInteger(candidates) || candidates < 1 || candidates > 6) throw new CliError(`--candidates must be 1..6, got "${values.candidates}"`);
  }
  if (existsSync(values.out) && !statSync(values.out).isDirectory()) throw new CliError(`--out ${values.out} exists and is not a directory`);
  try {
    mkdirSync(values.out, { recursive: true });
  } catch (err) {
    throw new CliError(`cannot create ${values.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }

  let contest: SynthContest;
  let resolveSlot: (slot: number) => Promise<SynthTps>;
  let close = async () => {};
  if (values['no-db']) {
    if (!candidates) throw new CliError('--no-db needs --candidates N (1..6)');
    const off = offlineContest(values.contest, candidates);
    contest = off.contest;
    resolveSlot = async (slot) => off.tps[pickIndex(seed, slot, off.tps.length)]!;
  } else {
    const opened = await cliDatabase();
    close = opened.close;
    const database: Database = opened.database;
    try {
      const c = await loadContestForForm(database, values.contest);
      if (candidates !== undefined && candidates !== c.candidateCount) {
        throw new CliError(`contest ${c.id} has ${c.candidateCount} candidate pairs; --candidates ${candidates} only applies with --no-db`);
      }
      const list = await tpsOfContest(database, c);
      if (list.length === 0) throw new CliError(`contest ${c.id} has no TPS in the database (run \`rekap seed\` first)`);
      contest = { id: c.id, jenis: c.type, candidateCount: c.candidateCount, paslonIds: c.candidateIds, header: {} };
      const cache = new Map<string, SynthTps>();
      resolveSlot = async (slot) => {
        const t = list[pickIndex(seed, slot, list.length)]!;
        let hit = cache.get(t.code);
        if (!hit) {
          const { contestTitle, candidates: names, ...area } = await headerForTps(database, c, t.code);
          contest.header = { contestTitle, candidates: names };
          hit = { code: t.code, votersL: t.votersL, votersP: t.votersP, header: area };
          cache.set(t.code, hit);
        }
        return hit;
      };
    } catch (err) {
      await close();
      if (err instanceof FormContextError) throw new CliError(err.message);
      throw err;
    }
  }

  try {
    const lib = await loadGlyphLibrary({ realCrops: !values['no-real-crops'], part: handwriting });
    const bar = progress('synth', n);
    const started = Date.now();
    let readable = 0;
    let withMistakes = 0;
    for (let i = 0; i < n; i++) {
      const tps = await resolveSlot(synthPlan(i, page).slot);
      const { jpeg, truth } = await synthesizePhoto(i, contest, [tps], { seed, mistakes, unreadable, page }, lib);
      writeFileSync(join(values.out, truth.file), jpeg);
      writeFileSync(join(values.out, truth.file.replace(/\.jpg$/, '.json')), `${JSON.stringify(truth, null, 1)}\n`);
      if (truth.readable) readable++;
      if (truth.mistakes.length > 0) withMistakes++;
      bar.tick(i + 1);
    }
    bar.done();
    console.log(JSON.stringify({ out: values.out, n, seed, contest: contest.id, page, readable, unreadable: n - readable, withMistakes, msPerPhoto: Math.round((Date.now() - started) / n) }));
  } finally {
    await close();
  }
  return 0;
}
