import { shareStoppedSentence, type CursorShape, type CursorState, type KeyInput, type PointerInput, type ShareStopReason, type VideoChunk, type VideoConfig, type VideoSource } from '../../sdk/assist-messages.js';
import type { ExpertSession } from '../../sdk/assist-session.js';
import { KEY_COMBINATIONS, keySequence, pointerButton, PointerCoalescer, videoPoint, wheelPixels, type KeyCombination } from './desktop-input.js';
import { button, h, uniqueId } from './dom.js';
import { decodableCodecs } from './video-codecs.js';

// The technician's view of what the person shares as video: their desktop (from the assist
// command) or a browser's screen share. Chunks are decoded with WebCodecs into a canvas, fitted to
// the window, at actual size with scrolling, or full screen; the person's pointer is drawn over it.
// While the person's side allows it (control granted, not paused, a desktop), the canvas takes the
// technician's mouse and keyboard, with the focus rules of the terminal: Tab goes in, Shift+Tab
// moves out. Live figures show what the link carries.

const FIGURES_INTERVAL_MS = 1000;
const ROUND_TRIP_INTERVAL_MS = 5000;

/** Input is best effort: a send fails only when the session is ending, and its 'ended' tells the page. */
const ignoreFailure = (sending: Promise<unknown>) => void sending.catch(() => undefined);

type ViewMode = 'fit' | 'actual';

export class DesktopView {
  readonly element: HTMLElement;
  readonly #session: ExpertSession;
  readonly #personName: string;
  readonly #status: HTMLElement;
  readonly #figures: { framesPerSecond: HTMLElement; bitRate: HTMLElement; roundTrip: HTMLElement };
  readonly #viewButtons: Record<ViewMode, HTMLButtonElement>;
  readonly #keys: HTMLElement;
  readonly #canvas: HTMLCanvasElement;
  readonly #cursor: HTMLElement;
  /** The person's pointer drawn as an arrow until their side sends its shape (X11 only), then as that shape. */
  readonly #arrow: HTMLElement;
  readonly #cursorImage: HTMLCanvasElement;
  #cursorShape: CursorShape | undefined;
  readonly #pointer: PointerCoalescer;
  /** Keys pressed in the picture and not yet released: released when the focus leaves it, so none stays held on the person's side. */
  readonly #heldKeys = new Set<string>();
  #decoder: VideoDecoder | undefined;
  /** After a decoder error: deltas are skipped until the key frame asked for arrives. */
  #awaitingKeyFrame = false;
  /** The codec this browser cannot decode, once it said so. */
  #undecodable: string | undefined;
  #cursorState: CursorState | undefined;
  /** What the last configuration said is shared, so that its stop is told in the same words. */
  #source: VideoSource = 'screen';
  #framesDrawn = 0;
  #framesCounted = 0;
  #bytesCounted = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  #measuringRoundTrip = false;
  /** A share started: its first picture scrolls the panel up from below the session's header, as that picture is what the technician came for. */
  #bringIntoView = false;
  /** Why the last share stopped, when the person's side said. */
  #stopReason: ShareStopReason | undefined;

