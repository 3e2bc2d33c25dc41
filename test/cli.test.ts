import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const rekap = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'server', 'cli', 'main.ts'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 170_000,
  });

describe('rekap CLI', () => {
  it('lists its commands', { timeout: 180_000 }, () => {
    const r = rekap(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['start', 'seed', 'read', 'digits', 'synth', 'recount', 'audit verify']) expect(r.stdout).toContain(c);
  });

  it('refuses an unknown command with exit 2', { timeout: 180_000 }, () => {
    const r = rekap(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command');
  });

  // Generous timeouts: each case starts a fresh tsx process, slow on a loaded 2-core machine.
  it('stops at boot on a bad configuration value, naming it', { timeout: 180_000 }, () => {
    const r = rekap(['start'], { PORT: 'not-a-port', REKAP_EMBEDDED_PG_PORT: '70000' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).toContain('REKAP_EMBEDDED_PG_PORT');
  });
});
