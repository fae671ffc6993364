// Desktop sharing through the local relay, the video paths (VP8 and H.264) beside the JPEG-stills path, measured
// in one run on the same X displays (Xvfb) with the same target program (headful Chromium full
// screen, test/support/x-display.ts):
//   - the person's side is a real process on the display: `assist accept CODE --desktop --codec …
//     --json` for video, bench/jpeg-stills-agent.ts for stills; the technician is this process, through the SDK,
//     decoding with the same WebCodecs API a browser has (@napi-rs/webcodecs);
//   - workloads: a static desktop, typing in an editor (faster than a person types, see
//     TYPING_CHARACTERS_PER_SECOND), scrolling a long page;
//   - glass-to-glass latency: the target program draws a numbered marker; the time from asking for
//     marker n until the technician first decodes a picture showing it;
//   - input latency (video only: stills cannot be controlled): the technician's click makes the target
//     program advance its marker; the time from the click until the new marker is seen back;
//   - the person's side's CPU and the X server's (Xvfb), as a share of one core, and how busy the whole
//     machine was: the 2 cores are shared by the target program, the X server, the person's side,
//     the relay and this process's decoder.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ImageDecoder, VideoDecoder, EncodedVideoChunk, type VideoFrame } from '@napi-rs/webcodecs';
import { startLocalRuntime, type LocalRuntime } from '../infra/local/runtime.js';
import type { VideoConfig } from '../sdk/assist-messages.js';
import { offerHelp, type HelpOffer } from '../sdk/node.js';
import { VIDEO_CODECS } from '../sdk/video-pacing.js';
import { openX11Watch } from '../cli/desktop/x11.js';
import { AssistProcess } from '../test/support/assist-process.js';
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
/** The person's side's default frame rate (assist --max-fps). */
const SENDER_FPS = 15;
const stillsAgent = fileURLToPath(new URL('./jpeg-stills-agent.ts', import.meta.url));
const resolutions = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];
const workloads = ['static desktop', 'typing', 'scrolling'] as const;
type Workload = (typeof workloads)[number];
/** The video paths: the codec the person's side encodes (`--codec`), the technician listing both as the console does. */
const videoPaths = { 'video VP8': 'vp8', 'video H.264': 'h264' } as const;
type Path = keyof typeof videoPaths | 'JPEG stills';
const isVideo = (path: Path): path is keyof typeof videoPaths => path !== 'JPEG stills';

interface Figures {
  frames: number;
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

/** What the technician's side decoded: each picture's marker, when it was first seen, and the coded sizes. */
class Viewer {
  readonly #markerSeen = new Map<number, number>();
  readonly #waiters = new Map<number, () => void>();
  frames = 0;
  bytes = 0;
  /** The coded widths the video was configured with, in order. */
  readonly widths: number[] = [];

  constructor(
    private readonly marker: MarkerLayout,
    private readonly screenWidth: number,
  ) {}

  configure(codedWidth: number): void {
    if (this.widths.at(-1) !== codedWidth) this.widths.push(codedWidth);
  }

  received(bytes: number): void {
    this.frames++;
    this.bytes += bytes;
  }

