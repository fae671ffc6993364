// A virtual X display (Xvfb) and a real X program on it, for the desktop sharing and remote control
// tests and benchmarks. The program is headful Chromium showing test/support/x-target/ full screen,
// with its page's origin at the X screen's origin: a point of the page is the same point of the X
// screen, so a test can draw colours where it wants them and check where X input landed.
//
// Native modules (node-screenshots, libnut) open the display named by DISPLAY when they load, and a
// test's own process has none (or the developer's): run them in a child process with `env`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { chromiumPath } from './chromium.js';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const targetPage = new URL('./x-target/target.html', import.meta.url).href;

const XVFB_START_TIMEOUT_MS = 10_000;

export interface XDisplay {
  /** The display's name, `:N`. */
  readonly display: string;
  /** The X server's process id (a benchmark reads its CPU time). */
  readonly pid: number;
  readonly width: number;
  readonly height: number;
  /**
   * What a child process's environment needs to use this display: DISPLAY, an X11 session type (a
   * Wayland session's variables would send native modules and Chromium to the developer's desktop).
   * Spread it over process.env.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Stops the X server; resolves once it has exited. */
  close(): Promise<void>;
}

/** Starts Xvfb on a free display number, 24-bit colour, no TCP; resolves once it accepts connections. */
export async function startXDisplay({ width, height }: { width: number; height: number }): Promise<XDisplay> {
  // -displayfd: Xvfb picks a free number itself and writes it to fd 3 once it is ready for clients.
  // -noreset: the last client leaving (a capture in a child process) must not reset the server.
  const server = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-noreset', '-screen', '0', `${width}x${height}x24`], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  // If the test process exits without closing (a crash, a killed worker), the server goes too;
  // SIGTERM lets it remove its lock file and socket.
  const killOnExit = () => server.kill('SIGTERM');
  process.once('exit', killOnExit);
  let stderr = '';
  server.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  // A server that never started (no Xvfb) reports 'error' and no 'exit'.
  const exited = new Promise<void>((resolve) => {
    server.once('exit', () => resolve());
    server.once('error', () => resolve());
  });

  const close = async () => {
    process.removeListener('exit', killOnExit);
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    // An X server stuck on a client does not keep a test run waiting.
    const stuck = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(stuck);
  };

  try {
    const number = await new Promise<string>((resolve, reject) => {
      let written = '';
      const timer = setTimeout(() => reject(new Error(`Xvfb did not open a display within ${XVFB_START_TIMEOUT_MS} ms: ${stderr.trim()}`)), XVFB_START_TIMEOUT_MS);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(written.trim());
      };
      server.once('error', (error: NodeJS.ErrnoException) =>
        settle(
          error.code === 'ENOENT'
            ? new Error('Xvfb is not installed: the desktop tests need a virtual X server (on Debian: apt-get install xvfb).')
            : error,
        ),
      );
      server.once('exit', (code, signal) => settle(new Error(`Xvfb exited (${signal ?? `code ${code}`}) before opening a display: ${stderr.trim()}`)));
      server.stdio[3]!.on('data', (chunk: Buffer) => {
        written += chunk.toString();
        if (written.includes('\n')) settle();
      });
    });
    if (!/^\d+$/.test(number)) throw new Error(`Xvfb wrote ${JSON.stringify(number)} as its display number`);
    await acceptsConnections(number);
    const display = `:${number}`;
    return { display, pid: server.pid!, width, height, env: { DISPLAY: display, XDG_SESSION_TYPE: 'x11', WAYLAND_DISPLAY: undefined }, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Connects to the display's local socket once (X's socket path, or its Linux abstract twin). */
async function acceptsConnections(number: string): Promise<void> {
  const socket = `/tmp/.X11-unix/X${number}`;
  const tryPath = (path: string) =>
    new Promise<boolean>((resolve) => {
      const connection = connect({ path });
      connection.once('connect', () => {
        connection.destroy();
        resolve(true);
      });
      connection.once('error', () => resolve(false));
    });
  if ((await tryPath(socket)) || (await tryPath(`\0${socket}`))) return;
  throw new Error(`Xvfb said display :${number} was ready, but its socket ${socket} refuses connections`);
}

/** A rectangle in X screen coordinates (= the target page's coordinates). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A rectangle the target program paints in one CSS colour (`#rrggbb` keeps it exact). */
export interface ColourRegion extends Rect {
  color: string;
}

/** A pointer event the target program saw, at X screen coordinates. `button`: 0 left, 1 middle, 2 right. */
export interface PointerRecord {
  type: 'pointerdown' | 'pointerup' | 'click' | 'auxclick' | 'wheel';
  x: number;
  y: number;
  button: number;
  deltaX?: number;
  deltaY?: number;
}

/** A key the target program saw: `key` as typed, `code` the physical key. */
export interface KeyRecord {
  key: string;
  code: string;
}

/**
 * Where the benchmark marker is drawn: a row of `bits + 2` square blocks of `block` pixels from (x, y):
 * black (start), then n's bits, most significant first (black = 1, white = 0), then white (end).
 * Black and white survive lossy video coding; the start and end blocks tell a marker from whatever else is there.
 */
export interface MarkerLayout {
  x: number;
  y: number;
  block: number;
  bits: number;
  /** Each pointerdown shows the next marker value at once, for input latency (click → pixels seen back). */
  advanceOnPointerDown: boolean;
}

export const DEFAULT_MARKER: MarkerLayout = { x: 0, y: 0, block: 32, bits: 10, advanceOnPointerDown: false };

export interface TargetProgramOptions {
  /** Where the focusable text input is; by default a 400×40 box near the bottom left. */
  textInput?: Rect;
  marker?: Partial<MarkerLayout>;
}

export interface TargetProgram {
  /** The page itself, for anything the methods below do not cover. */
  readonly page: Page;
  /** Where the text input is, in X screen coordinates (click its middle to focus it through X). */
  readonly textInput: Rect;
  readonly marker: MarkerLayout;
  /** Replaces the coloured rectangles; resolves once the page has rendered them (the X screen shows them a little later: poll a capture). */
  drawRegions(regions: readonly ColourRegion[]): Promise<void>;
  /** The `click` events (left button) and `auxclick` events (others) seen so far. */
  clicks(): Promise<PointerRecord[]>;
  /** Every pointerdown, pointerup, click, auxclick and wheel event seen so far, in order. */
  pointerEvents(): Promise<PointerRecord[]>;
  /** Every keydown seen so far. */
  keys(): Promise<KeyRecord[]>;
  /** The text input's value. */
  text(): Promise<string>;
  /** Focuses the text input from inside the page (X keyboard input then lands in it). */
  focusTextInput(): Promise<void>;
  /** Forgets the events seen so far and empties the text input. */
  forget(): Promise<void>;
  /** Shows marker value `n` (0 ≤ n < 2^bits); resolves once the page has rendered it (as drawRegions). */
  setMarker(n: number): Promise<void>;
  /** Benchmark workload: types `text` into a full-screen editor at `charactersPerSecond`; resolves when done. */
  typeIntoEditor(text: string, options?: { charactersPerSecond?: number }): Promise<void>;
  /** Benchmark workload: scrolls a long page of text for `durationMs` at `pixelsPerSecond`; resolves when done. */
  scrollLongPage(options: { durationMs: number; pixelsPerSecond?: number }): Promise<void>;
  /** Hides the workloads, leaving the regions and marker. */
  idle(): Promise<void>;
  /** Closes Chromium; resolves once it has exited. */
  close(): Promise<void>;
}

interface PageApi {
  placeTextInput(rect: Rect): void;
  setMarkerLayout(layout: MarkerLayout): void;
  drawRegions(regions: readonly ColourRegion[]): Promise<void>;
  setMarker(n: number): Promise<void>;
  pointerEvents(): PointerRecord[];
  keys(): KeyRecord[];
  text(): string;
  focusTextInput(): boolean;
  forget(): void;
  typeIntoEditor(text: string, charactersPerSecond: number): Promise<void>;
  scrollLongPage(durationMs: number, pixelsPerSecond: number): Promise<void>;
  idle(): void;
}
declare global {
  interface Window {
    xTarget: PageApi;
  }
}

/**
 * Headful Chromium on `xDisplay`, its one window covering the whole X screen, showing the target page.
 * Fails if the page's origin is not the screen's origin or the page does not cover the screen.
 */
export async function startTargetProgram(xDisplay: XDisplay, options: TargetProgramOptions = {}): Promise<TargetProgram> {
  const { width, height } = xDisplay;
  const textInput = options.textInput ?? { x: 40, y: height - 80, width: 400, height: 40 };
  const marker = { ...DEFAULT_MARKER, ...options.marker };
  // A persistent context: its window is the one --kiosk applies to (browser.newContext() opens an
  // ordinary window, with tabs and toolbar). --kiosk has no infobars, where --start-fullscreen keeps
  // the "controlled by automated test software" bar over the page.
  const context: BrowserContext = await chromium.launchPersistentContext('', {
    executablePath: chromiumPath,
    headless: false,
    viewport: null,
    env: { ...process.env, ...xDisplay.env },
    args: [
      '--ozone-platform=x11',
      '--kiosk',
      '--window-position=0,0',
      // Without a window manager, Chromium shrinks a window exactly the screen's size by one pixel
      // each way (1280×800 became 1279×799); one more pixel each way makes it cover the screen.
      `--window-size=${width + 1},${height + 1}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-features=Translate,MediaRouter',
      '--hide-scrollbars',
    ],
  });
  const close = () => context.close();
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(targetPage);
    // Without a window manager nothing gives the window X input focus until a click does, and X
    // keyboard input goes nowhere. Activating the window sets it (XSetInputFocus). The page's own
    // document.hasFocus() cannot tell: Playwright emulates focus and it is always true.
    await page.bringToFront();
    const placement = await page.evaluate(
      ({ textInput, marker }) => {
        window.xTarget.placeTextInput(textInput);
        window.xTarget.setMarkerLayout(marker);
        return { screenX: window.screenX, screenY: window.screenY, innerWidth, innerHeight, devicePixelRatio };
      },
      { textInput, marker },
    );
    if (placement.screenX !== 0 || placement.screenY !== 0 || placement.innerWidth < width || placement.innerHeight < height || placement.devicePixelRatio !== 1) {
      throw new Error(
        `The target program's page does not cover the ${width}×${height} X screen from its origin at one pixel per pixel: ` +
          `it is at (${placement.screenX}, ${placement.screenY}), ${placement.innerWidth}×${placement.innerHeight}, device pixel ratio ${placement.devicePixelRatio}`,
      );
    }
    return {
      page,
      textInput,
      marker,
      drawRegions: (regions) => page.evaluate((list) => window.xTarget.drawRegions(list), regions),
      clicks: async () => (await page.evaluate(() => window.xTarget.pointerEvents())).filter(({ type }) => type === 'click' || type === 'auxclick'),
      pointerEvents: () => page.evaluate(() => window.xTarget.pointerEvents()),
      keys: () => page.evaluate(() => window.xTarget.keys()),
      text: () => page.evaluate(() => window.xTarget.text()),
      focusTextInput: async () => {
        if (!(await page.evaluate(() => window.xTarget.focusTextInput()))) throw new Error('the target program could not focus its text input');
      },
      forget: () => page.evaluate(() => window.xTarget.forget()),
      setMarker: (n) => {
        if (!Number.isInteger(n) || n < 0 || n >= 2 ** marker.bits) throw new RangeError(`marker values are 0 to ${2 ** marker.bits - 1}, not ${n}`);
        return page.evaluate((value) => window.xTarget.setMarker(value), n);
      },
      typeIntoEditor: (text, { charactersPerSecond = 10 } = {}) =>
        page.evaluate(([value, rate]) => window.xTarget.typeIntoEditor(value, rate), [text, charactersPerSecond] as const),
      scrollLongPage: ({ durationMs, pixelsPerSecond = 600 }) =>
        page.evaluate(([duration, rate]) => window.xTarget.scrollLongPage(duration, rate), [durationMs, pixelsPerSecond] as const),
      idle: () => page.evaluate(() => window.xTarget.idle()),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Pixels as 4 bytes each (RGBA or BGRA: the marker is black and white, so the order does not matter), rows without padding. */
export interface PixelImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The colour at (x, y) of a 4-byte-per-pixel picture as #rrggbb; `layout` says which byte holds which channel. */
export function colourAt(pixels: Uint8Array, width: number, x: number, y: number, layout: 'rgba' | 'bgrx'): string {
  const offset = (y * width + x) * 4;
  const channels = layout === 'rgba' ? [0, 1, 2] : [2, 1, 0];
  return `#${channels.map((channel) => pixels[offset + channel]!.toString(16).padStart(2, '0')).join('')}`;
}

/** The marker value `image` shows with `layout`, or null if it shows no marker there. */
export function readMarker(image: PixelImage, layout: MarkerLayout = DEFAULT_MARKER): number | null {
  const { x, y, block, bits } = layout;
  if (x + (bits + 2) * block > image.width || y + block > image.height) return null;
  // The mean brightness of a small patch at each block's centre: codec noise averages out.
  const dark = (column: number): boolean => {
    const centreX = x + column * block + Math.floor(block / 2);
    const centreY = y + Math.floor(block / 2);
    let sum = 0;
    let count = 0;
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const offset = ((centreY + dy) * image.width + centreX + dx) * 4;
        sum += (image.data[offset]! + image.data[offset + 1]! + image.data[offset + 2]!) / 3;
        count++;
      }
    }
    return sum / count < 128;
  };
  if (!dark(0) || dark(bits + 1)) return null;
  let value = 0;
  for (let column = 1; column <= bits; column++) value = value * 2 + (dark(column) ? 1 : 0);
  return value;
}

/**
 * Runs an ES module's source in a child Node process on `xDisplay` (from the repository root, so
 * its packages resolve) and parses the last line it prints as JSON. Rejects with its stderr if it fails.
 */
export function runNodeOnDisplay<Result = unknown>(xDisplay: XDisplay, source: string, timeoutMs = 20_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '--eval', source], {
      cwd: repositoryRoot,
      env: { ...process.env, ...xDisplay.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`the child process on ${xDisplay.display} failed (${signal ?? `exit code ${code}`}): ${stderr.trim() || stdout.trim()}`));
        return;
      }
      const lastLine = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(lastLine) as Result);
      } catch {
        reject(new Error(`the child process on ${xDisplay.display} printed no JSON last line: ${stdout.trim()}`));
      }
    });
  });
}

