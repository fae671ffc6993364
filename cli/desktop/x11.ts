// What X11 tells about the screen without being asked, through the `x11` package (pure JavaScript,
// the X protocol over the display's socket): the pointer's image (XFixes: GetCursorImage, and a
// CursorNotify event whenever it changes) and that something was drawn (DAMAGE: a DamageNotify
// whenever the screen goes from unchanged to changed). Neither the capture package nor libnut gives
// these. Linux only; elsewhere, or when the connection or an extension is refused, there is no
// watch: the technician's viewer draws an arrow and the screen is looked at on a timer. Where the
// screen's pixels are 32-bit BGRX, the same connection also captures, handing the encoder the X
// server's bytes as they are: through shared memory where the server offers it (MIT-SHM 1.2: the
// server writes the picture into a file on /dev/shm, read back off the JavaScript thread), else in
// a GetImage reply over the socket. A 1920×1080 picture through the socket costs this process 6–11 ms
// of CPU, nearly all on the JavaScript thread (8 MB parsed out of 128 socket reads), and the X server
// 8–9 ms; through shared memory 2–3 ms (none of it on that thread) and 3–4 ms.

import { randomUUID } from 'node:crypto';
import { closeSync, openSync, read, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CursorImage, RawFrame, ScreenWatch } from './ports.js';

const require = createRequire(import.meta.url);

interface XClient {
  on(event: 'event', listener: (event: { name?: string; cursorSerial?: number }) => void): void;
  on(event: 'error' | 'end', listener: (error?: Error) => void): void;
  require(extension: 'fixes' | 'damage' | 'shm', callback: (error: Error | null, extension: never) => void): void;
  AllocID(): number;
  QueryPointer(window: number, callback: (error: Error | null, pointer: { rootX: number; rootY: number }) => void): void;
  GetImage(format: number, drawable: number, x: number, y: number, width: number, height: number, planeMask: number, callback: (error: Error | null, image: { data: Buffer }) => void): void;
  terminate(): void;
}
/** What the connection set-up says about the display's pixels. */
interface XDisplayInfo {
  image_byte_order: number;
  format: Record<number, { bits_per_pixel: number } | undefined>;
  screen: Array<{ root: number; pixel_width: number; pixel_height: number; root_depth: number; root_visual: number; depths: Record<number, Record<number, { red_mask: number; green_mask: number; blue_mask: number } | undefined> | undefined> }>;
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
interface XShm {
  major: number;
  minor: number;
  /** Whether the connection can pass the segment's file descriptor (a local socket). */
  fdCapable: boolean;
  AttachFd(segment: number, fd: number, readOnly: boolean, callback: (error: Error | null) => void): void;
  GetImage(drawable: number, x: number, y: number, width: number, height: number, planeMask: number, format: number, segment: number, offset: number, callback: (error: Error | null, reply: { size: number }) => void): void;
}
interface X11Package {
  createClient(options: { display: string }, callback: (error: Error | null, display: XDisplayInfo & { client: XClient }) => void): XClient;
}

/** Gives up on a display that does not answer the connection within this long. */
const CONNECT_TIMEOUT_MS = 3000;
const Z_PIXMAP = 2;
const LSB_FIRST = 0;
const ALL_PLANES = 0xffffffff;
/** Where Linux keeps shared memory (a tmpfs): the segment is a file there, unlinked at once. */
const SHARED_MEMORY_DIR = '/dev/shm';
/** Released picture buffers kept for reuse: the sender holds two at a time (the last picture and the next). */
const MAX_SPARE_BUFFERS = 2;

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

export interface X11WatchOptions {
  /** Whether captures may come through shared memory where the server offers it (default yes; a test compares both ways). */
  sharedMemory?: boolean;
}

/** Opens a watch on `display` (default $DISPLAY), or resolves undefined where there can be none. */
export async function openX11Watch(display = process.env.DISPLAY, platform: NodeJS.Platform = process.platform, { sharedMemory = true }: X11WatchOptions = {}): Promise<ScreenWatch | undefined> {
  if (platform !== 'linux' || !display) return undefined;
  let x11: X11Package;
  try {
    x11 = require('x11') as X11Package;
  } catch {
    return undefined;
  }
  const connected = await new Promise<{ client: XClient; root: number; rootBytes: number; bgrx: boolean } | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), CONNECT_TIMEOUT_MS);
    try {
      const client = x11.createClient({ display }, (error, opened) => {
        clearTimeout(timer);
        const screen = opened?.screen[0];
        resolve(error || !screen ? undefined : { client: opened.client, root: screen.root, rootBytes: screen.pixel_width * screen.pixel_height * 4, bgrx: isBgrx(opened) });
      });
      // A connection that fails later (the display went away) must not crash the process.
      client.on('error', () => resolve(undefined));
    } catch {
      clearTimeout(timer);
      resolve(undefined);
    }
  });
  if (!connected) return undefined;
  const { client, root, rootBytes, bgrx } = connected;
  const extension = <T>(name: 'fixes' | 'damage' | 'shm') =>
    new Promise<T | undefined>((resolve) => client.require(name, (error, ext: never) => resolve(error ? undefined : (ext as T))));
  const [fixes, damage] = [await extension<XFixes>('fixes'), await extension<XDamage>('damage')];

  let cursor: CursorImage | undefined;
  let closed = false;
  let captures: Promise<unknown> = Promise.resolve();
  /** The shared-memory segment pictures come through, attached at the first capture (undefined where there is none). */
  let shared: Promise<SharedImage | undefined> | undefined;
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
    pointerPosition: () => new Promise((resolve, reject) => client.QueryPointer(root, (error, pointer) => (error ? reject(error) : resolve({ x: pointer.rootX, y: pointer.rootY })))),
    onChange(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
    ...(bgrx && {
      capture(area) {
        // One at a time: each capture reuses the shared segment.
        const run = captures.then(async () => {
          shared ??= sharedMemory ? attachSharedImage(client, await extension<XShm>('shm'), rootBytes) : Promise.resolve(undefined);
          const segment = await shared;
          const bytes = area.width * area.height * 4;
          const image = segment && bytes <= segment.size ? await segment.getImage(root, area, bytes) : { pixels: await socketImage(client, root, area) };
          return { width: area.width, height: area.height, format: 'BGRX', ...image } satisfies RawFrame;
        });
        captures = run.catch(() => {});
        return run;
      },
    }),
    close() {
      if (closed) return;
      closed = true;
      changeListeners.clear();
      client.terminate();
      // After the capture under way, which may still read the segment.
      void captures.then(async () => (await shared)?.close());
    },
  };
}

