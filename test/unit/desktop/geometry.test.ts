// Sizes, coordinates, codecs, monitors and the throughput figure: the small rules the share is made of.
import { describe, expect, it } from 'vitest';
import { codecCandidates } from '../../../cli/desktop/codecs.js';
import { fitWithin, ScreenMapping, smallerBox } from '../../../cli/desktop/geometry.js';
import { chooseMonitor, describeMonitors } from '../../../cli/desktop/monitors.js';
import { checkDisplay } from '../../../cli/desktop/native.js';
import { monitor } from './fakes.js';

describe('encoded size', () => {
  it('fits the monitor in the box, keeps its shape, never enlarges it, and keeps sides even', () => {
    expect(fitWithin({ width: 1920, height: 1080 }, { width: 1280, height: 720 })).toEqual({ width: 1280, height: 720 });
    expect(fitWithin({ width: 1920, height: 1200 }, { width: 1280, height: 720 })).toEqual({ width: 1152, height: 720 });
    expect(fitWithin({ width: 1024, height: 768 }, { width: 1280, height: 720 })).toEqual({ width: 960, height: 720 });
    expect(fitWithin({ width: 801, height: 601 }, { width: 1920, height: 1080 })).toEqual({ width: 800, height: 600 });
  });

  it('steps down by a quarter, not below 640 wide', () => {
    expect(smallerBox({ width: 1280, height: 720 })).toEqual({ width: 960, height: 540 });
    expect(smallerBox({ width: 800, height: 450 })).toEqual({ width: 640, height: 360 });
    expect(smallerBox({ width: 640, height: 360 })).toBeUndefined();
  });
});

describe('coordinates', () => {
  const mapping = new ScreenMapping({ x: -1280, y: 200, width: 1280, height: 1024 }, { width: 640, height: 512 });

  it('maps the video to a monitor left of and below the primary one, and back', () => {
    expect(mapping.toDesktop(0, 0)).toEqual({ x: -1280, y: 200 });
    expect(mapping.toDesktop(639, 511)).toEqual({ x: -2, y: 1222 });
    expect(mapping.toVideo(-2, 1222)).toEqual({ x: 639, y: 511 });
    expect(mapping.toVideo(-1280, 200)).toEqual({ x: 0, y: 0 });
  });

  it('a point on another monitor is outside the video', () => {
    expect(mapping.toVideo(0, 300)).toBeUndefined();
    expect(mapping.toVideo(-100, 199)).toBeUndefined();
  });
});

describe('codec choice', () => {
  it("follows the expert's order among what this side encodes, with VP8 last", () => {
    expect(codecCandidates(undefined)).toEqual(['vp8']);
    expect(codecCandidates(['avc1.640028', 'vp8'])).toEqual(['avc1.640028', 'vp8']);
    expect(codecCandidates(['vp8', 'avc1.640028'])).toEqual(['vp8', 'avc1.640028']);
    expect(codecCandidates(['vp09.00.10.08', 'av01.0.04M.08'])).toEqual(['vp8']);
  });

  it('--codec vp8 keeps to VP8 whatever the expert decodes; --codec h264 is the default', () => {
    expect(codecCandidates(['avc1.640028', 'vp8'], 'vp8')).toEqual(['vp8']);
    expect(codecCandidates(undefined, 'vp8')).toEqual(['vp8']);
    expect(codecCandidates(['avc1.640028', 'vp8'], 'h264')).toEqual(['avc1.640028', 'vp8']);
    expect(codecCandidates(['vp8'], 'h264')).toEqual(['vp8']);
  });
});

describe('monitors', () => {
  const monitors = [monitor({ number: 1, name: 'DP-1', primary: false }), monitor({ number: 2, id: 61, name: 'HDMI-1', x: 1920, primary: true, scaleFactor: 2 })];

  it('--monitor N picks N; without it the primary one, or the first when none is primary', () => {
    expect(chooseMonitor(monitors, 1).name).toBe('DP-1');
    expect(chooseMonitor(monitors, undefined).name).toBe('HDMI-1');
    expect(chooseMonitor([monitors[0]!], undefined).name).toBe('DP-1');
  });

  it('refuses a monitor that is not there, saying which are', () => {
    expect(() => chooseMonitor(monitors, 3)).toThrow('there is no monitor 3: this machine has monitors 1 to 2 (see `assist monitors`)');
    expect(() => chooseMonitor([], undefined)).toThrow('no monitor was found to share');
  });

  it('lists them for people', () => {
    expect(describeMonitors(monitors).split('\n')).toEqual([
      'Monitors (share one with --desktop --monitor N):',
      '  1  DP-1         1920×1080  at 0,0',
      '  2  HDMI-1       1920×1080  at 1920,0  scale 2  (primary)',
    ]);
  });
});

describe('the display check', () => {
  it('refuses Wayland with the reason, and a missing X display, before anything is opened', () => {
    expect(() => checkDisplay({ XDG_SESSION_TYPE: 'wayland', DISPLAY: ':0' }, 'linux')).toThrow(/this is a Wayland session: desktop sharing needs X11/);
    expect(() => checkDisplay({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toThrow(/Wayland/);
    expect(() => checkDisplay({}, 'linux')).toThrow(/no X display here \(\$DISPLAY is not set/);
    expect(checkDisplay({ DISPLAY: ':0', XDG_SESSION_TYPE: 'x11' }, 'linux')).toBe('linux');
    expect(checkDisplay({}, 'darwin')).toBe('darwin');
    expect(() => checkDisplay({}, 'freebsd')).toThrow(/not on freebsd/);
  });
});
