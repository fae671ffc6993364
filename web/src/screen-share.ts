import type { AgentSession } from '../../sdk/assist-session.js';
import { ThroughputMeter } from '../../sdk/video-pacing.js';
import { h } from './dom.js';
import { sentence } from './text.js';
import { codecToEncode, encoderConfig } from './video-codecs.js';

// Sharing the person's screen, view only: the browser asks the person what to share (a tab, a
// window, the whole screen); this page encodes the capture as video with WebCodecs (VP8, or what
// the technician's browser prefers and this one encodes) and sends it in the session, as the
// assist command does with a desktop, so the technician has one viewer for both. The session
// decides what may go out (approved, not paused, a key frame first); this side encodes a frame
// only when it would go out at once: a slow link gets fewer frames, never a queue of old ones.

/** Enough to follow typing and scrolling, and leaves the person's computer most of its time. */
export const MAX_FRAMES_PER_SECOND = 15;
/** Larger captures are scaled down to about this many pixels (1920 × 1200): encoding a 4K screen live would take the person's computer. */
const MAX_PIXELS = 1920 * 1200;

/** The size to encode a `width` × `height` capture at: at most MAX_PIXELS, the shape kept, even sides (as H.264 needs). */
export function encodedSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, Math.sqrt(MAX_PIXELS / (width * height)));
  const even = (side: number) => Math.max(2, 2 * Math.round((side * scale) / 2));
  return { width: even(width), height: even(height) };
}

/** A promise settled from outside; its rejection counts as handled (whoever awaits it still sees it). */
function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let settle!: { resolve(): void; reject(error: Error): void };
  const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  promise.catch(() => undefined);
  return { promise, ...settle };
}

/** Why the share stopped, for the person. */
const sharingFailed = (error: unknown) => `Sharing stopped: ${sentence(error instanceof Error ? error.message : String(error))} Try sharing again.`;

/** What the browser may be asked beyond the standard options: not to offer this very tab (it would show itself). */
type DisplayMediaOptions = DisplayMediaStreamOptions & { selfBrowserSurface?: 'include' | 'exclude' };

/** Chromium's MediaStreamTrackProcessor (not in TypeScript's DOM types): the capture's frames as a stream, also in a background tab. */
declare const MediaStreamTrackProcessor: (new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> }) | undefined;

/** The person's side of one share, from the browser's picker to its stop. */
export class ScreenShare {
  readonly #session: AgentSession;
  readonly #stream: MediaStream;
  readonly #onStopped: (problem?: string) => void;
  /** Frames are encoded only while what waits for acknowledgement stays below what the link carries (the assist command's rule). */
  readonly #pacer = new ThroughputMeter();
  #encoder: VideoEncoder | undefined;
  #size: { width: number; height: number } | undefined;
  /** A new configuration is being told to the technician: frames wait (are skipped) until it is. */
  #configuring = false;
  #lastEncodedAt = -Infinity;
  /** The capture's newest frame, kept until a newer one comes, and whether it was encoded. */
  #newest: VideoFrame | undefined;
  #newestSent = false;
  /** Takes a frame from the capture on the clock, where the browser does not offer them by itself. */
  #sample: () => void = () => undefined;
  readonly #firstConfiguration = deferred();
  #stopFrames: () => void = () => undefined;
  #stopped = false;

  /** Whether this browser can share a screen as video (not phones, not older browsers). */
  static get supported(): boolean {
    return typeof navigator.mediaDevices?.getDisplayMedia === 'function' && typeof VideoEncoder === 'function';
  }

  /**
   * Asks the browser what to share (it shows its own picker; call this from a click), tells the
   * technician, and starts sending. Rejects if the person cancels the picker (NotAllowedError).
   * `onStopped` runs once the share is over, however it ended: stop(), the browser's own "Stop
   * sharing", the shared window closing, an encoder that failed (with a sentence saying so).
   */
  static async start(session: AgentSession, onStopped: (problem?: string) => void): Promise<ScreenShare> {
    const options: DisplayMediaOptions = { video: true, audio: false, selfBrowserSurface: 'exclude' };
    const stream = await navigator.mediaDevices.getDisplayMedia(options);
    const share = new ScreenShare(session, stream, onStopped);
    try {
      await share.#start();
    } catch (error) {
      await share.stop();
      throw error;
    }
    return share;
  }

