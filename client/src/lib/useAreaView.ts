import { useCallback, useEffect, useMemo, useState } from 'react';
import type { AreaResponse, AreaTally, UnitTally } from '../../../server/contract/index.js';
import { ApiError, fetchArea } from './api.js';
import { levelOf } from './areaCode.js';
import { childShapes, ownShape, prefetchChildShapes, warmChildShapes, type AreaFeature } from './geo.js';
import { roomOf, useRooms, type RoomState } from './live.js';

export interface AreaView {
  area: AreaResponse | null;
  shapes: AreaFeature[] | null;
  outline: AreaFeature | null;
  /** The tally of the area itself in the selected contest (live). */
  tally: AreaTally | null;
  /** Tallies of children (or TPS in a desa) in the selected contest — per province's own race at national level. */
  childTallies: Record<string, AreaTally | undefined>;
  /** TPS units of a desa (status per TPS), from the live room. */
  tpsUnits: Record<string, UnitTally>;
  contestId: string | null;
  error: ApiError | null;
  reload(): void;
}

/** A live unit tally dressed with its contest's names and candidates for display. */
export function dress(meta: AreaTally, unit: UnitTally, expectedFallback = 0): AreaTally {
  return {
    contestId: meta.contestId,
    contestName: meta.contestName,
    contestType: meta.contestType,
    candidates: meta.candidates,
    votes: unit.votes,
    suaraSah: unit.suaraSah,
    suaraTidakSah: unit.suaraTidakSah,
    // A room that has never changed may answer 0 expected TPS (no tally row yet): the area API
    // counts the register, so its figure stands until the room has one of its own.
    tpsExpected: unit.tpsExpected || expectedFallback,
    tpsPublished: unit.tpsPublished,
    tpsQuarantined: unit.tpsQuarantined,
    quarantinedVotes: unit.quarantinedVotes,
    votersRegistered: unit.votersRegistered,
    votersUsed: unit.votersUsed,
    version: unit.version,
    updatedAt: unit.updatedAt,
  };
}

/**
 * Everything the map and the area panel need for one area and contest. Area names, shapes and
 * contests come from REST once; the numbers come from live rooms (REST first, then Socket.IO deltas).
 */
export function useAreaView(code: string, requestedContest: string | null, opts: { deferRoomsUntil?: boolean; practice?: boolean } = {}): AreaView {
  const practice = opts.practice === true;
  const [loaded, setLoaded] = useState<{ code: string; area: AreaResponse; shapes: AreaFeature[] | null; outline: AreaFeature | null } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    let cancelled = false;
    const level = levelOf(code);
    setError(null);
    // Names/tallies and geometry are fetched in parallel; each is cached, so a hover prefetch or
    // the boot prefetch (main.tsx) makes this resolve at once.
    Promise.all([fetchArea(code, { fresh: nonce > 0, practice }), childShapes(level, code), level === 4 ? ownShape(level, code) : Promise.resolve(null)])
      .then(([area, shapes, outline]) => {
        if (cancelled) return;
        performance.mark(`rekap:data:${code}`);
        // Area and shapes switch together so the map never shows new names over old polygons.
        setLoaded({ code, area, shapes, outline });
        // The next step down is one of the children: once the browser is idle (after this map
        // painted) fetch their small shape files. Hover prefetches the one the user points at.
        if (level < 3 && area.children.length <= 60) {
          const next = area.children.map((c) => c.code);
          const idle = (window as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => void }).requestIdleCallback;
          // Nationally only download (38 files); below, also parse the few candidates.
          const run = () => next.forEach((c) => (level === 0 ? warmChildShapes(1, c) : prefetchChildShapes(level + 1, c)));
          if (idle) idle(run, { timeout: 3000 });
          else setTimeout(run, 1000);
        }
      })
      .catch((e) => {
        if (!cancelled) setError(e instanceof ApiError ? e : new ApiError(0, 'client', String(e)));
      });
    return () => {
      cancelled = true;
    };
  }, [code, nonce, practice]);

  // Never show one election's names over the other's numbers while switching real ↔ practice.
  const area = loaded && (loaded.area.practice === true) === practice ? loaded.area : null;
  const contestId = area
    ? requestedContest && area.tallies.some((t) => t.contestId === requestedContest)
      ? requestedContest
      : area.area.level === 0
        ? null
        : (area.tallies[0]?.contestId ?? null)
    : null;

  // Practice races are the real ids with a "latihan-" prefix (db/seed/practice.ts).
  const racePrefix = practice ? 'latihan-' : '';
  const wanted = useMemo(() => {
    if (!area) return [];
    if (contestId) return [{ contest: contestId, area: area.area.code }];
    // National: each province in its own governor race (only provinces that hold one). These 37
    // rooms wait until the map is on screen so they do not compete with the first paint.
    if (opts.deferRoomsUntil === false) return [];
    const races = new Set(area.tallies.map((t) => t.contestId));
    return area.children.filter((c) => races.has(`${racePrefix}pkwkp-${c.code}`)).map((c) => ({ contest: `${racePrefix}pkwkp-${c.code}`, area: c.code }));
  }, [area, contestId, opts.deferRoomsUntil, racePrefix]);
  const rooms = useRooms(wanted);

  const { tally, childTallies, tpsUnits } = useMemo(() => {
    const out: Record<string, AreaTally | undefined> = {};
    let own: AreaTally | null = null;
    let units: Record<string, UnitTally> = {};
    if (area) {
      const metaById = new Map(area.tallies.map((t) => [t.contestId, t]));
      if (contestId) {
        const meta = metaById.get(contestId)!;
        const room: RoomState | null = rooms[roomOf(contestId, area.area.code)] ?? null;
        own = room?.tally ? dress(meta, room.tally, meta.tpsExpected) : meta;
        if (room) {
          units = room.children;
          const counts = new Map(area.children.map((c) => [c.code, c.tpsCount]));
          for (const [c, u] of Object.entries(room.children)) out[c] = dress(meta, u, counts.get(c) ?? 0);
        }
      } else {
        for (const c of area.children) {
          const meta = metaById.get(`${racePrefix}pkwkp-${c.code}`);
          const room = rooms[roomOf(`${racePrefix}pkwkp-${c.code}`, c.code)];
          if (meta && room?.tally) out[c.code] = dress(meta, room.tally, c.tpsCount);
        }
      }
    }
    return { tally: own, childTallies: out, tpsUnits: units };
  }, [area, contestId, rooms, racePrefix]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { area, shapes: loaded?.shapes ?? null, outline: loaded?.outline ?? null, tally, childTallies, tpsUnits, contestId, error, reload };
}
