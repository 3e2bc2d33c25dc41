import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runningPostmaster } from '../db/embedded.js';

// A CLI command beside `npm start` must attach to the running embedded server instead of trying
// to start a second postmaster on the same data folder.
describe('runningPostmaster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rekap-pm-'));
  const write = (pid: number, port: number) =>
    writeFileSync(join(dir, 'postmaster.pid'), `${pid}\n${dir}\n1700000000\n${port}\n/tmp\n127.0.0.1\n  1234 5678\nready\n`);

  it('finds a live postmaster and its port', () => {
    write(process.pid, 54329);
    expect(runningPostmaster(dir)).toEqual({ pid: process.pid, port: 54329 });
  });

  it('ignores a stale pid file left by a crash', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    write(dead, 54329);
    expect(runningPostmaster(dir)).toBeNull();
  });

  it('ignores a missing or garbled file', () => {
    rmSync(join(dir, 'postmaster.pid'));
    expect(runningPostmaster(dir)).toBeNull();
    writeFileSync(join(dir, 'postmaster.pid'), 'not a pid file');
    expect(runningPostmaster(dir)).toBeNull();
  });
});
