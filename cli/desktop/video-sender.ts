// Captures, encodes and sends the shared monitor, and adapts:
//   - nothing is captured unless the session would send video (approved, not paused, shared);
//   - an unchanged picture is not encoded: an idle desktop sends nothing at all (the cursor has its
//     own messages), unless the expert's side needs a key frame (start, request, resume, a drop);
//   - a picture is captured only when the encoder is about to be free: while it encodes, the next
//     capture waits until what is left of the encode (by the median encode) is no longer than the
//     median capture, so that the capture ends as the encoder frees: captures and encodes overlap
//     (they run on other threads than this one, so on two cores at once) and the picture encoded is
//     as fresh as waiting for the encoder would make it. A picture taken earlier would only wait for
//     the encoder, growing older (the glass-to-glass latency is its age when encoding starts plus the
//     encode); one taken later leaves the encoder idle. Until the medians are known the capture
//     waits until the encoder has its chunk. The chunk is sent while the next picture is captured;
//     the encoder is opened, reopened and closed only between two encodes (#exclusive);
//   - no frame is encoded while more waits unacknowledged than the link carries in 250 ms plus the viewer’s ack delay
//     (sdk/video-pacing.ts, shared with the console's screen share), so a slow link degrades to fewer
//     frames, never to a queue: looked at before capturing, and again just before encoding;
//   - the encoder's bitrate follows the measured throughput, changed at most every 15 s (a new
//     encoder starts with a key frame);
//   - the encoded size starts at the monitor fitted in the codec's box (codecs.ts) and steps down by
//     a quarter when capturing and encoding a frame is too slow for 15 frames a second (or a lower
//     --max-fps), back up when it is fast again (encode-size.ts): a higher cap takes more frames when
//     the machine has them, never a smaller picture.

import type { Clock } from '../../sdk/node.js';
import { DEFAULT_VIDEO_CODEC, ThroughputMeter } from '../../sdk/video-pacing.js';
import { codecCandidates, ENCODE_BOX, type CodecChoice } from './codecs.js';
import { EncodeSizeRule, type FrameCost, type SizeStep } from './encode-size.js';
import { DesktopError } from './errors.js';
import { fitWithin, largerBox, ScreenMapping, smallerBox, type Size } from './geometry.js';
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

export type CaptureOutcome =
  /** Not approved, paused, the share is not configured, or it is closing: nothing captured. */
  | 'not-ready'
  /** Too much waits unacknowledged: nothing captured. */
  | 'backpressure'
  | 'unchanged'
  /** Handed to the encoder: `encoded` tells what became of it. */
  | 'queued';

export type EncodeOutcome =
  | 'sent'
  /** The session dropped the chunk (a pause meanwhile); the next frame is a key frame. */
  | 'dropped'
  /** Not encoded after all: paused, too much waiting unacknowledged by then, or the share closed. */
  | 'not-encoded';

export type Captured = { outcome: Exclude<CaptureOutcome, 'queued'> } | { outcome: 'queued'; encoded: Promise<EncodeOutcome> };

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
  /** `--codec`: VP8 only, or H.264 when the expert decodes it (the default). */
  codec?: CodecChoice;
  clock: Clock;
  /** The share got a new configuration (codec, size). */
  onConfigured(info: VideoShareInfo): void;
}

export class VideoSender {
  readonly #options: VideoSenderOptions;
  readonly #meter = new ThroughputMeter();
  readonly #sizeRule: EncodeSizeRule;
  #encoder: FrameEncoder | undefined;
  #codec = DEFAULT_VIDEO_CODEC;
  #box: Size = ENCODE_BOX[DEFAULT_VIDEO_CODEC]!;
  #size: Size | undefined;
  #bitrate: number;
  #encoderOpenedAt = 0;
  /** Encoder work (open, encode, close), one at a time: never reopened or closed mid-encode. */
  #encoderWork: Promise<unknown> = Promise.resolve();
  /** While the encoder works on a picture: resolves once it has that picture's chunk. */
  #encoderBusy: Promise<void> | undefined;
  /** While the encoder is busy: when it should have the last picture's chunk, by the median encode. */
  #encoderFreeAt = 0;
  #captures: Promise<unknown> = Promise.resolve();
  /**
   * The newest picture on its way to the expert (waiting, encoding or sent): the next capture is
   * encoded only if it differs. Forgotten when a picture is not sent after all.
   */
  #newest: RawFrame | undefined;
  /** Ends #newest's hold on its pixels (see holdPixels). */
  #newestDone: (() => void) | undefined;
  #startedAt: number;
  #lastTimestamp = -1;
  /** A new encoder's first frame is a key frame, whatever the session needs. */
  #freshEncoder = false;
  #closed = false;

