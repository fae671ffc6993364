// The person's pointer position for the technician, polled (about 20 times a second while the share
// runs) and sent only when it changed. Position only: neither X11 through libnut nor the capture
// package gives the cursor's shape, so the technician's viewer draws an arrow at this point.

import type { CursorState } from '../../sdk/node.js';
import type { ScreenMapping } from './geometry.js';
import type { DesktopSession, InputDevice } from './ports.js';

export const CURSOR_POLL_MS = 50;

export class CursorTracker {
  #last: CursorState | undefined;

  constructor(
    private readonly session: Pick<DesktopSession, 'readyForVideo' | 'sendCursor'>,
    private readonly device: Pick<InputDevice, 'mousePosition'>,
    private readonly mapping: () => ScreenMapping | undefined,
  ) {}

  /** Reads the pointer; sends it if it moved, appeared or left the shared monitor. */
  async poll(): Promise<void> {
    const mapping = this.mapping();
    if (!mapping || !this.session.readyForVideo) {
      // After a pause or a new configuration the technician's side gets the position afresh.
      this.#last = undefined;
      return;
    }
    const { x, y } = this.device.mousePosition();
    const inVideo = mapping.toVideo(x, y);
    const cursor: CursorState = inVideo ? { ...inVideo, visible: true } : { x: this.#last?.x ?? 0, y: this.#last?.y ?? 0, visible: false };
    const last = this.#last;
    if (last && last.x === cursor.x && last.y === cursor.y && last.visible === cursor.visible) return;
    if (await this.session.sendCursor(cursor)) this.#last = cursor;
  }

  /** The next poll sends the position even if it did not change (the video was reconfigured). */
  forget(): void {
    this.#last = undefined;
  }
}
