import { MAX_SCREEN_IMAGE_BYTES, type ScreenImage } from '../../sdk/assist-messages.js';
import type { AgentSession } from '../../sdk/assist-session.js';
import { h, uniqueId } from './dom.js';

// Sharing the person's screen, view only: the browser asks the person what to share (a tab, a
// window, the whole screen); this page draws the capture into a canvas a few times a second and
// sends it as a JPEG, scaled and compressed to stay small. The session decides what may go out
// (approved, not paused, one image at a time); this side also skips images nobody would receive and
// images identical to the last one sent. The technician's side shows each image in a canvas.

/** At most two images a second; fewer when the link is slow (the session drops what it cannot send yet). */
export const FRAME_INTERVAL_MS = 500;
/** What an image should typically weigh: a few frames of the relay each. */
export const TARGET_IMAGE_BYTES = 200_000;
/** Images fit in this box before any further scaling: sharp enough to read a 1080p screen's text. */
export const MAX_IMAGE_WIDTH = 1280;
export const MAX_IMAGE_HEIGHT = 1280;

const MIN_QUALITY = 0.4;
const MAX_QUALITY = 0.85;
const QUALITY_STEP = 0.1;
const MIN_SCALE = 0.4;
const SCALE_STEP = 0.8;
/** Images below this share of the target let quality or scale grow back. */
const ROOM_TO_GROW = 0.6;

/**
 * The image size and JPEG quality to encode the next image with, adapted after each one: a heavy
 * image lowers the quality, then the scale; light ones raise them again. Screens change slowly, so
 * the last image is a fair guess for the next.
 */
export class ImageBudget {
  #quality = 0.7;
  #scale = 1;

  get quality(): number {
    return this.#quality;
  }

  /** The size to draw a `width` × `height` capture at: within the box, times the current scale, whole pixels. */
  sizeFor(width: number, height: number): { width: number; height: number } {
    const fit = Math.min(1, MAX_IMAGE_WIDTH / width, MAX_IMAGE_HEIGHT / height) * this.#scale;
    return { width: Math.max(1, Math.round(width * fit)), height: Math.max(1, Math.round(height * fit)) };
  }

