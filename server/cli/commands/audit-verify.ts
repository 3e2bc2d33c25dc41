import { verifyAuditChain } from '../../../db/repositories/audit.js';
import { cliDatabase, parseCliArgs } from '../context.js';

/**
 * `rekap audit verify` — recompute the hash chain from genesis; exit 1 naming the first bad row.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, { json: { type: 'boolean' } });
  const { database, close } = await cliDatabase();
  try {
    const r = await verifyAuditChain(database.sql);
    if (values.json) console.log(JSON.stringify(r));
    else if (r.ok) console.log(`audit chain ok: ${r.rows} entries, head ${r.head}`);
    else console.log(`audit chain BROKEN at row ${r.badId}: ${r.reason} (${r.rows - 1} entries before it verify)`);
    return r.ok ? 0 : 1;
  } finally {
    await close();
  }
}
