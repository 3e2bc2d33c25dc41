/**
 * A worker process for test/ingest-kill.test.ts. Mode "hang": the reader announces it started (writes
 * REKAP_KILL_MARKER) and then never returns, so the parent can SIGKILL the process mid-job. Mode "ok":
 * the reader returns the reading stored in REKAP_KILL_READING. Tests may read the environment; product
 * modules never do.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { connect } from '../db/client.js';
import { loadConfig } from '../server/config.js';
import { startWorkers } from '../workers/runtime.js';

const url = process.env.DATABASE_URL!;
const mode = process.env.REKAP_KILL_MODE!;
const database = connect(url, { max: 4 });
const config = loadConfig({ DATABASE_URL: url, REKAP_DATA_DIR: process.env.REKAP_KILL_DATA_DIR! });
const reading = JSON.parse(readFileSync(process.env.REKAP_KILL_READING!, 'utf8'));
await startWorkers({
  config, database, url, log: () => {},
  maintenanceIntervalSeconds: 1,
  timings: { 'read-page': { expireInSeconds: 2, retryDelaySeconds: 0, retryBackoff: false } },
  reader: async () => {
    writeFileSync(process.env.REKAP_KILL_MARKER!, `${mode} ${process.pid}\n`, { flag: 'a' });
    if (mode === 'hang') await new Promise(() => {});
    return reading;
  },
});
process.send?.('ready');
