/**
 * Loads the OpenCV addon once per process. We load the native binding directly rather than the
 * package's JS wrapper: the wrapper constructs an OpenCV *builder* on require, which prints `Info:`
 * lines on stdout (breaking JSON-lines output) and throws unless OPENCV4NODEJS_DISABLE_AUTOBUILD is
 * set at run time. The native binding holds every sync function we use (DEPENDENCIES.md: sync API
 * only; one addon per process, never in two worker_threads).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as OpenCV from '@u4/opencv4nodejs';

export type Cv = typeof OpenCV.cv;
export type Mat = OpenCV.Mat;

let loaded: Cv | null = null;

export function loadCv(): Cv {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const wrapper = require.resolve('@u4/opencv4nodejs');
  // <pkg>/cjs/lib/opencv4nodejs.js → <pkg>/build/Release/opencv4nodejs.node
  const binding = path.join(path.dirname(wrapper), '..', '..', 'build', 'Release', 'opencv4nodejs.node');
  try {
    loaded = require(binding) as Cv;
  } catch (err) {
    throw new Error(
      `cannot load the OpenCV addon (${binding}): ${(err as Error).message}. ` +
        'Run `npm run setup` (needs Debian libopencv-dev and OPENCV4NODEJS_DISABLE_AUTOBUILD=1 at install).',
    );
  }
  // One thread, always. Not only for fairness between reader processes: when OpenCV parallelises a
  // call (warpPerspective → remap on TBB threads), the addon's Mat allocator reports memory to V8
  // from a non-JS thread, and V8 aborts the process ("Check failed: marking_done_") — seen here on a
  // *sync* warpPerspective of a 12 MP photo. With one thread every allocation stays on the JS thread.
  loaded.setNumThreads(1);
  return loaded;
}
