// What both video senders (the assist command's desktop, the console's screen share) agree on: the
// codecs, and how fast to send.
//
// Codecs: H.264 when both sides have it (the technician's side lists what it decodes, the sender takes
// the first it can encode): @napi-rs/webcodecs encodes a 1920×1080 frame in about a fifth of VP8's time
// at 1280×720. VP8 otherwise, and before the technician's side said anything: every WebCodecs browser
// decodes it. VP9 is left out: @napi-rs/webcodecs encodes it far too slowly for live video.
//
// Pacing: how fast the link carries what this side sends, measured from the acknowledgements: the bytes
// given to the session minus the growth of what is still unacknowledged. The video sender encodes a
// frame only while what waits is less than the link carries in FRAME_QUEUE_MS (plus the viewer's ack
// delay), so a slow link gets fewer frames instead of a growing queue, and the encoder's bitrate follows
// the same figure.

import { DEFAULT_STREAM_TUNING } from './stream/tuning.js';

/** The codecs senders encode and viewers offer to decode, most preferred first. */
export const VIDEO_CODECS = ['avc1.640028', 'vp8'] as const;
/** What a sender encodes when the technician's side said nothing (the protocol's default). */
export const DEFAULT_VIDEO_CODEC = 'vp8';

/** At most this much video waits for acknowledgement (beyond what the viewer's ack delay holds) before the next frame is encoded. */
export const FRAME_QUEUE_MS = 250;
/**
 * A viewer sends nothing but acks, and holds each for up to its ack delay to cover more chunks (the
 * stream's ackDelayMs; as for the stream's timeouts, the peer is assumed to use this side's default). What
 * that holds back is not a queue: the budget allows for it, so fewer acks do not read as a slower link.
 */
const VIEWER_ACK_DELAY_MS = DEFAULT_STREAM_TUNING.ackDelayMs;
/** Before anything is measured: a modest office link. */
export const INITIAL_BYTES_PER_SECOND = 1_000_000 / 8;
/** Shorter samples are mostly noise (acknowledgements come in bursts). */
const MIN_SAMPLE_MS = 100;
/** Weight of a new sample in the moving average. */
const SMOOTHING = 0.3;

export class ThroughputMeter {
  #bytesPerSecond = INITIAL_BYTES_PER_SECOND;
  #sampleStart: { at: number; unacknowledged: number } | undefined;
  /** Bytes handed to the session since the sample started. */
  #given = 0;

  get bytesPerSecond(): number {
    return this.#bytesPerSecond;
  }

  /** What may wait unacknowledged before the next frame. */
  get queueBudgetBytes(): number {
    return (this.#bytesPerSecond * (FRAME_QUEUE_MS + VIEWER_ACK_DELAY_MS)) / 1000;
  }

  /** Counts bytes handed to the session (the video chunks). */
  given(bytes: number): void {
    this.#given += bytes;
  }

  /** Takes a reading of the session's unacknowledged bytes; call it before deciding on each frame. */
  observe(unacknowledged: number, now: number): void {
    const start = this.#sampleStart;
    if (!start || start.unacknowledged === 0) {
      // An idle link tells nothing about its speed: start a sample once something waits.
      this.#restart(unacknowledged, now);
      return;
    }
    const elapsed = now - start.at;
    if (elapsed < MIN_SAMPLE_MS) return;
    // Other messages (terminal output) also wait in the stream but are not counted as given: the
    // figure errs low, which sends fewer frames, never more.
    const acknowledged = Math.max(0, start.unacknowledged + this.#given - unacknowledged);
    const sample = (acknowledged * 1000) / elapsed;
    // Busy all along: a fair sample. Drained meanwhile: the link is at least this fast.
    this.#bytesPerSecond =
      unacknowledged > 0 ? (1 - SMOOTHING) * this.#bytesPerSecond + SMOOTHING * sample : Math.max(this.#bytesPerSecond, sample);
    this.#restart(unacknowledged, now);
  }

  /** Whether to encode a frame now: nothing waits, or less than the link carries in FRAME_QUEUE_MS. */
  mayEncode(unacknowledged: number): boolean {
    return unacknowledged === 0 || unacknowledged <= this.queueBudgetBytes;
  }

  #restart(unacknowledged: number, now: number): void {
    this.#sampleStart = { at: now, unacknowledged };
    this.#given = 0;
  }
}
