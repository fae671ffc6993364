// Desktop sharing through the local relay, the video paths (VP8 and H.264) beside the JPEG-stills path, measured
// in one run on the same X displays (Xvfb) with the same target program (headful Chromium full
// screen, test/support/x-display.ts):
//   - the person's side is a real process on the display: `assist invite --easy-connect --desktop
//     --codec … --json` for video, bench/jpeg-stills-agent.ts for stills;
//   - the technician of the video paths is the web console in headless Chromium, decoding with the
//     browser's WebCodecs VideoDecoder into its canvas (web/src/desktop-view.ts), as a technician's
//     browser does; the console no longer shows stills, so for stills it is this process, through the
//     SDK, decoding each JPEG with @napi-rs/webcodecs' ImageDecoder;
//   - workloads: a static desktop, typing in an editor (faster than a person types, see
//     TYPING_CHARACTERS_PER_SECOND), scrolling a long page;
//   - glass-to-glass latency: the target program draws a numbered marker; the time from asking for
//     marker n until the technician first has a picture showing it (in the console: drawn in its canvas);
//   - input latency (video only: stills cannot be controlled): the technician clicks the console's
//     picture, which makes the target program advance its marker; the time from the click until the
//     new marker is seen back;
//   - the person's side's CPU and the X server's (Xvfb), as a share of one core, and how busy the whole
//     machine was: the 2 cores are shared by the target program, the X server, the person's side,
//     the relay and the technician's Chromium.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageDecoder, type VideoFrame } from '@napi-rs/webcodecs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startLocalRuntime, type LocalRuntime } from '../infra/local/runtime.js';
import { offerHelp, type HelpOffer } from '../sdk/node.js';
import { DEFAULT_MAX_FPS } from '../cli/desktop/desktop-share.js';
import { SIZE_RULE_FPS } from '../cli/desktop/encode-size.js';
import { openX11Watch } from '../cli/desktop/x11.js';
import { buildConsole } from '../web/build/build.js';
import { loadConsoleSite } from '../web/server/console-site.js';
import { AssistProcess } from '../test/support/assist-process.js';
import { chromiumPath } from '../test/support/chromium.js';
import { readMarker, startTargetProgram, startXDisplay, type MarkerLayout, type PixelImage, type TargetProgram, type XDisplay } from '../test/support/x-display.js';
import { formatTable, percentile } from './report.js';

const WORKLOAD_MS = 8_000;
const MARKER_INTERVAL_MS = 250;
const TYPED_TEXT = 'The quick brown fox jumps over the lazy dog. ';
/**
 * Faster than anyone types, on purpose: at 12 a second the screen changed in only 10–13 of the
 * sender's 15 ticks, so the frame rate measured the typist. At 30 (and the marker's 4 a second) every
 * tick sees a change, and the frame rate measures what the pipeline carries. Still a few characters
 * on one line per frame: a typing test, not a scrolling one.
 */
const TYPING_CHARACTERS_PER_SECOND = 30;
const INPUT_SAMPLES = 15;
const CLOCK_TICKS_PER_SECOND = 100;
/** The person's side runs with its defaults (no --max-fps): the cap is what assist uses when not told. */
const SENDER_FPS = DEFAULT_MAX_FPS;
const PERSON = 'Benchmark person';
const stillsAgent = fileURLToPath(new URL('./jpeg-stills-agent.ts', import.meta.url));
const resolutions = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];
const workloads = ['static desktop', 'typing', 'scrolling'] as const;
type Workload = (typeof workloads)[number];
/** The video paths: the codec the person's side encodes (`--codec`); the console lists what its browser decodes. */
const videoPaths = { 'video VP8': 'vp8', 'video H.264': 'h264' } as const;
type Path = keyof typeof videoPaths | 'JPEG stills';
const paths: Path[] = ['JPEG stills', ...(Object.keys(videoPaths) as Path[])];
const isVideo = (path: Path): path is keyof typeof videoPaths => path !== 'JPEG stills';

