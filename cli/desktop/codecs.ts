// Which codec to encode with, and how large. H.264 when the technician's side decodes it (its list
// comes in VIDEO_CODECS order: H.264 first) and this side's encoder opens it; VP8 otherwise, or when the
// person asked for VP8 only (`--codec vp8`). VP9 is not offered: its encoder in @napi-rs/webcodecs is
// far too slow for live video on a small machine.

import { DEFAULT_VIDEO_CODEC, VIDEO_CODECS } from '../../sdk/video-pacing.js';
import type { Size } from './geometry.js';


/**
 * The largest encoded size per codec, measured on a 2-core machine with a 1920×1080 capture: VP8
 * takes about 85 ms a frame at 1920×1080 but 18 ms at 1280×720; H.264 takes about 16 ms at
 * 1920×1080. A monitor larger than its box is scaled down to fit (see geometry.ts: fitWithin).
 */
export const ENCODE_BOX: Record<string, Size> = {
  vp8: { width: 1280, height: 720 },
  'avc1.640028': { width: 1920, height: 1080 },
};

/** What the person may ask for (`--codec`): the name they type, and the codec string it means. */
export const CODEC_CHOICES = { h264: 'avc1.640028', vp8: 'vp8' } as const satisfies Record<string, (typeof VIDEO_CODECS)[number]>;
export type CodecChoice = keyof typeof CODEC_CHOICES;

/**
 * The codecs to try, best first: those the expert listed (in its order) that this side encodes,
 * then VP8, which every WebCodecs browser decodes. Before the expert has said anything: VP8.
 * `--codec vp8` leaves VP8 alone; `--codec h264` is the default (H.264 needs the expert to decode it).
 */
export function codecCandidates(expertCodecs: readonly string[] | undefined, choice?: CodecChoice): string[] {
  if (choice === 'vp8') return [DEFAULT_VIDEO_CODEC];
  const listed = (expertCodecs ?? []).filter((codec) => (VIDEO_CODECS as readonly string[]).includes(codec));
  return [...new Set([...listed, DEFAULT_VIDEO_CODEC])];
}
