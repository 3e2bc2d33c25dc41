/**
 * `rekap seed [--scope kalteng|national] [--seed N]`: seed (or complete) the Pilkada 2024 data.
 * Re-running with the same options changes nothing; another --seed re-draws registered voters,
 * which is refused once results exist.
 */
import { CliError, cliDatabase, parseCliArgs, progress } from '../../server/cli/context.js';
import { ensureSeeded, SEED_SCOPES, SeedConflictError, type SeedScope } from './index.js';

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, { scope: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log('usage: rekap seed [--scope kalteng|national] [--seed N]\n\n  --scope  TPS to create: kalteng (Kalimantan Tengah, default) or national\n  --seed   seed number for registered voters (default REKAP_SEED or 2024)');
    return 0;
  }
  if (values.scope !== undefined && !SEED_SCOPES.includes(values.scope as SeedScope)) {
    throw new CliError(`--scope must be one of ${SEED_SCOPES.join(', ')}, got "${values.scope}"`);
  }
  if (values.seed !== undefined && !/^\d{1,15}$/.test(values.seed)) {
    throw new CliError(`--seed must be a non-negative whole number, got "${values.seed}"`);
  }
  const { config, database, close } = await cliDatabase();
  try {
    const scope = (values.scope as SeedScope | undefined) ?? (config.REKAP_SEED_SCOPE === 'national' ? 'national' : 'kalteng');
    const seed = values.seed !== undefined ? Number(values.seed) : config.REKAP_SEED;
    let bar: ReturnType<typeof progress> | null = null;
    const result = await ensureSeeded(database, { scope, seed }, {
      reseed: values.seed !== undefined,
      log: (line) => process.stderr.write(`${line}\n`),
      onTpsProgress: (done, total) => {
        bar ??= progress('tps', total);
        if (done < total) bar.tick(done);
        else bar.done();
      },
    });
    const summary = result.changed
      ? `seeded pilkada2024 (${result.scope}, seed ${result.seed}): ${result.areas.toLocaleString('en')} areas, ${result.contests} contests, ${result.candidates} candidates, ${result.tps.toLocaleString('en')} TPS in ${(result.ms / 1000).toFixed(1)} s`
      : `already seeded (${result.scope}, seed ${result.seed}, data ${result.dataVersion}): nothing to do`;
    console.log(result.note ? `${summary}; ${result.note}` : summary);
    return 0;
  } catch (err) {
    if (err instanceof SeedConflictError) throw new CliError(err.message);
    throw err;
  } finally {
    await close();
  }
}
