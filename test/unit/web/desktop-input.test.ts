import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PointerInput } from '../../../sdk/assist-messages.js';
import { KEY_COMBINATIONS, keySequence, pointerButton, PointerCoalescer, videoPoint, wheelPixels } from '../../../web/src/desktop-input.js';

// The technician's mouse and keyboard on the person's desktop: canvas points to video pixels in
// every view, the combinations a browser keeps for itself, and one pointer message per frame.

const video = { width: 1920, height: 1080 };

describe('videoPoint', () => {
  it('fitted to the window: the picture is drawn smaller, each CSS pixel covers more video pixels', () => {
    // A 960 × 540 picture whose top left corner is at (100, 200) of the viewport.
    const fitted = { left: 100, top: 200, width: 960, height: 540 };
    expect(videoPoint(100, 200, fitted, video)).toEqual({ x: 0, y: 0 });
    expect(videoPoint(580, 470, fitted, video)).toEqual({ x: 960, y: 540 });
    expect(videoPoint(1059.9, 739.9, fitted, video)).toEqual({ x: 1919, y: 1079 });
  });

  it('at actual size: one CSS pixel is one video pixel', () => {
    const actual = { left: 8, top: 50, width: 1920, height: 1080 };
    expect(videoPoint(8 + 123, 50 + 456, actual, video)).toEqual({ x: 123, y: 456 });
  });

  it('at actual size, scrolled: the picture starts above and left of the viewport, by the scroll', () => {
    // The viewport shows the picture from (8, 50); scrolled by 700 across and 300 down.
    const scrolled = { left: 8 - 700, top: 50 - 300, width: 1920, height: 1080 };
    expect(videoPoint(8, 50, scrolled, video)).toEqual({ x: 700, y: 300 });
    expect(videoPoint(8 + 10, 50 + 20, scrolled, video)).toEqual({ x: 710, y: 320 });
  });

  it('puts points outside the picture on its nearest edge, and every point inside the video', () => {
    const fitted = { left: 100, top: 200, width: 960, height: 540 };
    expect(videoPoint(0, 0, fitted, video)).toEqual({ x: 0, y: 0 });
    expect(videoPoint(5000, 5000, fitted, video)).toEqual({ x: 1919, y: 1079 });
    const coordinate = fc.double({ min: -10_000, max: 10_000, noNaN: true });
    const side = fc.integer({ min: 1, max: 8192 });
    fc.assert(
      fc.property(coordinate, coordinate, side, side, fc.double({ min: 0.1, max: 4000, noNaN: true }), (x, y, width, height, scale) => {
        const point = videoPoint(x, y, { left: 0, top: 0, width: width * scale, height: height * scale }, { width, height });
        expect(Number.isInteger(point.x) && point.x >= 0 && point.x < width).toBe(true);
        expect(Number.isInteger(point.y) && point.y >= 0 && point.y < height).toBe(true);
      }),
    );
  });
});

describe('pointerButton and wheelPixels', () => {
  it('names the three buttons the protocol knows and ignores the others', () => {
    expect([0, 1, 2, 3, 4].map(pointerButton)).toEqual(['left', 'middle', 'right', undefined, undefined]);
  });

  it('turns lines and pages into pixels', () => {
    expect(wheelPixels({ deltaX: 3, deltaY: -120, deltaMode: 0 }, 600)).toEqual({ deltaX: 3, deltaY: -120 });
    expect(wheelPixels({ deltaX: 0, deltaY: 3, deltaMode: 1 }, 600)).toEqual({ deltaX: 0, deltaY: 48 });
    expect(wheelPixels({ deltaX: 0, deltaY: -1, deltaMode: 2 }, 600)).toEqual({ deltaX: 0, deltaY: -600 });
  });
});

describe('key combinations', () => {
  it('presses each key in order and releases them in reverse', () => {
    expect(keySequence(KEY_COMBINATIONS['Ctrl+Alt+Del'])).toEqual([
      { action: 'down', code: 'ControlLeft', text: '' },
      { action: 'down', code: 'AltLeft', text: '' },
      { action: 'down', code: 'Delete', text: '' },
      { action: 'up', code: 'Delete', text: '' },
      { action: 'up', code: 'AltLeft', text: '' },
      { action: 'up', code: 'ControlLeft', text: '' },
    ]);
    expect(keySequence(KEY_COMBINATIONS['Windows key'])).toEqual([
      { action: 'down', code: 'MetaLeft', text: '' },
      { action: 'up', code: 'MetaLeft', text: '' },
    ]);
  });

  it('offers what a browser swallows, plus Shift+Tab (which moves the focus out of the picture)', () => {
    expect(Object.keys(KEY_COMBINATIONS)).toEqual(['Ctrl+Alt+Del', 'Alt+Tab', 'Alt+F4', 'Windows key', 'Ctrl+Esc', 'Shift+Tab']);
    expect(KEY_COMBINATIONS['Alt+Tab']).toEqual(['AltLeft', 'Tab']);
    expect(KEY_COMBINATIONS['Alt+F4']).toEqual(['AltLeft', 'F4']);
    expect(KEY_COMBINATIONS['Ctrl+Esc']).toEqual(['ControlLeft', 'Escape']);
  });
});

describe('PointerCoalescer', () => {
  function coalescer() {
    const sent: PointerInput[] = [];
    const frames: (() => void)[] = [];
    const pointer = new PointerCoalescer(
      (input) => sent.push(input),
      (flush) => frames.push(flush),
    );
    const nextFrame = () => frames.splice(0).forEach((flush) => flush());
    return { pointer, sent, frames, nextFrame };
  }

  it('sends the latest move and the wheel’s sum once per animation frame', () => {
    const { pointer, sent, frames, nextFrame } = coalescer();
    pointer.move(1, 1);
    pointer.move(2, 2);
    pointer.wheel(2, 2, 0, 40);
    pointer.wheel(3, 3, 0, 60.4);
    expect(frames).toHaveLength(1);
    expect(sent).toEqual([]);
    nextFrame();
    expect(sent).toEqual([
      { action: 'move', x: 2, y: 2 },
      { action: 'wheel', x: 3, y: 3, deltaX: 0, deltaY: 100 },
    ]);
    nextFrame();
    expect(sent).toHaveLength(2);
  });

  it('sends a button at once, in place of a move still waiting', () => {
    const { pointer, sent, nextFrame } = coalescer();
    pointer.move(5, 5);
    pointer.button('down', 6, 6, 'left');
    expect(sent).toEqual([{ action: 'down', x: 6, y: 6, button: 'left' }]);
    nextFrame();
    expect(sent).toHaveLength(1);
  });

  it('forgets what waits when cleared, and never sends an empty wheel', () => {
    const { pointer, sent, nextFrame } = coalescer();
    pointer.move(5, 5);
    pointer.clear();
    pointer.wheel(1, 1, 0.2, -0.3);
    nextFrame();
    expect(sent).toEqual([]);
  });
});