/** A capture of the X screen: RGBA pixels, and the monitors node-screenshots listed. */
export interface XScreenCapture extends PixelImage {
  monitors: Rect[];
}

/** The whole X screen (its first monitor) as node-screenshots captures it, in a child process on `xDisplay`. */
export async function captureXScreen(xDisplay: XDisplay): Promise<XScreenCapture> {
  const captured = await runNodeOnDisplay<{ width: number; height: number; rgba: string; monitors: Rect[] }>(
    xDisplay,
    `import { Monitor } from 'node-screenshots';
     const monitors = Monitor.all();
     const image = monitors[0].captureImageSync();
     console.log(JSON.stringify({
       width: image.width, height: image.height, rgba: image.toRawSync().toString('base64'),
       monitors: monitors.map((monitor) => ({ x: monitor.x(), y: monitor.y(), width: monitor.width(), height: monitor.height() })),
     }));`,
  );
  return { width: captured.width, height: captured.height, data: Buffer.from(captured.rgba, 'base64'), monitors: captured.monitors };
}

/** The X display's clipboard text, read as another program on it would (xclip); empty when it holds none. */
export async function xClipboard(xDisplay: XDisplay): Promise<string> {
  const { stdout } = await promisify(execFile)('xclip', ['-selection', 'clipboard', '-out'], { env: { ...process.env, ...xDisplay.env } }).catch(() => ({ stdout: '' }));
  return stdout;
}

/** Copies text on the X display, as a person would in a program there. */
export async function copyOnX(xDisplay: XDisplay, text: string): Promise<void> {
  // xclip stays in the background to serve the selection: wait for the foreground one only.
  const child = spawn('xclip', ['-selection', 'clipboard', '-in'], { env: { ...process.env, ...xDisplay.env }, stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin!.end(text);
  await exited;
}
