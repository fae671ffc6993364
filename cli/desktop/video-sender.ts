// Captures, encodes and sends the shared monitor, one frame per call to frame(), and adapts:
//   - nothing is captured unless the session would send video (approved, not paused, shared);
//   - an unchanged picture is not encoded: an idle desktop sends nothing at all (the cursor has its
//     own messages), unless the expert's side needs a key frame (start, request, resume, a drop);
//   - no frame is encoded while more waits unacknowledged than the link carries in 250 ms
//     (sdk/video-pacing.ts, shared with the console's screen share), so a slow link degrades to fewer frames, never to a queue;
//   - the encoder's bitrate follows the measured throughput, changed at most every 15 s (a new
//     encoder starts with a key frame);
//   - the encoded size starts at the monitor fitted in the codec's box (codecs.ts) and steps down
//     by a quarter when encoding takes more than 70% of the frame interval.

import type { Clock } from '../../sdk/node.js';
import { DEFAULT_VIDEO_CODEC, ThroughputMeter } from '../../sdk/video-pacing.js';
import { codecCandidates, ENCODE_BOX } from './codecs.js';
import { DesktopError } from './errors.js';
import { fitWithin, ScreenMapping, smallerBox, type Size } from './geometry.js';
import type { DesktopSession, FrameEncoder, MonitorInfo, OpenEncoder, RawFrame, ScreenCapture } from './ports.js';

export const MIN_BITRATE = 200_000;
/** The target for typing and scrolling at 1920×1080; more buys little on a desktop. */
export const MAX_BITRATE = 1_500_000;
/** Of the measured throughput, what the encoder may use: the rest is for cursor, terminal and retransmissions. */
const BITRATE_SHARE_OF_THROUGHPUT = 0.8;
/** A bitrate change this large (either way) is worth a new encoder and a key frame… */
const BITRATE_CHANGE_RATIO = 1.5;
/** …at most this often. */
const MIN_MS_BETWEEN_ENCODERS = 15_000;
/** Encoding may take this share of the frame interval before the size steps down. */
const ENCODE_TIME_SHARE = 0.7;
/** Frames measured at a size before deciding it is too slow (the first frames of an encoder are slower). */
const FRAMES_BEFORE_STEP_DOWN = 10;

export type FrameOutcome =
  /** Not approved, paused, or the share is not configured: nothing captured. */
  | 'not-ready'
  /** Too much waits unacknowledged: nothing captured. */
  | 'backpressure'
  | 'unchanged'
  | 'sent'
  /** The session dropped the chunk (a pause meanwhile); the next frame is a key frame. */
  | 'dropped';

export interface VideoShareInfo {
  codec: string;
  width: number;
  height: number;
}

export interface VideoSenderOptions {
  session: DesktopSession;
  capture: ScreenCapture;
  openEncoder: OpenEncoder;
  monitor: MonitorInfo;
  maxFps: number;
  clock: Pick<Clock, 'now'>;
  /** The share got a new configuration (codec, size). */
  onConfigured(info: VideoShareInfo): void;
}

export class VideoSender {
  readonly #options: VideoSenderOptions;
  readonly #meter = new ThroughputMeter();
  #encoder: FrameEncoder | undefined;
  #codec = DEFAULT_VIDEO_CODEC;
  #box: Size = ENCODE_BOX[DEFAULT_VIDEO_CODEC]!;
  #size: Size | undefined;
  #bitrate: number;
  #encoderOpenedAt = 0;
  /** The last picture sent: the next is encoded only if it differs. */
  #previous: RawFrame | undefined;
  #startedAt: number;
  #lastTimestamp = -1;
  #encodeMsAverage: number | undefined;
  #framesAtThisSize = 0;
  /** A new encoder's first frame is a key frame, whatever the session needs. */
  #freshEncoder = false;

  constructor(options: VideoSenderOptions) {
    this.#options = options;
    this.#startedAt = options.clock.now();
    this.#bitrate = this.#targetBitrate();
  }

  /** Video coordinates ↔ desktop coordinates for the current configuration. */
  get mapping(): ScreenMapping | undefined {
    return this.#size && new ScreenMapping(this.#options.monitor, this.#size);
  }

  get bitrate(): number {
    return this.#bitrate;
  }

  get frameIntervalMs(): number {
    return 1000 / this.#options.maxFps;
  }