/** A picture in a GetImage reply over the socket: the reply's bytes, without a copy. */
function socketImage(client: XClient, root: number, { x, y, width, height }: Area): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    client.GetImage(Z_PIXMAP, root, x, y, width, height, ALL_PLANES, (error, image) =>
      error ? reject(error) : resolve(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength)),
    ),
  );
}

type Area = Parameters<NonNullable<ScreenWatch['capture']>>[0];

interface SharedImage {
  /** Bytes the segment holds: a larger picture goes over the socket. */
  size: number;
  /** The server writes the picture into the segment; it is read back on a libuv thread into a buffer of its own until released. */
  getImage(root: number, area: Area, bytes: number): Promise<{ pixels: Uint8Array; release(): void }>;
  close(): void;
}

/**
 * A shared-memory segment of `size` bytes the X server writes pictures into: an unlinked file on
 * /dev/shm whose descriptor the server gets (MIT-SHM 1.2 AttachFd). Undefined where the server or
 * the connection cannot: a remote display, an older server, no /dev/shm.
 */
async function attachSharedImage(client: XClient, shm: XShm | undefined, size: number): Promise<SharedImage | undefined> {
  if (!shm?.fdCapable || shm.major < 1 || (shm.major === 1 && shm.minor < 2)) return undefined;
  const path = join(SHARED_MEMORY_DIR, `assist-capture-${randomUUID()}`);
  let fd: number;
  try {
    fd = openSync(path, 'wx+', 0o600);
  } catch {
    return undefined;
  }
  try {
    unlinkSync(path);
    // Written whole now, not merely sized: the server writes through a mapping, and a page a full
    // /dev/shm cannot back would crash the X server (SIGBUS) rather than fail here.
    if (writeSync(fd, Buffer.alloc(size), 0, size, 0) !== size) throw new Error('short write');
  } catch {
    closeSync(fd);
    return undefined;
  }
  const segment = client.AllocID();
  const attached = await new Promise<boolean>((resolve) => shm.AttachFd(segment, fd, false, (error) => resolve(!error)));
  if (!attached) {
    closeSync(fd);
    return undefined;
  }
  // Buffers the sender released, reused: a new 8 MB buffer a frame had the garbage collector take
  // 3–5 ms of CPU a frame.
  const spare: Buffer[] = [];
  const take = (bytes: number) => {
    const index = spare.findIndex((buffer) => buffer.length === bytes);
    return index >= 0 ? spare.splice(index, 1)[0]! : Buffer.allocUnsafeSlow(bytes);
  };
  return {
    size,
    getImage: (root, { x, y, width, height }, bytes) =>
      new Promise((resolve, reject) =>
        shm.GetImage(root, x, y, width, height, ALL_PLANES, Z_PIXMAP, segment, 0, (error) => {
          if (error) return reject(error);
          const pixels = take(bytes);
          let released = false;
          const release = () => {
            if (released) return;
            released = true;
            if (spare.length < MAX_SPARE_BUFFERS) spare.push(pixels);
          };
          read(fd, pixels, 0, bytes, 0, (readError, got) => {
            if (!readError && got === bytes) return resolve({ pixels, release });
            release();
            reject(readError ?? new Error(`read ${got} of the picture's ${bytes} bytes from shared memory`));
          });
        }),
      ),
    close: () => closeSync(fd),
  };
}
