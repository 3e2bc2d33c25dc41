import { recountTallies } from '../../../db/repositories/publish.js';
import { CliError } from '../errors.js';
import { cliDatabase, parseCliArgs } from '../context.js';

/**
 * `rekap recount [--verify] [--contest <id>] [--write]`
 * Recompute every area tally from the current TPS rows. --verify (default) compares with the stored,
 * incrementally maintained tallies and exits 1 on any difference; --write replaces them.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, { verify: { type: 'boolean' }, write: { type: 'boolean' }, contest: { type: 'string' }, json: { type: 'boolean' } });
  if (values.verify && values.write) throw new CliError('give --verify or --write, not both');
  const { database, close } = await cliDatabase();
  try {
    if (values.contest) {
      const [c] = await database.sql`select id from contests where id = ${values.contest}`;
      if (!c) throw new CliError(`contest ${values.contest} not found`);
    }
    const started = Date.now();
    const r = await recountTallies(database.sql, { contestId: values.contest, write: values.write });
    const summary = { checked: r.checked, mismatches: r.mismatches.length, ms: Date.now() - started, written: !!values.write };
    if (values.json) console.log(JSON.stringify({ ...summary, first: r.mismatches.slice(0, 20) }));
    else {
      for (const m of r.mismatches.slice(0, 20)) console.error(`mismatch ${m.contestId} ${m.areaCode} ${m.field}: stored ${m.stored}, recount ${m.recount}`);
      console.log(`${r.checked} area tallies checked, ${r.mismatches.length} mismatch${r.mismatches.length === 1 ? '' : 'es'}${values.write ? ' (rewritten from TPS rows)' : ''}`);
    }
    return r.mismatches.length > 0 && !values.write ? 1 : 0;
  } finally {
    await close();
  }
}
