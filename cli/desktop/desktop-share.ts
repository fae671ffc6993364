// The person's desktop share, put together: checks and loads (prepareDesktop, before any
// invitation, so a machine that cannot share says so at once), then, once the session is approved,
// the video (video-sender.ts), the cursor (cursor.ts) and the technician's input (input.ts).
// Failures stop the share with a sentence for both sides; the session itself goes on.

import { systemClock, type CancelTimer, type Clock } from '../../sdk/node.js';
import type { SessionEvent } from '../events.js';
import type { CodecChoice } from './codecs.js';
import { CursorTracker, CURSOR_POLL_MS } from './cursor.js';
import type { ShareStopReason } from '../../sdk/assist-messages.js';
import { DesktopError, type DesktopErrorCode } from './errors.js';
import { InputInjector } from './input.js';
import type { Platform } from './keys.js';
import { chooseMonitor } from './monitors.js';
import { checkDisplay, loadInputDevice, loadScreenCapture, webCodecsEncoders } from './native.js';
import type { DesktopSession, InputDevice, MonitorInfo, OpenEncoder, ScreenCapture, ScreenWatch } from './ports.js';
import { VideoSender } from './video-sender.js';
import { openX11Watch } from './x11.js';

/**
 * Above the 15 frames a second the encoded size is kept for (encode-size.ts: SIZE_RULE_FPS), so that
 * the pipeline, not the cap, sets the rate where the machine has frames to spare: at a cap of 15 a
 * share could never show 15, since some ticks see no change. Not 30: each frame costs CPU (a 1920×1080
 * H.264 frame about 25 ms of this process's) and the bitrate (at most 1.5 Mbit/s) is shared by more
 * frames, for motion a technician reading a desktop hardly needs.
 */
export const DEFAULT_MAX_FPS = 20;
export const MAX_FPS_LIMIT = 30;
/** Dropped input is reported at most this often: a technician without control moving the mouse drops dozens a second. */
const DROPPED_REPORT_MS = 1000;
/**
 * A screen unchanged for IDLE_AFTER_MS is looked at only every IDLE_CAPTURE_MS: a 1920×1080 capture
 * costs about 20 ms of CPU, a third of a core at 15 a second for a desktop nobody touches. The
 * technician's input and key-frame requests look again at once. Where the display tells of every
 * change (X DAMAGE, x11.ts), a change is looked at as soon as the frame rate allows and an idle
 * screen only every IDLE_KEEPALIVE_MS, in case a change went untold; elsewhere the person's own
 * first change after a pause in activity shows up to IDLE_CAPTURE_MS late.
 */
const IDLE_AFTER_MS = 1000;
const IDLE_CAPTURE_MS = 250;
const IDLE_KEEPALIVE_MS = 2000;

/** What the technician is told when a failure stops the share. */
const stopReasons: Partial<Record<DesktopErrorCode, ShareStopReason>> = {
  'monitor-gone': 'monitor-gone',
  'capture-failed': 'capture-failed',
  'encoder-refused': 'encoder-failed',
};

export type DesktopEvent = Extract<SessionEvent, { event: 'desktop-share' | 'desktop-error' | 'input-dropped' }>;

export interface DesktopOptions {
  /** `--monitor N`; default the primary monitor. */
  monitor?: number;
  maxFps: number;
  /** `--codec`; default H.264 when the expert decodes it, else VP8. */
  codec?: CodecChoice;
}

export interface DesktopDevices {
  platform: Platform;
  capture: ScreenCapture;
  input: InputDevice;
  openEncoder: OpenEncoder;
  /** What the display tells without being asked (the pointer's shape, changes), where it can: X11. */
  openWatch?: () => Promise<ScreenWatch | undefined>;
}

export function loadDesktopDevices(): DesktopDevices {
  const platform = checkDisplay();
  return { platform, capture: loadScreenCapture(), input: loadInputDevice(platform), openEncoder: webCodecsEncoders(), openWatch: () => openX11Watch() };
}

export interface PreparedDesktop {
  monitor: MonitorInfo;
  /** Starts sharing on an approved session. */
  start(session: DesktopSession, report: (event: DesktopEvent) => void): Promise<DesktopShare>;
}

/** Everything that can be checked before an invitation: the display, the native packages, the monitor. */
export function prepareDesktop(options: DesktopOptions, devices: DesktopDevices = loadDesktopDevices(), clock: Clock = systemClock): PreparedDesktop {
  const monitor = chooseMonitor(devices.capture.monitors(), options.monitor);
  return {
    monitor,
    async start(session, report) {
      const share = new DesktopShare(session, devices, monitor, options, report, clock);
      await share.start();
      return share;
    },
  };
}

