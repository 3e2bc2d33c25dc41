/**
 * Where `npm run bench:read` caches its synthetic photos (with their ground truth), shared with the
 * tools that read them again (bench/read-box-errors.ts). Keyed by seed, handwriting side and the
 * generator's version, so a changed generator never reuses stale photos.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYNTH_GENERATOR_VERSION, type HandwritingPart } from '../workers/reader/synth/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export function readBenchDir(seed: string, handwriting: HandwritingPart): string {
  return path.join(here, 'tmp', `read-${seed}-${handwriting}-g${SYNTH_GENERATOR_VERSION}`);
}
