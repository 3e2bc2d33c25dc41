/**
 * Exact streaming state for the statistical detectors (INTEGRITY §5.4). Every quantity a test needs
 * is an integer histogram or an integer sum per (contest, area), so an upsert is "subtract the old
 * contribution, add the new one" and a rebuild from scratch gives byte-identical state whatever the
 * arrival order.
 */
import type { TpsRecord } from './types.js';

export const TURNOUT_BINS = 1001; // per mille 0..1000
export const FINGERPRINT_SIDE = 101; // per cent 0..100

export class RegionAcc {
  n = 0;
  sah = 0;
  /** Σ votes per candidate id. */
  readonly votes = new Map<string, number>();
  /** Σ votes² per candidate id (for field means and variances without a second pass). */
  readonly votesSq = new Map<string, number>();
  readonly turnout = new Int32Array(TURNOUT_BINS);
  /** Last digit counts per candidate id. */
  readonly lastDigit = new Map<string, Int32Array>();
  /** Second digit counts per candidate id (counts ≥ 10). */
  readonly secondDigit = new Map<string, Int32Array>();
  /** turnout % × share % per candidate, non-noken TPS only (Klimek fingerprint). */
  readonly fingerprint = new Map<string, Int32Array>();
  nonNoken = 0;
  noken = 0;

  constructor(readonly contestId: string, readonly code: string, readonly level: 'desa' | 'kecamatan' | 'kabupaten' | 'contest') {}
}

export function turnoutPermille(r: Pick<TpsRecord, 'votersDpt' | 'registered'>): number | null {
  if (!(r.registered > 0)) return null;
  return Math.max(0, Math.min(1000, Math.round((1000 * r.votersDpt) / r.registered)));
}

function bump(map: Map<string, number>, key: string, by: number) {
  const v = (map.get(key) ?? 0) + by;
  if (v === 0) map.delete(key);
  else map.set(key, v);
}

function digits(map: Map<string, Int32Array>, key: string, size: number): Int32Array {
  let a = map.get(key);
  if (!a) map.set(key, (a = new Int32Array(size)));
  return a;
}

/** Apply one TPS record to one region with sign +1 (add) or −1 (remove). */
function apply(acc: RegionAcc, r: TpsRecord, sign: 1 | -1) {
  acc.n += sign;
  acc.sah += sign * r.suaraSah;
  for (const [c, v] of Object.entries(r.votes)) {
    bump(acc.votes, c, sign * v);
    bump(acc.votesSq, c, sign * v * v);
  }
  const t = turnoutPermille(r);
  if (t !== null) acc.turnout[t] += sign;
  if (acc.level === 'desa') return;
  for (const [c, v] of Object.entries(r.votes)) {
    digits(acc.lastDigit, c, 10)[v % 10] += sign;
    if (v >= 10) digits(acc.secondDigit, c, 10)[Math.floor(v / 10 ** (Math.floor(Math.log10(v)) - 1)) % 10] += sign;
  }
  if (acc.level === 'kecamatan') return;
  if (r.noken) {
    acc.noken += sign;
    return;
  }
  acc.nonNoken += sign;
  if (t === null || !(r.suaraSah > 0)) return;
  const tPct = Math.round(t / 10);
  for (const [c, v] of Object.entries(r.votes)) {
    const sPct = Math.max(0, Math.min(100, Math.round((100 * v) / r.suaraSah)));
    digits(acc.fingerprint, c, FINGERPRINT_SIDE * FINGERPRINT_SIDE)[tPct * FINGERPRINT_SIDE + sPct] += sign;
  }
}

/**
 * All regions of all contests. Records are keyed by TPS and contest; upserting a record that is
 * already there first removes its old contribution.
 */
export class StatState {
  readonly records = new Map<string, TpsRecord>();
  readonly regions = new Map<string, RegionAcc>();

  static key(tpsCode: string, contestId: string) {
    return `${contestId}|${tpsCode}`;
  }

  region(contestId: string, level: RegionAcc['level'], code: string): RegionAcc | undefined {
    return this.regions.get(`${contestId}|${level}|${code}`);
  }

  private regionFor(contestId: string, level: RegionAcc['level'], code: string): RegionAcc {
    const k = `${contestId}|${level}|${code}`;
    let acc = this.regions.get(k);
    if (!acc) this.regions.set(k, (acc = new RegionAcc(contestId, code, level)));
    return acc;
  }

  private touch(r: TpsRecord, sign: 1 | -1) {
    apply(this.regionFor(r.contestId, 'desa', r.desaCode), r, sign);
    apply(this.regionFor(r.contestId, 'kecamatan', r.kecCode), r, sign);
    apply(this.regionFor(r.contestId, 'kabupaten', r.kabCode), r, sign);
    apply(this.regionFor(r.contestId, 'contest', r.contestId), r, sign);
  }

  upsert(r: TpsRecord): void {
    const k = StatState.key(r.tpsCode, r.contestId);
    const old = this.records.get(k);
    if (old) this.touch(old, -1);
    const copy: TpsRecord = { ...r, votes: { ...r.votes } };
    this.records.set(k, copy);
    this.touch(copy, 1);
  }

  remove(tpsCode: string, contestId: string): void {
    const k = StatState.key(tpsCode, contestId);
    const old = this.records.get(k);
    if (!old) return;
    this.touch(old, -1);
    this.records.delete(k);
  }

  recordsOf(contestId: string): TpsRecord[] {
    const out: TpsRecord[] = [];
    for (const r of this.records.values()) if (r.contestId === contestId) out.push(r);
    return out.sort((a, b) => (a.tpsCode < b.tpsCode ? -1 : a.tpsCode > b.tpsCode ? 1 : 0));
  }

  contests(): string[] {
    return [...new Set([...this.records.values()].map((r) => r.contestId))].sort();
  }

  /**
   * A canonical serialisation of every region accumulator (sorted keys, zero entries dropped):
   * equal strings mean equal state, which is what the streaming-equivalence test compares.
   */
  fingerprintOfState(): string {
    const parts: string[] = [];
    for (const k of [...this.regions.keys()].sort()) {
      const a = this.regions.get(k)!;
      if (a.n === 0) continue;
      const sortedMap = (m: Map<string, number>) => [...m.entries()].filter(([, v]) => v !== 0).sort();
      const sortedArr = (m: Map<string, Int32Array>) =>
        [...m.entries()].filter(([, v]) => v.some((x) => x !== 0)).sort(([x], [y]) => (x < y ? -1 : 1)).map(([c, v]) => [c, sparse(v)]);
      parts.push(JSON.stringify([k, a.n, a.sah, a.noken, a.nonNoken, sortedMap(a.votes), sortedMap(a.votesSq), sparse(a.turnout),
        sortedArr(a.lastDigit), sortedArr(a.secondDigit), sortedArr(a.fingerprint)]));
    }
    return parts.join('\n');
  }
}

function sparse(a: Int32Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) out.push([i, a[i]]);
  return out;
}

/** Index of the look at a region of n TPS: checkpoints passed so far, plus one final look when complete. */
export function lookIndex(n: number, checkpoints: readonly number[], expected?: number): number {
  let k = 0;
  for (const c of checkpoints) if (n >= c) k++;
  if (expected !== undefined && n >= expected && !checkpoints.includes(n)) k++;
  return k;
}