  constructor(session: ExpertSession, personName: string) {
    this.#session = session;
    this.#personName = personName;
    const headingId = uniqueId('desktop-heading');
    this.#status = h('p', { role: 'status', class: 'desktop-status', id: uniqueId('desktop-status') });
    const figure = () => h('dd', {}, '–');
    this.#figures = { framesPerSecond: figure(), bitRate: figure(), roundTrip: figure() };
    this.#canvas = h('canvas', { role: 'img', hidden: true, 'aria-describedby': this.#status.id, 'data-frames-drawn': '0' });
    this.#arrow = h('span', {});
    this.#cursorImage = h('canvas', { hidden: true });
    this.#cursor = h('div', { class: 'desktop-cursor', hidden: true, 'aria-hidden': 'true' }, this.#arrow, this.#cursorImage);
    const viewport = h('div', { class: 'desktop-viewport' }, this.#canvas, this.#cursor);
    this.#viewButtons = {
      fit: button('Fit to window', () => this.#setMode('fit'), { 'aria-pressed': 'true' }),
      actual: button('Actual size', () => this.#setMode('actual'), { 'aria-pressed': 'false' }),
    };
    const fullScreen = button('Full screen', () => this.#toggleFullScreen(), { 'aria-pressed': 'false' });
    document.addEventListener('fullscreenchange', () => fullScreen.setAttribute('aria-pressed', String(document.fullscreenElement === this.element)));
    const combinations = Object.keys(KEY_COMBINATIONS) as KeyCombination[];
    this.#keys = h(
      'div',
      { role: 'group', 'aria-label': 'Send keys', class: 'desktop-keys', hidden: true },
      h('span', {}, 'Send keys:'),
      ...combinations.map((name) => button(name, () => this.#sendCombination(name))),
    );
    this.element = h(
      'section',
      { class: 'desktop', 'aria-labelledby': headingId, hidden: true },
      h('h2', { id: headingId }, `Shared by ${personName}`),
      this.#status,
      h(
        'div',
        { class: 'desktop-toolbar' },
        h('div', { role: 'group', 'aria-label': 'View', class: 'desktop-views' }, this.#viewButtons.fit, this.#viewButtons.actual, fullScreen),
        this.#keys,
      ),
      h('dl', { class: 'desktop-figures' }, h('dt', {}, 'Frames per second'), this.#figures.framesPerSecond, h('dt', {}, 'Bit rate'), this.#figures.bitRate, h('dt', {}, 'Round trip'), this.#figures.roundTrip),
      viewport,
    );
    this.#pointer = new PointerCoalescer(
      (pointer) => this.#sendPointer(pointer),
      (flush) => requestAnimationFrame(flush),
    );
    this.#listenForInput();
    new ResizeObserver(() => this.#placeCursor()).observe(this.#canvas);
    this.#update();

    // Restored after a reload in the middle of a share: its start and configuration do not come again.
    if (session.screenShared) this.#started();
    if (session.video) this.#configure(session.video);
    session.on('screen-share', (share) => (share.state === 'started' ? this.#started() : this.#stopped(share.reason)));
    session.on('video-config', (config) => this.#configure(config));
    session.on('video-chunk', (chunk) => this.#decode(chunk));
    session.on('cursor', (cursor) => {
      this.#cursorState = cursor;
      this.#placeCursor();
    });
    session.on('cursor-shape', (shape) => this.#showCursorShape(shape));
    for (const change of ['paused', 'resumed', 'control'] as const) session.on(change, () => this.#update());
    session.on('ended', () => this.#stopped());
    // Right after approval: the person's side encodes what this browser decodes best.
    void decodableCodecs().then((codecs) => (codecs.length > 0 ? session.sendVideoCodecs(codecs) : undefined)).catch(() => undefined);
  }

  /** Whether the picture's panel is shown (a share started at least once). */
  get shown(): boolean {
    return !this.element.hidden;
  }

  #started(): void {
    this.element.hidden = false;
    this.#bringIntoView = true;
    this.#source = 'screen';
    this.#timers = [setInterval(() => this.#showFigures(), FIGURES_INTERVAL_MS), setInterval(() => void this.#measureRoundTrip(), ROUND_TRIP_INTERVAL_MS)];
    void this.#measureRoundTrip();
    this.#update();
  }

  /** A stopped share shows nothing: the last picture is no longer what is on their screen. */
  #stopped(reason?: ShareStopReason): void {
    this.#stopReason = reason;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    if (this.#decoder?.state === 'configured') this.#decoder.reset();
    this.#canvas.hidden = true;
    this.#cursorState = undefined;
    this.#placeCursor();
    this.#update();
  }

  #configure(config: VideoConfig): void {
    this.#source = config.source;
    this.#undecodable = undefined;
    this.#awaitingKeyFrame = false;
    Object.assign(this.#canvas, { width: config.width, height: config.height });
    this.#decoder ??= this.#newDecoder();
    this.#decoder?.configure({ codec: config.codec, codedWidth: config.width, codedHeight: config.height, optimizeForLatency: true });
    this.#update();
  }

  #newDecoder(): VideoDecoder | undefined {
    if (typeof VideoDecoder !== 'function') {
      this.#undecodable = this.#session.video?.codec;
      return undefined;
    }
    return new VideoDecoder({ output: (frame) => this.#draw(frame), error: (error) => this.#decoderFailed(error) });
  }

  #decode(chunk: VideoChunk): void {
    this.#bytesCounted += chunk.data.length;
    const decoder = this.#decoder;
    if (!decoder || decoder.state !== 'configured' || (this.#awaitingKeyFrame && !chunk.key)) return;
    this.#awaitingKeyFrame = false;
    try {
      decoder.decode(new EncodedVideoChunk({ type: chunk.key ? 'key' : 'delta', timestamp: chunk.timestamp, data: chunk.data }));
    } catch {
      this.#askForKeyFrame(); // a chunk the decoder refuses outright (it stays configured)
    }
  }

  #askForKeyFrame(): void {
    this.#awaitingKeyFrame = true;
    ignoreFailure(this.#session.requestKeyFrame());
  }

  /**
   * A decoder that fails is closed: a new one waits for a key frame, which the person's side sends
   * when asked. One it cannot be (this browser lacks the codec) is said in the status line.
   */
  #decoderFailed(error: DOMException): void {
    this.#decoder = undefined;
    const video = this.#session.video;
    if (!video) return;
    if (error.name === 'NotSupportedError') {
      this.#undecodable = video.codec;
      return this.#update();
    }
    this.#configure(video);
    this.#askForKeyFrame();
  }

  #draw(frame: VideoFrame): void {
    if (this.#session.video) {
      this.#canvas.getContext('2d', { alpha: false })!.drawImage(frame, 0, 0, this.#canvas.width, this.#canvas.height);
      this.#canvas.hidden = false;
      if (this.#bringIntoView) {
        this.#bringIntoView = false;
        this.element.scrollIntoView({ block: 'start' });
      }
      this.#framesCounted++;
      this.#canvas.dataset.framesDrawn = String(++this.#framesDrawn);
    }
    frame.close();
  }

  #showFigures(): void {
    const seconds = FIGURES_INTERVAL_MS / 1000;
    this.#figures.framesPerSecond.textContent = String(Math.round(this.#framesCounted / seconds));
    this.#figures.bitRate.textContent = `${Math.round((this.#bytesCounted * 8) / 1000 / seconds)} kbit/s`;
    this.#framesCounted = 0;
    this.#bytesCounted = 0;
  }

  async #measureRoundTrip(): Promise<void> {
    if (this.#measuringRoundTrip) return;
    this.#measuringRoundTrip = true;
    try {
      this.#figures.roundTrip.textContent = `${Math.round(await this.#session.measureRoundTrip())} ms`;
    } catch {
      // The session ended meanwhile: the figures go with it.
    } finally {
      this.#measuringRoundTrip = false;
    }
  }

  /** The status line, the names and the controls, from the session's state. */
  #update(): void {
    const session = this.#session;
    const name = this.#personName;
    const what = this.#source;
    const controlling = session.mayControlDesktop;
    this.#canvas.setAttribute('aria-label', what === 'desktop' ? `${name}’s desktop` : `${name}’s shared screen`);
    this.#canvas.setAttribute('role', controlling ? 'application' : 'img');
    this.#status.textContent = !session.screenShared
      ? shareStoppedSentence(name, what, this.#stopReason)
      : this.#undecodable
        ? `This browser cannot show ${name}’s ${what}: it does not decode ${this.#undecodable} video. A current Chrome, Edge or Firefox can.`
        : session.paused
          ? `${name} paused the session: the picture does not change until they resume.`
          : controlling
            ? `You are controlling ${name}’s desktop: click the picture to use its mouse and keyboard. Shift+Tab moves out.`
            : what === 'desktop'
              ? `${name} is sharing their desktop. You can see it; ask for control to use its mouse and keyboard.`
              : `${name} is sharing their screen. You can see it, but not control it.`;
    this.element.classList.toggle('desktop-paused', session.paused);
    this.element.classList.toggle('desktop-controlling', controlling);
    this.#keys.hidden = !controlling;
    if (controlling) this.#canvas.tabIndex = 0;
    else this.#stopTakingInput();
  }

  /** Control ended or paused: the picture stops taking the mouse and keyboard at once. */
  #stopTakingInput(): void {
    this.#canvas.removeAttribute('tabindex');
    this.#pointer.clear();
    this.#heldKeys.clear();
  }

  #setMode(mode: ViewMode): void {
    this.element.classList.toggle('desktop-actual-size', mode === 'actual');
    for (const [each, control] of Object.entries(this.#viewButtons)) control.setAttribute('aria-pressed', String(each === mode));
  }

  async #toggleFullScreen(): Promise<void> {
    if (document.fullscreenElement === this.element) await document.exitFullscreen();
    else await this.element.requestFullscreen();
  }

  /** The pointer's shape, drawn from now on instead of the arrow. */
  #showCursorShape(shape: CursorShape): void {
    this.#cursorShape = shape;
    const image = this.#cursorImage;
    Object.assign(image, { width: shape.width, height: shape.height });
    image.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(shape.rgba), shape.width, shape.height), 0, 0);
    image.dataset.shape = `${shape.width}x${shape.height}`;
    image.hidden = false;
    this.#arrow.hidden = true;
    this.#placeCursor();
  }

  /**
   * The person's pointer over the picture, at the CSS position of its video coordinates: its shape
   * at the picture's scale with its hot spot on the point, or the arrow's tip on it.
   */
  #placeCursor(): void {
    const cursor = this.#cursorState;
    const video = this.#session.video;
    this.#cursor.hidden = !cursor?.visible || !video || this.#canvas.hidden;
    if (this.#cursor.hidden || !cursor || !video) return;
    const canvas = this.#canvas;
    const scale = canvas.clientWidth / video.width;
    const shape = this.#cursorShape;
    let left = canvas.offsetLeft + canvas.clientLeft + cursor.x * scale;
    let top = canvas.offsetTop + canvas.clientTop + (cursor.y * canvas.clientHeight) / video.height;
    if (shape) {
      Object.assign(this.#cursorImage.style, { width: `${shape.width * scale}px`, height: `${shape.height * scale}px` });
      left -= shape.hotX * scale;
      top -= shape.hotY * scale;
    }
    this.#cursor.style.transform = `translate(${left}px, ${top}px)`;
  }

  #videoPointOf(event: MouseEvent): { x: number; y: number } | undefined {
    const video = this.#session.video;
    if (!video) return undefined;
    const canvas = this.#canvas;
    const border = canvas.getBoundingClientRect();
    const box = { left: border.left + canvas.clientLeft, top: border.top + canvas.clientTop, width: canvas.clientWidth, height: canvas.clientHeight };
    return videoPoint(event.clientX, event.clientY, box, video);
  }

  #listenForInput(): void {
    const canvas = this.#canvas;
    const controlled = () => this.#session.mayControlDesktop;
    canvas.addEventListener('pointermove', (event) => {
      const point = controlled() && this.#videoPointOf(event);
      if (point) this.#pointer.move(point.x, point.y);
    });
    for (const [type, action] of [['pointerdown', 'down'], ['pointerup', 'up']] as const) {
      canvas.addEventListener(type, (event) => {
        const point = controlled() && this.#videoPointOf(event);
        const pressed = pointerButton(event.button);
        if (!point || !pressed) return;
        event.preventDefault();
        // Held, the button's release reaches the picture even when the pointer left it.
        if (action === 'down') {
          canvas.focus();
          canvas.setPointerCapture(event.pointerId);
        }
        this.#pointer.button(action, point.x, point.y, pressed);
      });
    }
    canvas.addEventListener(
      'wheel',
      (event) => {
        const point = controlled() && this.#videoPointOf(event);
        if (!point) return;
        event.preventDefault();
        const { deltaX, deltaY } = wheelPixels(event, canvas.clientHeight);
        this.#pointer.wheel(point.x, point.y, deltaX, deltaY);
      },
      { passive: false },
    );
    canvas.addEventListener('contextmenu', (event) => {
      if (controlled()) event.preventDefault();
    });
    canvas.addEventListener('keydown', (event) => this.#onKey(event, 'down'));
    canvas.addEventListener('keyup', (event) => this.#onKey(event, 'up'));
    canvas.addEventListener('blur', () => {
      for (const code of this.#heldKeys) this.#sendKey({ action: 'up', code, text: '' });
      this.#heldKeys.clear();
    });
  }

  #onKey(event: KeyboardEvent, action: 'down' | 'up'): void {
    // Without control keys do what they do on the page; Shift+Tab always moves out, so the keyboard is never trapped.
    if (!this.#session.mayControlDesktop || (event.key === 'Tab' && event.shiftKey) || event.code === '' || event.isComposing) return;
    event.preventDefault();
    if (action === 'down') this.#heldKeys.add(event.code);
    else this.#heldKeys.delete(event.code);
    this.#sendKey({ action, code: event.code, text: event.key.length === 1 ? event.key : '' });
  }

  async #sendCombination(name: KeyCombination): Promise<void> {
    for (const key of keySequence(KEY_COMBINATIONS[name])) {
      if (!(await this.#session.sendKey(key).catch(() => false))) break;
    }
    this.#canvas.focus();
  }

  #sendPointer(pointer: PointerInput): void {
    ignoreFailure(this.#session.sendPointer(pointer));
  }

  #sendKey(key: KeyInput): void {
    ignoreFailure(this.#session.sendKey(key));
  }
}