export class DesktopShare {
  readonly #session: DesktopSession;
  readonly #monitor: MonitorInfo;
  readonly #report: (event: DesktopEvent) => void;
  readonly #clock: Clock;
  readonly #sender: VideoSender;
  readonly #cursor: CursorTracker;
  readonly #injector: InputInjector;
  readonly #openWatch: (() => Promise<ScreenWatch | undefined>) | undefined;
  #watch: ScreenWatch | undefined;
  readonly #unsubscribe: Array<() => void> = [];
  /** Configuration changes, one after another (the sender itself keeps them apart from its encodes). */
  #work: Promise<unknown> = Promise.resolve();
  #cancelFrame: CancelTimer | undefined;
  #frameRunning = false;
  #lastFrameStart = -Infinity;
  /** When the screen was first seen unchanged since the last frame sent. */
  #unchangedSince: number | undefined;
  #cancelCursor: CancelTimer | undefined;
  #cancelDroppedReport: CancelTimer | undefined;
  #lastDroppedReport = -Infinity;
  #inputFailureReported = false;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(session: DesktopSession, devices: DesktopDevices, monitor: MonitorInfo, { maxFps, codec }: DesktopOptions, report: (event: DesktopEvent) => void, clock: Clock) {
    this.#session = session;
    this.#monitor = monitor;
    this.#report = report;
    this.#clock = clock;
    this.#sender = new VideoSender({
      session,
      // Straight from the display where it can (x11.ts), else through the capture package.
      capture: {
        monitors: () => devices.capture.monitors(),
        capture: (monitorId) => this.#watch?.capture?.(monitor) ?? devices.capture.capture(monitorId),
      },
      openEncoder: devices.openEncoder,
      monitor,
      maxFps,
      codec,
      clock,
      onConfigured: ({ codec, width, height }) => {
        this.#cursor.forget();
        report({ event: 'desktop-share', state: 'started', monitor: monitor.number, width, height, codec });
      },
    });
    const mapping = () => this.#sender.mapping;
    this.#openWatch = devices.openWatch;
    this.#cursor = new CursorTracker(session, devices.input, mapping, { cursorImage: () => this.#watch?.cursorImage(), pointerPosition: () => this.#watch?.pointerPosition?.() });
    this.#injector = new InputInjector(devices.input, devices.platform, mapping);
  }

  async start(): Promise<void> {
    const session = this.#session;
    this.#unsubscribe.push(
      session.on('pointer', (pointer) => this.#inject(() => this.#injector.pointer(pointer))),
      session.on('key', (key) => this.#inject(() => this.#injector.key(key))),
      session.on('input-dropped', ({ why }) => this.#droppedInput(why)),
      session.on('key-frame-requested', () => this.#lookNow()),
      session.on('video-codecs', () => void this.#serially(() => this.#sender.codecsChanged())),
      session.on('ended', () => void this.stop()),
    );
    this.#watch = await this.#openWatch?.().catch(() => undefined);
    if (this.#stopped) return this.#watch?.close();
    if (this.#watch) this.#unsubscribe.push(this.#watch.onChange(() => this.#screenChanged()));
    await this.#serially(() => this.#sender.configure());
    if (this.#stopped) return;
    this.#nextFrame(0);
    this.#nextCursor();
  }

  /** Lets go of every key and button the technician holds: control taken back, a pause. */
  releaseInput(): void {
    this.#inject(() => this.#injector.releaseAll());
  }

  /**
   * Stops the share: nothing more is captured, the technician's side is told why (unless the session
   * is over): a failure's reason, or the person's choice when none is given.
   */
  stop(reason?: ShareStopReason): Promise<void> {
    return (this.#stopping ??= this.#stop(reason));
  }

  async #stop(reason: ShareStopReason | undefined): Promise<void> {
    this.#stopped = true;
    this.#cancelFrame?.();
    this.#cancelCursor?.();
    this.#cancelDroppedReport?.();
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.releaseInput();
    await this.#work;
    await this.#sender.close();
    this.#watch?.close();
    await this.#session.stopScreenShare(reason).catch(() => {});
    this.#report({ event: 'desktop-share', state: 'stopped', monitor: this.#monitor.number, ...(reason ? { reason } : {}) });
  }

  #serially<T>(task: () => Promise<T>): Promise<T | undefined> {
    const run = this.#work.then(() => (this.#stopped ? undefined : task()));
    // A failure stops the share, which waits for this queue: it runs beside it, not in it.
    this.#work = run.catch((error: unknown) => void this.#fail(error));
    return run.catch(() => undefined);
  }

  /**
   * The next tick's capture, at a fixed rate counted from this one's start: the sender holds a tick
   * until the encoder is about to be free, then captures, and sends one picture while capturing the
   * next, so a busy encoder sets the pace without a queue.
   */
  #nextFrame(delayMs: number): void {
    this.#cancelFrame = this.#clock.schedule(delayMs, () => {
      const started = this.#clock.now();
      this.#lastFrameStart = started;
      this.#frameRunning = true;
      this.#sender.capture().then(
        (captured) => {
          this.#frameRunning = false;
          if (captured.outcome === 'unchanged') this.#unchangedSince ??= started;
          else if (captured.outcome === 'queued') {
            this.#unchangedSince = undefined;
            captured.encoded.catch((error: unknown) => this.#fail(error));
          }
          if (!this.#stopped) this.#nextFrame(Math.max(0, this.#frameIntervalMs() - (this.#clock.now() - started)));
        },
        (error: unknown) => {
          this.#frameRunning = false;
          void this.#fail(error);
        },
      );
    });
  }

  #frameIntervalMs(): number {
    const idle = this.#unchangedSince !== undefined && this.#clock.now() - this.#unchangedSince >= IDLE_AFTER_MS;
    const idleInterval = this.#watch?.notifiesChanges ? IDLE_KEEPALIVE_MS : IDLE_CAPTURE_MS;
    return idle ? Math.max(idleInterval, this.#sender.frameIntervalMs) : this.#sender.frameIntervalMs;
  }

  /** The display says something was drawn: the next capture is as soon as the frame rate allows. */
  #screenChanged(): void {
    this.#unchangedSince = undefined;
    if (this.#frameRunning || this.#stopped || !this.#cancelFrame) return;
    this.#cancelFrame();
    this.#nextFrame(Math.max(0, this.#sender.frameIntervalMs - (this.#clock.now() - this.#lastFrameStart)));
  }

  /** Something will change the screen, or needs a frame: the next capture is now, and at full rate. */
  #lookNow(): void {
    this.#unchangedSince = undefined;
    if (this.#frameRunning || this.#stopped || !this.#cancelFrame) return;
    this.#cancelFrame();
    this.#nextFrame(0);
  }

  #nextCursor(): void {
    this.#cancelCursor = this.#clock.schedule(CURSOR_POLL_MS, () => {
      this.#cursor.poll().then(
        () => {
          if (!this.#stopped) this.#nextCursor();
        },
        (error: unknown) => this.#fail(error),
      );
    });
  }

  #inject(apply: () => void): void {
    this.#lookNow();
    try {
      apply();
    } catch (error) {
      // Input that fails once will fail again: say it once, keep the picture going.
      if (this.#inputFailureReported) return;
      this.#inputFailureReported = true;
      const hint =
        process.platform === 'darwin'
          ? 'allow Accessibility for your terminal in System Settings › Privacy & Security, then share again'
          : 'your technician can still watch; control may not work on this desktop';
      this.#report({ event: 'desktop-error', code: 'input-failed', message: `the technician's mouse or keyboard could not be applied (${(error as Error).message}): ${hint}` });
    }
  }

  #droppedInput(why: string): void {
    if (this.#cancelDroppedReport) return; // a report is already due
    const report = () => {
      this.#cancelDroppedReport = undefined;
      this.#lastDroppedReport = this.#clock.now();
      this.#report({ event: 'input-dropped', count: this.#session.droppedInputEvents, why });
    };
    const wait = this.#lastDroppedReport + DROPPED_REPORT_MS - this.#clock.now();
    if (wait <= 0) report();
    else this.#cancelDroppedReport = this.#clock.schedule(wait, report);
  }

  async #fail(error: unknown): Promise<void> {
    if (this.#stopped) return;
    const known = error instanceof DesktopError ? error : new DesktopError('capture-failed', `the desktop share failed (${(error as Error).message}): share again, or share the terminal only`, { cause: error });
    this.#report({ event: 'desktop-error', code: known.code, message: known.message });
    // The technician's side learns why from the stop itself.
    await this.stop(stopReasons[known.code] ?? 'capture-failed');
  }
}
