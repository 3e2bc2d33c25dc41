import { describe, expect, it } from 'vitest';
import { readerProcessEnv } from './pool.js';

describe('reader process environment', () => {
  it('gives readers one malloc arena and photo-sized reusable blocks, unless the caller set its own', () => {
    const env = readerProcessEnv({ PATH: '/usr/bin' });
    expect(env.PATH).toBe('/usr/bin');
    expect(env.MALLOC_ARENA_MAX).toBe('1');
    // A 12 MP greyscale photo (12 MB) and its colour decode (36 MB) must fit under both thresholds.
    expect(Number(env.MALLOC_MMAP_THRESHOLD_)).toBeGreaterThanOrEqual(36 * 2 ** 20);
    expect(Number(env.MALLOC_TRIM_THRESHOLD_)).toBeGreaterThanOrEqual(36 * 2 ** 20);
    const own = readerProcessEnv({ MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(own.MALLOC_ARENA_MAX).toBe('4');
    expect(own.MALLOC_MMAP_THRESHOLD_).toBe('131072');
  });
});
