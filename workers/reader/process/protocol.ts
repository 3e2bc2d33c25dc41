/** Messages between the reader pool and its child processes (structured-clone IPC). */
import type { PageReading } from '../types.js';
import type { ReadOptions } from '../pipeline.js';

export interface ReadJob {
  id: number;
  /** Photo bytes, or a path the child reads itself (saves copying megabytes over IPC). */
  bytes?: Uint8Array;
  path?: string;
  opts: ReadOptions;
}

/** rssMb: resident memory after the job; hwmMb: the process's resident high-water mark so far (VmHWM). */
export type ReadReply =
  | { id: number; ok: true; reading: PageReading; rssMb: number; hwmMb?: number }
  | { id: number; ok: false; error: string; rssMb: number; hwmMb?: number };

export interface ReadyMessage {
  ready: true;
  pid: number;
}
