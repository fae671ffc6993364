// What X11 tells about the screen without being asked, through the `x11` package (pure JavaScript,
// the X protocol over the display's socket): the pointer's image (XFixes: GetCursorImage, and a
// CursorNotify event whenever it changes) and that something was drawn (DAMAGE: a DamageNotify
// whenever the screen goes from unchanged to changed). Neither the capture package nor libnut gives
// these. Linux only; elsewhere, or when the connection or an extension is refused, there is no
// watch: the technician's viewer draws an arrow and the screen is looked at on a timer. Where the
// screen's pixels are 32-bit BGRX, the same connection also captures (GetImage), handing the
// encoder the X server's bytes as they come.

import { createRequire } from 'node:module';
import type { CursorImage, RawFrame, ScreenWatch } from './ports.js';

const require = createRequire(import.meta.url);

interface XClient {
  on(event: 'event', listener: (event: { name?: string; cursorSerial?: number }) => void): void;
  on(event: 'error' | 'end', listener: (error?: Error) => void): void;
  require(extension: 'fixes' | 'damage', callback: (error: Error | null, extension: never) => void): void;
  AllocID(): number;
  GetImage(format: number, drawable: number, x: number, y: number, width: number, height: number, planeMask: number, callback: (error: Error | null, image: { data: Buffer }) => void): void;
  terminate(): void;
}
/** What the connection set-up says about the display's pixels. */
interface XDisplayInfo {
  image_byte_order: number;
  format: Record<number, { bits_per_pixel: number } | undefined>;
  screen: Array<{ root: number; root_depth: number; root_visual: number; depths: Record<number, Record<number, { red_mask: number; green_mask: number; blue_mask: number } | undefined> | undefined> }>;
}
interface XFixes {
  CursorNotifyMask: { DisplayCursor: number };
  SelectCursorInput(window: number, mask: number): void;
  GetCursorImage(callback: (error: Error | null, image: { width: number; height: number; xhot: number; yhot: number; cursorSerial: number; cursorImage: Buffer }) => void): void;
}
interface XDamage {
  ReportLevel: { NonEmpty: number };
  Create(damage: number, drawable: number, level: number): void;
  Subtract(damage: number, repair: number, parts: number): void;
}
interface X11Package {
  createClient(options: { display: string }, callback: (error: Error | null, display: XDisplayInfo & { client: XClient }) => void): XClient;
}

/** Gives up on a display that does not answer the connection within this long. */
const CONNECT_TIMEOUT_MS = 3000;
const Z_PIXMAP = 2;
const LSB_FIRST = 0;

/** Whether the root window's pixels are 4 bytes each, blue, green, red, unused, in memory order. */
function isBgrx(display: XDisplayInfo): boolean {
  const screen = display.screen[0]!;
  const visual = screen.depths[screen.root_depth]?.[screen.root_visual];
  return (
    screen.root_depth === 24 &&
    display.format[24]?.bits_per_pixel === 32 &&
    display.image_byte_order === LSB_FIRST &&
    visual?.red_mask === 0xff0000 &&
    visual.green_mask === 0x00ff00 &&
    visual.blue_mask === 0x0000ff
  );
}

/** Opens a watch on `display` (default $DISPLAY), or resolves undefined where there can be none. */
export async function openX11Watch(display = process.env.DISPLAY, platform: NodeJS.Platform = process.platform): Promise<ScreenWatch | undefined> {
  if (platform !== 'linux' || !display) return undefined;
  let x11: X11Package;
  try {
    x11 = require('x11') as X11Package;
  } catch {
    return undefined;
  }
  const connected = await new Promise<{ client: XClient; root: number; bgrx: boolean } | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), CONNECT_TIMEOUT_MS);
    try {
      const client = x11.createClient({ display }, (error, opened) => {
        clearTimeout(timer);
        resolve(error ? undefined : { client: opened.client, root: opened.screen[0]!.root, bgrx: isBgrx(opened) });
      });
      // A connection that fails later (the display went away) must not crash the process.
      client.on('error', () => resolve(undefined));
    } catch {
      clearTimeout(timer);
      resolve(undefined);
    }
  });
  if (!connected) return undefined;
  const { client, root, bgrx } = connected;
  const extension = <T>(name: 'fixes' | 'damage') =>
    new Promise<T | undefined>((resolve) => client.require(name, (error, ext: never) => resolve(error ? undefined : (ext as T))));
  const [fixes, damage] = [await extension<XFixes>('fixes'), await extension<XDamage>('damage')];

  let cursor: CursorImage | undefined;
  let closed = false;
  const readCursor = () =>
    fixes?.GetCursorImage((error, image) => {
      if (error || closed) return;
      cursor = { serial: image.cursorSerial, width: image.width, height: image.height, hotX: image.xhot, hotY: image.yhot, premultipliedBgra: new Uint8Array(image.cursorImage) };
    });
  const changeListeners = new Set<() => void>();
  const damageId = damage ? client.AllocID() : 0;
  client.on('event', (event) => {
    if (event.name === 'CursorNotify') readCursor();
    else if (event.name === 'DamageNotify' && damage) {
      // Emptied, the damage reports the next change again (NonEmpty: one event per change from clean).
      damage.Subtract(damageId, 0, 0);
      for (const listener of changeListeners) listener();
    }
  });
  if (fixes) {
    fixes.SelectCursorInput(root, fixes.CursorNotifyMask.DisplayCursor);
    readCursor();
  }
  damage?.Create(damageId, root, damage.ReportLevel.NonEmpty);
  return {
    cursorImage: () => cursor,
    notifiesChanges: damage !== undefined,
    onChange(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
    ...(bgrx && {
      capture: ({ x, y, width, height }) =>
        new Promise<RawFrame>((resolve, reject) =>
          client.GetImage(Z_PIXMAP, root, x, y, width, height, 0xffffffff, (error, image) =>
            error ? reject(error) : resolve({ width, height, format: 'BGRX', pixels: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength) }),
          ),
        ),
    }),
    close() {
      if (closed) return;
      closed = true;
      changeListeners.clear();
      client.terminate();
    },
  };
}
