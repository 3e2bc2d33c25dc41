/**
 * Live events for the anomaly feed. Findings and cases are announced on the PostgreSQL channel
 * `rekap_investigation` (any process may write them: workers, CLI imports, API), so the realtime
 * layer LISTENs once and forwards them to the Socket.IO rooms of the areas concerned. Payloads stay
 * small (ids and area codes); clients fetch details over REST.
 */
import type postgres from 'postgres';
import type { InvestigationEvent } from '../../server/contract/investigation.js';

export const INVESTIGATION_CHANNEL = 'rekap_investigation';

type Tx = postgres.ISql;

/** pg_notify payloads are limited to 8,000 bytes: large batches are split. */
export async function notifyInvestigation(tx: Tx, events: InvestigationEvent[]): Promise<void> {
  let batch: InvestigationEvent[] = [];
  let size = 0;
  const flush = async () => {
    if (batch.length) await tx`select pg_notify(${INVESTIGATION_CHANNEL}, ${JSON.stringify(batch)})`;
    batch = [];
    size = 0;
  };
  for (const e of events) {
    const s = JSON.stringify(e).length + 1;
    if (size + s > 7000) await flush();
    batch.push(e);
    size += s;
  }
  await flush();
}

/** Parse a notification payload (an array of events); malformed payloads yield []. */
export function parseInvestigationPayload(payload: string): InvestigationEvent[] {
  try {
    const v = JSON.parse(payload);
    return Array.isArray(v) ? (v as InvestigationEvent[]) : [];
  } catch {
    return [];
  }
}
