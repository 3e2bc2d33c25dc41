import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../server/config.js';

describe('config', () => {
  it('defaults run the Kalimantan Tengah demo on an embedded database', () => {
    const c = loadConfig({}, '/srv/rekap');
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.PORT).toBe(3000);
    expect(c.REKAP_ROLES).toEqual(['api', 'worker']);
    expect(c.REKAP_SEED_SCOPE).toBe('kalteng');
    expect(c.pgDataDir).toBe('/srv/rekap/.data/pg');
    expect(c.photoDir).toBe('/srv/rekap/.data/photos');
  });

  it('parses values and treats empty strings as unset', () => {
    const c = loadConfig({ PORT: '8080', REKAP_ROLES: 'worker', DATABASE_URL: '', REKAP_SERVE_CLIENT: 'no' });
    expect(c.PORT).toBe(8080);
    expect(c.REKAP_ROLES).toEqual(['worker']);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.REKAP_SERVE_CLIENT).toBe(false);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', REKAP_ROLES: 'api,cook', REKAP_SEED_SCOPE: 'mars' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const msg = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'REKAP_ROLES', 'REKAP_SEED_SCOPE']) expect(msg).toContain(name);
  });
});
