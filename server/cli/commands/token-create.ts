import { createUserWithToken } from '../../../db/repositories/tokens.js';
import { ROLE_ALIASES, ROLES, type Role } from '../../auth/index.js';
import { CliError } from '../errors.js';
import { cliDatabase, parseCliArgs } from '../context.js';

/**
 * `rekap token create --role operator --tps 6201011013001 [--name "KPPS …"] [--area 6201]`
 * Creates a user with that role and scope and prints one bearer token on stdout (shown once).
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, {
    role: { type: 'string' }, tps: { type: 'string' }, area: { type: 'string' }, name: { type: 'string' },
    json: { type: 'boolean' },
  });
  const roleName = values.role;
  if (!roleName) throw new CliError(`--role is required (${['operator', ...ROLES].join(', ')})`);
  const role: Role | undefined = ROLE_ALIASES[roleName] ?? (ROLES.includes(roleName as Role) ? (roleName as Role) : undefined);
  if (!role) throw new CliError(`unknown role "${roleName}" (${['operator', ...ROLES].join(', ')})`);
  if (values.tps && values.area) throw new CliError('give --tps or --area, not both');
  const scope = (values.tps ?? values.area ?? '').replace(/\./g, '') || null;
  if (values.tps && !/^\d{13}$/.test(scope!)) throw new CliError(`--tps must be a 13-digit TPS code (desa code + 3-digit number), got "${values.tps}"`);
  if (values.area && !/^(00|\d{2}|\d{4}|\d{6}|\d{10})$/.test(scope!)) throw new CliError(`--area must be an area code (2, 4, 6 or 10 digits), got "${values.area}"`);
  if (role === 'kpps' && !values.tps) throw new CliError('an operator (kpps) token needs --tps <13-digit code>');

  const { database, close } = await cliDatabase();
  try {
    if (values.tps) {
      const [t] = await database.sql`select code from tps where code = ${scope}`;
      if (!t) throw new CliError(`TPS ${scope} is not in the database (seeded scope?)`);
    } else if (scope && scope !== '00') {
      const [a] = await database.sql`select code from areas where code = ${scope}`;
      if (!a) throw new CliError(`area ${scope} is not in the database`);
    }
    const name = values.name ?? (values.tps ? `KPPS TPS ${scope}` : `${role}${scope ? ` ${scope}` : ''}`);
    const created = await createUserWithToken(database.sql, { name, role, scopeCode: scope, kind: role === 'kpps' ? 'device' : 'cli' });
    if (values.json) console.log(JSON.stringify({ token: created.token, userId: created.userId, role, scope }));
    else {
      console.error(`user ${created.userId} (${role}${scope ? `, scope ${scope}` : ''}) — the token is shown once:`);
      console.log(created.token);
    }
    return 0;
  } finally {
    await close();
  }
}
