// The technician's input on this machine: pointer coordinates from the video to the shared
// monitor, text typed as text, other keys by their code, and everything held let go.
import { describe, expect, it } from 'vitest';
import { ScreenMapping } from '../../../cli/desktop/geometry.js';
import { InputInjector } from '../../../cli/desktop/input.js';
import { libnutKey, type Platform } from '../../../cli/desktop/keys.js';
import { FakeInput } from './fakes.js';

/** The second monitor, right of a 1920-wide first one, 2560×1440, encoded at 1280×720. */
const secondMonitor = new ScreenMapping({ x: 1920, y: 0, width: 2560, height: 1440 }, { width: 1280, height: 720 });

function injector(platform: Platform = 'linux') {
  const device = new FakeInput();
  return { device, input: new InputInjector(device, platform, () => secondMonitor) };
}

const key = (action: 'down' | 'up', code: string, text = '') => ({ action, code, text });

describe('pointer input', () => {
  it('lands on the shared monitor: scaled from the video and offset by the monitor position', () => {
    const { device, input } = injector();
    input.pointer({ action: 'move', x: 0, y: 0 });
    input.pointer({ action: 'move', x: 640, y: 360 });
    input.pointer({ action: 'down', x: 1279, y: 719, button: 'left' });
    input.pointer({ action: 'up', x: 1279, y: 719, button: 'left' });
    expect(device.calls).toEqual(['move 1920,0', 'move 3200,720', 'move 4478,1438', 'left down', 'move 4478,1438', 'left up']);
  });

  it('scrolls in whole X11 notches, keeping the rest, and the other way round from the browser', () => {
    const { device, input } = injector();
    input.pointer({ action: 'wheel', x: 10, y: 10, deltaX: 0, deltaY: 250 });
    input.pointer({ action: 'wheel', x: 10, y: 10, deltaX: 0, deltaY: 50 });
    input.pointer({ action: 'wheel', x: 10, y: 10, deltaX: -100, deltaY: 0 });
    expect(device.calls.filter((call) => call.startsWith('scroll'))).toEqual(['scroll 0,-2', 'scroll 0,-1', 'scroll 1,0']);
  });

  it('scrolls in pixels on macOS', () => {
    const { device, input } = injector('darwin');
    input.pointer({ action: 'wheel', x: 10, y: 10, deltaX: 0, deltaY: 3 });
    expect(device.calls.at(-1)).toBe('scroll 0,-3');
  });
});

describe('key input', () => {
  it('types text as text (layout-independent), and does not press it again on the way up', () => {
    const { device, input } = injector();
    input.key(key('down', 'KeyQ', 'a')); // an AZERTY technician's "a"
    input.key(key('up', 'KeyQ', 'a'));
    input.key(key('down', 'Digit2', 'é'));
    input.key(key('up', 'Digit2', 'é'));
    expect(device.calls).toEqual(['type a', 'type é']);
  });

  it('presses keys without text by their code', () => {
    const { device, input } = injector();
    for (const code of ['Enter', 'Backspace', 'ArrowLeft', 'F5', 'PageDown', 'Escape']) {
      input.key(key('down', code));
      input.key(key('up', code));
    }
    expect(device.calls).toEqual([
      'key \n down', 'key \n up', // Return on X11 (libnut's "enter" is the keypad's)
      'key backspace down', 'key backspace up',
      'key left down', 'key left up',
      'key f5 down', 'key f5 up',
      'key pagedown down', 'key pagedown up',
      'key escape down', 'key escape up',
    ]);
  });

  it('with Ctrl, Alt or Meta held, a letter is a shortcut: pressed by its code, not typed', () => {
    const { device, input } = injector();
    input.key(key('down', 'ControlLeft'));
    input.key(key('down', 'KeyC', 'c'));
    input.key(key('up', 'KeyC', 'c'));
    input.key(key('up', 'ControlLeft'));
    expect(device.calls).toEqual(['key control down', 'key c down', 'key c up', 'key control up']);
  });

  it('Shift is let go while its text is typed (the text already has the capital), and pressed again after', () => {
    const { device, input } = injector();
    input.key(key('down', 'ShiftLeft'));
    input.key(key('down', 'KeyA', 'A'));
    input.key(key('up', 'KeyA', 'A'));
    input.key(key('down', 'ArrowRight')); // Shift+Arrow still selects
    expect(device.calls).toEqual(['key shift down', 'key shift up', 'type A', 'key shift down', 'key right down']);
  });

  it('ignores keys it has no safe name for, and auto-repeat of a held key', () => {
    const { device, input } = injector();
    input.key(key('down', 'F13'));
    input.key(key('down', 'AudioVolumeUp'));
    input.key(key('down', 'ArrowDown'));
    input.key(key('down', 'ArrowDown'));
    expect(device.calls).toEqual(['key down down']);
  });

  it('names the logo key per platform', () => {
    expect(['linux', 'darwin', 'win32'].map((platform) => libnutKey('MetaLeft', platform as Platform))).toEqual(['meta', 'command', 'win']);
    expect(libnutKey('Enter', 'darwin')).toBe('enter');
  });
});

describe('letting go', () => {
  it('releases every held key and button once, and nothing twice', () => {
    const { device, input } = injector();
    input.key(key('down', 'ControlLeft'));
    input.key(key('down', 'AltLeft'));
    input.pointer({ action: 'down', x: 5, y: 5, button: 'right' });
    device.calls.length = 0;
    input.releaseAll();
    expect(device.calls).toEqual(['key control up', 'key alt up', 'right up']);
    input.releaseAll();
    input.key(key('up', 'ControlLeft'));
    expect(device.calls).toHaveLength(3);
  });
});
