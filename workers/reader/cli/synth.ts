/**
 * `rekap synth --contest <id> --n <N> --out <dir> [--seed S] [--mistakes 0.05] [--unreadable 0.05]
 *   [--page both|administrasi|perolehan] [--candidates N] [--handwriting train|heldout] [--no-db] [--no-real-crops]
 *   [--photos-per-process 60]`
 *
 * Writes N synthetic photos (<index>-<tps>-<page>.jpg) with their ground truth (<same name>.json) and
 * prints one summary JSON document on stdout. The contest, its candidates and the TPS (area names,
 * registered voters) come from the database; --no-db uses invented names (with --candidates).
 * Same seed and same database → the same files.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, cliDatabase, parseCliArgs, progress } from '../../../server/cli/context.js';
import { FormContextError, headerForTps, loadContestForForm, tpsOfContest } from '../render/context.js';
import { loadGlyphLibrary, Rng, synthesizePhoto, synthPlan, type SynthContest, type SynthPage, type SynthTps } from '../synth/index.js';
import type { Database } from '../../../db/client.js';

const USAGE =
  'usage: rekap synth --contest <id> --n <N> --out <dir> [--seed S] [--mistakes 0.05] [--unreadable 0.05] [--page both|administrasi|perolehan] [--candidates N] [--handwriting train|heldout] [--no-db] [--no-real-crops] [--photos-per-process 60]';

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

/**
 * Photos per child process. @napi-rs/canvas (1.1.1, and 1.2.1 too) never frees the pixel buffer it
 * copies out on `data()`/`getImageData()` (~65 MB per 300-dpi page), so one process fits only a few
 * hundred photos in memory; a longer run is cut into slices, each in a fresh process.
 */
const SLICE = 60;

interface SliceMessage { photo: number; readable: boolean; mistakes: boolean }

/** The one summary line of a run, whether it ran in this process or in slices. */
function summary(out: string, n: number, seed: string, contest: string, page: SynthPage, readable: number, withMistakes: number, started: number): string {
  return JSON.stringify({ out, n, seed, contest, page, readable, unreadable: n - readable, withMistakes, msPerPhoto: Math.round((Date.now() - started) / n) });
}

/** The parent of a long run: children of `perProcess` photos each, up to one per core at a time; one summary. */
async function runSliced(args: string[], n: number, perProcess: number, out: string, seed: string, contest: string, page: SynthPage): Promise<number> {
  const main = fileURLToPath(new URL('../../../server/cli/main.ts', import.meta.url));
  const slices: [number, number][] = [];
  for (let a = 0; a < n; a += perProcess) slices.push([a, Math.min(n, a + perProcess)]);
  const bar = progress('synth', n);
  const started = Date.now();
  let done = 0;
  let readable = 0;
  let withMistakes = 0;
  const runSlice = ([a, b]: [number, number]) =>
    new Promise<void>((resolve, reject) => {
      const child = fork(main, ['synth', ...args, '--slice', `${a}:${b}`], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('message', (m: SliceMessage) => {
        done++;
        if (m.readable) readable++;
        if (m.mistakes) withMistakes++;
        bar.tick(done);
      });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new CliError(`synth: photos ${a}..${b - 1} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`))));
    });
  const queue = [...slices];
  const lanes = Math.max(1, Math.min(cpus().length, slices.length));
  await Promise.all(Array.from({ length: lanes }, async () => {
    for (let s = queue.shift(); s; s = queue.shift()) await runSlice(s);
  }));
  bar.done();
  console.log(summary(out, n, seed, contest, page, readable, withMistakes, started));
  return 0;
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
    /** Photos per child process (default SLICE). */
    'photos-per-process': { type: 'string' },
    /** Internal: photos [a, b) only, reporting to the parent over IPC (see SLICE). */
    slice: { type: 'string' },
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

  let range: [number, number] = [0, n];
  if (values.slice !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(values.slice);
    if (!m || Number(m[1]) >= Number(m[2]) || Number(m[2]) > n || !process.send) throw new CliError(`--slice is internal (a:b within --n, run by the parent), got "${values.slice}"`);
    range = [Number(m[1]), Number(m[2])];
  }
  const perProcess = values['photos-per-process'] === undefined ? SLICE : Number(values['photos-per-process']);
  if (!Number.isInteger(perProcess) || perProcess < 1) throw new CliError(`--photos-per-process must be a whole number ≥ 1, got "${values['photos-per-process']}"`);
  if (values.slice === undefined && n > perProcess) {
    // The parent holds the database open (starting the embedded PostgreSQL if it is not running), so
    // the children attach to one server instead of racing to start it.
    const db = values['no-db'] ? null : await cliDatabase();
    try {
      return await runSliced(args, n, perProcess, values.out, seed, values.contest, page);
    } finally {
      await db?.close();
    }
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
    const child = values.slice !== undefined;
    const bar = child ? null : progress('synth', n);
    const started = Date.now();
    let readable = 0;
    let withMistakes = 0;
    for (let i = range[0]; i < range[1]; i++) {
      const tps = await resolveSlot(synthPlan(i, page).slot);
      const { jpeg, truth } = await synthesizePhoto(i, contest, [tps], { seed, mistakes, unreadable, page }, lib);
      writeFileSync(join(values.out, truth.file), jpeg);
      writeFileSync(join(values.out, truth.file.replace(/\.jpg$/, '.json')), `${JSON.stringify(truth, null, 1)}\n`);
      if (truth.readable) readable++;
      if (truth.mistakes.length > 0) withMistakes++;
      if (child) process.send!({ photo: i, readable: truth.readable, mistakes: truth.mistakes.length > 0 } satisfies SliceMessage);
      bar?.tick(i + 1);
    }
    if (child) return 0;
    bar!.done();
    console.log(summary(values.out, n, seed, contest.id, page, readable, withMistakes, started));
  } finally {
    await close();
  }
  return 0;
}