interface Figures {
  frames: number;
  /** Of them, drawn at the screen's own width. */
  fullSizeFrames: number;
  bytes: number;
  glassToGlassMs: number[];
  cpuSeconds: number;
  /** The X server's CPU time during the workload. */
  displayCpuSeconds: number;
  /** Of all cores' time during the workload, the share not idle. */
  machineBusy: number;
  seconds: number;
  /** The coded widths during the workload: the one it started with, then each change. */
  widths: number[];
  /** Of the sender's ticks, how many saw the screen change (X DAMAGE): no sender at that rate can send more frames. */
  changedTicks: number;
}

/** What the technician's side got: each picture's marker, when it was first seen (this process's performance.now()), and the coded sizes. */
class Viewer {
  readonly #markerSeen = new Map<number, number>();
  readonly #waiters = new Map<number, () => void>();
  frames = 0;
  bytes = 0;
  /** Pictures drawn (video) or decoded (stills) at the screen's own width: no detail lost to scaling. */
  fullSizeFrames = 0;
  /** The coded widths the pictures came in, in order. */
  readonly widths: number[] = [];

  constructor(
    readonly marker: MarkerLayout,
    readonly screenWidth: number,
  ) {}

  configure(codedWidth: number): void {
    if (this.widths.at(-1) !== codedWidth) this.widths.push(codedWidth);
  }

  received(bytes: number): void {
    this.frames++;
    this.bytes += bytes;
  }

  drawn(width: number, count: number): void {
    if (width === this.screenWidth) this.fullSizeFrames += count;
  }

  /** A picture showing marker `value` was had at `at`. */
  markerSeen(value: number, at: number): void {
    if (this.#markerSeen.has(value)) return;
    this.#markerSeen.set(value, at);
    this.#waiters.get(value)?.();
  }

  /** When marker `value` was first seen, waiting for it up to `timeoutMs`; undefined if it never came. */
  async seen(value: number, timeoutMs = 5_000): Promise<number | undefined> {
    if (!this.#markerSeen.has(value)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#waiters.set(value, () => (clearTimeout(timer), resolve()));
      });
      this.#waiters.delete(value);
    }
    return this.#markerSeen.get(value);
  }

  forget(): void {
    this.#markerSeen.clear();
  }
}

/** The marker layout scaled to a picture `pictureWidth` wide of a screen `screenWidth` wide. */
function scaledMarker(marker: MarkerLayout, pictureWidth: number, screenWidth: number): MarkerLayout {
  const scale = pictureWidth / screenWidth;
  return { ...marker, x: Math.round(marker.x * scale), y: Math.round(marker.y * scale), block: Math.round(marker.block * scale) };
}

/** Feeds the stills the technician's session gets into `viewer`, each decoded with an ImageDecoder (each by its own size). */
function watchStills(technician: HelpOffer, viewer: Viewer): void {
  let decoding = Promise.resolve();
  technician.on('screen', ({ jpeg, width }) => {
    viewer.received(jpeg.length);
    viewer.configure(width);
    viewer.drawn(width, 1);
    decoding = decoding.then(async () => {
      const { image } = await new ImageDecoder({ data: jpeg, type: 'image/jpeg' }).decode();
      const pixels = await pixelsOf(image);
      image.close();
      const value = readMarker(pixels, scaledMarker(viewer.marker, pixels.width, viewer.screenWidth));
      if (value !== null) viewer.markerSeen(value, performance.now());
    });
  });
}

async function pixelsOf(frame: VideoFrame): Promise<PixelImage> {
  const data = new Uint8Array(frame.allocationSize({ format: 'RGBA' }));
  await frame.copyTo(data, { format: 'RGBA' });
  return { width: frame.codedWidth, height: frame.codedHeight, data };
}

interface ProbeWindow {
  benchChunk(bytes: number): void;
  benchDrawn(width: number, count: number): void;
  benchPicture(picture: { value: number | null; width: number; at: number }): void;
}

