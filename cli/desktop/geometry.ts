// Sizes and coordinates. The video is the monitor's picture scaled to the encoded size; the
// technician's pointer and the person's cursor travel in video coordinates, and the input package
// works in desktop coordinates (the monitor's x, y, width and height as the capture package reports
// them, which already account for a Retina display's scale factor).

import type { MonitorInfo } from './ports.js';

export interface Size {
  width: number;
  height: number;
}

/** Smallest encoded width the step-down goes to: text stays readable when zoomed. */
export const MIN_ENCODED_WIDTH = 640;

/**
 * The size to encode a `source` picture at: the largest that fits in `box` with the same aspect
 * ratio, never larger than the source, with even sides (H.264's 4:2:0 needs them).
 */
export function fitWithin(source: Size, box: Size): Size {
  const scale = Math.min(1, box.width / source.width, box.height / source.height);
  return { width: evenAtLeast2(source.width * scale), height: evenAtLeast2(source.height * scale) };
}

function evenAtLeast2(value: number): number {
  return Math.max(2, Math.floor(value / 2) * 2);
}

/** The box three quarters the size of `box`, not narrower than MIN_ENCODED_WIDTH; undefined when already there. */
export function smallerBox(box: Size): Size | undefined {
  if (box.width <= MIN_ENCODED_WIDTH) return undefined;
  const width = Math.max(MIN_ENCODED_WIDTH, Math.round(box.width * 0.75));
  return { width, height: Math.round((box.height * width) / box.width) };
}

/** The step back up from smallerBox: a third larger, at most `limit` (the codec's box); undefined when already there. */
export function largerBox(box: Size, limit: Size): Size | undefined {
  if (box.width >= limit.width) return undefined;
  const width = Math.round(box.width / 0.75);
  if (width >= limit.width) return limit;
  return { width, height: Math.round((box.height * width) / box.width) };
}

/** Maps between video coordinates and desktop coordinates for one monitor and one encoded size. */
export class ScreenMapping {
  constructor(
    readonly monitor: Pick<MonitorInfo, 'x' | 'y' | 'width' | 'height'>,
    readonly video: Size,
  ) {}

  /** A video pixel's place on the desktop (its top-left corner, so 0,0 is the monitor's corner). */
  toDesktop(x: number, y: number): { x: number; y: number } {
    const { monitor, video } = this;
    return {
      x: monitor.x + Math.min(monitor.width - 1, Math.floor((x * monitor.width) / video.width)),
      y: monitor.y + Math.min(monitor.height - 1, Math.floor((y * monitor.height) / video.height)),
    };
  }

  /** A desktop point in video coordinates; undefined when it lies on another monitor. */
  toVideo(x: number, y: number): { x: number; y: number } | undefined {
    const { monitor, video } = this;
    const dx = x - monitor.x;
    const dy = y - monitor.y;
    if (dx < 0 || dy < 0 || dx >= monitor.width || dy >= monitor.height) return undefined;
    return {
      x: Math.min(video.width - 1, Math.floor((dx * video.width) / monitor.width)),
      y: Math.min(video.height - 1, Math.floor((dy * video.height) / monitor.height)),
    };
  }
}