  /** A decoded picture: the marker is where the picture, scaled from the screen, has it (each picture by its own size: one decoded before a new configuration arrives keeps the old one). */
  picture(image: PixelImage): void {
    const scale = image.width / this.screenWidth;
    const { x, y, block } = this.marker;
    const value = readMarker(image, { ...this.marker, x: Math.round(x * scale), y: Math.round(y * scale), block: Math.round(block * scale) });
    if (value === null || this.#markerSeen.has(value)) return;
    this.#markerSeen.set(value, performance.now());
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

async function pixelsOf(frame: VideoFrame): Promise<PixelImage> {
  const data = new Uint8Array(frame.allocationSize({ format: 'RGBA' }));
  await frame.copyTo(data, { format: 'RGBA' });
  return { width: frame.codedWidth, height: frame.codedHeight, data };
}

/** Feeds the technician's session into `viewer`: video through a VideoDecoder, stills through an ImageDecoder. */
function watch(technician: HelpOffer, viewer: Viewer): { video: () => VideoConfig | undefined } {
  let decoding = Promise.resolve();
  const decoder = new VideoDecoder({
    output: (frame) => {
      decoding = decoding.then(async () => {
        viewer.picture(await pixelsOf(frame));
        frame.close();
      });
    },
    error: (error) => console.error(`the benchmark's decoder failed: ${error.message}`),
  });
  technician.on('video-config', (config) => {
    viewer.configure(config.width);
    // As the console does: without it this decoder holds a frame back until the next one comes,
    // so the picture after a click (no frame follows on a still screen) would never be seen.
    decoder.configure({ codec: config.codec, codedWidth: config.width, codedHeight: config.height, optimizeForLatency: true });
  });
  technician.on('video-chunk', ({ key, timestamp, data }) => {
    viewer.received(data.length);
    // As the console does: a decoder that failed or is between configurations skips chunks (the error is printed above).
    if (decoder.state !== 'configured') return;
    decoder.decode(new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp, data }));
  });
  technician.on('screen', ({ jpeg, width }) => {
    viewer.received(jpeg.length);
    viewer.configure(width);
    decoding = decoding.then(async () => {
      const { image } = await new ImageDecoder({ data: jpeg, type: 'image/jpeg' }).decode();
      viewer.picture(await pixelsOf(image));
      image.close();
    });
  });
  return { video: () => technician.video };
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

/**
 * The person's process for `path`, sharing `display`, joined to a new helper code of this process's,
 * whose pictures `viewer` gets from the start: the share's configuration can come in the same batch
 * as the approval, so watching only once the approval is seen could miss it and decode nothing.
 */
async function connect(path: Path, runtime: LocalRuntime, xDisplay: XDisplay, viewer: Viewer): Promise<{ technician: HelpOffer; person: ChildProcess; close(): Promise<void> }> {
  const technician = await offerHelp({ relay: runtime.httpUrl, name: 'Benchmark technician' });
  watch(technician, viewer);
  const env = { ...process.env, ...xDisplay.env };
  let person: ChildProcess;
  let assist: AssistProcess | undefined;
  if (isVideo(path)) {
    assist = new AssistProcess(['accept', technician.code, '--desktop', '--codec', videoPaths[path], '--json', '--relay', runtime.httpUrl, '--name', 'Benchmark person'], { env });
    person = assist.child;
    await assist.next('connected');
    assist.send({ cmd: 'approve', mode: 'control' });
  } else {
    person = spawn(process.execPath, ['--import', 'tsx', stillsAgent, runtime.httpUrl, technician.code], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  await new Promise<void>((resolve) => technician.on('approved', () => resolve()));
  if (isVideo(path)) await technician.sendVideoCodecs([...VIDEO_CODECS]);
  return {
    technician,
    person,
    close: async () => {
      const exited = new Promise((resolve) => person.once('exit', resolve));
      await technician.leave().catch(() => {});
      person.kill();
      await exited;
    },
  };
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
  const after = { frames: viewer.frames, bytes: viewer.bytes, cpu: await cpuSeconds(person.pid), displayCpu: await cpuSeconds(xDisplay.pid), machine: await machineCpuTicks(), at: performance.now() };
  const widths = viewer.widths.slice(before.widths);
  const glassToGlassMs: number[] = [];
  for (const [n, at] of asked) {
    const seen = await viewer.seen(n, 1_000);
    if (seen !== undefined) glassToGlassMs.push(seen - at);
  }
  const changedTicks = ticksWithChange(screenChanges, before.at, after.at, 1000 / SENDER_FPS);
  return {
    frames: after.frames - before.frames,
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

/** Click → the target program advances its marker → the technician sees the new one. */
async function inputLatency(technician: HelpOffer, target: TargetProgram, viewer: Viewer, screenWidth: number): Promise<number[]> {
  const video = technician.video!;
  const scale = video.width / screenWidth;
  const at = { x: Math.round((target.marker.x + target.marker.block / 2) * scale), y: Math.round((target.marker.y + target.marker.block / 2) * scale) };
  const samples: number[] = [];
  await target.setMarker(1);
  await viewer.seen(1);
  for (let n = 2; samples.length < INPUT_SAMPLES && n < INPUT_SAMPLES * 2 + 2; n++) {
    const started = performance.now();
    await technician.sendPointer({ action: 'down', button: 'left', ...at });
    await technician.sendPointer({ action: 'up', button: 'left', ...at });
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
  const runtime = await startLocalRuntime({ port: 0 });
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
        for (const path of ['JPEG stills', ...Object.keys(videoPaths)] as Path[]) {
          const viewer = new Viewer(target.marker, width);
          const connection = await connect(path, runtime, xDisplay, viewer);
          try {
            for (const workload of workloads) {
              const figures = await runWorkload(workload, target, xDisplay, viewer, connection.person, markerBase, screenChanges);
              markerBase += 100;
              rows.push([
                `${width}×${height}`,
                workload,
                path,
                (figures.frames / figures.seconds).toFixed(1),
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
            if (isVideo(path)) {
              const samples = await inputLatency(connection.technician, target, viewer, width);
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
    await runtime.close();
  }
  return [
    `Desktop sharing through the local relay, ${WORKLOAD_MS / 1000} s a workload (targets at 1920×1080: typing and scrolling ≥ 15 frames/s at ≤ 1500 kbit/s, glass-to-glass p50 ≤ 150 ms, static ≤ 5 kbit/s)`,
    formatTable(['screen', 'workload', 'path', 'frames/s', 'changed ticks/s', 'kbit/s', 'g2g p50 ms', 'g2g p95 ms', "person's CPU", "X server's CPU", 'machine busy', 'coded width'], rows),
    `changed ticks/s: of the ${SENDER_FPS} ticks a second at which the person's side looks at the screen, how many saw it change (X DAMAGE): no sender at ${SENDER_FPS} frames/s can send more frames than that. coded width: the video's width, and each change during the workload. person's CPU, X server's CPU: as a share of one core; machine busy: of both cores, as a share of all their time (the target program, the relay and this process's decoder are the rest).`,
    `typing: ${TYPING_CHARACTERS_PER_SECOND} characters a second, faster than a person types, so that every tick sees a change: its frames/s is what the pipeline can carry, not how fast someone types.`,
    '',
    'Input latency, video paths (technician’s click → the changed pixels seen back by the technician)',
    formatTable(['screen', 'path', 'clicks', 'p50 ms', 'p95 ms'], inputRows),
    'H.264: frames/s, kbit/s and CPU compare as they are; glass-to-glass and input latency do not: the Node decoder (@napi-rs/webcodecs) holds two H.264 frames back even with optimizeForLatency (a browser decodes each at once), so a still screen after a click is seen late or never, and a flush after each chunk, which hands each frame out, garbles the pictures after it.',
  ].join('\n');
}