/**
 * Runs in the console's page before its own script: counts the encoded chunks the console hands its
 * VideoDecoder, and after each picture the console draws in its canvas (data-frames-drawn) reads the
 * marker from the canvas and reports it, with the time on this page's clock (epoch milliseconds).
 */
function probeConsole(read: typeof readMarker, marker: MarkerLayout, screenWidth: number): void {
  const probe = window as unknown as ProbeWindow;
  const Chunk = EncodedVideoChunk;
  globalThis.EncodedVideoChunk = class extends Chunk {
    constructor(init: EncodedVideoChunkInit) {
      super(init);
      probe.benchChunk(init.data.byteLength);
    }
  };
  let lastWidth = 0;
  let lastDrawn = 0;
  const reported = new Set<number>();
  new MutationObserver((records) => {
    const at = performance.timeOrigin + performance.now();
    const canvas = records.at(-1)!.target as HTMLCanvasElement;
    const drawn = Number(canvas.dataset.framesDrawn);
    // A new canvas (a new share) counts from 0 again.
    probe.benchDrawn(canvas.width, drawn >= lastDrawn ? drawn - lastDrawn : drawn);
    lastDrawn = drawn;
    const scale = canvas.width / screenWidth;
    const block = Math.round(marker.block * scale);
    const [x, y, width] = [Math.round(marker.x * scale), Math.round(marker.y * scale), (marker.bits + 2) * block];
    if (x + width > canvas.width || y + block > canvas.height) return;
    const { data } = canvas.getContext('2d')!.getImageData(x, y, width, block);
    const value = read({ width, height: block, data: new Uint8Array(data.buffer) }, { ...marker, x: 0, y: 0, block });
    if ((value === null || reported.has(value)) && canvas.width === lastWidth) return;
    if (value !== null) reported.add(value);
    lastWidth = canvas.width;
    probe.benchPicture({ value, width: canvas.width, at });
  }).observe(document, { subtree: true, attributeFilter: ['data-frames-drawn'] });
}

/**
 * The technician: the web console in a new context of `browser`, its pictures and chunks fed into
 * `viewer` through probeConsole. Times on the page's clock are turned into this process's by the
 * offset seen on the quickest of a few round trips.
 */
async function openConsole(browser: Browser, viewer: Viewer): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  let offset = 0;
  await context.exposeFunction('benchChunk', (bytes: number) => viewer.received(bytes));
  await context.exposeFunction('benchDrawn', (width: number, count: number) => viewer.drawn(width, count));
  await context.exposeFunction('benchPicture', ({ value, width, at }: { value: number | null; width: number; at: number }) => {
    viewer.configure(width);
    if (value !== null) viewer.markerSeen(value, at - performance.timeOrigin - offset);
  });
  // esbuild (tsx) names inner functions with __name, which the page lacks.
  await context.addInitScript({ content: `var __name = (f) => f; (${probeConsole.toString()})(${readMarker.toString()}, ${JSON.stringify(viewer.marker)}, ${viewer.screenWidth});` });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (error) => console.error(`the console's page failed: ${error.message}`));
  await page.goto('about:blank');
  let quickest = Infinity;
  for (let round = 0; round < 10; round++) {
    const sent = performance.now();
    const pageNow = await page.evaluate(() => performance.timeOrigin + performance.now());
    const back = performance.now();
    if (back - sent < quickest) {
      quickest = back - sent;
      offset = pageNow - performance.timeOrigin - (sent + back) / 2;
    }
  }
  return { context, page };
}

/** User and system CPU time of a process so far, in seconds (Linux /proc). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // After the command's closing parenthesis, utime and stime are the 12th and 13th fields.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** All cores' time so far, and how much of it was not idle, in clock ticks (Linux /proc/stat). */
async function machineCpuTicks(): Promise<{ busy: number; total: number }> {
  const ticks = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  // user, nice, system, idle, iowait, …: idle and iowait are the 4th and 5th.
  return { busy: total - ticks[3]! - ticks[4]!, total };
}

