// Which codec to encode with, and how large. VP8 by default; H.264 when the technician's side lists
// it before VP8. VP9 is not offered: its encoder in @napi-rs/webcodecs is far too slow for live video
// on a small machine.

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

/**
 * The codecs to try, best first: those the expert listed (in its order) that this side encodes,
 * then VP8, which every WebCodecs browser decodes. Before the expert has said anything: VP8.
 */
export function codecCandidates(expertCodecs: readonly string[] | undefined): string[] {
  const listed = (expertCodecs ?? []).filter((codec) => (VIDEO_CODECS as readonly string[]).includes(codec));
  return [...new Set([...listed, DEFAULT_VIDEO_CODEC])];
}
