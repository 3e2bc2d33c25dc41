import { findUserByUsername, revokeUser, setUserRole } from '../../../db/repositories/tokens.js';
import { CliError } from '../errors.js';
import { cliDatabase, parseCliArgs } from '../context.js';
import { parseArea, parseRole } from './user-create.js';

/**
 * `rekap user revoke --username budi` — every token and session of the user stops working, live
 * sockets included (they are re-checked every few seconds).
 * `rekap user role --username budi --role bawaslu [--area 62]` — change role and scope; takes effect
 * on the next request and on live sockets within seconds.
 */
async function withUser<T>(args: string[], extra: Record<string, { type: 'string' | 'boolean' }>, fn: (ctx: { values: Record<string, string | boolean | undefined>; user: { id: number; name: string }; sql: import('../../../db/client.js').Sql }) => Promise<T>): Promise<T> {
  const { values } = parseCliArgs(args, { username: { type: 'string' }, ...extra });
  const username = String(values.username ?? '').trim().toLowerCase();
  if (!username) throw new CliError('--username is required');
  const { database, close } = await cliDatabase();
  try {
    const user = await findUserByUsername(database.sql, username);
    if (!user) throw new CliError(`no user "${username}"`);
    return await fn({ values: values as Record<string, string | boolean | undefined>, user, sql: database.sql });
  } finally {
    await close();
  }
}

export async function revoke(args: string[]): Promise<number> {
  return withUser(args, {}, async ({ user, sql }) => {
    const changed = await revokeUser(sql, user.id);
    console.error(changed ? `user ${user.id} ${user.name} revoked: every token and session stops working` : `user ${user.id} was already revoked`);
    return 0;
  });
}

export async function role(args: string[]): Promise<number> {
  return withUser(args, { role: { type: 'string' }, area: { type: 'string' } }, async ({ values, user, sql }) => {
    const r = parseRole(values.role as string | undefined);
    const scope = parseArea(values.area as string | undefined);
    if (scope) {
      const [a] = await sql`select code from areas where code = ${scope}`;
      if (!a) throw new CliError(`area ${scope} is not in the database`);
    }
    await setUserRole(sql, user.id, r, scope);
    console.error(`user ${user.id} ${user.name} is now ${r}${scope ? ` in ${scope}` : ' everywhere'}`);
    return 0;
  });
}

export const run = revoke;
