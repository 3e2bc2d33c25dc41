/**
 * A reader process: loads OpenCV, the templates and the digit model once, then reads jobs one at a
 * time from its parent over IPC (sync OpenCV API only; one addon per process — DEPENDENCIES.md).
 * A job's failure is reported, never fatal; only a native crash ends the process, and the pool
 * restarts it.
 */
import { readFileSync } from 'node:fs';
import { loadCv } from '../cv/opencv.js';
import { loadTemplates } from '../template/index.js';
import { readPhoto, rejected } from '../pipeline.js';
import { processCpuMs as cpuNow } from '../cpu-time.js';
import type { DecodeBaseline, ReadJob, ReadReply, ReadyMessage } from './protocol.js';

// The parent may be gone already (stopped during our start-up): a send on a closed channel would throw.
// It can also close between that check and the write (the pool closing while a recycled child
// starts): with a callback the EPIPE is handed to us instead of crashing the process.
const send = (m: ReadReply | ReadyMessage) => {
  if (process.connected) process.send?.(m, undefined, {}, (err) => {
    if (err) process.exit(0);
  });
};
const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);
/** Peak resident memory of this process so far (Linux VmHWM): what a job touched at its worst, not after it. */
const hwmMb = (): number | undefined => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
};

// Warm everything that is loaded once, so the first job is not slower than the rest.
const cv = loadCv();
// The pool runs one reader per core; OpenCV's own threads would then only contend.
cv.setNumThreads(1);
loadTemplates();

/** A plain colour decode of the bytes, timed (wall and CPU), then freed. */
function plainDecode(bytes: Uint8Array): DecodeBaseline {
  const t = performance.now();
  const c = cpuNow();
  try {
    cv.imdecode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), cv.IMREAD_COLOR | cv.IMREAD_IGNORE_ORIENTATION).release();
  } catch {
    // Not a decodable image: the read itself reports why; the baseline is what the attempt cost.
  }
  return { ms: Math.round((performance.now() - t) * 100) / 100, cpuMs: Math.round((cpuNow() - c) * 100) / 100 };
}
let baselines = 0;

process.on('message', (job: ReadJob) => {
  let reply: ReadReply;
  try {
    let bytes: Uint8Array;
    if (job.path !== undefined) {
      try {
        bytes = readFileSync(job.path);
      } catch (err) {
        const reading = rejected('unreadable_file', `cannot read ${job.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {});
        send({ id: job.id, ok: true, reading: { ...reading, file: job.opts.file }, rssMb: rssMb() });
        return;
      }
    } else {
      bytes = job.bytes ?? new Uint8Array();
    }
    // Before the read on even jobs, after it on odd ones: neither side always gets the warm caches.
    const first = job.decodeBaseline && baselines++ % 2 === 0 ? plainDecode(bytes) : undefined;
    const reading = readPhoto(bytes, job.opts);
    const decodeBaseline = job.decodeBaseline ? (first ?? plainDecode(bytes)) : undefined;
    reply = { id: job.id, ok: true, reading, rssMb: rssMb(), hwmMb: hwmMb(), ...(decodeBaseline ? { decodeBaseline } : {}) };
  } catch (err) {
    reply = { id: job.id, ok: false, error: (err as Error).stack ?? String(err), rssMb: rssMb(), hwmMb: hwmMb() };
  }
  send(reply);
});

process.on('disconnect', () => process.exit(0));
send({ ready: true, pid: process.pid });
