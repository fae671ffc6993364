import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openX11Watch } from '../../cli/desktop/x11.js';
import type { RawFrame, ScreenWatch } from '../../cli/desktop/ports.js';
import { colourAt as pixelColour, runNodeOnDisplay, startTargetProgram, startXDisplay, type ColourRegion, type TargetProgram, type XDisplay } from '../support/x-display.js';

// The person's side captures straight from the X server (cli/desktop/x11.ts): through a shared-memory
// segment where the server offers MIT-SHM (Xvfb does), else in GetImage replies over the socket.
// Both must give the X server's BGRX pixels with each colour at its place.

const WIDTH = 640;
const HEIGHT = 480;
const REGIONS: ColourRegion[] = [
  { x: 0, y: 0, width: 50, height: 40, color: '#e6194b' },
  { x: 300, y: 200, width: 41, height: 23, color: '#3cb44b' },
  { x: WIDTH - 60, y: HEIGHT - 30, width: 60, height: 30, color: '#4363d8' },
];

/** The colour at (x, y) of the X server's BGRX picture, as #rrggbb. */
const colourAt = (frame: RawFrame, x: number, y: number) => pixelColour(frame.pixels, frame.width, x, y, 'bgrx');

/** This process's open files on /dev/shm (deleted: the segment is unlinked once opened). */
const sharedMemoryFiles = () =>
  readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith('/dev/shm/assist-capture-') ? [target] : [];
    } catch {
      return [];
    }
  });

describe('capturing the X screen and asking where the pointer is through the x11 connection', () => {
  let xDisplay: XDisplay | undefined;
  let target: TargetProgram | undefined;
  const watches: ScreenWatch[] = [];

  beforeAll(async () => {
    xDisplay = await startXDisplay({ width: WIDTH, height: HEIGHT });
    target = await startTargetProgram(xDisplay);
    await target.drawRegions(REGIONS);
  });

  afterAll(async () => {
    for (const watch of watches) watch.close();
    await target?.close();
    await xDisplay?.close();
  });

  async function openWatch(sharedMemory: boolean): Promise<ScreenWatch> {
    const watch = await openX11Watch(xDisplay!.display, 'linux', { sharedMemory });
    expect(watch?.capture, 'a 24-bit Xvfb screen is captured as BGRX').toBeDefined();
    watches.push(watch!);
    return watch!;
  }

  /** The whole screen once the last region shows (a page's paint reaches the X screen a little later). */
  async function captureShowingRegions(watch: ScreenWatch): Promise<RawFrame> {
    const last = REGIONS.at(-1)!;
    const deadline = Date.now() + 5_000;
    for (;;) {
      const frame = await watch.capture!({ x: 0, y: 0, width: WIDTH, height: HEIGHT });
      if (colourAt(frame, last.x, last.y) === last.color || Date.now() > deadline) return frame;
    }
  }

  it('gives the same BGRX pixels through shared memory as over the socket, each colour at its place', async () => {
    const before = sharedMemoryFiles().length;
    const overSocket = await captureShowingRegions(await openWatch(false));
    expect(sharedMemoryFiles().length).toBe(before);
    const throughSharedMemory = await captureShowingRegions(await openWatch(true));
    expect(sharedMemoryFiles().length, 'one segment for the shared-memory watch').toBe(before + 1);

    for (const frame of [overSocket, throughSharedMemory]) {
      expect({ width: frame.width, height: frame.height, format: frame.format, bytes: frame.pixels.length }).toEqual({ width: WIDTH, height: HEIGHT, format: 'BGRX', bytes: WIDTH * HEIGHT * 4 });
      for (const { x, y, width, height, color } of REGIONS) {
        expect(colourAt(frame, x, y)).toBe(color);
        expect(colourAt(frame, x + width - 1, y + height - 1)).toBe(color);
      }
    }
    expect(Buffer.compare(throughSharedMemory.pixels, overSocket.pixels)).toBe(0);
  });

  it('gives each picture its own buffer until released, then reuses it; and a part of the screen on its own', async () => {
    const watch = await openWatch(true);
    await captureShowingRegions(watch);
    const [green] = REGIONS.slice(1);
    const area = { x: green!.x - 1, y: green!.y - 1, width: green!.width + 2, height: green!.height + 2 };
    const first = await watch.capture!(area);
    const second = await watch.capture!(area);
    expect(second.pixels).not.toBe(first.pixels);
    expect(second.pixels.buffer).not.toBe(first.pixels.buffer);
    expect(first.pixels.length).toBe(area.width * area.height * 4);
    expect(colourAt(first, 1, 1)).toBe(green!.color);
    expect(colourAt(first, area.width - 2, area.height - 2)).toBe(green!.color);
    expect(colourAt(first, 0, 0)).toBe('#ffffff');
    expect(Buffer.compare(first.pixels, second.pixels)).toBe(0);
    // Released, the first picture's buffer takes the next one; the second's, still held, does not.
    first.release!();
    const third = await watch.capture!(area);
    expect(third.pixels.buffer).toBe(first.pixels.buffer);
    expect(third.pixels.buffer).not.toBe(second.pixels.buffer);
    expect(colourAt(third, 1, 1)).toBe(green!.color);
  });

  it('tells where the pointer is, as another program put it', async () => {
    const watch = await openWatch(true);
    await runNodeOnDisplay(xDisplay!, `import libnut from '@nut-tree-fork/libnut-linux';\nlibnut.moveMouse(123, 45);\nconsole.log('{}');`);
    expect(await watch.pointerPosition!()).toEqual({ x: 123, y: 45 });
  });

  it('lets go of its shared-memory segment when closed', async () => {
    const watch = await openWatch(true);
    await watch.capture!({ x: 0, y: 0, width: 8, height: 8 });
    const open = sharedMemoryFiles().length;
    watch.close();
    await expect.poll(() => sharedMemoryFiles().length).toBe(open - 1);
  });
});
