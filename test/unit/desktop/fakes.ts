// Fakes for the desktop share's ports: a screen whose picture a test sets, an encoder that says
// what it was asked, an input device that records calls, and (for the video sender alone) a session
// that keeps the SDK's video rules in a few lines.
import type { AgentSessionEvents, Clock, CursorShape, CursorState, VideoChunk, VideoConfig } from '../../../sdk/node.js';
import { Emitter } from '../../../sdk/emitter.js';
import type { CursorImage, DesktopSession, EncoderSettings, FrameEncoder, InputDevice, MonitorInfo, RawFrame, ScreenCapture, ScreenWatch } from '../../../cli/desktop/ports.js';
import { DesktopError } from '../../../cli/desktop/errors.js';

export const monitor = (overrides: Partial<MonitorInfo> = {}): MonitorInfo => ({
  number: 1,
  id: 60,
  name: 'screen',
  x: 0,
  y: 0,
  width: 1920,
  height: 1080,
  primary: true,
  scaleFactor: 1,
  ...overrides,
});

/** A picture of one colour (its red value tells pictures apart), RGBA unless told. */
export function picture(red: number, width = 1920, height = 1080, format: RawFrame['format'] = 'RGBA'): RawFrame {
  const pixels = new Uint8Array(width * height * 4);
  const pixel = format === 'RGBA' ? [red, 0, 0, 255] : [0, 0, red, 255];
  for (let index = 0; index < pixels.length; index += 4) pixels.set(pixel, index);
  return { width, height, format, pixels };
}

export class FakeScreen implements ScreenCapture {
  captures = 0;
  current: RawFrame = picture(10, 64, 36);
  listed: MonitorInfo[];
  /** The next capture fails with this. */
  failure: Error | undefined;
  /** Called during each capture: what happens elsewhere meanwhile. */
  onCapture: (() => void) | undefined;

  constructor(...monitors: MonitorInfo[]) {
    this.listed = monitors.length > 0 ? monitors : [monitor()];
  }

  monitors(): MonitorInfo[] {
    return this.listed;
  }

  async capture(): Promise<RawFrame> {
    this.captures++;
    this.onCapture?.();
    if (this.failure) throw this.failure;
    return this.current;
  }
}

export interface EncodedFrame {
  /** The picture's first byte: its red value in RGBA. */
  red: number;
  format: RawFrame['format'];
  key: boolean;
  settings: EncoderSettings;
}

/** Encoders that "encode" a picture as its red value; refuse codecs listed in `refused`. */
export class FakeEncoders {
  readonly opened: EncoderSettings[] = [];
  readonly encoded: EncodedFrame[] = [];
  readonly refused = new Set<string>();
  /** Milliseconds each encode takes, by the test's clock. */
  encodeMs = 0;
  /** While set, encodes wait for it (a test holds the encoder busy and lets it go). */
  gate: Promise<void> | undefined;
  /** Encodes started and not yet finished. */
  inFlight = 0;
  /** Encoders opened or closed while an encode was in flight: must stay 0. */
  changedMidEncode = 0;

  constructor(private readonly clock?: { advanceBy(ms: number): void }) {}

  open = async (settings: EncoderSettings): Promise<FrameEncoder> => {
    if (this.refused.has(settings.codec)) throw new DesktopError('encoder-refused', `the ${settings.codec} encoder refused ${settings.width}×${settings.height} (not supported)`);
    if (this.inFlight > 0) this.changedMidEncode++;
    this.opened.push(settings);
    let first = true;
    return {
      encode: async (frame, _timestamp, keyFrame) => {
        this.inFlight++;
        const key = keyFrame || first;
        first = false;
        this.encoded.push({ red: frame.pixels[0]!, format: frame.format, key, settings });
        await this.gate;
        this.clock?.advanceBy(this.encodeMs);
        this.inFlight--;
        return { key, data: Uint8Array.of(frame.pixels[0]!, key ? 1 : 0) };
      },
      close: () => {
        if (this.inFlight > 0) this.changedMidEncode++;
      },
    };
  };
}

export class FakeInput implements InputDevice {
  readonly calls: string[] = [];
  position = { x: 0, y: 0 };

