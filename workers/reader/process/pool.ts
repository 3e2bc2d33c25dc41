/**
 * The reader process pool: n child processes (workers/reader/process/child.ts), each with its own
 * OpenCV, reading one photo at a time. The ingest job handlers and `bench:read` call
 * `createReaderPool(n)` then `read(bytes | path, opts)`.
 *
 * Failure handling: a child that dies (native crash, OOM kill) or overruns the job timeout fails
 * only the job it was running — with an Error that says so — and is replaced; queued jobs go to the
 * replacement. A child whose resident memory grows past maxRssMb is recycled between jobs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { PageReading } from '../types.js';
import type { ReadOptions } from '../pipeline.js';
import type { ReadJob, ReadReply, ReadyMessage } from './protocol.js';

export interface ReaderPoolOptions {
  /** Recycle a child after a job once its RSS exceeds this (MB). */
  maxRssMb?: number;
  /** A job running longer than this kills its child (ms). */
  jobTimeoutMs?: number;
  /** Called with one line for each child crash/restart (defaults to stderr). */
  log?: (line: string) => void;
}

export interface ReaderPool {
  /** `bench.decodeBaseline`: the reading also carries `decodeBaseline` (protocol.ts ReadJob). */
  read(input: Uint8Array | string, opts?: ReadOptions, bench?: { decodeBaseline?: boolean }): Promise<PageReading>;
  close(): Promise<void>;
  readonly size: number;
  /** Current child pids (for monitoring and tests). */
  pids(): number[];
  /** Peak resident memory (MB) of any child: its VmHWM high-water mark (RSS after a job where unavailable). */
  peakRssMb(): number;
  /** Children replaced after a crash, timeout or memory recycle. */
  restarts(): number;
}

