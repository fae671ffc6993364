// The person's pointer for the technician: its position, polled (about 20 times a second while the
// share runs; on X11 through the display's own connection, elsewhere the input package) and sent
// only when it changed; and, where the display tells it (X11, x11.ts), its shape, sent when it
// changed: the pixels once with an id, later the id alone (sdk/cursor-shapes.ts).
// Elsewhere (macOS, Windows, an X server without XFixes) no shape is sent and the technician's
// viewer draws an arrow.

import { CursorShapeCache, MAX_CURSOR_SIDE, type CursorShape, type CursorState } from '../../sdk/node.js';
import type { ScreenMapping } from './geometry.js';
import type { CursorImage, DesktopSession, InputDevice } from './ports.js';

export const CURSOR_POLL_MS = 50;

export class CursorTracker {
  #last: CursorState | undefined;
  /** The serial of the image the technician's side shows now, and what it became. */
  #shapeSent: { serial: number; id: number } | undefined;
  readonly #shapes = new CursorShapeCache<CursorShape>();
  #nextShapeId = 0;

  constructor(
    private readonly session: Pick<DesktopSession, 'readyForVideo' | 'sendCursor' | 'sendCursorShape'>,
    private readonly device: Pick<InputDevice, 'mousePosition'>,
    private readonly mapping: () => ScreenMapping | undefined,
    /** What the display tells, once it is open: the pointer's image and, where it can, its position. */
    private readonly watch?: { cursorImage(): CursorImage | undefined; pointerPosition(): Promise<{ x: number; y: number }> | undefined },
  ) {}

  /** Reads the pointer; sends its shape if that changed, and its position if it moved, appeared or left the shared monitor. */
  async poll(): Promise<void> {
    const mapping = this.mapping();
    if (!mapping || !this.session.readyForVideo) {
      // After a pause or a new configuration the technician's side gets the position and shape afresh.
      this.forget();
      return;
    }
    await this.#sendShape();
    const { x, y } = (await this.watch?.pointerPosition()) ?? this.device.mousePosition();
    const inVideo = mapping.toVideo(x, y);
    const cursor: CursorState = inVideo ? { ...inVideo, visible: true } : { x: this.#last?.x ?? 0, y: this.#last?.y ?? 0, visible: false };
    const last = this.#last;
    if (last && last.x === cursor.x && last.y === cursor.y && last.visible === cursor.visible) return;
    if (await this.session.sendCursor(cursor)) this.#last = cursor;
  }

  /** The next poll sends the position and shape even if they did not change (the video was reconfigured). */
  forget(): void {
    this.#last = undefined;
    this.#shapeSent = undefined;
  }

  async #sendShape(): Promise<void> {
    const image = this.watch?.cursorImage();
    if (!image || image.serial === this.#shapeSent?.serial) return;
    const shape = cursorShapeOf(image);
    if (!shape) return;
    const known = this.#shapes.find((defined) => sameShape(defined, shape));
    const id = known ?? this.#nextShapeId;
    if (!(await this.session.sendCursorShape(id, known === undefined ? shape : undefined))) return;
    if (known === undefined) {
      this.#shapes.define(id, shape);
      this.#nextShapeId = (this.#nextShapeId + 1) & 0xffff;
    }
    this.#shapeSent = { serial: image.serial, id };
  }
}

function sameShape(a: CursorShape, b: CursorShape): boolean {
  return a.width === b.width && a.height === b.height && a.hotX === b.hotX && a.hotY === b.hotY && Buffer.compare(a.rgba, b.rgba) === 0;
}

/**
 * X11's image as a cursor-shape: straight-alpha RGBA, at most MAX_CURSOR_SIDE a side (a larger
 * one is scaled down, nearest pixel); undefined for an empty image (a hidden pointer).
 */
export function cursorShapeOf(image: CursorImage): CursorShape | undefined {
  if (image.width < 1 || image.height < 1 || image.premultipliedBgra.length < image.width * image.height * 4) return undefined;
  const scale = Math.min(1, MAX_CURSOR_SIDE / image.width, MAX_CURSOR_SIDE / image.height);
  const width = Math.max(1, Math.floor(image.width * scale));
  const height = Math.max(1, Math.floor(image.height * scale));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sourceY = Math.min(image.height - 1, Math.floor(y / scale));
    for (let x = 0; x < width; x++) {
      const from = (sourceY * image.width + Math.min(image.width - 1, Math.floor(x / scale))) * 4;
      const to = (y * width + x) * 4;
      const [b, g, r, alpha] = [image.premultipliedBgra[from]!, image.premultipliedBgra[from + 1]!, image.premultipliedBgra[from + 2]!, image.premultipliedBgra[from + 3]!];
      const unpremultiply = (channel: number) => (alpha === 0 ? 0 : Math.min(255, Math.round((channel * 255) / alpha)));
      rgba.set([unpremultiply(r), unpremultiply(g), unpremultiply(b), alpha], to);
    }
  }
  const hotX = Math.min(width - 1, Math.floor(image.hotX * scale));
  const hotY = Math.min(height - 1, Math.floor(image.hotY * scale));
  return { width, height, hotX, hotY, rgba };
}