  mousePosition() {
    return this.position;
  }
  moveMouse(x: number, y: number) {
    this.calls.push(`move ${x},${y}`);
  }
  mouseButton(button: string, action: string) {
    this.calls.push(`${button} ${action}`);
  }
  scroll(x: number, y: number) {
    this.calls.push(`scroll ${x},${y}`);
  }
  key(key: string, action: string) {
    this.calls.push(`key ${key} ${action}`);
  }
  typeText(text: string) {
    this.calls.push(`type ${text}`);
  }
}

/** Holds `encoders` busy until the returned function is called. */
export function holdEncoder(encoders: FakeEncoders): () => void {
  let release!: () => void;
  encoders.gate = new Promise((resolve) => (release = resolve));
  return () => {
    encoders.gate = undefined;
    release();
  };
}

/** A clock whose time moves only when told to; what is scheduled runs once its time is passed. */
export class StepClock implements Clock {
  #now = 0;
  #timers: Array<{ at: number; callback: () => void }> = [];
  now(): number {
    return this.#now;
  }
  schedule(delayMs: number, callback: () => void): () => void {
    const timer = { at: this.#now + delayMs, callback };
    this.#timers.push(timer);
    return () => (this.#timers = this.#timers.filter((other) => other !== timer));
  }
  advanceBy(ms: number): void {
    this.#now += ms;
    const due = this.#timers.filter(({ at }) => at <= this.#now);
    this.#timers = this.#timers.filter(({ at }) => at > this.#now);
    for (const { callback } of due) callback();
  }
}

/** The SDK's video rules in short: video flows once a share is configured, approved and not paused. */
export class FakeVideoSession extends Emitter<AgentSessionEvents> implements DesktopSession {
  active = true;
  paused = false;
  keyFrameNeeded = true;
  unacknowledgedBytes = 0;
  expertCodecs: readonly string[] | undefined;
  droppedInputEvents = 0;
  video: VideoConfig | undefined;
  readonly configs: VideoConfig[] = [];
  readonly chunks: VideoChunk[] = [];
  readonly cursors: CursorState[] = [];
  readonly cursorShapes: { id: number; shape?: CursorShape }[] = [];
  readonly chats: string[] = [];
  stoppedShares = 0;

  get readyForVideo(): boolean {
    return this.active && !this.paused && this.video !== undefined;
  }

  async startVideoShare(config: VideoConfig): Promise<void> {
    this.video = config;
    this.configs.push(config);
    this.keyFrameNeeded = true;
  }

  async stopScreenShare(): Promise<void> {
    this.video = undefined;
    this.stoppedShares++;
  }

  async sendVideoChunk(chunk: VideoChunk): Promise<boolean> {
    if (!this.readyForVideo || (this.keyFrameNeeded && !chunk.key)) {
      this.keyFrameNeeded = true;
      return false;
    }
    if (chunk.key) this.keyFrameNeeded = false;
    this.chunks.push(chunk);
    return true;
  }

  async sendCursor(cursor: CursorState): Promise<boolean> {
    if (!this.readyForVideo) return false;
    this.cursors.push(cursor);
    return true;
  }

  async sendCursorShape(id: number, shape?: CursorShape): Promise<boolean> {
    if (!this.readyForVideo) return false;
    this.cursorShapes.push(shape ? { id, shape } : { id });
    return true;
  }

  async chat(text: string): Promise<void> {
    this.chats.push(text);
  }
}

/** The display's own reports, set by the test: the pointer's image, and screen changes on demand. */
export class FakeWatch implements ScreenWatch {
  cursor: CursorImage | undefined;
  /** Without X DAMAGE by default, as on macOS and Windows. */
  notifiesChanges = false;
  closed = false;
  readonly #listeners = new Set<() => void>();

  cursorImage(): CursorImage | undefined {
    return this.cursor;
  }
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  /** Something was drawn on the screen. */
  changed(): void {
    for (const listener of this.#listeners) listener();
  }
  close(): void {
    this.closed = true;
  }
}

/** A cursor image of one colour (premultiplied BGRA, opaque), `serial` telling it apart. */
export function cursorImage(serial: number, side: number, [r, g, b]: [number, number, number]): CursorImage {
  const premultipliedBgra = new Uint8Array(side * side * 4);
  for (let at = 0; at < premultipliedBgra.length; at += 4) premultipliedBgra.set([b, g, r, 255], at);
  return { serial, width: side, height: side, hotX: 1, hotY: 2, premultipliedBgra };
}
