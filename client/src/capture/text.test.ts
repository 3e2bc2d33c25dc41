/** The officer sees advice, not a reason code, for every way the reader can refuse a photo. */
import { describe, expect, it } from 'vitest';
import { rejectAdvice } from './text.js';
import { REJECT_REASONS } from '../../../workers/reader/cv/reject.js';

describe('rejectAdvice', () => {
  it('has Bahasa Indonesia and English advice for every reject reason, and none for an unknown one', () => {
    for (const reason of REJECT_REASONS) {
      const id = rejectAdvice(reason, 'id');
      const en = rejectAdvice(reason, 'en');
      expect(id, reason).toBeTruthy();
      expect(en, reason).toBeTruthy();
      expect(id).not.toBe(en);
      expect(id).not.toContain('_');
    }
    expect(rejectAdvice('job_timeout', 'id')).toBeNull();
    expect(rejectAdvice(null, 'en')).toBeNull();
  });
});