  /** Starts the share (or changes it): the first codec the expert listed that opens, at the size its box allows. */
  async configure(): Promise<void> {
    const candidates = codecCandidates(this.#options.session.expertCodecs);
    const refusals: string[] = [];
    for (const codec of candidates) {
      const box = codec === this.#codec ? this.#box : ENCODE_BOX[codec]!;
      try {
        await this.#open(codec, box);
        return;
      } catch (error) {
        if (!(error instanceof DesktopError)) throw error;
        refusals.push(error.message);
      }
    }
    throw new DesktopError('encoder-refused', `the video encoder refused every configuration (${refusals.join('; ')}): try a smaller monitor, or share the terminal only`);
  }

  /** The expert listed its codecs: a new configuration if it prefers another one. */
  async codecsChanged(): Promise<void> {
    if (codecCandidates(this.#options.session.expertCodecs)[0] !== this.#codec) await this.configure();
  }

  /** One frame's worth of work; called about maxFps times a second. */
  async frame(): Promise<FrameOutcome> {
    const { session, capture, monitor, clock } = this.#options;
    if (!session.readyForVideo || !this.#encoder) return 'not-ready';
    this.#meter.observe(session.unacknowledgedBytes, clock.now());
    if (!this.#meter.mayEncode(session.unacknowledgedBytes)) return 'backpressure';
    const picture = await this.#capture(capture, monitor);
    if (!session.keyFrameNeeded && this.#previous && samePicture(this.#previous, picture)) return 'unchanged';
    const keyFrame = session.keyFrameNeeded || this.#freshEncoder;
    if (!session.readyForVideo) return 'not-ready'; // paused while capturing

    const encodeStart = clock.now();
    const chunk = await this.#encode(picture, keyFrame);
    this.#measureEncode(clock.now() - encodeStart);
    const sent = await session.sendVideoChunk({ ...chunk, timestamp: this.#lastTimestamp });
    if (!sent) return 'dropped';
    this.#freshEncoder = false;
    this.#meter.given(chunk.data.length);
    this.#previous = picture;
    await this.#adapt();
    return 'sent';
  }

  close(): void {
    this.#encoder?.close();
    this.#encoder = undefined;
  }

  async #open(codec: string, box: Size): Promise<void> {
    const { monitor, maxFps, session, onConfigured } = this.#options;
    // The capture is in device pixels: scaleFactor times the monitor's desktop size.
    const size = fitWithin({ width: Math.round(monitor.width * monitor.scaleFactor), height: Math.round(monitor.height * monitor.scaleFactor) }, box);
    const encoder = await this.#options.openEncoder({ codec, ...size, bitrate: this.#bitrate, framerate: maxFps });
    this.#encoder?.close();
    this.#encoder = encoder;
    this.#encoderOpenedAt = this.#options.clock.now();
    this.#framesAtThisSize = 0;
    this.#encodeMsAverage = undefined;
    this.#freshEncoder = true;
    const changed = codec !== this.#codec || size.width !== this.#size?.width || size.height !== this.#size?.height;
    this.#codec = codec;
    this.#box = box;
    this.#size = size;
    if (changed) {
      await session.startVideoShare({ source: 'desktop', codec, ...size, controllable: true });
      onConfigured({ codec, ...size });
    }
  }

  async #capture(capture: ScreenCapture, monitor: MonitorInfo): Promise<RawFrame> {
    try {
      return await capture.capture(monitor.id);
    } catch (error) {
      if (!capture.monitors().some((listed) => listed.id === monitor.id)) {
        throw new DesktopError('monitor-gone', `monitor ${monitor.number} (${monitor.name}) is gone, so the desktop share stopped: the terminal and chat go on; share again with another --monitor`, { cause: error });
      }
      throw new DesktopError('capture-failed', `the screen could not be captured (${(error as Error).message}), so the desktop share stopped: ${capturePermissionHint()}`, { cause: error });
    }
  }

  async #encode(picture: RawFrame, keyFrame: boolean): Promise<{ key: boolean; data: Uint8Array }> {
    // Microseconds since the share started, strictly increasing as the decoder expects.
    this.#lastTimestamp = Math.max(this.#lastTimestamp + 1, Math.round((this.#options.clock.now() - this.#startedAt) * 1000));
    try {
      return await this.#encoder!.encode(picture, this.#lastTimestamp, keyFrame);
    } catch (error) {
      throw new DesktopError('encoder-refused', `the video encoder failed (${(error as Error).message}), so the desktop share stopped: share again, or share the terminal only`, { cause: error });
    }
  }

  #measureEncode(ms: number): void {
    this.#framesAtThisSize++;
    this.#encodeMsAverage = this.#encodeMsAverage === undefined ? ms : 0.8 * this.#encodeMsAverage + 0.2 * ms;
  }

  /** After a frame: a smaller size if encoding is too slow, else a new bitrate if the link changed a lot. */
  async #adapt(): Promise<void> {
    const slow = this.#framesAtThisSize >= FRAMES_BEFORE_STEP_DOWN && this.#encodeMsAverage! > ENCODE_TIME_SHARE * this.frameIntervalMs;
    const smaller = slow ? smallerBox(this.#box) : undefined;
    if (smaller) return this.#open(this.#codec, smaller);
    const target = this.#targetBitrate();
    const ratio = target / this.#bitrate;
    const due = this.#options.clock.now() - this.#encoderOpenedAt >= MIN_MS_BETWEEN_ENCODERS;
    if (due && (ratio >= BITRATE_CHANGE_RATIO || ratio <= 1 / BITRATE_CHANGE_RATIO)) {
      this.#bitrate = target;
      await this.#open(this.#codec, this.#box);
    }
  }

  #targetBitrate(): number {
    const bits = this.#meter.bytesPerSecond * 8 * BITRATE_SHARE_OF_THROUGHPUT;
    return Math.round(Math.min(MAX_BITRATE, Math.max(MIN_BITRATE, bits)));
  }
}

function samePicture(a: RawFrame, b: RawFrame): boolean {
  return a.width === b.width && a.height === b.height && Buffer.compare(a.rgba, b.rgba) === 0;
}

function capturePermissionHint(): string {
  if (process.platform === 'darwin') return 'allow Screen Recording for your terminal in System Settings › Privacy & Security, restart the terminal and share again';
  return 'check that the display is still there and share again';
}
