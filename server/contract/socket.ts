/**
 * The Socket.IO event map, shared by server and client (types only).
 *
 * Protocol
 * - Connect with `io(url, { transports: ['websocket'] })` (no long-polling: no sticky sessions needed).
 * - `subscribe({ area, contest, since? })` joins the room of one area and contest. The ack answers with
 *   either a full `snapshot` (first time, or when `since` is too old) or a `catchUp` delta holding every
 *   unit that changed after `since`. Either way the client then holds the state at `version`.
 * - The server then pushes coalesced `delta`s (at most a few per second per room). A delta carries the
 *   *new full values* of every unit that changed, never increments, so applying it twice or after a
 *   snapshot is harmless. Ignore a delta whose `version` ≤ the version you hold.
 * - If `delta.fromVersion` > your version (you missed one, e.g. after a disconnect), subscribe again
 *   with `since` = your version: you get the missing units or a fresh snapshot. `fromVersion` is the
 *   version up to which the node had announced this room's changes (the room's previous delta), so
 *   a quiet room's next delta still applies to what its clients hold.
 * - `anomaly` events announce quarantines and other findings for TPS under the subscribed area.
 */
import type { ResultStatus, UnitTally } from './results.js';
import type { InvestigationEvent } from './investigation.js';

export type RoomKey = `${string}:${string}`; // `${contestId}:${areaCode}`

export interface SubscribeRequest {
  /** Area code: '00' national, 2/4/6/10 digits. */
  area: string;
  contest: string;
  /** Version the client already holds for this room (from an earlier snapshot or delta). */
  since?: number;
}

export interface RoomSnapshot {
  kind: 'snapshot';
  room: RoomKey;
  area: string;
  contest: string;
  version: number;
  tally: UnitTally;
  /** Child areas, or TPS (with status) when the area is a desa. Keyed by code. */
  children: Record<string, UnitTally>;
  at: string;
}

export interface RoomDelta {
  kind: 'delta';
  room: RoomKey;
  area: string;
  contest: string;
  /** The client must hold at least this version for the delta to be complete; else resubscribe with since. */
  fromVersion: number;
  version: number;
  /** New full tally of the area itself, if it changed. */
  tally?: UnitTally;
  /** New full tallies of changed children. */
  children: Record<string, UnitTally>;
  /** TPS whose state changed in this delta (status after the change). */
  tps: { code: string; status: ResultStatus; version: number }[];
  /** Server time of the newest change included (for "diperbarui" and latency measurement). */
  at: string;
}

export type SubscribeAck =
  | { ok: true; state: RoomSnapshot | (RoomDelta & { catchUp: true }) }
  | { ok: false; error: { code: string; message: string } };

export interface AnomalyEvent {
  id: number;
  rule: string;
  kind: string;
  contestId: string | null;
  tpsCode: string | null;
  areaCode: string;
  severity: number;
  /** e.g. { status: 'FAIL', delta, fields } for a hard rule, or detector evidence. */
  detail: unknown;
  at: string;
}

/** Operator rooms (server/auth/sockets.ts): a TPS result went into quarantine and needs review. */
export interface OpsEvent { tpsCode: string; contestId: string; status: string | null; resultVersion: number | null; version: number; at: string }

export interface ServerToClientEvents {
  delta: (delta: RoomDelta) => void;
  anomaly: (event: AnomalyEvent) => void;
  /** Operator rooms only. */
  review: (event: OpsEvent) => void;
  /** Investigation rooms only (`subscribe-investigation`): new/resolved findings and case changes. */
  investigation: (event: InvestigationEvent) => void;
  /** The handshake token was revoked or expired: the server disconnects right after. */
  auth_revoked: (info: { code: string; message: string }) => void;
  /** The user's role or scope changed: operator rooms no longer allowed were left. */
  auth_changed: (info: { role: string; scope: string | null; leftRooms: string[] }) => void;
}

export interface ClientToServerEvents {
  subscribe: (req: SubscribeRequest, ack: (res: SubscribeAck) => void) => void;
  unsubscribe: (req: { area: string; contest: string }, ack?: (res: { ok: boolean }) => void) => void;
  /** Join the operator room of an area (needs a staff token in scope, or a KPPS token for its TPS). */
  'subscribe-ops': (req: { area: string }, ack?: (res: { ok: boolean; error?: { code: string; message: string } }) => void) => void;
  'unsubscribe-ops': (req: { area: string }, ack?: (res: { ok: boolean }) => void) => void;
  /**
   * Join the investigation room of an area (Bawaslu or admin token whose scope covers the area):
   * `investigation` events for findings and cases of TPS under it. Payloads are ids and codes; details
   * come from the findings/cases REST API.
   */
  'subscribe-investigation': (req: { area: string }, ack?: (res: { ok: boolean; error?: { code: string; message: string } }) => void) => void;
  'unsubscribe-investigation': (req: { area: string }, ack?: (res: { ok: boolean }) => void) => void;
}

export const roomKey = (contest: string, area: string): RoomKey => `${contest}:${area}`;