  private constructor(session: AgentSession, stream: MediaStream, onStopped: (problem?: string) => void) {
    this.#session = session;
    this.#stream = stream;
    this.#onStopped = onStopped;
    for (const track of stream.getVideoTracks()) track.addEventListener('ended', () => void this.stop());
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Ends the capture (the browser's sharing indicator goes away) and tells the technician. */
  async stop(problem?: string): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopFrames();
    for (const track of this.#stream.getTracks()) track.stop();
    if (this.#encoder?.state !== 'closed') this.#encoder?.close();
    this.#firstConfiguration.reject(new Error(problem ?? 'the share stopped before its first picture'));
    this.#onStopped(problem);
    try {
      // A problem is the encoder's (capture problems end the track, which reads as the person stopping).
      await this.#session.stopScreenShare(problem === undefined ? 'by-person' : 'encoder-failed');
    } catch {
      // The session is failing (its stream broke): its 'ended' tells the page, and nobody is left to tell.
    }
  }

  /**
   * Frames from the capture, as the browser offers them, and a clock at the frame-rate cap that
   * encodes the newest one when the link has room; resolves once the technician was told the first
   * configuration.
   */
  async #start(): Promise<void> {
    const track = this.#stream.getVideoTracks()[0]!;
    const stops: (() => void)[] = [];
    if (typeof MediaStreamTrackProcessor === 'function') {
      const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
      stops.push(() => void reader.cancel().catch(() => undefined));
      void (async () => {
        for (let read = await reader.read(); !read.done; read = await reader.read()) this.#captured(read.value);
      })().catch(() => undefined);
    } else {
      // Elsewhere the capture plays in a video element, sampled on the clock (about once a second in a background tab).
      const video = h('video', { muted: true, playsinline: true });
      video.muted = true; // the attribute sets only the default; autoplay needs the property
      video.srcObject = this.#stream;
      await video.play();
      stops.push(() => (video.srcObject = null));
      this.#sample = () => {
        if (video.videoWidth > 0) this.#captured(new VideoFrame(video, { timestamp: Math.round(performance.now() * 1000) }));
      };
    }
    const clock = setInterval(() => {
      this.#sample();
      void this.#encodeNewest();
    }, 1000 / MAX_FRAMES_PER_SECOND);
    stops.push(() => clearInterval(clock));
    this.#stopFrames = () => {
      for (const stop of stops) stop();
      this.#newest?.close();
    };
    await this.#firstConfiguration.promise;
  }

  /** A frame from the capture replaces the one kept. */
  #captured(frame: VideoFrame): void {
    if (this.#stopped) return frame.close();
    this.#newest?.close();
    this.#newest = frame;
    this.#newestSent = false;
    void this.#encodeNewest();
  }

  /**
   * Encodes the newest frame if the session would send it now and it was not sent yet, or a key
   * frame is needed (a request, a resume): a screen that stays still sends no new frames, so the
   * one kept is what the technician must see. A new size first reconfigures.
   */
  async #encodeNewest(): Promise<void> {
    const frame = this.#newest;
    if (!frame || this.#stopped || this.#configuring) return;
    try {
      const size = encodedSize(frame.displayWidth, frame.displayHeight);
      if (this.#size?.width !== size.width || this.#size.height !== size.height) await this.#configure(size);
      const now = performance.now();
      const session = this.#session;
      const due = now - this.#lastEncodedAt >= 1000 / MAX_FRAMES_PER_SECOND;
      const wanted = !this.#newestSent || session.keyFrameNeeded;
      if (frame !== this.#newest || this.#stopped || !wanted || !due || !session.readyForVideo) return;
      this.#pacer.observe(session.unacknowledgedBytes, now);
      if (this.#encoder!.encodeQueueSize > 0 || !this.#pacer.mayEncode(session.unacknowledgedBytes)) return;
      this.#lastEncodedAt = now;
      this.#newestSent = true;
      this.#encoder!.encode(frame, { keyFrame: session.keyFrameNeeded });
    } catch (error) {
      await this.stop(sharingFailed(error));
    }
  }

  /** A new encoder for this size, and the technician told before any of its frames. */
  async #configure(size: { width: number; height: number }): Promise<void> {
    this.#configuring = true;
    try {
      const codec = await codecToEncode(this.#session.expertCodecs, size.width, size.height);
      if (this.#encoder?.state !== 'closed') this.#encoder?.close();
      const encoder = new VideoEncoder({
        output: (chunk) => this.#send(chunk),
        error: (error) => void this.stop(sharingFailed(error)),
      });
      encoder.configure(encoderConfig(codec, size.width, size.height));
      this.#encoder = encoder;
      this.#size = size;
      await this.#session.startVideoShare({ source: 'screen', codec, ...size, controllable: false });
      this.#firstConfiguration.resolve();
    } finally {
      this.#configuring = false;
    }
  }

  #send(chunk: EncodedVideoChunk): void {
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    this.#pacer.given(data.length);
    // Handed over at once, so the stream keeps the encoder's order and counts the bytes as unacknowledged now.
    // A failure means the session is ending (its 'ended' stops the share).
    void this.#session.sendVideoChunk({ key: chunk.type === 'key', timestamp: chunk.timestamp, data }).catch(() => undefined);
  }
}
