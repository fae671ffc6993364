import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captureXScreen,
  colourAt as pixelColour,
  readMarker,
  runNodeOnDisplay,
  startTargetProgram,
  startXDisplay,
  type ColourRegion,
  type PixelImage,
  type TargetProgram,
  type XDisplay,
  type XScreenCapture,
} from '../support/x-display.js';

// The X display harness itself: what the desktop sharing tests rely on. Capture and input run in
// child processes with the display's environment, as the agent will: the native modules open the
// display named by DISPLAY, which this test process does not have.

const WIDTH = 1280;
const HEIGHT = 800;
const BACKGROUND = '#ffffff';

/** Colours whose channels all differ, so a red/blue swap would show; two regions touch opposite corners of the screen. */
const REGIONS: ColourRegion[] = [
  { x: 0, y: 0, width: 160, height: 90, color: '#e6194b' },
  { x: 600, y: 350, width: 120, height: 100, color: '#3cb44b' },
  { x: 300, y: 600, width: 33, height: 17, color: '#ffe119' },
  { x: WIDTH - 160, y: HEIGHT - 90, width: 160, height: 90, color: '#4363d8' },
];

const colourAt = (image: PixelImage, x: number, y: number) => pixelColour(image.data, image.width, x, y, 'rgba');

/**
 * A capture of the display once `shows` holds for it (or the last one, after `timeoutMs`): what a
 * page painted reaches the X screen a little after its next frame, later on a busy machine.
 */
async function captureShowing(xDisplay: XDisplay, shows: (image: XScreenCapture) => boolean, timeoutMs = 5_000): Promise<XScreenCapture> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const image = await captureXScreen(xDisplay);
    if (shows(image) || Date.now() > deadline) return image;
  }
}

/** Runs libnut calls (`libnut.moveMouse(…)`, …) in a child process on the display. */
const inject = (xDisplay: XDisplay, calls: string) =>
  runNodeOnDisplay(xDisplay, `import libnut from '@nut-tree-fork/libnut-linux';\n${calls}\nconsole.log(JSON.stringify(libnut.getMousePos()));`);

/** Our own processes whose environment names `display`: Chromium and its helpers while they run. */
function processesOnDisplay(display: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`DISPLAY=${display}`)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours.
    }
  }
  return found;
}