export class ReaderCrashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReaderCrashError';
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'child.ts');
/** tsx's loader, for forking a TypeScript child without a build (reader processes, photo generators). */
export const TSX_LOADER = pathToFileURL(path.join(here, '..', '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

interface Pending {
  job: ReadJob;
  resolve: (r: PageReading) => void;
  reject: (e: Error) => void;
}

interface Slot {
  child: ChildProcess;
  ready: boolean;
  current: Pending | null;
  timer: NodeJS.Timeout | null;
  retiring: boolean;
}

/**
 * The environment of a reader process: glibc allocator settings (a caller's own values win).
 * - One malloc arena: with glibc's default (8 per core) a reader's resident memory crept from 180 to
 *   350 MB over 100 photos while V8's heap stayed at ~15 MB: freed photo buffers and Mats were spread
 *   over arenas that never shrink. With one arena it stays under ~290 MB. Readers are single-threaded
 *   (cv.setNumThreads(1)), so arena contention costs nothing here.
 * - Photo-sized blocks from the heap, kept for the next photo: by default glibc serves a block above
 *   its mmap threshold (128 KB, raised as mmapped blocks are freed, up to 32 MB) with a fresh mmap and
 *   unmaps it on free, so a photo's 12 MB greyscale decode (36 MB in colour, always above the ceiling)
 *   can page-fault its way in again for every photo, which costs more CPU than the decoding. With mmap and trim
 *   thresholds of 64 MB the blocks are reused: the decode step fell from 20–24 to 12.8 ms CPU per photo
 *   over 200 bench photos in one process (session 6), peak resident memory ~300 MB either way.
 */
export function readerProcessEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const mb64 = String(64 * 1024 * 1024);
  return {
    ...base,
    MALLOC_ARENA_MAX: base.MALLOC_ARENA_MAX ?? '1',
    MALLOC_MMAP_THRESHOLD_: base.MALLOC_MMAP_THRESHOLD_ ?? mb64,
    MALLOC_TRIM_THRESHOLD_: base.MALLOC_TRIM_THRESHOLD_ ?? mb64,
  };
}

/**
 * V8 flags of a reader process. --initial-old-space-size=64: V8 starts a process with a small
 * old-generation limit and grows it slowly, and it counts the typed arrays' off-heap memory (getData
 * copies, patches, boxes: several MB per photo) towards it. A reader's live heap is only ~13 MB, so
 * with the default a full mark-compact ran every 4–5 photos and the incremental marking before each
 * one slowed every step (write barriers, marking steps). A session-8 helper measured (photos 0–199 in
 * one process, min–median of 2 runs): 43–53 full collections per 200 photos with the default, 8–9
 * with 64 MB, pipeline CPU 80.8–82.8 → 68.2–71.6 ms per photo, peak RSS +~12 MB. The whole bench:
 * 81.4 → 71.1–76.4 ms (docs/DECODER.md §10). It changes when garbage is collected, nothing that is read.
 */
export const READER_EXEC_ARGV = ['--initial-old-space-size=64'];

export function createReaderPool(n = 1, options: ReaderPoolOptions = {}): ReaderPool {
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`reader pool size must be 1..64, got ${n}`);
  const maxRssMb = options.maxRssMb ?? 380;
  const jobTimeoutMs = options.jobTimeoutMs ?? 120_000;
  const log = options.log ?? ((l: string) => process.stderr.write(`reader-pool: ${l}\n`));
  const queue: Pending[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;
  let peak = 0;
  let restarts = 0;

  function spawn(): Slot {
    const child = fork(CHILD, [], {
      execArgv: [...READER_EXEC_ARGV, '--import', TSX_LOADER],
      serialization: 'advanced',
      // Own process group: a Ctrl-C in the terminal reaches the parent, which stops readers in order;
      // if the parent dies, the IPC channel closes and the child exits on 'disconnect'.
      detached: true,
      env: readerProcessEnv(),
      // Child stdout goes to our stderr: nothing a reader prints may corrupt JSON lines on stdout.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    const slot: Slot = { child, ready: false, current: null, timer: null, retiring: false };
    child.on('message', (m: ReadReply | ReadyMessage) => {
      if ('ready' in m) {
        slot.ready = true;
        pump();
        return;
      }
      const p = slot.current;
      if (!p || p.job.id !== m.id) return;
      if (slot.timer) clearTimeout(slot.timer);
      slot.current = null;
      slot.timer = null;
      peak = Math.max(peak, m.hwmMb ?? m.rssMb);
      if (m.ok) p.resolve(m.decodeBaseline ? Object.assign(m.reading, { decodeBaseline: m.decodeBaseline }) : m.reading);
      else p.reject(new Error(`reader failed on ${p.job.opts.file ?? 'photo'}: ${m.error}`));
      if (m.rssMb > maxRssMb && !closed) {
        log(`child ${child.pid} at ${m.rssMb} MB > ${maxRssMb} MB: recycling`);
        replace(slot);
      }
      pump();
    });
    child.on('exit', (code, signal) => {
      if (slot.timer) clearTimeout(slot.timer);
      const p = slot.current;
      slot.current = null;
      if (p) {
        p.reject(
          new ReaderCrashError(
            `reader process ${child.pid} ${signal ? `was killed (${signal})` : `exited (code ${code})`} while reading ${p.job.opts.file ?? 'a photo'}; the job can be retried`,
          ),
        );
      }
      const i = slots.indexOf(slot);
      if (i >= 0 && !closed && !slot.retiring) {
        log(`child ${child.pid} ended (${signal ?? code}); restarting`);
        restarts++;
        slots[i] = spawn();
      }
      pump();
    });
    child.on('error', (err) => log(`child ${child.pid}: ${err.message}`));
    return slot;
  }

  function replace(slot: Slot) {
    const i = slots.indexOf(slot);
    if (i < 0) return;
    slot.retiring = true;
    restarts++;
    slots[i] = spawn();
    slot.child.disconnect();
  }

  function pump() {
    for (const slot of slots) {
      if (!queue.length) return;
      if (!slot.ready || slot.current || slot.retiring) continue;
      const p = queue.shift()!;
      slot.current = p;
      slot.timer = setTimeout(() => {
        log(`child ${slot.child.pid} exceeded ${jobTimeoutMs} ms on ${p.job.opts.file ?? 'a photo'}: killing`);
        slot.child.kill('SIGKILL');
      }, jobTimeoutMs);
      slot.child.send(p.job);
    }
  }

  for (let i = 0; i < n; i++) slots.push(spawn());

  return {
    size: n,
    read(input, opts = {}, bench = {}) {
      if (closed) return Promise.reject(new Error('reader pool is closed'));
      const job: ReadJob = typeof input === 'string' ? { id: nextId++, path: input, opts: { file: input, ...opts } } : { id: nextId++, bytes: input, opts };
      if (bench.decodeBaseline) job.decodeBaseline = true;
      return new Promise<PageReading>((resolve, reject) => {
        queue.push({ job, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const p of queue.splice(0)) p.reject(new Error('reader pool closed before the job ran'));
      await Promise.all(
        slots.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
              s.child.once('exit', () => resolve());
              if (s.child.connected) s.child.disconnect();
              else s.child.kill();
              // A child stuck in native code ignores disconnect: make sure it goes.
              setTimeout(() => s.child.kill('SIGKILL'), 5000).unref();
            }),
        ),
      );
    },
    pids: () => slots.map((s) => s.child.pid ?? -1),
    peakRssMb: () => peak,
    restarts: () => restarts,
  };
}
