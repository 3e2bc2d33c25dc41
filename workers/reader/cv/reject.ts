/**
 * Why a photo could not be read. A rejection is an answer, not a crash: the pipeline turns it into a
 * PageReading with class REJECTED, so a bad upload never takes a reader process down and the
 * reviewer sees the reason beside the photo.
 */
import type { PageKind } from '../types.js';

/** Every reason a photo can be refused (the capture page has advice for each: client/src/capture/text.ts). */
export const REJECT_REASONS = [
  'not_an_image',
  'unsupported_format',
  'truncated_image',
  'image_too_large',
  'image_too_small',
  'no_page_found',
  'page_cropped',
  'page_mark_unreadable',
  'unknown_template',
  'misaligned',
  'wrong_page',
  'wrong_candidate_count',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export class ReadReject extends Error {
  constructor(
    readonly reason: RejectReason,
    readonly detail: string,
    /** What was established before the photo was refused (the page was identified, then misaligned…). */
    readonly context: { page?: PageKind; templateId?: string; markId?: number; alignmentScore?: number } = {},
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'ReadReject';
  }
}
