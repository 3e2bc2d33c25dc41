import { describe, expect, it } from 'vitest';
import { BOX_CLASSES } from '../types.js';
import { evaluatePhotoBoxes, photoBoxReadRight, PHOTO_TRAIN_SEED, PHOTO_VALIDATION_SEED, type PhotoBox } from './photo-boxes.js';
import { SECOND_LOOK_INSETS } from './second-look.js';

const cls = (c: string) => BOX_CLASSES.indexOf(c as (typeof BOX_CLASSES)[number]);

/** Probabilities with `p` on class `c` and the rest spread over `other`. */
function probs(c: string, p: number, other: string): number[] {
  const out = new Array(BOX_CLASSES.length).fill(0);
  out[cls(c)] = p;
  out[cls(other)] += 1 - p;
  return out;
}

describe('photographed boxes', () => {
  it('keeps training, validation and the bench on different seeds', () => {
    expect(new Set([PHOTO_TRAIN_SEED, PHOTO_VALIDATION_SEED, 'bench-1']).size).toBe(3);
  });

  it('accepts any filler in a leading box, only the written class elsewhere', () => {
    expect(photoBoxReadRight({ cls: 'X', leading: true }, cls('0'))).toBe(true);
    expect(photoBoxReadRight({ cls: 'blank', leading: true }, cls('X'))).toBe(true);
    expect(photoBoxReadRight({ cls: 'X', leading: false }, cls('0'))).toBe(false);
    expect(photoBoxReadRight({ cls: '1', leading: true }, cls('7'))).toBe(false);
    expect(photoBoxReadRight({ cls: '0', leading: true }, cls('8'))).toBe(false);
    expect(photoBoxReadRight({ cls: '3', leading: false }, cls('3'))).toBe(true);
  });

  it('scores the main cut, and the second look only for boxes under 0.9', () => {
    // Each fake image carries its prepared probabilities by id in pixel 0.
    const table: number[][] = [];
    const image = (p: number[]) => {
      table.push(p);
      const px = new Float32Array(784);
      px[0] = table.length - 1;
      return px;
    };
    const box = (c: string, leading = false): PhotoBox => ({ views: [], cls: c as PhotoBox['cls'], target: cls(c), source: 'real', leading, photo: 0 });
    const boxes = [box('3'), box('1'), box('5'), box('X', true)];
    const normalised = [
      // confidently wrong: no second look, wrong both ways
      [image(probs('8', 0.95, '3')), image(probs('3', 1, '3')), image(probs('3', 1, '3'))],
      // unsure and wrong; both re-cuts read 1: right after the second look
      [image(probs('7', 0.55, '1')), image(probs('1', 0.9, '7')), image(probs('1', 0.9, '7'))],
      // right and sure
      [image(probs('5', 0.99, '6')), image(probs('6', 1, '6')), image(probs('6', 1, '6'))],
      // a leading X read as 0: right
      [image(probs('0', 0.97, 'X')), image(probs('0', 1, 'X')), image(probs('0', 1, 'X'))],
    ];
    expect(normalised[0]!.length).toBe(1 + SECOND_LOOK_INSETS.length);
    const model = { classifyNormalised: (imgs: Float32Array[]) => imgs.map((px) => table[px[0]!]!) };
    const ev = evaluatePhotoBoxes(model, boxes, normalised);
    expect(ev.boxes).toBe(4);
    expect(ev.wrong).toBe(2);
    expect(ev.wrongSecondLook).toBe(1);
    expect(ev.confusions).toEqual({ '3→8': 1, '1→7': 1 });
    expect(ev.perSource.real).toEqual({ n: 4, wrong: 2 });
    // −log p(true): 0.05 on the 3, 0.45 on the 1, 0.99 on the 5, 1 (all fillers) on the leading X.
    expect(ev.nll).toBeCloseTo(-(Math.log(0.05) + Math.log(0.45) + Math.log(0.99) + Math.log(1)) / 4, 6);
  });
});
