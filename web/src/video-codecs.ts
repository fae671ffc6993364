// Which video codecs the two browsers use. The technician's page tells the person's side what it
// decodes, most preferred first; the sender picks the first it can encode. VP9 is left out: the
// assist command's encoder (Node) is too slow with it for a live desktop.
import { DEFAULT_VIDEO_CODEC, VIDEO_CODECS } from '../../sdk/video-pacing.js';


/** The codecs of `candidates` for which `supported` says yes, in the candidates' order. */
export async function supportedInOrder(candidates: readonly string[], supported: (codec: string) => Promise<boolean>): Promise<string[]> {
  const answers = await Promise.all(candidates.map((codec) => supported(codec).catch(() => false)));
  return candidates.filter((_, index) => answers[index]);
}

/** The codecs this browser decodes, most preferred first; none without WebCodecs. */
export async function decodableCodecs(): Promise<string[]> {
  if (typeof VideoDecoder !== 'function') return [];
  return supportedInOrder(VIDEO_CODECS, async (codec) => (await VideoDecoder.isConfigSupported({ codec, optimizeForLatency: true })).supported === true);
}

/** H.264 chunks carry their parameter sets in the stream (Annex B): the protocol sends no decoder description. */
const formatFor = (codec: string): Pick<VideoEncoderConfig, 'avc'> => (codec.startsWith('avc1.') ? { avc: { format: 'annexb' } } : {});

/**
 * An encoder configuration for a live screen: real-time, about 1.5 Mbit/s for a full HD picture
 * (text stays sharp at the frame rates a screen share needs), less for smaller ones.
 */
export function encoderConfig(codec: string, width: number, height: number): VideoEncoderConfig {
  const FULL_HD_BITS_PER_SECOND = 1_500_000;
  const bitrate = Math.max(300_000, Math.round((FULL_HD_BITS_PER_SECOND * width * height) / (1920 * 1080)));
  return { codec, width, height, bitrate, latencyMode: 'realtime', ...formatFor(codec) };
}

/** The first of the technician's codecs this browser encodes at this size; VP8 when none (or nothing was said). */
export async function codecToEncode(wanted: readonly string[] | undefined, width: number, height: number): Promise<string> {
  const encodable = await supportedInOrder(wanted ?? [], async (codec) => (await VideoEncoder.isConfigSupported(encoderConfig(codec, width, height))).supported === true);
  return encodable[0] ?? DEFAULT_VIDEO_CODEC;
}
