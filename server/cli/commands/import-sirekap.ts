/**
 * `rekap import sirekap <file|dir> [...] [--source kpu]`
 *
 * Reads Sirekap's public per-TPS JSON (Pemilu PPWP records; DOMAIN §7.1) into source_results as the
 * source "kpu", checks each record's own arithmetic (Σ chart = suara_sah, sah + tidak sah = total,
 * L + P = J, …) and compares it with rekap's own photo reads (M1). Findings go to the investigation
 * queue. Importing the same file twice changes nothing. Malformed files and records are reported on
 * stderr one by one and skipped. Ends with one JSON line on stdout:
 *   {"files": <files read>, "tps": <TPS imported>, "findings": {"<rule>": ["<tps code>", ...]}}
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { currentReadValues, ensurePpwpContest, upsertSourceResults } from '../../../db/repositories/sources.js';
import { recordFindingsTx } from '../../../workers/cases/service.js';
import { sourceMismatchFinding } from '../../../workers/detectors/deterministic.js';
import { PPWP_CANDIDATES, recordsOfFile, SirekapFormatError, sirekapFindings, sourceValues, type SirekapRecord } from '../../../workers/detectors/sirekap.js';
import type { Finding } from '../../../workers/detectors/types.js';
import { cliDatabase, parseCliArgs, progress } from '../context.js';
import { CliError } from '../errors.js';

const MAX_FILE_BYTES = 256 * 1024 * 1024;

function listJsonFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new CliError(`${path}: no such file or directory`);
  }
  if (st.isFile()) return [path];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.isFile() && e.name.toLowerCase().endsWith('.json')) out.push(join(dir, e.name));
    }
  };
  walk(path);
  return out;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(args, { source: { type: 'string', default: 'kpu' } }, true);
  if (positionals.length === 0) throw new CliError('give one or more Sirekap JSON files or directories: rekap import sirekap <file|dir>');
  const source = values.source!;
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(source)) throw new CliError(`--source must be a short lowercase name, got "${source}"`);
  const files = positionals.flatMap(listJsonFiles);
  if (files.length === 0) throw new CliError(`no .json files under ${positionals.join(', ')}`);

  // Parse everything first: a malformed file is reported and skipped, the others still import.
  const byTps = new Map<string, { record: SirekapRecord; file: string }>();
  let filesRead = 0;
  let problems = 0;
  for (const file of files) {
    const label = relative(process.cwd(), file) || file;
    try {
      if (statSync(file).size > MAX_FILE_BYTES) throw new SirekapFormatError(`larger than ${MAX_FILE_BYTES / 1024 / 1024} MB`);
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new SirekapFormatError(`not valid JSON (${(err as Error).message})`);
      }
      const { records, errors } = recordsOfFile(file, json);
      for (const e of errors) process.stderr.write(`rekap import sirekap: ${label}: skipped record: ${e}\n`);
      problems += errors.length;
      for (const r of records) byTps.set(r.tpsCode, { record: r, file: label }); // a later file wins for the same TPS
      filesRead++;
    } catch (err) {
      if (!(err instanceof SirekapFormatError)) throw err;
      process.stderr.write(`rekap import sirekap: ${label}: skipped file: ${err.message}\n`);
      problems++;
    }
  }
  // Records with neither votes nor administrasi (not digitised yet) carry nothing to import.
  const records = [...byTps.values()].filter(({ record: r }) => Object.keys(r.chart).length || Object.keys(r.administrasi).length)
    .sort((a, b) => (a.record.tpsCode < b.record.tpsCode ? -1 : 1));

  const { database, close } = await cliDatabase();
  const findingsByRule: Record<string, string[]> = {};
  try {
    const candidateIds = PPWP_CANDIDATES.map((c) => c.id);
    const bar = progress('import sirekap', records.length);
    const BATCH = 500;
    for (let i = 0; i < records.length; i += BATCH) {
      const batch = records.slice(i, i + BATCH);
      await database.sql.begin(async (tx) => {
        const { contestId } = await ensurePpwpContest(tx, { provCode: batch[0].record.tpsCode.slice(0, 2), candidates: PPWP_CANDIDATES });
        await upsertSourceResults(tx, batch.map(({ record: r, file }) => ({ source, tpsCode: r.tpsCode, contestId, values: sourceValues(r), sourceTs: r.ts, importedFrom: file })));
        const findings: Finding[] = [];
        for (const { record: r, file } of batch) findings.push(...sirekapFindings(r, contestId, candidateIds, `source:${source}/${file}#${r.tpsCode}`));
        // M1: the same TPS as rekap read it from photos.
        const reads = await currentReadValues(tx, contestId, batch.map((b) => b.record.tpsCode));
        for (const { record: r, file } of batch) {
          const ours = reads.get(r.tpsCode);
          if (!ours) continue;
          const f = sourceMismatchFinding({ tpsCode: r.tpsCode, desaCode: ours.desaCode ?? r.tpsCode.slice(0, 10) }, contestId,
            { values: ours.values, ref: `result:${r.tpsCode}/${contestId}/v${ours.version}` }, { source, values: sourceValues(r), ref: `source:${source}/${file}#${r.tpsCode}` });
          if (f) findings.push(f);
        }
        for (const f of findings) (findingsByRule[f.rule] ??= []).push(f.tpsCode!);
        await recordFindingsTx(tx, findings, { actor: `cli:import-sirekap (${source})` });
      });
      bar.tick(Math.min(records.length, i + BATCH));
    }
    bar.done();
  } catch (err) {
    if (err instanceof Error && /seed areas first/.test(err.message)) throw new CliError(err.message);
    throw err;
  } finally {
    await close();
  }
  const findings = Object.fromEntries(Object.entries(findingsByRule).sort().map(([rule, codes]) => [rule, [...new Set(codes)].sort()]));
  process.stdout.write(`${JSON.stringify({ files: filesRead, tps: records.length, findings })}\n`);
  return problems > 0 && filesRead === 0 ? 2 : 0;
}
