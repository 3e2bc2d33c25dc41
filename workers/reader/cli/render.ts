/**
 * `rekap form render --contest <id> --tps <code> --page <administrasi|perolehan> --out <file.png|file.pdf>`
 * Prints the blank C.Hasil-KWK page of one TPS: the header (area names, TPS number, contest title,
 * candidate names) comes from the database, or from --header-json when no database is wanted
 * (then --candidates gives the perolehan layout).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { z } from 'zod';
import { CliError, cliDatabase, parseCliArgs } from '../../../server/cli/context.js';
import { templateFor, TemplateError } from '../template/index.js';
import { renderForm, type FormHeader } from '../render/index.js';
import { FormContextError, headerForTps, loadContestForForm } from '../render/context.js';

const USAGE =
  'usage: rekap form render --contest <id> --tps <13-digit code> --page <administrasi|perolehan> --out <file.png|file.pdf> [--dpi 150] [--header-json <file|json> --candidates N]';

const headerSchema = z.object({
  provinsi: z.string(),
  kabupaten: z.string(),
  kecamatan: z.string(),
  desa: z.string(),
  tps: z.string(),
  contestTitle: z.string().optional(),
  candidates: z.array(z.object({ number: z.number().int().min(1).max(6), headName: z.string(), deputyName: z.string() })).optional(),
});

function readHeaderJson(arg: string): FormHeader {
  let text = arg.trim();
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(arg, 'utf8');
    } catch (err) {
      throw new CliError(`--header-json: cannot read ${arg}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError('--header-json: not valid JSON');
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new CliError(`--header-json: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return parsed.data;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, {
    contest: { type: 'string' },
    tps: { type: 'string' },
    page: { type: 'string' },
    out: { type: 'string' },
    dpi: { type: 'string' },
    'header-json': { type: 'string' },
    candidates: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const page = values.page;
  if (page !== 'administrasi' && page !== 'perolehan') throw new CliError(`--page must be administrasi or perolehan\n${USAGE}`);
  if (!values.out) throw new CliError(`--out is required\n${USAGE}`);
  const ext = extname(values.out).toLowerCase();
  if (ext !== '.png' && ext !== '.pdf') throw new CliError(`--out must end in .png or .pdf, got "${values.out}"`);
  const dpi = values.dpi === undefined ? 150 : Number(values.dpi);
  if (!Number.isFinite(dpi) || dpi < 30 || dpi > 1200) throw new CliError(`--dpi must be a number in 30..1200, got "${values.dpi}"`);

  let header: FormHeader;
  let candidateCount: number | undefined;
  if (values['header-json'] !== undefined) {
    header = readHeaderJson(values['header-json']);
    if (values.candidates !== undefined) {
      candidateCount = Number(values.candidates);
      if (!Number.isInteger(candidateCount) || candidateCount < 1 || candidateCount > 6) throw new CliError(`--candidates must be 1..6, got "${values.candidates}"`);
    } else candidateCount = header.candidates?.length;
    if (page === 'perolehan' && !candidateCount) throw new CliError('a perolehan page without the database needs --candidates N or candidates in --header-json');
  } else {
    if (!values.contest) throw new CliError(`--contest is required (or --header-json)\n${USAGE}`);
    if (!values.tps) throw new CliError(`--tps is required (or --header-json)\n${USAGE}`);
    const opened = await cliDatabase();
    try {
      const contest = await loadContestForForm(opened.database, values.contest);
      header = await headerForTps(opened.database, contest, values.tps);
      candidateCount = contest.candidateCount;
    } catch (err) {
      if (err instanceof FormContextError) throw new CliError(err.message);
      throw err;
    } finally {
      await opened.close();
    }
  }

  let template;
  try {
    template = templateFor(page, page === 'perolehan' ? candidateCount : undefined);
  } catch (err) {
    if (err instanceof TemplateError) throw new CliError(err.message);
    throw err;
  }
  const buf = await renderForm(template, header, { dpi, format: ext === '.pdf' ? 'pdf' : 'png' });
  try {
    writeFileSync(values.out, buf);
  } catch (err) {
    throw new CliError(`cannot write ${values.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  console.error(`${values.out}: ${template.id} (mark ${template.markId}), ${buf.length.toLocaleString('en')} bytes`);
  return 0;
}
