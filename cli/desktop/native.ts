// The real machine: node-screenshots (capture), @napi-rs/webcodecs (encoder) and libnut (input).
// Each is loaded only when a desktop is shared or monitors are listed, so the terminal-only
// command never needs them; a load failure becomes a sentence saying what to do.

import { createRequire } from 'node:module';
import { DesktopError } from './errors.js';
import type { Platform } from './keys.js';
import type { EncoderSettings, FrameEncoder, InputDevice, MonitorInfo, OpenEncoder, RawFrame, ScreenCapture } from './ports.js';

const require = createRequire(import.meta.url);

/** Refuses what cannot work before anything is opened: no display, or a Wayland session (X11 only). */
export function checkDisplay(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Platform {
  if (platform !== 'linux' && platform !== 'darwin' && platform !== 'win32') {
    throw new DesktopError('no-display', `desktop sharing works on Linux (X11), macOS and Windows, not on ${platform}: share the terminal only (leave out --desktop)`);
  }
  if (platform !== 'linux') return platform;
  if (env.XDG_SESSION_TYPE === 'wayland' || (env.WAYLAND_DISPLAY && !env.DISPLAY)) {
    throw new DesktopError(
      'wayland',
      'this is a Wayland session: desktop sharing needs X11 (Wayland lets no program read the screen or move the pointer this way, so it would send a black screen). Log in with an "Xorg"/"X11" session and try again, or share the terminal only (leave out --desktop)',
    );
  }
  if (!env.DISPLAY) {
    throw new DesktopError('no-display', 'no X display here ($DISPLAY is not set, e.g. over SSH): run assist in a terminal on the desktop you want to share, or share the terminal only (leave out --desktop)');
  }
  return platform;
}

function loadPackage<T>(name: string, purpose: string): T {
  try {
    return require(name) as T;
  } catch (error) {
    throw new DesktopError(
      'native-package-missing',
      `the ${purpose} package ${name} could not be loaded (${(error as Error).message.split('\n')[0]}): run \`npm ci\` in the assist folder on this machine (${process.platform}/${process.arch}), or share the terminal only`,
      { cause: error },
    );
  }
}

interface ScreenshotsMonitor {
  id(): number;
  name(): string;
  x(): number;
  y(): number;
  width(): number;
  height(): number;
  isPrimary(): boolean;
  scaleFactor(): number;
  captureImage(): Promise<{ width: number; height: number; toRaw(): Promise<Buffer> }>;
}

/** Monitor.all(), or a sentence when the display does not answer (a stale $DISPLAY, an X server that went away). */
function allMonitors(Monitor: { all(): ScreenshotsMonitor[] }): ScreenshotsMonitor[] {
  try {
    return Monitor.all();
  } catch (error) {
    if (process.platform !== 'linux') throw error;
    throw new DesktopError(
      'no-display',
      `the X display ${process.env.DISPLAY} does not answer (${(error as Error).message}): run assist in a terminal on the desktop you want to share (its $DISPLAY), or share the terminal only (leave out --desktop)`,
      { cause: error },
    );
  }
}

export function loadScreenCapture(): ScreenCapture {
  const { Monitor } = loadPackage<{ Monitor: { all(): ScreenshotsMonitor[] } }>('node-screenshots', 'screen capture');
  const describe = (monitor: ScreenshotsMonitor, index: number): MonitorInfo => ({
    number: index + 1,
    id: monitor.id(),
    name: monitor.name(),
    x: monitor.x(),
    y: monitor.y(),
    width: monitor.width(),
    height: monitor.height(),
    primary: monitor.isPrimary(),
    scaleFactor: monitor.scaleFactor(),
  });
  return {
    monitors: () => allMonitors(Monitor).map(describe),
    async capture(monitorId): Promise<RawFrame> {
      const monitor = allMonitors(Monitor).find((candidate) => candidate.id() === monitorId);
      if (!monitor) throw new Error(`no monitor with id ${monitorId}`);
      const image = await monitor.captureImage();
      return { width: image.width, height: image.height, format: 'RGBA', pixels: await image.toRaw() };
    },
  };
}

interface Libnut {
  getMousePos(): { x: number; y: number };
  moveMouse(x: number, y: number): void;
  mouseToggle(down: string, button: string): void;
  scrollMouse(x: number, y: number): void;
  keyToggle(key: string, down: string): void;
  keyTap(key: string, modifier?: string): void;
  typeString(text: string): void;
}

/**
 * Symbols libnut's typeString types without Shift on X11 ('!' comes out '1'): each is pressed as
 * its key with Shift instead. The X keymap finds the key; Shift is the level a US-style layout
 * puts these symbols on, which covers most layouts' ASCII symbols.
 */
const X11_SHIFTED_SYMBOLS = new Set('~!@#$%^&*()_+{}|:"<>?');

function typeOnX11(libnut: Libnut, text: string): void {
  let plain = '';
  for (const character of text) {
    if (!X11_SHIFTED_SYMBOLS.has(character)) {
      plain += character;
      continue;
    }
    if (plain) libnut.typeString(plain);
    plain = '';
    libnut.keyTap(character, 'shift');
  }
  if (plain) libnut.typeString(plain);
}

export function loadInputDevice(platform: Platform): InputDevice {
  const libnut = loadPackage<Libnut>(`@nut-tree-fork/libnut-${platform}`, 'mouse and keyboard');
  return {
    mousePosition: () => libnut.getMousePos(),
    moveMouse: (x, y) => libnut.moveMouse(x, y),
    mouseButton: (button, action) => libnut.mouseToggle(action, button),
    scroll: (x, y) => libnut.scrollMouse(x, y),
    key: (key, action) => libnut.keyToggle(key, action),
    typeText: (text) => (platform === 'linux' ? typeOnX11(libnut, text) : libnut.typeString(text)),
  };
}

interface WebCodecs {
  VideoEncoder: {
    new (init: { output(chunk: EncodedChunk): void; error(error: Error): void }): WebCodecsEncoder;
    isConfigSupported(config: object): Promise<{ supported?: boolean }>;
  };
  VideoFrame: new (data: Uint8Array, init: { format: RawFrame['format']; codedWidth: number; codedHeight: number; timestamp: number }) => { close(): void };
}
interface EncodedChunk {
  type: 'key' | 'delta';
  byteLength: number;
  copyTo(destination: Uint8Array): void;
}
interface WebCodecsEncoder {
  configure(config: object): void;
  encode(frame: object, options: { keyFrame: boolean }): void;
  close(): void;
}

export function loadWebCodecs(): WebCodecs {
  return loadPackage<WebCodecs>('@napi-rs/webcodecs', 'video encoder');
}

/** The WebCodecs configuration for a setting: H.264 in Annex B, since a video-config carries no decoder description. */
export function encoderConfig({ codec, width, height, bitrate, framerate }: EncoderSettings): object {
  return {
    codec,
    width,
    height,
    bitrate,
    framerate,
    // 'realtime' makes this encoder emit a key frame every 10 frames; 'quality' leaves key frames to us.
    latencyMode: 'quality',
    ...(codec.startsWith('avc1.') ? { avc: { format: 'annexb' } } : {}),
  };
}

/** Encoders from @napi-rs/webcodecs: one frame in flight at a time, so each encode resolves with its own chunk. */
export function webCodecsEncoders(webCodecs: WebCodecs = loadWebCodecs()): OpenEncoder {
  return async (settings) => {
    const config = encoderConfig(settings);
    const refused = (why: string, cause?: unknown) =>
      new DesktopError('encoder-refused', `the ${settings.codec} encoder refused ${settings.width}×${settings.height} (${why})`, { cause });
    const support = await webCodecs.VideoEncoder.isConfigSupported(config).catch((error: Error) => {
      throw refused(error.message, error);
    });
    if (!support.supported) throw refused('not supported');
    let pending: { resolve(chunk: { key: boolean; data: Uint8Array }): void; reject(error: Error): void } | undefined;
    let failure: Error | undefined;
    const encoder = new webCodecs.VideoEncoder({
      output(chunk) {
        const data = new Uint8Array(chunk.byteLength);
        chunk.copyTo(data);
        pending?.resolve({ key: chunk.type === 'key', data });
        pending = undefined;
      },
      error(error) {
        failure = error;
        pending?.reject(error);
        pending = undefined;
      },
    });
    try {
      encoder.configure(config);
    } catch (error) {
      throw refused((error as Error).message, error);
    }
    const frameEncoder: FrameEncoder = {
      encode(frame, timestamp, keyFrame) {
        if (failure) return Promise.reject(failure);
        return new Promise((resolve, reject) => {
          pending = { resolve, reject };
          const videoFrame = new webCodecs.VideoFrame(frame.pixels, { format: frame.format, codedWidth: frame.width, codedHeight: frame.height, timestamp });
          try {
            encoder.encode(videoFrame, { keyFrame });
          } catch (error) {
            pending = undefined;
            reject(error as Error);
          } finally {
            videoFrame.close();
          }
        });
      },
      close: () => encoder.close(),
    };
    return frameEncoder;
  };
}
