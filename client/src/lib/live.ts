import { io, type Socket } from 'socket.io-client';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type {
  AnomalyEvent,
  OpsEvent,
  ClientToServerEvents,
  RoomDelta,
  RoomKey,
  RoomSnapshot,
  ServerToClientEvents,
  SubscribeAck,
  UnitTally,
} from '../../../server/contract/index.js';
import { apiFetch } from './api.js';
import type { ResultsResponse } from '../../../server/contract/index.js';

/**
 * The one Socket.IO connection of the page (server/contract/socket.ts). Websocket transport only:
 * no long-polling and no HTTP polling of any kind. Delivery is at most once, so every room keeps the
 * version it holds and, after a reconnect or a gap (delta.fromVersion > held), subscribes again with
 * `since` to get exactly what it missed (or a fresh snapshot).
 */
export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';
type RekapSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Websocket only, reconnecting with jitter (thousands of viewers must not return in one wave). */
const SOCKET_OPTIONS = { path: '/socket.io', transports: ['websocket'], reconnectionDelay: 500, reconnectionDelayMax: 5000, randomizationFactor: 0.5 };

let socket: RekapSocket | null = null;
let status: LiveStatus = 'connecting';
const statusListeners = new Set<() => void>();
const deltaListeners = new Map<RoomKey, Set<(d: RoomDelta) => void>>();
const anomalyListeners = new Set<(a: AnomalyEvent) => void>();
let everConnected = false;

function setStatus(s: LiveStatus) {
  if (s === status) return;
  status = s;
  for (const l of statusListeners) l();
}

export function getSocket(): RekapSocket {
  if (socket) return socket;
  const s: RekapSocket = io(SOCKET_OPTIONS);
  socket = s;
  s.on('connect', () => {
    setStatus('live');
    everConnected = true;
  });
  s.on('disconnect', () => setStatus('reconnecting'));
  s.io.on('reconnect_attempt', () => setStatus('reconnecting'));
  s.io.on('reconnect_failed', () => setStatus('offline'));
  s.on('connect_error', () => setStatus(everConnected ? 'reconnecting' : 'connecting'));
  s.on('delta', (d) => {
    for (const l of deltaListeners.get(d.room) ?? []) l(d);
  });
  s.on('anomaly', (a) => {
    for (const l of anomalyListeners) l(a);
  });
  return s;
}

export function useLiveStatus(): LiveStatus {
  return useSyncExternalStore(
    (cb) => {
      getSocket();
      statusListeners.add(cb);
      return () => statusListeners.delete(cb);
    },
    () => status,
    () => status,
  );
}

export const roomOf = (contest: string, area: string): RoomKey => `${contest}:${area}`;

/** Live state of one room: the area's own tally and its children's (or TPS's), at `version`. */
export interface RoomState {
  contest: string;
  area: string;
  version: number;
  tally: UnitTally | null;
  children: Record<string, UnitTally>;
  at: string | null;
}

function applySnapshot(s: RoomSnapshot): RoomState {
  return { contest: s.contest, area: s.area, version: s.version, tally: s.tally, children: { ...s.children }, at: s.at };
}

/** Apply a delta (full new values of changed units). Idempotent: a delta at or below our version is a no-op. */
export function applyDelta(state: RoomState, d: RoomDelta): RoomState {
  if (d.version <= state.version) return state;
  return {
    ...state,
    version: d.version,
    tally: d.tally ?? state.tally,
    children: Object.keys(d.children).length ? { ...state.children, ...d.children } : state.children,
    at: d.at ?? state.at,
  };
}

async function emitSubscribe(area: string, contest: string, since?: number): Promise<SubscribeAck> {
  const s = getSocket();
  return new Promise((resolve, reject) => {
    s.timeout(10_000).emit('subscribe', { area, contest, ...(since != null ? { since } : {}) }, (err: Error | null, ack: SubscribeAck) => (err ? reject(err) : resolve(ack)));
  });
}

export function resultsToRoom(r: ResultsResponse): RoomState {
  const children: Record<string, UnitTally> = {};
  for (const c of r.children) children[c.code] = c;
  return { contest: r.contest.id, area: r.area.code, version: r.version, tally: r.tally, children, at: r.generatedAt };
}

/**
 * One live room: first state from REST (`GET /api/results/:contest/:area`, reliable even before the
 * socket connects), then the socket subscription from that version on; gaps and reconnects
 * resubscribe with `since`.
 */
class LiveRoom {
  state: RoomState | null = null;
  error: string | null = null;
  private closed = false;
  private subscribing = false;
  private readonly key: RoomKey;
  private readonly onDelta = (d: RoomDelta) => {
    if (!this.state) return;
    if (d.fromVersion > this.state.version) void this.subscribe();
    else this.set(applyDelta(this.state, d));
  };
  private readonly onConnect = () => void this.subscribe();

