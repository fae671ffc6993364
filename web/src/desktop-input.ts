import type { KeyInput, PointerButton, PointerInput } from '../../sdk/assist-messages.js';

// The technician's mouse and keyboard on the person's desktop, without the DOM: where a point of
// the canvas is in the video, which mouse button a DOM button number is, the key sequences of the
// combinations a browser keeps for itself, and one pointer message per animation frame.

/** Where the picture is drawn on the page: its content box, in CSS pixels of the viewport (scrolling included). */
export interface PictureBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The video pixel under a point of the viewport. The box is where the picture is now, whatever the
 * view (fitted: smaller than the video; actual size: as large; scrolled: partly above or left of
 * the viewport), so one scale per axis maps it. Points outside the picture (a drag that left it)
 * land on its nearest edge: the person's side drops anything outside the screen.
 */
export function videoPoint(clientX: number, clientY: number, box: PictureBox, video: { width: number; height: number }): { x: number; y: number } {
  const along = (offset: number, boxSize: number, videoSize: number) => Math.min(videoSize - 1, Math.max(0, Math.floor((offset * videoSize) / boxSize)));
  return { x: along(clientX - box.left, box.width, video.width), y: along(clientY - box.top, box.height, video.height) };
}

const buttons: readonly (PointerButton | undefined)[] = ['left', 'middle', 'right'];

/** MouseEvent.button as the protocol names it; back, forward and others are not sent. */
export const pointerButton = (button: number): PointerButton | undefined => buttons[button];

/** WheelEvent.deltaMode: lines and pages are turned into pixels, the protocol's only unit. */
const PIXELS_PER_LINE = 16;
const MAX_WHEEL_DELTA = 32_767;

export function wheelPixels(event: { deltaX: number; deltaY: number; deltaMode: number }, pageHeight: number): { deltaX: number; deltaY: number } {
  const unit = event.deltaMode === 1 ? PIXELS_PER_LINE : event.deltaMode === 2 ? pageHeight : 1;
  return { deltaX: event.deltaX * unit, deltaY: event.deltaY * unit };
}

const wheelDelta = (pixels: number) => Math.max(-MAX_WHEEL_DELTA, Math.min(MAX_WHEEL_DELTA, Math.round(pixels)));

/**
 * Key combinations the technician's own browser or system takes before the page sees them, offered
 * as buttons. Shift+Tab is among them because, as in the terminal, it moves the focus out of the
 * picture instead of going to the person's computer.
 */
export const KEY_COMBINATIONS = {
  'Ctrl+Alt+Del': ['ControlLeft', 'AltLeft', 'Delete'],
  'Alt+Tab': ['AltLeft', 'Tab'],
  'Alt+F4': ['AltLeft', 'F4'],
  'Windows key': ['MetaLeft'],
  'Ctrl+Esc': ['ControlLeft', 'Escape'],
  'Shift+Tab': ['ShiftLeft', 'Tab'],
} as const satisfies Record<string, readonly string[]>;

export type KeyCombination = keyof typeof KEY_COMBINATIONS;

/** A combination as a person presses it: each key down in order, then up in reverse order. */
export function keySequence(codes: readonly string[]): KeyInput[] {
  return [...codes.map((code) => ({ action: 'down' as const, code, text: '' })), ...[...codes].reverse().map((code) => ({ action: 'up' as const, code, text: '' }))];
}

/**
 * Mouse moves and wheel turns arrive far more often than a picture changes: this keeps the latest
 * move and the wheel's sum and sends them once per animation frame. A button press or release goes
 * out at once, carrying its own position, and replaces a move still waiting (sent after it, the
 * move would come out of order).
 */
export class PointerCoalescer {
  #move: { x: number; y: number } | undefined;
  #wheel: { x: number; y: number; deltaX: number; deltaY: number } | undefined;
  #scheduled = false;

  constructor(
    private readonly send: (pointer: PointerInput) => void,
    private readonly nextFrame: (flush: () => void) => void,
  ) {}

  move(x: number, y: number): void {
    this.#move = { x, y };
    this.#schedule();
  }

  wheel(x: number, y: number, deltaX: number, deltaY: number): void {
    const before = this.#wheel;
    this.#wheel = { x, y, deltaX: (before?.deltaX ?? 0) + deltaX, deltaY: (before?.deltaY ?? 0) + deltaY };
    this.#schedule();
  }

  button(action: 'down' | 'up', x: number, y: number, button: PointerButton): void {
    this.#move = undefined;
    this.send({ action, x, y, button });
  }

  /** Forgets what waits: control ended, nothing may be sent. */
  clear(): void {
    this.#move = undefined;
    this.#wheel = undefined;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.nextFrame(() => {
      this.#scheduled = false;
      const move = this.#move;
      const wheel = this.#wheel;
      this.clear();
      if (move) this.send({ action: 'move', ...move });
      if (wheel && (wheelDelta(wheel.deltaX) !== 0 || wheelDelta(wheel.deltaY) !== 0)) {
        this.send({ action: 'wheel', x: wheel.x, y: wheel.y, deltaX: wheelDelta(wheel.deltaX), deltaY: wheelDelta(wheel.deltaY) });
      }
    });
  }
}
