/** Messages between the reader pool and its child processes (structured-clone IPC). */
import type { PageReading } from '../types.js';
import type { ReadOptions } from '../pipeline.js';

export interface ReadJob {
  id: number;
  /** Photo bytes, or a path the child reads itself (saves copying megabytes over IPC). */
  bytes?: Uint8Array;
  path?: string;
  opts: ReadOptions;
  /**
   * Bench only: also time a plain colour decode of the same bytes (what any program that opens the
   * photo does) in this process, right before or after the read (alternating), so the pipeline and
   * its decode-only baseline are measured under the same load. Reported as `decodeBaseline`.
   */
  decodeBaseline?: boolean;
}

/** The plain-decode baseline of one photo, measured beside its read (ReadJob.decodeBaseline). */
export interface DecodeBaseline { ms: number; cpuMs: number }

/** rssMb: resident memory after the job; hwmMb: the process's resident high-water mark so far (VmHWM). */
export type ReadReply =
  | { id: number; ok: true; reading: PageReading; rssMb: number; hwmMb?: number; decodeBaseline?: DecodeBaseline }
  | { id: number; ok: false; error: string; rssMb: number; hwmMb?: number };

export interface ReadyMessage {
  ready: true;
  pid: number;
}