describe('an Xvfb display with the target program', () => {
  let xDisplay: XDisplay | undefined;
  let target: TargetProgram | undefined;
  const display = () => xDisplay!;
  const program = () => target!;

  beforeAll(async () => {
    xDisplay = await startXDisplay({ width: WIDTH, height: HEIGHT });
    target = await startTargetProgram(xDisplay, { marker: { x: 400, y: 40, advanceOnPointerDown: true } });
  });

  afterAll(async () => {
    await target?.close();
    await xDisplay?.close();
  });

  it('is captured by node-screenshots with each drawn colour at its place, to the last pixel of the screen', async () => {
    await program().drawRegions(REGIONS);
    const last = REGIONS.at(-1)!;
    const image = await captureShowing(display(), (captured) => colourAt(captured, last.x, last.y) === last.color);

    expect(image.monitors).toEqual([{ x: 0, y: 0, width: WIDTH, height: HEIGHT }]);
    expect({ width: image.width, height: image.height }).toEqual({ width: WIDTH, height: HEIGHT });
    for (const { x, y, width, height, color } of REGIONS) {
      const right = x + width - 1;
      const bottom = y + height - 1;
      const inside = [[x, y], [right, y], [x, bottom], [right, bottom], [x + (width >> 1), y + (height >> 1)]];
      for (const [px, py] of inside) expect(colourAt(image, px!, py!), `(${px}, ${py}) inside ${color}`).toBe(color);
      const outside = [[x - 1, y], [right + 1, y], [x, y - 1], [x, bottom + 1]].filter(([px, py]) => px! >= 0 && py! >= 0 && px! < WIDTH && py! < HEIGHT);
      for (const [px, py] of outside) expect(colourAt(image, px!, py!), `(${px}, ${py}) next to ${color}`).toBe(BACKGROUND);
    }
  });

  it('shows the benchmark marker so that a capture reads its value back', async () => {
    const { marker } = program();
    expect(readMarker(await captureXScreen(display()), marker)).toBeNull();
    for (const value of [0b1011001110, 1, 2 ** marker.bits - 1]) {
      await program().setMarker(value);
      expect(readMarker(await captureShowing(display(), (image) => readMarker(image, marker) === value), marker)).toBe(value);
    }
  });

  it('puts text typed by libnut into the focused text input', async () => {
    // Before any click through X: a click would give the window X focus, which the harness must do itself.
    await program().forget();
    await program().focusTextInput();
    // Not '!' or other shifted symbols: libnut 2.7.5's typeString presses Shift for capital letters
    // only, so '!' arrives as '1'. The agent has to send such text another way.
    await inject(display(), `libnut.typeString('Hello, X display 42');`);
    await expect.poll(() => program().text()).toBe('Hello, X display 42');
    expect((await program().keys()).map(({ code }) => code)).toContain('KeyH');
  });

  it('records clicks and wheel turns injected by libnut at the X screen coordinates they were made', async () => {
    await program().forget();
    await program().setMarker(5);
    await inject(display(), `libnut.moveMouse(700, 400); libnut.mouseClick('left'); libnut.moveMouse(1279, 799); libnut.mouseClick('right');`);
    await expect
      .poll(() => program().clicks())
      .toEqual([
        { type: 'click', x: 700, y: 400, button: 0 },
        { type: 'auxclick', x: 1279, y: 799, button: 2 },
      ]);
    expect((await program().pointerEvents()).map(({ type, x, y }) => `${type} ${x},${y}`)).toEqual([
      'pointerdown 700,400',
      'pointerup 700,400',
      'click 700,400',
      'pointerdown 1279,799',
      'pointerup 1279,799',
      'auxclick 1279,799',
    ]);
    // Each pointerdown advanced the marker, for the benchmark's input latency.
    expect(readMarker(await captureShowing(display(), (image) => readMarker(image, program().marker) === 7), program().marker)).toBe(7);

    await program().forget();
    await inject(display(), `libnut.moveMouse(300, 200); libnut.scrollMouse(0, -3);`);
    await expect.poll(async () => (await program().pointerEvents()).filter(({ type }) => type === 'wheel').length).toBeGreaterThan(0);
    // libnut's negative y turns the wheel down (towards the user): the page sees positive deltaY.
    const wheels = (await program().pointerEvents()).filter(({ type }) => type === 'wheel');
    for (const { x, y, deltaX } of wheels) expect({ x, y, deltaX: deltaX === 0 ? 0 : deltaX }).toEqual({ x: 300, y: 200, deltaX: 0 });
    expect(wheels.reduce((sum, { deltaY = 0 }) => sum + deltaY, 0)).toBeGreaterThan(0);
  });

  it('focuses its text input when clicked there through X', async () => {
    await program().forget();
    await program().page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const { x, y, width, height } = program().textInput;
    await inject(display(), `libnut.moveMouse(${x + (width >> 1)}, ${y + (height >> 1)}); libnut.mouseClick('left'); libnut.typeString('clicked');`);
    await expect.poll(() => program().text()).toBe('clicked');
  });

  it('runs the typing and scrolling workloads from inside the page', async () => {
    await program().typeIntoEditor('typed by the page', { charactersPerSecond: 200 });
    expect(await program().page.locator('#editor').textContent()).toBe('typed by the page');
    await program().scrollLongPage({ durationMs: 200, pixelsPerSecond: 2000 });
    expect(await program().page.locator('#long-page').evaluate((page) => page.scrollTop)).toBeGreaterThan(0);
    await program().idle();
    expect(await program().page.locator('#long-page').isVisible()).toBe(false);
  });
});

describe('closing', () => {
  it('leaves no X server and no Chromium process behind', async () => {
    const xDisplay = await startXDisplay({ width: 640, height: 480 });
    const number = xDisplay.display.slice(1);
    const target = await startTargetProgram(xDisplay);
    expect(processesOnDisplay(xDisplay.display)).not.toEqual([]);

    await target.close();
    expect(processesOnDisplay(xDisplay.display)).toEqual([]);
    await xDisplay.close();
    expect(existsSync(`/tmp/.X11-unix/X${number}`)).toBe(false);
    expect(existsSync(`/tmp/.X${number}-lock`)).toBe(false);
  });

  it('says how to install Xvfb when it is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    const attempt = startXDisplay({ width: 640, height: 480 });
    process.env.PATH = path;
    await expect(attempt).rejects.toThrow('apt-get install xvfb');
  });
});