  constructor(options: VideoSenderOptions) {
    this.#options = options;
    this.#startedAt = options.clock.now();
    this.#bitrate = this.#targetBitrate();
    this.#sizeRule = new EncodeSizeRule(options.maxFps, options.clock);
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
  configure(): Promise<void> {
    return this.#exclusive(() => this.#configure());
  }

  /** The expert listed its codecs: a new configuration if it prefers another one. */
  codecsChanged(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#candidates()[0] !== this.#codec) await this.#configure();
    });
  }

  /**
   * One tick's picture: captured once the encoder is about to be free, and handed to it. Resolves
   * once captured; `encoded` resolves once the chunk is sent (or not), and rejects when encoding
   * fails. Calls run one after another.
   */
  capture(): Promise<Captured> {
    const run = this.#captures.then(() => this.#captureOnce());
    this.#captures = run.catch(() => {});
    return run;
  }

  /** Stops: nothing more is captured; the encoder closes once the frame it works on is done. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#exclusive(async () => {
      this.#encoder?.close();
      this.#encoder = undefined;
    });
  }

  async #captureOnce(): Promise<Captured> {
    const { session, capture, monitor, clock } = this.#options;
    if (!this.#mayCapture()) return { outcome: 'not-ready' };
    // The picture is taken as the encoder is done with the last one: encoded at once, it is as fresh as it can be.
    await this.#encoderAboutToBeFree();
    if (!this.#mayCapture()) return { outcome: 'not-ready' };
    if (!this.#mayEncode()) return { outcome: 'backpressure' };
    const captureStart = clock.now();
    const picture = await this.#capture(capture, monitor);
    const captureMs = clock.now() - captureStart;
    if (!session.keyFrameNeeded && this.#newest && samePicture(this.#newest, picture)) {
      picture.release?.();
      return { outcome: 'unchanged' };
    }
    if (!this.#mayCapture()) {
      picture.release?.();
      return { outcome: 'not-ready' }; // paused or closed while capturing
    }
    // Its pixels are needed to compare the next picture with, and until the encoder has copied them.
    const done = holdPixels(picture, 2);
    this.#newestDone?.();
    this.#newest = picture;
    this.#newestDone = done;
    let free!: () => void;
    const busy = new Promise<void>((resolve) => (free = resolve));
    // Its encode starts when the encoder is done with the one before (if any is still at it).
    this.#encoderFreeAt = Math.max(clock.now(), this.#encoderBusy ? this.#encoderFreeAt : 0) + (this.#sizeRule.median?.encodeMs ?? 0);
    this.#encoderBusy = busy;
    const encoded = this.#exclusive(() => this.#encodeAndSend(picture, captureMs, free).finally(done));
    void encoded
      .then(
        // Not sent, or failed: the expert does not have it, so the next capture is encoded whatever it shows.
        (outcome) => outcome !== 'sent' && this.#forget(picture),
        () => this.#forget(picture),
      )
      .finally(() => {
        // Not encoded, or failed: the encoder is free all the same.
        free();
        if (this.#encoderBusy === busy) this.#encoderBusy = undefined;
      });
    return { outcome: 'queued', encoded };
  }

  /**
   * Resolves once the encoder has the chunk of the picture it works on or, when the median capture
   * and encode are known, once what is left of its encode is no longer than a capture.
   */
  async #encoderAboutToBeFree(): Promise<void> {
    const busy = this.#encoderBusy;
    const median = this.#sizeRule.median;
    if (!busy || !median) return busy;
    const waitMs = this.#encoderFreeAt - median.captureMs - this.#options.clock.now();
    if (waitMs <= 0) return;
    let cancel = () => {};
    await Promise.race([busy, new Promise<void>((resolve) => (cancel = this.#options.clock.schedule(waitMs, resolve)))]);
    cancel();
  }

  #forget(picture: RawFrame): void {
    if (this.#newest !== picture) return;
    this.#newestDone?.();
    this.#newest = undefined;
    this.#newestDone = undefined;
  }

  #mayCapture(): boolean {
    return !this.#closed && this.#encoder !== undefined && this.#options.session.readyForVideo;
  }

  #mayEncode(): boolean {
    const { session, clock } = this.#options;
    this.#meter.observe(session.unacknowledgedBytes, clock.now());
    return this.#meter.mayEncode(session.unacknowledgedBytes);
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#encoderWork.then(task);
    this.#encoderWork = run.catch(() => {});
    return run;
  }

  #candidates(): string[] {
    return codecCandidates(this.#options.session.expertCodecs, this.#options.codec);
  }

  async #configure(): Promise<void> {
    const candidates = this.#candidates();
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

  /**
   * In #exclusive: the picture just captured, unless meanwhile the session paused or closed, or the
   * link backed up (the last chunk's bytes may be counted only while this picture was captured).
   * `encoded` is called once the encoder has the chunk, before it is sent.
   */
  async #encodeAndSend(picture: RawFrame, captureMs: number, encoded: () => void): Promise<EncodeOutcome> {
    const { session, clock } = this.#options;
    if (!this.#mayCapture() || !this.#mayEncode()) return 'not-encoded';
    const keyFrame = session.keyFrameNeeded || this.#freshEncoder;
    const encodeStart = clock.now();
    const chunk = await this.#encode(picture, keyFrame);
    const encodeMs = clock.now() - encodeStart;
    encoded();
    const sent = await session.sendVideoChunk({ ...chunk, timestamp: this.#lastTimestamp });
    // Not sent: the session now needs a key frame.
    if (!sent) return 'dropped';
    this.#freshEncoder = false;
    this.#meter.given(chunk.data.length);
    await this.#adapt({ captureMs, encodeMs });
    return 'sent';
  }

  /** Opens an encoder; `step` says whether this is a step of the size rule (else a codec or bitrate change). */
  async #open(codec: string, box: Size, step?: SizeStep): Promise<void> {
    const { monitor, maxFps, session, onConfigured } = this.#options;
    // The capture is in device pixels: scaleFactor times the monitor's desktop size.
    const size = fitWithin({ width: Math.round(monitor.width * monitor.scaleFactor), height: Math.round(monitor.height * monitor.scaleFactor) }, box);
    const encoder = await this.#options.openEncoder({ codec, ...size, bitrate: this.#bitrate, framerate: maxFps });
    this.#encoder?.close();
    this.#encoder = encoder;
    this.#encoderOpenedAt = this.#options.clock.now();
    this.#sizeRule.changed(step);
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

  /** After a frame: another size if the size rule says so, else a new bitrate if the link changed a lot. */
  async #adapt(cost: FrameCost): Promise<void> {
    const smaller = smallerBox(this.#box);
    const larger = largerBox(this.#box, ENCODE_BOX[this.#codec]!);
    const step = this.#sizeRule.observe(cost, { down: smaller !== undefined, up: larger !== undefined });
    if (step) return this.#open(this.#codec, step === 'down' ? smaller! : larger!, step);
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

/** Releases `picture`'s pixels to the capture once each of its `uses` has called the function returned. */
function holdPixels(picture: RawFrame, uses: number): () => void {
  let left = uses;
  return () => {
    if (--left === 0) picture.release?.();
  };
}

function samePicture(a: RawFrame, b: RawFrame): boolean {
  return a.width === b.width && a.height === b.height && a.format === b.format && Buffer.compare(a.pixels, b.pixels) === 0;
}

function capturePermissionHint(): string {
  if (process.platform === 'darwin') return 'allow Screen Recording for your terminal in System Settings › Privacy & Security, restart the terminal and share again';
  return 'check that the display is still there and share again';
}
