// How `assist offer --device` picks the device and `assist devices` words it (cli/help-desk.ts): a name in any case
// or an id picks one device; two of a name, none, or an offline one are DeviceChoiceErrors with their sentence
// (close matches named), never anything else; last-seen times read as people say them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseDevice, closeMatches, DeviceChoiceError, devicesTable, lastSeen } from '../../../cli/help-desk.js';
import type { OfferableDevice } from '../../../shared/core/messages.js';

const NOW_MS = 1_800_000_000_000;
const now = NOW_MS / 1000;
const device = (name: string, extra: Partial<OfferableDevice> = {}): OfferableDevice => ({
  deviceId: `id-${name.toLowerCase().replace(/\W/g, '-')}`,
  name,
  group: 'Finance laptops',
  os: 'linux',
  publicKey: 'key',
  approval: { operatorKey: 'operator', signature: 'signature', approvedAt: now - 60 },
  online: true,
  lastSeenAt: now - 30,
  level: 'control',
  consent: 'ask',
  ...extra,
});
const devices = [device('Reception PC'), device('Reception Printer'), device('Back office', { online: false, lastSeenAt: now - 3 * 3600 }), device('Kiosk 1')];

const refusal = (list: readonly OfferableDevice[], wanted: string) => {
  try {
    chooseDevice(list, wanted, NOW_MS);
  } catch (error) {
    if (error instanceof DeviceChoiceError) return { code: error.code, message: error.message };
    throw error;
  }
  return undefined;
};

describe('chooseDevice', () => {
  it('picks a device by its name in any case, or by its id', () => {
    expect(chooseDevice(devices, '  reception pc ', NOW_MS).name).toBe('Reception PC');
    expect(chooseDevice(devices, 'id-kiosk-1', NOW_MS).name).toBe('Kiosk 1');
  });

  it('names close matches for a misspelt or partial name, and says how many there are otherwise', () => {
    expect(refusal(devices, 'Recepton')).toEqual({ code: 'unknown-device', message: expect.stringContaining('close matches: "Reception PC" (Finance laptops, id-reception-pc), "Reception Printer"') });
    expect(refusal(devices, 'kiosk')?.message).toContain('close matches: "Kiosk 1"');
    expect(refusal(devices, 'Warehouse scanner')).toEqual({ code: 'unknown-device', message: 'no device you may help is named "Warehouse scanner" (you may help 4 devices: assist devices lists them)' });
    expect(refusal([], 'Kiosk 1')?.message).toContain('you may help none');
  });

  it('refuses two devices of one name (naming their ids), and an offline one with when it was last seen', () => {
    const twins = [device('Kiosk 1'), device('Kiosk 1', { deviceId: 'other', group: 'Kiosks' })];
    expect(refusal(twins, 'kiosk 1')).toEqual({ code: 'ambiguous-device', message: expect.stringContaining('"Kiosk 1" (Kiosks, other); give its id instead: --device ID') });
    expect(chooseDevice(twins, 'other', NOW_MS).group).toBe('Kiosks');
    expect(refusal(devices, 'Back office')).toEqual({ code: 'device-unavailable', message: expect.stringContaining('"Back office" is offline (last seen 3 h ago)') });
  });

  it('answers any name with a device of that name or id, or a DeviceChoiceError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (wanted) => {
        const problem = refusal(devices, wanted);
        if (problem) return;
        const chosen = chooseDevice(devices, wanted, NOW_MS);
        expect(chosen.deviceId === wanted.trim() || chosen.name.toLowerCase() === wanted.trim().toLowerCase()).toBe(true);
      }),
    );
  });

  it('finds no close match for a short unrelated word', () => {
    expect(closeMatches(devices, 'pc').map(({ name }) => name)).toEqual(['Reception PC']);
    expect(closeMatches(devices, 'zz')).toEqual([]);
  });
});

describe('devices as people read them', () => {
  it('says when a device was last seen', () => {
    expect([undefined, now - 5, now - 179, now - 3599, now - 3600, now - 47 * 3600, now - 30 * 86400].map((at) => lastSeen(at, NOW_MS))).toEqual([
      'never',
      'just now',
      '2 min ago',
      '59 min ago',
      '1 h ago',
      '47 h ago',
      '30 days ago',
    ]);
  });

  it('lines the table up under its header', () => {
    const table = devicesTable([device('Reception PC'), device('Mac', { os: 'darwin', online: false, level: 'view', consent: 'notice' })], NOW_MS).split('\n');
    expect(table).toEqual([
      '  NAME          GROUP            OS     STATE    LAST SEEN  YOU MAY HAVE',
      '  Reception PC  Finance laptops  Linux  online   just now   control, person asked first',
      '  Mac           Finance laptops  macOS  offline  just now   view only, no question (notice shown)',
    ]);
    // Not approved by the operator: said whatever its state.
    const { approval: _approval, ...awaiting } = device('New PC');
    expect(devicesTable([awaiting], NOW_MS).split('\n')[1]).toBe('  New PC  Finance laptops  Linux  awaiting approval (online)  just now   control, person asked first');
  });
});