  constructor(
    readonly contest: string,
    readonly area: string,
    private readonly changed: () => void,
  ) {
    this.key = roomOf(contest, area);
    let listeners = deltaListeners.get(this.key);
    if (!listeners) deltaListeners.set(this.key, (listeners = new Set()));
    listeners.add(this.onDelta);
    const s = getSocket();
    s.on('connect', this.onConnect);
    apiFetch<ResultsResponse>(`/api/results/${encodeURIComponent(contest)}/${encodeURIComponent(area)}`)
      .then((r) => {
        if (!this.state || r.version > this.state.version) this.set(resultsToRoom(r));
      })
      .catch((e) => {
        if (!this.state && !this.closed) {
          this.error = (e as Error).message;
          this.changed();
        }
      })
      .finally(() => {
        if (s.connected) void this.subscribe();
      });
  }

  private set(next: RoomState) {
    if (this.closed) return;
    this.state = next;
    this.error = null;
    this.changed();
  }

  async subscribe(): Promise<void> {
    if (this.subscribing || this.closed) return;
    this.subscribing = true;
    try {
      const ack = await emitSubscribe(this.area, this.contest, this.state?.version);
      if (this.closed) return;
      if (!ack.ok) {
        if (!this.state) {
          this.error = ack.error.message;
          this.changed();
        }
        return;
      }
      const st = ack.state;
      if (st.kind === 'snapshot') {
        if (!this.state || st.version >= this.state.version) this.set(applySnapshot(st));
      } else if (this.state) this.set(applyDelta(this.state, st));
    } catch {
      /* not connected: the connect handler subscribes again */
    } finally {
      this.subscribing = false;
    }
  }

  close() {
    this.closed = true;
    const s = getSocket();
    s.off('connect', this.onConnect);
    const listeners = deltaListeners.get(this.key);
    listeners?.delete(this.onDelta);
    if (listeners && listeners.size === 0) {
      deltaListeners.delete(this.key);
      if (s.connected) s.emit('unsubscribe', { area: this.area, contest: this.contest });
    }
  }
}

/** Several live rooms at once (the national map holds one per province's governor race). */
export function useRooms(wanted: { contest: string; area: string }[]): Record<RoomKey, RoomState | null> {
  const key = wanted.map((w) => roomOf(w.contest, w.area)).join(',');
  const [, setTick] = useState(0);
  const rooms = useRef(new Map<RoomKey, LiveRoom>());
  useEffect(() => {
    let raf = 0;
    // Many rooms may answer at once: re-render once per frame, not once per room.
    const changed = () => {
      if (!raf) raf = requestAnimationFrame(() => ((raf = 0), setTick((n) => n + 1)));
    };
    const map = rooms.current;
    for (const w of key ? key.split(',') : []) {
      const i = w.indexOf(':');
      map.set(w as RoomKey, new LiveRoom(w.slice(0, i), w.slice(i + 1), changed));
    }
    setTick((n) => n + 1);
    return () => {
      if (raf) cancelAnimationFrame(raf);
      for (const r of map.values()) r.close();
      map.clear();
    };
  }, [key]);
  const out: Record<RoomKey, RoomState | null> = {};
  for (const [k, r] of rooms.current) out[k] = r.state;
  return out;
}

/** One live room; null until its first state arrives. */
export function useRoom(contest: string | null, area: string | null): RoomState | null {
  const rooms = useRooms(contest && area ? [{ contest, area }] : []);
  return contest && area ? (rooms[roomOf(contest, area)] ?? null) : null;
}

/** Live anomaly events for whatever areas this page subscribed to. */
export function useAnomalyEvents(onEvent: (a: AnomalyEvent) => void): void {
  const ref = useRef(onEvent);
  ref.current = onEvent;
  useEffect(() => {
    getSocket();
    const l = (a: AnomalyEvent) => ref.current(a);
    anomalyListeners.add(l);
    return () => {
      anomalyListeners.delete(l);
    };
  }, []);
}

/**
 * The operator room of an area (`subscribe-ops`): every TPS result under it that goes into quarantine
 * while the page is open, pushed as it happens. Staff only: this opens a second connection that
 * carries the officer's token (the page's public connection carries none, so public viewers never
 * share a socket with credentials). Joins again after a reconnect. Calls onRefused once with the
 * server's reason when the room is not allowed (no token, out of scope, revoked).
 */
export function useOpsEvents(area: string | null, token: string | null, onEvent: (e: OpsEvent) => void, onRefused?: (why: string) => void): void {
  const ref = useRef({ onEvent, onRefused });
  ref.current = { onEvent, onRefused };
  useEffect(() => {
    if (!area || !token) return;
    const s: RekapSocket = io({ ...SOCKET_OPTIONS, auth: { token } });
    s.on('connect', () => {
      s.emit('subscribe-ops', { area }, (res) => {
        if (!res.ok) ref.current.onRefused?.(res.error?.message ?? 'refused');
      });
    });
    s.on('review', (e) => ref.current.onEvent(e));
    s.on('auth_revoked', (info) => {
      ref.current.onRefused?.(info.message);
      s.close();
    });
    s.on('connect_error', (err) => {
      const data = (err as Error & { data?: { code?: string; message?: string } }).data;
      if (data?.code === 'invalid_token') {
        ref.current.onRefused?.(data.message ?? 'invalid token');
        s.close();
      }
    });
    return () => {
      s.close();
    };
  }, [area, token]);
}