/** Who is connected for a path: the person's process, and how the technician clicks the picture (video only). */
interface Connection {
  person: ChildProcess;
  /** Clicks the technician's picture where it shows the X screen's point (x, y); resolves once the click is sent. */
  click?: (point: { x: number; y: number }) => Promise<void>;
  close(): Promise<void>;
}

/**
 * The person's process for `path`, sharing `xDisplay`, and its technician, whose pictures `viewer`
 * gets from the start: video is the console in `browser`, joining an Easy Connect invitation and given
 * control; stills are this process, offering a helper code the stills agent accepts.
 */
async function connect(path: Path, runtime: LocalRuntime, browser: Browser, xDisplay: XDisplay, viewer: Viewer): Promise<Connection> {
  const env = { ...process.env, ...xDisplay.env };
  if (!isVideo(path)) {
    const technician = await offerHelp({ relay: runtime.httpUrl, name: 'Benchmark technician' });
    watchStills(technician, viewer);
    const person = spawn(process.execPath, ['--import', 'tsx', stillsAgent, runtime.httpUrl, technician.code], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    await new Promise<void>((resolve) => technician.on('approved', () => resolve()));
    return { person, close: () => stop(person, () => technician.leave()) };
  }
  const assist = new AssistProcess(['invite', '--easy-connect', '--desktop', '--codec', videoPaths[path], '--json', '--relay', runtime.httpUrl, '--name', PERSON], { env });
  const { context, page } = await openConsole(browser, viewer);
  const { password } = await assist.next('invitation');
  await page.goto(`${runtime.httpUrl}/`);
  const form = page.getByRole('form', { name: 'Help someone' });
  await form.getByLabel('Your name').fill('Benchmark technician');
  await form.getByLabel('Easy Connect password or invitation link').fill(password as string);
  await form.getByRole('button', { name: 'Connect' }).click();
  await assist.next('connected');
  assist.send({ cmd: 'approve', mode: 'control' });
  const picture = page.getByRole('application', { name: `${PERSON}’s desktop` });
  await picture.waitFor();
  return {
    person: assist.child,
    click: async ({ x, y }) => {
      const box = (await picture.boundingBox())!;
      await page.mouse.click(box.x + (x * box.width) / viewer.screenWidth, box.y + (y * box.height) / xDisplay.height);
    },
    close: () => stop(assist.child, () => context.close()),
  };
}

/** Ends the technician's side with `leave`, then the person's process; resolves once it has exited. */
async function stop(person: ChildProcess, leave: () => Promise<unknown>): Promise<void> {
  const exited = new Promise((resolve) => person.once('exit', resolve));
  await leave().catch(() => {});
  person.kill();
  await exited;
}

/** How many ticks of `tickMs` from `from` to `to` saw at least one of the `changes` (times). */
function ticksWithChange(changes: readonly number[], from: number, to: number, tickMs: number): number {
  return new Set(changes.filter((at) => at >= from && at < to).map((at) => Math.floor((at - from) / tickMs))).size;
}

async function runWorkload(workload: Workload, target: TargetProgram, xDisplay: XDisplay, viewer: Viewer, person: ChildProcess, markerBase: number, screenChanges: readonly number[]): Promise<Figures> {
  await target.idle();
  // The technician has the idle screen before measuring starts: what came before (the last
  // workload's picture, the share's first key frame) is not counted as this workload's.
  await target.setMarker(markerBase - 1);
  await viewer.seen(markerBase - 1);
  viewer.forget();
  const before = {
    frames: viewer.frames,
    fullSizeFrames: viewer.fullSizeFrames,
    bytes: viewer.bytes,
    cpu: await cpuSeconds(person.pid),
    displayCpu: await cpuSeconds(xDisplay.pid),
    machine: await machineCpuTicks(),
    at: performance.now(),
    widths: Math.max(0, viewer.widths.length - 1),
  };
  const asked = new Map<number, number>();
  let markers: Promise<void> = Promise.resolve();
  if (workload !== 'static desktop') {
    const activity =
      workload === 'typing'
        ? target.typeIntoEditor(TYPED_TEXT.repeat(10).slice(0, (TYPING_CHARACTERS_PER_SECOND * WORKLOAD_MS) / 1000), { charactersPerSecond: TYPING_CHARACTERS_PER_SECOND })
        : target.scrollLongPage({ durationMs: WORKLOAD_MS });
    markers = (async () => {
      for (let n = markerBase; performance.now() - before.at < WORKLOAD_MS; n++) {
        asked.set(n, performance.now());
        await target.setMarker(n);
        await new Promise((resolve) => setTimeout(resolve, MARKER_INTERVAL_MS));
      }
    })();
    await Promise.all([activity, markers]);
  }
  const left = WORKLOAD_MS - (performance.now() - before.at);
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
  const after = { frames: viewer.frames, fullSizeFrames: viewer.fullSizeFrames, bytes: viewer.bytes, cpu: await cpuSeconds(person.pid), displayCpu: await cpuSeconds(xDisplay.pid), machine: await machineCpuTicks(), at: performance.now() };
  const widths = viewer.widths.slice(before.widths);
  const glassToGlassMs: number[] = [];
  for (const [n, at] of asked) {
    const seen = await viewer.seen(n, 1_000);
    if (seen !== undefined) glassToGlassMs.push(seen - at);
  }
  const changedTicks = ticksWithChange(screenChanges, before.at, after.at, 1000 / SENDER_FPS);
  return {
    frames: after.frames - before.frames,
    fullSizeFrames: after.fullSizeFrames - before.fullSizeFrames,
    bytes: after.bytes - before.bytes,
    glassToGlassMs,
    cpuSeconds: after.cpu - before.cpu,
    displayCpuSeconds: after.displayCpu - before.displayCpu,
    machineBusy: (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total),
    seconds: (after.at - before.at) / 1000,
    widths,
    changedTicks,
  };
}

/** The technician clicks the marker → the target program advances it → the technician sees the new one. */
async function inputLatency(click: NonNullable<Connection['click']>, target: TargetProgram, viewer: Viewer): Promise<number[]> {
  const at = { x: target.marker.x + target.marker.block / 2, y: target.marker.y + target.marker.block / 2 };
  const samples: number[] = [];
  await target.setMarker(1);
  await viewer.seen(1);
  for (let n = 2; samples.length < INPUT_SAMPLES && n < INPUT_SAMPLES * 2 + 2; n++) {
    const started = performance.now();
    await click(at);
    // A second is far beyond any latency worth reporting; a click not seen by then is not counted.
    const seen = await viewer.seen(n, 1_000);
    if (seen !== undefined) samples.push(seen - started);
  }
  return samples;
}

const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
const ms = (values: number[], fraction: number) => (values.length ? percentile([...values].sort((a, b) => a - b), fraction).toFixed(0) : '–');

export async function benchmarkDesktop(): Promise<string> {
  const rows: string[][] = [];
  const inputRows: string[][] = [];
  const consoleDir = await buildConsole(await mkdtemp(join(tmpdir(), 'assist-console-')));
  const runtime = await startLocalRuntime({ port: 0, console: loadConsoleSite(consoleDir) });
  const browser = await chromium.launch({ executablePath: chromiumPath });
  try {
    for (const { width, height } of resolutions) {
      const xDisplay = await startXDisplay({ width, height });
      const target = await startTargetProgram(xDisplay, { marker: { advanceOnPointerDown: true } });
      // When the screen changes, as the person's side learns it (X DAMAGE): what the workload itself allows.
      const screenChanges: number[] = [];
      const changes = await openX11Watch(xDisplay.display);
      changes?.onChange(() => screenChanges.push(performance.now()));
      try {
        let markerBase = 10;
        for (const path of paths) {
          const viewer = new Viewer(target.marker, width);
          const connection = await connect(path, runtime, browser, xDisplay, viewer);
          try {
            for (const workload of workloads) {
              const figures = await runWorkload(workload, target, xDisplay, viewer, connection.person, markerBase, screenChanges);
              markerBase += 100;
              rows.push([
                `${width}×${height}`,
                workload,
                path,
                (figures.frames / figures.seconds).toFixed(1),
                (figures.fullSizeFrames / figures.seconds).toFixed(1),
                changes ? (figures.changedTicks / figures.seconds).toFixed(1) : '–',
                ((figures.bytes * 8) / figures.seconds / 1000).toFixed(1),
                ms(figures.glassToGlassMs, 0.5),
                ms(figures.glassToGlassMs, 0.95),
                percent(figures.cpuSeconds / figures.seconds),
                percent(figures.displayCpuSeconds / figures.seconds),
                percent(figures.machineBusy),
                figures.widths.join('→') || '–',
              ]);
            }
            if (connection.click) {
              const samples = await inputLatency(connection.click, target, viewer);
              inputRows.push([`${width}×${height}`, path, String(samples.length), ms(samples, 0.5), ms(samples, 0.95)]);
            }
          } finally {
            await connection.close();
          }
        }
      } finally {
        changes?.close();
        await target.close();
        await xDisplay.close();
      }
    }
  } finally {
    await browser.close();
    await runtime.close();
    await rm(consoleDir, { recursive: true, force: true });
  }
  // Side by side: for each screen and workload, the paths one under the other.
  const order = (row: string[]) => [resolutions.findIndex(({ width, height }) => row[0] === `${width}×${height}`), workloads.indexOf(row[1] as Workload), paths.indexOf(row[2] as Path)];
  rows.sort((a, b) => order(a).reduce((difference, value, at) => difference || value - order(b)[at]!, 0));
  return [
    `Desktop sharing through the local relay, ${WORKLOAD_MS / 1000} s a workload (targets at 1920×1080: typing and scrolling ≥ 15 frames/s at ≤ 1500 kbit/s, glass-to-glass p50 ≤ 150 ms, static ≤ 5 kbit/s)`,
    `The person's side runs with assist's defaults: at most ${SENDER_FPS} frames/s (--max-fps), the picture made smaller only when it cannot come ${SIZE_RULE_FPS} times a second, H.264 since the console decodes it (the VP8 rows: --codec vp8).`,
    formatTable(['screen', 'workload', 'path', 'frames/s', 'at full size', 'changed ticks/s', 'kbit/s', 'g2g p50 ms', 'g2g p95 ms', "person's CPU", "X server's CPU", 'machine busy', 'coded width'], rows),
    `changed ticks/s: of the ${SENDER_FPS} ticks a second at which the person's side looks at the screen, how many saw it change (X DAMAGE): no sender at ${SENDER_FPS} frames/s can send more frames than that. at full size: the frames drawn at the screen's own width, unscaled ("15 frames/s at 1920×1080" is this column in the 1920×1080 rows). coded width: the video's width, and each change during the workload. person's CPU, X server's CPU: as a share of one core; machine busy: of both cores, as a share of all their time (the target program, the relay and the technician's Chromium or, for stills, this process's decoder are the rest).`,
    `typing: ${TYPING_CHARACTERS_PER_SECOND} characters a second, faster than a person types, so that every tick sees a change: its frames/s is what the pipeline can carry, not how fast someone types.`,
    '',
    'Input latency, video paths (technician’s click → the changed pixels seen back by the technician)',
    formatTable(['screen', 'path', 'clicks', 'p50 ms', 'p95 ms'], inputRows),
    'Video: the technician is the web console in headless Chromium (software decoding, on the same two cores); a picture counts as seen once the console has drawn it in its canvas.',
  ].join('\n');
}
