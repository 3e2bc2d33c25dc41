import { describe, expect, it } from 'vitest';
import {
  decodePageMark,
  decodePageMarkAnyRotation,
  decodePageMarkNearest,
  encodePageMark,
  hammingDistance,
  MAX_MARK_ID,
  PAGE_MARK_BITS,
  pageMarkMatrix,
  rotateMarkBits,
} from './pagemark.js';
import { knownMarkIds } from './index.js';

function mulberry32(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('page mark code', () => {
  it('round-trips every id 0..4095', () => {
    for (let id = 0; id <= MAX_MARK_ID; id++) {
      const bits = encodePageMark(id);
      expect(bits).toHaveLength(PAGE_MARK_BITS);
      expect(decodePageMark(bits)).toBe(id);
    }
  });

  it('has minimum distance 10 over all codewords, so every 1..9-bit corruption is detected', () => {
    const words = Array.from({ length: MAX_MARK_ID + 1 }, (_, id) => encodePageMark(id));
    // Linear code + coset: the distance between two codewords is the weight of a codeword of the
    // underlying code, so checking every codeword against id 0 covers every pair.
    let dmin = Infinity;
    for (let id = 1; id <= MAX_MARK_ID; id++) dmin = Math.min(dmin, hammingDistance(words[0]!, words[id]!));
    expect(dmin).toBe(10);
    const rnd = mulberry32(7);
    for (const id of knownMarkIds()) {
      for (let trial = 0; trial < 200; trial++) {
        const bits = [...words[id]!];
        const flips = 1 + Math.floor(rnd() * 9);
        const chosen = new Set<number>();
        while (chosen.size < flips) chosen.add(Math.floor(rnd() * PAGE_MARK_BITS));
        for (const i of chosen) bits[i] ^= 1;
        expect(decodePageMark(bits)).toBeNull();
      }
    }
  });

  it('corrects up to 4 flipped cells against the known ids and refuses more ambiguous damage', () => {
    const ids = knownMarkIds();
    const rnd = mulberry32(11);
    for (const id of ids) {
      const bits = encodePageMark(id);
      for (let k = 1; k <= 4; k++) {
        const b = [...bits];
        const chosen = new Set<number>();
        while (chosen.size < k) chosen.add(Math.floor(rnd() * PAGE_MARK_BITS));
        for (const i of chosen) b[i] ^= 1;
        expect(decodePageMarkNearest(b, ids)).toEqual({ id, errors: k });
      }
    }
    expect(decodePageMarkNearest(new Array(PAGE_MARK_BITS).fill(0), ids)).toBeNull();
    expect(decodePageMarkNearest(new Array(PAGE_MARK_BITS).fill(1), ids)).toBeNull();
  });

  it('finds the orientation of a rotated mark, and a rotated mark never decodes upright', () => {
    const ids = knownMarkIds();
    for (const id of ids) {
      for (let q = 0; q < 4; q++) {
        const seen = rotateMarkBits(encodePageMark(id), q);
        if (q > 0) {
          expect(decodePageMark(seen)).toBeNull();
          expect(decodePageMarkNearest(seen, ids)).toBeNull();
        }
        const hit = decodePageMarkAnyRotation(seen, ids);
        expect(hit?.id).toBe(id);
        expect((hit!.rotation + q) % 4).toBe(0);
        expect(decodePageMarkAnyRotation(seen)?.id).toBe(id);
      }
    }
  });

  it('draws a black border around the data bits', () => {
    const m = pageMarkMatrix(223);
    expect(m).toHaveLength(8);
    for (let i = 0; i < 8; i++) expect([m[0]![i], m[7]![i], m[i]![0], m[i]![7]]).toEqual([1, 1, 1, 1]);
    expect(m.slice(1, 7).flatMap((row) => row.slice(1, 7))).toEqual(encodePageMark(223));
  });

  it('rejects bad input with a clear error', () => {
    expect(() => encodePageMark(4096)).toThrow(/0\.\.4095/);
    expect(() => encodePageMark(-1)).toThrow(RangeError);
    expect(() => decodePageMark([1, 0, 1])).toThrow(/36 bits/);
  });
});
