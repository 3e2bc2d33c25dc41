import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config.js';
import { openDatabase, type OpenDatabase } from '../runtime/database.js';

import { CliError } from './errors.js';

export { CliError };

/** parseArgs with strict checking, turning its TypeErrors into CliErrors that name the bad option. */
export function parseCliArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Config + database for commands that need them; close() stops an embedded server it started. */
export async function cliDatabase(): Promise<{ config: Config } & OpenDatabase> {
  const config = loadConfig();
  const opened = await openDatabase(config, { log: (l) => process.stderr.write(`${l}\n`) });
  return { config, ...opened };
}

/** A one-line progress indicator on stderr for long commands (no-op when stderr is not a TTY… except the final line). */
export function progress(label: string, total: number) {
  const tty = process.stderr.isTTY;
  let last = 0;
  const started = Date.now();
  return {
    tick(done: number) {
      const now = Date.now();
      if (!tty && done < total && now - last < 2000) return;
      if (tty && done < total && now - last < 100) return;
      last = now;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      const line = `${label}: ${done.toLocaleString('en')}/${total.toLocaleString('en')} (${pct}%) ${((now - started) / 1000).toFixed(1)}s`;
      process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
    },
    done(extra = '') {
      const line = `${label}: ${total.toLocaleString('en')} done in ${((Date.now() - started) / 1000).toFixed(1)}s ${extra}`;
      process.stderr.write(tty ? `\r${line}\u001b[K\n` : `${line}\n`);
    },
  };
}
