import { describe, expect, it } from 'vitest';
import type { AreaTally, RoomDelta, UnitTally } from '../../../server/contract/index.js';
import { formatClock, formatDuration, formatInt, formatPct, ratio } from './format.js';
import { applyDelta, type RoomState } from './live.js';
import { fillFor, NO_DATA_FILL, standings, summarise, tint } from './tally.js';
import { translate } from './i18n.js';
import { changedFields } from './reading.js';

const tally = (votes: Record<string, number>, extra: Partial<AreaTally> = {}): AreaTally => ({
  contestId: 'pkwkp-62',
  contestName: 'Gubernur',
  contestType: 'pkwkp',
  candidates: [
    { id: 'a', number: 1, headName: 'A', deputyName: 'a', colour: '#ff0000', isEmptyColumn: false },
    { id: 'b', number: 2, headName: 'B', deputyName: 'b', colour: '#0000ff', isEmptyColumn: false },
  ],
  votes,
  suaraSah: Object.values(votes).reduce((s, v) => s + v, 0),
  suaraTidakSah: 0,
  tpsExpected: 10,
  tpsPublished: 4,
  tpsQuarantined: 1,
  quarantinedVotes: 50,
  votersRegistered: 1000,
  votersUsed: 600,
  version: 3,
  updatedAt: null,
  ...extra,
});

describe('number formats', () => {
  it('writes Indonesian thousands with dots and decimals with a comma', () => {
    expect(formatInt(1234567)).toBe('1.234.567');
    expect(formatInt(1234567, 'en-GB')).toBe('1,234,567');
    expect(formatPct(0.1234)).toMatch(/^12,34\s?%$/);
    expect(formatInt(null)).toBe('–');
    expect(ratio(1, 0)).toBeNull();
  });

  it('writes time since polls closed in minutes, hours, then days', () => {
    expect(formatDuration(5 * 60_000)).toBe('5 m');
    expect(formatDuration((2 * 60 + 5) * 60_000)).toBe('2 j 5 m');
    expect(formatDuration((2 * 60 + 5) * 60_000, 'en')).toBe('2 h 5 m');
    expect(formatDuration((1234 * 24 + 3) * 3_600_000)).toBe('1.234 hr 3 j');
    expect(formatDuration((1234 * 24 + 3) * 3_600_000, 'en')).toBe('1,234 d 3 h');
    expect(formatDuration(-1)).toBe('–');
  });

  it('shows a close time in the zone it happened in', () => {
    // 13:00 WIB = 06:00Z; the same instant is 14:00 WITA and 15:00 WIT.
    expect(formatClock('2024-11-27T06:00:00.000Z', 'WIB')).toMatch(/13[.:]00$/);
    expect(formatClock('2024-11-27T06:00:00.000Z', 'WITA')).toMatch(/14[.:]00$/);
    expect(formatClock('2024-11-27T06:00:00.000Z', 'WIT')).toMatch(/15[.:]00$/);
  });
});

describe('standings and colours', () => {
  it('ranks by votes, with margin, progress and turnout from published numbers', () => {
    const s = summarise(tally({ a: 300, b: 100 }));
    expect(s.leader?.candidate.id).toBe('a');
    expect(s.margin).toBeCloseTo(0.5);
    expect(s.progress).toBeCloseTo(0.4);
    expect(s.turnout).toBeCloseTo(0.6);
    expect(standings(tally({ a: 1, b: 5 })).map((x) => x.candidate.id)).toEqual(['b', 'a']);
  });

  it('colours an area by its leader, paler when the race is close, grey with no votes', () => {
    const wide = fillFor('leader', tally({ a: 900, b: 100 }));
    const close = fillFor('leader', tally({ a: 501, b: 499 }));
    expect(wide).not.toBe(close);
    expect(close).toBe(tint('#ff0000', 0.45 + 0.004));
    expect(fillFor('leader', tally({}))).toBe(NO_DATA_FILL);
    expect(fillFor('leader', null)).toBe(NO_DATA_FILL);
    expect(fillFor('progress', tally({ a: 1 }, { tpsPublished: 9 }))).not.toBe(fillFor('progress', tally({ a: 1 }, { tpsPublished: 1 })));
    expect(fillFor('anomalies', null, 0)).not.toBe(fillFor('anomalies', null, 7));
  });
});

describe('live room deltas', () => {
  const unit = (code: string, sah: number, version: number): UnitTally => ({
    code, votes: { a: sah }, suaraSah: sah, suaraTidakSah: 0, tpsExpected: 5, tpsPublished: 1, tpsQuarantined: 0, tpsMissing: 4,
    quarantinedVotes: 0, votersRegistered: 500, votersUsed: sah, turnout: sah / 500, version, updatedAt: null,
  });
  const state: RoomState = { contest: 'pkwkp-62', area: '6201', version: 10, tally: unit('6201', 100, 10), children: { '620101': unit('620101', 100, 10), '620102': unit('620102', 0, 0) }, at: null };
  const delta = (fromVersion: number, version: number): RoomDelta => ({
    kind: 'delta', room: 'pkwkp-62:6201', area: '6201', contest: 'pkwkp-62', fromVersion, version,
    tally: unit('6201', 150, version), children: { '620102': unit('620102', 50, version) }, tps: [], at: new Date(0).toISOString(),
  });

  it('replaces changed units with their new full values and keeps the others', () => {
    const next = applyDelta(state, delta(10, 12));
    expect(next.version).toBe(12);
    expect(next.tally?.suaraSah).toBe(150);
    expect(next.children['620102'].suaraSah).toBe(50);
    expect(next.children['620101']).toBe(state.children['620101']);
  });

  it('ignores a delta it already holds (idempotent)', () => {
    const once = applyDelta(state, delta(10, 12));
    expect(applyDelta(once, delta(10, 12))).toBe(once);
    expect(applyDelta(state, delta(8, 10))).toBe(state);
  });
});

describe('texts and decoder changes', () => {
  it('has both languages and fills placeholders', () => {
    expect(translate('id', 'progress', { x: '1', y: '2', z: '50%' })).toBe('1 dari 2 TPS (50%)');
    expect(translate('en', 'progress', { x: '1', y: '2', z: '50%' })).toBe('1 of 2 polling stations (50%)');
  });
  it('reads decoder change entries of either shape', () => {
    const m = changedFields([{ field: 'suara_paslon_1', from: 617, to: 117 }, { key: 'suara_sah' }, 'noise']);
    expect(m.get('suara_paslon_1')).toBe('617 → 117');
    expect(m.has('suara_sah')).toBe(true);
    expect(m.size).toBe(2);
  });
});
