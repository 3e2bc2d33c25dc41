import { randomBytes } from 'node:crypto';
import { createPasswordUser } from '../../../db/repositories/tokens.js';
import { ROLES, type Role } from '../../auth/index.js';
import { hashPassword, passwordProblem } from '../../auth/passwords.js';
import { CliError } from '../errors.js';
import { cliDatabase, parseCliArgs } from '../context.js';

/**
 * `rekap user create --username budi --role kpu_reviewer --area 6201 [--name "Budi S."] [--password-stdin]`
 * A person who signs in on the dashboard with a password (argon2id). Without --password-stdin a
 * random password is generated and printed once on stdout. Phones use `rekap token create` instead.
 */
export const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;
const PERSON_ROLES: Role[] = ROLES.filter((r) => r !== 'public' && r !== 'kpps');

export async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError('--password-stdin reads the password from a pipe: echo "…" | rekap user create … --password-stdin');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  // Only the first line: `echo` adds a newline that is not part of the password.
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
}

export function parseArea(raw: string | undefined): string | null {
  const scope = (raw ?? '').replace(/\./g, '') || null;
  if (scope && !/^(00|\d{2}|\d{4}|\d{6}|\d{10})$/.test(scope)) throw new CliError(`--area must be an area code (00, 2, 4, 6 or 10 digits), got "${raw}"`);
  return scope === '00' ? null : scope;
}

export function parseRole(raw: string | undefined): Role {
  if (!raw) throw new CliError(`--role is required (${PERSON_ROLES.join(', ')})`);
  if (!PERSON_ROLES.includes(raw as Role)) throw new CliError(`role "${raw}" cannot sign in with a password (one of ${PERSON_ROLES.join(', ')}; phones use rekap token create)`);
  return raw as Role;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, {
    username: { type: 'string' }, role: { type: 'string' }, area: { type: 'string' }, name: { type: 'string' },
    'password-stdin': { type: 'boolean' }, json: { type: 'boolean' },
  });
  const username = (values.username ?? '').trim().toLowerCase();
  if (!USERNAME.test(username)) throw new CliError(`--username must be 3–64 characters of a-z, 0-9, ".", "_" or "-", got "${values.username ?? ''}"`);
  const role = parseRole(values.role);
  const scope = parseArea(values.area);
  if ((role === 'kpu_operator' || role === 'kpu_reviewer') && !scope) throw new CliError(`a ${role} works in an area: give --area <code> (00 for the whole country)`);
  const generated = !values['password-stdin'];
  const password = generated ? randomBytes(18).toString('base64url') : await readPasswordFromStdin();
  const problem = passwordProblem(password);
  if (problem) throw new CliError(problem);

  const { database, close } = await cliDatabase();
  try {
    if (scope) {
      const [a] = await database.sql`select code from areas where code = ${scope}`;
      if (!a) throw new CliError(`area ${scope} is not in the database`);
    }
    const created = await createPasswordUser(database.sql, { username, name: values.name ?? username, role, scopeCode: scope, passwordHash: await hashPassword(password) });
    if (!created) throw new CliError(`username "${username}" is taken`);
    if (values.json) console.log(JSON.stringify({ userId: created.userId, username, role, scope, ...(generated ? { password } : {}) }));
    else {
      console.error(`user ${created.userId} ${username} (${role}${scope ? `, area ${scope}` : ', everywhere'}) created${generated ? '; the password is shown once:' : ''}`);
      if (generated) console.log(password);
    }
    return 0;
  } finally {
    await close();
  }
}