  /** Adapts to an image of `bytes` just encoded. */
  encoded(bytes: number): void {
    const round = (value: number) => Math.round(value * 100) / 100;
    if (bytes > TARGET_IMAGE_BYTES) {
      if (this.#quality > MIN_QUALITY) this.#quality = round(Math.max(MIN_QUALITY, this.#quality - QUALITY_STEP));
      else this.#scale = round(Math.max(MIN_SCALE, this.#scale * SCALE_STEP));
    } else if (bytes < TARGET_IMAGE_BYTES * ROOM_TO_GROW) {
      if (this.#scale < 1) this.#scale = round(Math.min(1, this.#scale / SCALE_STEP));
      else this.#quality = round(Math.min(MAX_QUALITY, this.#quality + QUALITY_STEP / 2));
    }
  }
}

/** What the browser may be asked beyond the standard options: not to offer this very tab (it would show itself). */
type DisplayMediaOptions = DisplayMediaStreamOptions & { selfBrowserSurface?: 'include' | 'exclude' };

const sameBytes = (a: Uint8Array, b: Uint8Array | undefined) => b !== undefined && a.length === b.length && a.every((byte, index) => byte === b[index]);

/** The person's side of one share, from the browser's picker to its stop. */
export class ScreenShare {
  readonly #session: AgentSession;
  readonly #stream: MediaStream;
  readonly #video: HTMLVideoElement;
  readonly #canvas = document.createElement('canvas');
  readonly #budget = new ImageBudget();
  readonly #onStopped: () => void;
  #lastSent: Uint8Array | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** Whether this browser can share a screen at all (not phones, not older browsers). */
  static get supported(): boolean {
    return typeof navigator.mediaDevices?.getDisplayMedia === 'function';
  }

  /**
   * Asks the browser what to share (it shows its own picker; call this from a click), tells the
   * technician, and starts sending. Rejects if the person cancels the picker (NotAllowedError).
   * `onStopped` runs once the share is over, however it ended: stop(), the browser's own "Stop
   * sharing", the shared window closing.
   */
  static async start(session: AgentSession, onStopped: () => void): Promise<ScreenShare> {
    const options: DisplayMediaOptions = { video: true, audio: false, selfBrowserSurface: 'exclude' };
    const stream = await navigator.mediaDevices.getDisplayMedia(options);
    const video = h('video', { muted: true, playsinline: true });
    video.muted = true; // the attribute sets only the default; autoplay needs the property
    video.srcObject = stream;
    try {
      await video.play();
      await session.startScreenShare();
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      throw error;
    }
    return new ScreenShare(session, stream, video, onStopped);
  }

  private constructor(session: AgentSession, stream: MediaStream, video: HTMLVideoElement, onStopped: () => void) {
    this.#session = session;
    this.#stream = stream;
    this.#video = video;
    this.#onStopped = onStopped;
    for (const track of stream.getVideoTracks()) track.addEventListener('ended', () => void this.stop());
    this.#schedule(0);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Ends the capture (the browser's sharing indicator goes away) and tells the technician. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const track of this.#stream.getTracks()) track.stop();
    this.#video.srcObject = null;
    this.#onStopped();
    try {
      await this.#session.stopScreenShare();
    } catch {
      // The session is failing (its stream broke): its 'ended' tells the page, and nobody is left to tell.
    }
  }

  #schedule(delay: number): void {
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), delay);
  }

  /** One image, if the session would send it now; the next tick is due an interval after this one started. */
  async #tick(): Promise<void> {
    const started = performance.now();
    try {
      if (this.#session.readyForScreenImage && this.#video.videoWidth > 0) await this.#sendImage();
    } catch {
      // The session failed under us (its 'ended' follows and the page stops the share): nothing more to send.
      return void this.stop();
    }
    this.#schedule(Math.max(0, FRAME_INTERVAL_MS - (performance.now() - started)));
  }

  async #sendImage(): Promise<void> {
    const size = this.#budget.sizeFor(this.#video.videoWidth, this.#video.videoHeight);
    if (this.#canvas.width !== size.width || this.#canvas.height !== size.height) Object.assign(this.#canvas, size);
    this.#canvas.getContext('2d')!.drawImage(this.#video, 0, 0, size.width, size.height);
    const blob = await new Promise<Blob | null>((resolve) => this.#canvas.toBlob(resolve, 'image/jpeg', this.#budget.quality));
    if (!blob || this.#stopped) return;
    const jpeg = new Uint8Array(await blob.arrayBuffer());
    this.#budget.encoded(jpeg.length);
    // Too heavy even for the protocol (the budget shrinks the next one), or nothing changed on screen.
    if (jpeg.length > MAX_SCREEN_IMAGE_BYTES || sameBytes(jpeg, this.#lastSent)) return;
    if (await this.#session.sendScreen({ ...size, jpeg })) this.#lastSent = jpeg;
  }
}

/** The technician's view of the person's shared screen: a status line and the latest image. */
export class ScreenView {
  readonly element: HTMLElement;
  readonly #status: HTMLElement;
  readonly #canvas: HTMLCanvasElement;
  readonly #personName: string;
  #shared = false;
  #paused = false;
  /** The newest image not drawn yet: images arriving while one decodes replace each other. */
  #pending: ScreenImage | undefined;
  #drawing = false;

  constructor(personName: string) {
    this.#personName = personName;
    const headingId = uniqueId('screen-heading');
    this.#status = h('p', { role: 'status', class: 'screen-status' });
    this.#canvas = h('canvas', { role: 'img', 'aria-label': `${personName}’s shared screen (view only)`, hidden: true });
    this.element = h('section', { class: 'screen', 'aria-labelledby': headingId, hidden: true }, h('h2', { id: headingId }, `${personName}’s screen`), this.#status, this.#canvas);
  }

  /** The person started or stopped sharing. */
  setShared(shared: boolean): void {
    this.#shared = shared;
    this.element.hidden = false;
    // A stopped share shows nothing: the last image is no longer what is on their screen.
    if (!shared) this.#canvas.hidden = true;
    this.#update();
  }

  setPaused(paused: boolean): void {
    this.#paused = paused;
    this.#update();
  }

  show(image: ScreenImage): void {
    this.#pending = image;
    if (!this.#drawing) void this.#drawPending();
  }

  #update(): void {
    const name = this.#personName;
    this.element.classList.toggle('screen-paused', this.#paused);
    this.#status.textContent = !this.#shared
      ? `${name} stopped sharing their screen.`
      : this.#paused
        ? `${name} paused the session: the picture does not change until they resume.`
        : `${name} is sharing their screen. You can see it, but not control it.`;
  }

  async #drawPending(): Promise<void> {
    this.#drawing = true;
    for (let image = this.#pending; image; image = this.#pending) {
      this.#pending = undefined;
      let bitmap: ImageBitmap;
      try {
        bitmap = await createImageBitmap(new Blob([image.jpeg.slice()], { type: 'image/jpeg' }));
      } catch {
        continue; // an image the browser cannot decode is skipped; the next one replaces it anyway
      }
      if (this.#shared) {
        if (this.#canvas.width !== image.width || this.#canvas.height !== image.height) Object.assign(this.#canvas, { width: image.width, height: image.height });
        this.#canvas.getContext('2d')!.drawImage(bitmap, 0, 0, image.width, image.height);
        this.#canvas.hidden = false;
      }
      bitmap.close();
    }
    this.#drawing = false;
  }
}
