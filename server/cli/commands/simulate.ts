/**
 * `rekap simulate --scope kalteng|national --speed <x> [--viewers N] [--errors none|normal|heavy]
 *  [--photos | --readings] [--tps N] [--url http://localhost:3000] [--token T] [--seed N] [--out file.json]`
 *
 * Replays an election night against a running rekap (`npm start`) on this machine. Live progress on
 * stderr; the summary JSON on stdout (and in --out). Exit 0 only when every check held.
 */
import { writeFileSync } from 'node:fs';
import { CliError, cliDatabase, parseCliArgs } from '../context.js';
import { runSimulation, SimulationError, type SimScope } from '../../simulate/index.js';
import { ERROR_PROFILES, type ErrorProfile } from '../../simulate/night.js';

const HELP = `usage: rekap simulate --scope kalteng|national --speed <x> [options]

  --scope     TPS that report: kalteng (Kalimantan Tengah) or national (as seeded)
  --speed     simulated minutes per real minute (60: a 12-hour night in about 12 minutes)
  --viewers   Socket.IO viewers watching random areas (default 50)
  --errors    none | normal | heavy: duplicates, wrong pages, KPPS mistakes, retaken photos (default normal)
  --photos    (default) photograph both pages of every form and upload them; the server's reader reads
              them, the phone reads the result back and the KPPS confirms when it is missing or wrong
  --readings  send ready readings through the KPPS confirmation endpoint (the publish path alone)
  --tps       only the first N TPS of the scope (short runs)
  --url       the running rekap (default http://127.0.0.1:<PORT>); loopback only
  --token     one bearer token for every request (default: one KPPS device token per TPS, created as
              rekap token create --role operator --tps <code> does); 429 answers are waited out per Retry-After
  --photo-workers  processes rendering photos (default 1)
  --concurrency    forms in flight at most (default 16)
  --out       also write the summary JSON to this file`;

const positive = (name: string, raw: string | undefined, dflt: number, max: number) => {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new CliError(`--${name} must be a number between 0 and ${max}, got "${raw}"`);
  return n;
};

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, {
    scope: { type: 'string' }, speed: { type: 'string' }, viewers: { type: 'string' }, errors: { type: 'string' },
    readings: { type: 'boolean' }, photos: { type: 'boolean' }, 'photo-workers': { type: 'string' }, tps: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' },
    seed: { type: 'string' }, out: { type: 'string' }, concurrency: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { console.log(HELP); return 0; }
  const scope = (values.scope ?? 'kalteng') as SimScope;
  if (scope !== 'kalteng' && scope !== 'national') throw new CliError(`--scope must be kalteng or national, got "${values.scope}"`);
  const errors = (values.errors ?? 'normal') as ErrorProfile;
  if (!(errors in ERROR_PROFILES)) throw new CliError(`--errors must be one of ${Object.keys(ERROR_PROFILES).join(', ')}, got "${values.errors}"`);
  const speed = positive('speed', values.speed, 60, 1_000_000);
  const viewers = Math.floor(positive('viewers', values.viewers ?? '50', 50, 20_000));
  const tpsLimit = values.tps === undefined ? undefined : Math.floor(positive('tps', values.tps, 0, 1_000_000));
  const concurrency = Math.floor(positive('concurrency', values.concurrency, 16, 256));
  if (values.readings && values.photos) throw new CliError('give --photos or --readings, not both');
  const mode = values.readings ? 'readings' : 'photos';
  const photoWorkers = Math.floor(positive('photo-workers', values['photo-workers'], 1, 64));

  const { config, database, close } = await cliDatabase();
  try {
    const url = values.url ?? `http://127.0.0.1:${config.PORT}`;
    let host: string;
    try { host = new URL(url).hostname; } catch { throw new CliError(`--url is not a URL: "${url}"`); }
    // Loopback only: a load generator must never be pointed at someone else's server by accident.
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new CliError(`--url must be on this machine (127.0.0.1/localhost), got ${host}`);
    const health = await fetch(`${url}/api/results/pkwkp-62/62.json`).catch(() => null);
    if (!health) throw new CliError(`no rekap answers at ${url}: start it with npm start (same database)`);
    const summary = await runSimulation({
      url, sql: database.sql, database, mode, token: values.token, scope, speed, viewers, errors, tpsLimit, concurrency, photoWorkers,
      seed: values.seed === undefined ? undefined : Number(values.seed),
      log: (l) => process.stderr.write(`[simulate] ${l}\n`),
    }).catch((err) => {
      if (err instanceof SimulationError) throw new CliError(err.message);
      throw err;
    });
    const json = JSON.stringify(summary, null, 2);
    console.log(json);
    if (values.out) writeFileSync(values.out, `${json}\n`);
    return summary.ok ? 0 : 1;
  } finally {
    await close();
  }
}
