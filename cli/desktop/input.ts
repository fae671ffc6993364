// The technician's pointer and keys, injected on this machine. The SDK delivers only input that
// may be applied (control granted, not paused, a controllable share, inside the picture); this
// file maps it to desktop coordinates and libnut calls, and remembers what it holds down so that
// everything is released when control is taken back, on pause and at the end.
//
// Keys: text without Ctrl, Alt or Meta held is typed as text (the character the technician meant,
// whatever this keyboard's layout); anything else (Enter, arrows, Ctrl+C…) presses the physical
// key by its code. AltGr arrives as AltRight and counts as Alt: its characters come out right
// when both keyboards have the same layout.

import type { KeyInput, PointerInput } from '../../sdk/node.js';
import type { ScreenMapping } from './geometry.js';
import { libnutKey, SHIFT_CODES, SHORTCUT_MODIFIER_CODES, type Platform } from './keys.js';
import type { InputDevice, MouseButton } from './ports.js';

/**
 * Browser wheel pixels per native wheel unit: X11 scrolls in notches (a notch is about 100 pixels
 * in browsers), macOS in pixels, Windows in 1/120 notch. libnut scrolls up for positive values,
 * the browser's deltaY is positive down, hence the sign.
 */
const WHEEL_PIXELS_PER_UNIT: Record<Platform, number> = { linux: 100, darwin: 1, win32: 100 / 120 };

export class InputInjector {
  readonly #device: InputDevice;
  readonly #platform: Platform;
  readonly #mapping: () => ScreenMapping | undefined;
  /** KeyboardEvent.code → the libnut key pressed for it. */
  readonly #heldKeys = new Map<string, string>();
  readonly #heldButtons = new Set<MouseButton>();
  /** Wheel pixels not yet a whole native unit. */
  #wheelRest = { x: 0, y: 0 };

  constructor(device: InputDevice, platform: Platform, mapping: () => ScreenMapping | undefined) {
    this.#device = device;
    this.#platform = platform;
    this.#mapping = mapping;
  }

  pointer(pointer: PointerInput): void {
    const mapping = this.#mapping();
    if (!mapping) return;
    const at = mapping.toDesktop(pointer.x, pointer.y);
    this.#device.moveMouse(at.x, at.y);
    switch (pointer.action) {
      case 'move':
        return;
      case 'down':
        this.#heldButtons.add(pointer.button);
        return this.#device.mouseButton(pointer.button, 'down');
      case 'up':
        // An up without its down (pressed before control was granted) is still a release: harmless.
        this.#heldButtons.delete(pointer.button);
        return this.#device.mouseButton(pointer.button, 'up');
      case 'wheel':
        return this.#wheel(pointer.deltaX, pointer.deltaY);
    }
  }

  key({ action, code, text }: KeyInput): void {
    if (action === 'up') {
      const key = this.#heldKeys.get(code);
      if (key === undefined) return; // typed as text on its way down, or never pressed here
      this.#heldKeys.delete(code);
      return this.#device.key(key, 'up');
    }
    const shortcut = [...this.#heldKeys.keys()].some((held) => SHORTCUT_MODIFIER_CODES.has(held));
    if (text !== '' && !shortcut) return this.#type(text);
    const key = libnutKey(code, this.#platform);
    if (key === undefined || this.#heldKeys.has(code)) return; // unknown, or auto-repeat of a held key
    this.#heldKeys.set(code, key);
    this.#device.key(key, 'down');
  }

  /** Lets go of every key and button this side holds down. */
  releaseAll(): void {
    for (const key of this.#heldKeys.values()) this.#device.key(key, 'up');
    this.#heldKeys.clear();
    for (const button of this.#heldButtons) this.#device.mouseButton(button, 'up');
    this.#heldButtons.clear();
    this.#wheelRest = { x: 0, y: 0 };
  }

  /** The text already says whether Shift was on: a held Shift is let go while typing it, or "a" would come out "A". */
  #type(text: string): void {
    const shifts = [...this.#heldKeys].filter(([code]) => SHIFT_CODES.has(code)).map(([, key]) => key);
    for (const key of shifts) this.#device.key(key, 'up');
    this.#device.typeText(text);
    for (const key of shifts) this.#device.key(key, 'down');
  }

  #wheel(deltaX: number, deltaY: number): void {
    const pixelsPerUnit = WHEEL_PIXELS_PER_UNIT[this.#platform];
    const x = this.#wheelRest.x - deltaX / pixelsPerUnit;
    const y = this.#wheelRest.y - deltaY / pixelsPerUnit;
    const units = { x: Math.trunc(x), y: Math.trunc(y) };
    this.#wheelRest = { x: x - units.x, y: y - units.y };
    if (units.x !== 0 || units.y !== 0) this.#device.scroll(units.x, units.y);
  }
}
