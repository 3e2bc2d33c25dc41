/**
 * `rekap read <photo...> [--contest <id> | --candidates N] [--page administrasi|perolehan] [--json]`
 *
 * Reads each photo in this process (OpenCV loads once) and prints, per input and in input order,
 * one JSON line (--json: the whole PageReading plus "file") or a readable block. A photo that cannot
 * be read still gets its line (class REJECTED, with the reason) and a message on stderr; the exit
 * code is 1 when any input was rejected or failed, 2 for a usage error.
 */
import { readFileSync } from 'node:fs';
import { CliError, cliDatabase, parseCliArgs } from '../../../server/cli/context.js';
import { readPhoto, rejected, type ReadOptions } from '../pipeline.js';
import type { PageKind, PageReading } from '../types.js';

const USAGE =
  'usage: rekap read <photo...> [--contest <id> | --candidates <1..6>] [--page administrasi|perolehan] [--json]';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(
    args,
    {
      contest: { type: 'string' },
      candidates: { type: 'string' },
      page: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new CliError(`no photo given\n${USAGE}`);
  const opts: ReadOptions = {};
  if (values.page !== undefined) {
    if (values.page !== 'administrasi' && values.page !== 'perolehan') throw new CliError(`--page must be administrasi or perolehan, got "${values.page}"`);
    opts.expectedPage = values.page as PageKind;
  }
  if (values.candidates !== undefined) {
    const n = Number(values.candidates);
    if (!Number.isInteger(n) || n < 1 || n > 6) throw new CliError(`--candidates must be an integer 1..6, got "${values.candidates}"`);
    opts.contestCandidateCount = n;
  }
  if (values.contest !== undefined) {
    const n = await candidateCountOf(values.contest);
    if (opts.contestCandidateCount !== undefined && opts.contestCandidateCount !== n) {
      throw new CliError(`--candidates ${opts.contestCandidateCount} contradicts contest ${values.contest}, which has ${n} candidate pairs`);
    }
    opts.contestCandidateCount = n;
  }

  let failed = 0;
  for (const file of positionals) {
    let reading: PageReading;
    let bytes: Buffer | null = null;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      reading = rejected('unreadable_file', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {});
      reading.file = file;
    }
    if (bytes) {
      try {
        reading = readPhoto(bytes, { ...opts, file });
      } catch (err) {
        // A bug, not a bad photo: report it for this file and carry on with the others.
        process.stderr.write(`rekap read: ${file}: internal error: ${(err as Error).stack ?? err}\n`);
        reading = rejected('internal_error', (err as Error).message, {});
        reading.file = file;
      }
    }
    reading = reading!;
    if (reading.class === 'REJECTED') {
      failed++;
      process.stderr.write(`rekap read: ${file}: rejected (${reading.rejectReason}): ${reading.rejectDetail}\n`);
    }
    process.stdout.write(values.json ? `${JSON.stringify({ file, ...reading })}\n` : `${table(file, reading)}\n`);
  }
  return failed > 0 ? 1 : 0;
}

async function candidateCountOf(contestId: string): Promise<number> {
  let opened: Awaited<ReturnType<typeof cliDatabase>>;
  try {
    opened = await cliDatabase();
  } catch (err) {
    throw new CliError(`--contest needs the database (${(err as Error).message}); pass --candidates N instead`);
  }
  try {
    const { loadContestForForm, FormContextError } = await import('../render/context.js');
    try {
      return (await loadContestForForm(opened.database, contestId)).candidateCount;
    } catch (err) {
      if (err instanceof FormContextError) throw new CliError(err.message);
      throw err;
    }
  } finally {
    await opened.close();
  }
}

function table(file: string, r: PageReading): string {
  const lines = [`${file}: ${r.class}${r.rejectReason ? ` (${r.rejectReason}: ${r.rejectDetail})` : ''}`];
  if (r.page) lines.push(`  halaman/page ${r.page}  template ${r.templateId}  mark ${r.markId ?? (r.identifiedBy === 'layout' ? 'unread (page told by its layout)' : '–')}  alignment ${r.alignmentScore}`);
  const keys = Object.keys(r.fields);
  if (keys.length) {
    const w = Math.max(...keys.map((k) => k.length));
    lines.push(`  ${'field'.padEnd(w)}  value     p  raw`);
    for (const k of keys) {
      const f = r.fields[k]!;
      lines.push(`  ${k.padEnd(w)}  ${String(f.value ?? '-').padStart(5)}  ${f.p.toFixed(3)}  ${f.raw ?? '-'}`);
    }
    lines.push(`  P(consistent) ${r.pConsistent.toFixed(4)}  posterior ${r.post.toFixed(4)}`);
  }
  for (const c of r.changes) lines.push(`  changed ${c.key} box ${c.box}: ${c.from} → ${c.to} (p ${c.p.toFixed(3)})`);
  const t = Object.entries(r.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`  ms: ${t}`);
  return lines.join('\n');
}
