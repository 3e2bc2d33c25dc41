import type { AreaTally, CandidateInfo } from '../../../server/contract/index.js';

/**
 * Derived figures of one published tally. The client never invents numbers: everything here is a
 * ratio or ordering of what the server published (ARCHITECTURE: "the client never computes a
 * number that the server did not publish" — shares and margins are presentation of those numbers).
 */
export interface Standing {
  candidate: CandidateInfo;
  votes: number;
  share: number | null;
}

export function standings(t: AreaTally): Standing[] {
  const total = t.candidates.reduce((s, c) => s + (t.votes[c.id] ?? 0), 0);
  return t.candidates
    .map((c) => ({ candidate: c, votes: t.votes[c.id] ?? 0, share: total > 0 ? (t.votes[c.id] ?? 0) / total : null }))
    .sort((a, b) => b.votes - a.votes || a.candidate.number - b.candidate.number);
}

export interface Summary {
  leader: Standing | null;
  /** (first − second) / all candidate votes; null with no votes. */
  margin: number | null;
  progress: number | null;
  turnout: number | null;
}

export function summarise(t: AreaTally | undefined | null): Summary {
  if (!t) return { leader: null, margin: null, progress: null, turnout: null };
  const s = standings(t);
  const total = s.reduce((a, b) => a + b.votes, 0);
  const leader = total > 0 ? s[0] : null;
  const margin = total > 0 && s.length > 0 ? (s[0].votes - (s[1]?.votes ?? 0)) / total : null;
  return {
    leader,
    margin,
    progress: t.tpsExpected > 0 ? t.tpsPublished / t.tpsExpected : null,
    turnout: t.votersRegistered > 0 ? t.votersUsed / t.votersRegistered : null,
  };
}

export type ColourMode = 'leader' | 'margin' | 'progress' | 'turnout' | 'anomalies';
export const COLOUR_MODES: ColourMode[] = ['leader', 'margin', 'progress', 'turnout', 'anomalies'];

export const NO_DATA_FILL = '#d9dde3';

function hexToRgb(hex: string): [number, number, number] | null {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return null;
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Blend a colour towards white: t = 0 white, 1 the colour. */
export function tint(hex: string, t: number): string {
  const rgb = hexToRgb(hex) ?? [120, 120, 120];
  const k = Math.max(0, Math.min(1, t));
  const c = rgb.map((v) => Math.round(255 + (v - 255) * k));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** A sequential ramp (light → dark) of one hue, 5 steps so the legend can name the bins. */
const RAMPS: Record<Exclude<ColourMode, 'leader'>, string> = {
  margin: '#5b3b8c',
  progress: '#1f6f8b',
  turnout: '#2e7d32',
  anomalies: '#c62828',
};

export function rampBins(mode: Exclude<ColourMode, 'leader'>): { colour: string; from: number }[] {
  const base = RAMPS[mode];
  const edges = mode === 'margin' ? [0, 0.05, 0.1, 0.2, 0.4] : mode === 'anomalies' ? [1, 2, 5, 10, 20] : [0, 0.2, 0.4, 0.6, 0.8];
  return edges.map((from, i) => ({ from, colour: tint(base, 0.2 + (0.8 * i) / (edges.length - 1)) }));
}

function binColour(mode: Exclude<ColourMode, 'leader'>, value: number): string {
  const bins = rampBins(mode);
  let colour = bins[0].colour;
  for (const b of bins) if (value >= b.from) colour = b.colour;
  return colour;
}

/**
 * Fill for one area. Leader: the paslon's KPU colour, stronger with a wider margin so a close race
 * reads as pale. Anomalies: count of active anomalies (0 = no fill colour).
 */
export function fillFor(mode: ColourMode, t: AreaTally | undefined | null, anomalyCount = 0): string {
  if (mode === 'anomalies') return anomalyCount > 0 ? binColour('anomalies', anomalyCount) : '#eef0f3';
  const s = summarise(t);
  switch (mode) {
    case 'leader':
      return s.leader ? tint(s.leader.candidate.colour, 0.45 + Math.min(0.55, (s.margin ?? 0) * 2)) : NO_DATA_FILL;
    case 'margin':
      return s.margin == null ? NO_DATA_FILL : binColour('margin', s.margin);
    case 'progress':
      return s.progress == null || (t?.tpsPublished ?? 0) === 0 ? NO_DATA_FILL : binColour('progress', s.progress);
    case 'turnout':
      return s.turnout == null ? NO_DATA_FILL : binColour('turnout', s.turnout);
  }
}
