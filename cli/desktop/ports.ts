// What desktop sharing needs from the machine and from the session, as small interfaces: the real
// implementations (native.ts) load native packages; tests pass fakes, so they run without a display.

import type { AgentSessionEvents, CursorShape, CursorState, ShareStopReason, VideoChunk, VideoConfig } from '../../sdk/node.js';

/** One monitor as the capture package reports it; `number` is what `--monitor N` and `assist monitors` use. */
export interface MonitorInfo {
  /** 1, 2, …: the order the system lists them. */
  number: number;
  /** The capture package's identifier, stable while the monitor is connected. */
  id: number;
  name: string;
  /** Position and size in the desktop's coordinates: the space the input package moves the pointer in. */
  x: number;
  y: number;
  width: number;
  height: number;
  primary: boolean;
  /** Device pixels per desktop unit (2 on a Retina display): a capture is this many times larger. */
  scaleFactor: number;
}

/**
 * A captured picture: 4 bytes a pixel, rows without padding, in the order the capture gives them
 * (RGBA from node-screenshots; BGRX, the X server's own, from GetImage): the encoder takes either.
 */
export interface RawFrame {
  width: number;
  height: number;
  format: 'RGBA' | 'BGRX';
  pixels: Uint8Array;
  /**
   * Where the capture reuses its buffers (x11.ts): the pixels may be overwritten once this is called.
   * Called once, when the picture is neither encoded nor compared with any more.
   */
  release?(): void;
}

export interface ScreenCapture {
  monitors(): MonitorInfo[];
  /** The monitor's picture now; throws when it cannot (the monitor is gone, permission denied). */
  capture(monitorId: number): Promise<RawFrame>;
}

/** The pointer's image as X11 gives it: 4 bytes a pixel, blue, green, red, alpha, colours premultiplied by alpha. */
export interface CursorImage {
  /** Changes when the pointer's image does (the X server's cursor serial). */
  serial: number;
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  premultipliedBgra: Uint8Array;
}

/** What the display tells without being asked (x11.ts): the pointer's image, and that the screen changed. */
export interface ScreenWatch {
  /** The pointer's image, once known. */
  cursorImage(): CursorImage | undefined;
  /**
   * Where the pointer is, in desktop coordinates, asked without blocking (X11 QueryPointer), where
   * the display can: the input package's own query waits for the display's answer on the
   * JavaScript thread, which a busy X server makes milliseconds 20 times a second.
   */
  pointerPosition?(): Promise<{ x: number; y: number }>;
  /** Whether onChange reports changes (X DAMAGE); without it the screen is looked at on a timer only. */
  readonly notifiesChanges: boolean;
  /** Calls `listener` when something was drawn on the screen; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /**
   * Where the display's pixels are 32-bit BGRX (X11's usual TrueColor layout): a picture of `area`
   * (desktop coordinates) straight from the X server, without the capture package's conversion to
   * RGBA and its copies, which cost about 9 ms of CPU a 1920×1080 frame.
   */
  capture?(area: { x: number; y: number; width: number; height: number }): Promise<RawFrame>;
  close(): void;
}

export type MouseButton = 'left' | 'middle' | 'right';

/** The pointer and keyboard of this machine (libnut's names for keys). */
export interface InputDevice {
  mousePosition(): { x: number; y: number };
  moveMouse(x: number, y: number): void;
  mouseButton(button: MouseButton, action: 'down' | 'up'): void;
  /** Wheel in the platform's native units (see input.ts: wheelSteps). */
  scroll(x: number, y: number): void;
  key(key: string, action: 'down' | 'up'): void;
  typeText(text: string): void;
}

export interface EncoderSettings {
  /** A WebCodecs codec string. */
  codec: string;
  /** The encoded size; frames of another size are scaled by the encoder. */
  width: number;
  height: number;
  /** Bits per second. */
  bitrate: number;
  framerate: number;
}

export interface FrameEncoder {
  /** Encodes one frame; resolves with its chunk once the encoder has it. */
  encode(frame: RawFrame, timestamp: number, keyFrame: boolean): Promise<{ key: boolean; data: Uint8Array }>;
  close(): void;
}

/** Opens an encoder, or throws a DesktopError ('encoder-refused') when it cannot take these settings. */
export type OpenEncoder = (settings: EncoderSettings) => Promise<FrameEncoder>;

/** What the desktop share uses of the AgentSession: the SDK enforces consent behind each of these. */
export interface DesktopSession {
  readonly readyForVideo: boolean;
  readonly keyFrameNeeded: boolean;
  readonly unacknowledgedBytes: number;
  readonly expertCodecs: readonly string[] | undefined;
  readonly droppedInputEvents: number;
  startVideoShare(config: VideoConfig): Promise<void>;
  stopScreenShare(reason?: ShareStopReason): Promise<void>;
  sendVideoChunk(chunk: VideoChunk): Promise<boolean>;
  sendCursor(cursor: CursorState): Promise<boolean>;
  sendCursorShape(id: number, shape?: CursorShape): Promise<boolean>;
  chat(text: string): Promise<void>;
  on<E extends 'pointer' | 'key' | 'input-dropped' | 'key-frame-requested' | 'video-codecs' | 'ended'>(event: E, listener: (...args: AgentSessionEvents[E]) => void): () => void;
}
