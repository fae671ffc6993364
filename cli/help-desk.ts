// The technician's side of help-desk offers (docs/help-desk.md): `assist devices` lists the enrolled devices the
// operator's policies let the signed-in technician help, and `assist offer --device NAME --reason TEXT` offers
// help to one of them: a helper code (as plain `assist offer` makes) sealed to the device's enrolled key and
// sent through the relay, which checks the policy and audits the offer. The device asks its person; the session
// that follows is the ordinary technician's one (expert.ts). Both use the sign-in `assist login` kept.

import { deviceKeyFingerprint, listTechnicianDevices, offerHelp, offerToDevice, type HelpOffer } from '../sdk/node.js';
import { requestTechnicianTicket } from '../sdk/technician.js';
import { CodedError } from '../shared/core/coded-error.js';
import type { OfferableDevice } from '../shared/core/messages.js';
import { report } from './device.js';
import { errorEvent } from './frontend.js';
import { knownDeviceKeys, requirePinnedOperatorKey } from './known-devices.js';
import { readTechnicianState, type TechnicianState } from './technician.js';
import { osName } from '../shared/core/os-names.js';

export type DeviceChoiceErrorCode = 'unknown-device' | 'ambiguous-device' | 'device-unavailable';

/** --device names no device, several, or one whose agent is not running. */
export class DeviceChoiceError extends CodedError<DeviceChoiceErrorCode> {
  override readonly name = 'DeviceChoiceError';
}

/** "just now", "3 min ago", "5 h ago", "12 days ago"; "never" for a device that never signed in. */
export function lastSeen(lastSeenAt: number | undefined, nowMs: number): string {
  if (lastSeenAt === undefined) return 'never';
  const seconds = Math.max(0, Math.round(nowMs / 1000 - lastSeenAt));
  if (seconds < 60) return 'just now';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** What the policy lets this technician have on the device, in words. */
export const accessText = (device: Pick<OfferableDevice, 'level' | 'consent'>) =>
  `${device.level === 'control' ? 'control' : 'view only'}, ${device.consent === 'ask' ? 'person asked first' : 'no question (notice shown)'}`;

/** Online or not; a device the operator has not approved cannot be offered help either way. */
const stateText = (device: OfferableDevice) => (device.approval ? (device.online ? 'online' : 'offline') : `awaiting approval${device.online ? ' (online)' : ''}`);

/** The devices as a table, one line each, under a header. */
export function devicesTable(devices: readonly OfferableDevice[], nowMs: number): string {
  const rows = [
    ['NAME', 'GROUP', 'OS', 'STATE', 'LAST SEEN', 'YOU MAY HAVE'],
    ...devices.map((device) => [device.name, device.group, osName(device.os), stateText(device), lastSeen(device.lastSeenAt, nowMs), accessText(device)]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)));
  return rows.map((row) => `  ${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')}`).join('\n');
}

const folded = (text: string) => text.trim().toLocaleLowerCase();

/** Edits between two short names (Levenshtein), for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = current;
  }
  return previous[b.length]!;
}

/** Devices whose name contains what was typed, is contained in it, or is a few typos from it (or from its start). */
export function closeMatches(devices: readonly OfferableDevice[], wanted: string): OfferableDevice[] {
  const target = folded(wanted);
  const typos = Math.floor(target.length / 4);
  return devices.filter((device) => {
    const name = folded(device.name);
    if (name.includes(target) || target.includes(name) || distance(name, target) <= Math.max(2, typos)) return true;
    // "recepton" for "Reception PC": a misspelt start of a longer name.
    return typos > 0 && distance(name.slice(0, target.length), target) <= typos;
  });
}

const named = (device: OfferableDevice) => `"${device.name}" (${device.group}, ${device.deviceId})`;

/** The one device --device names, by its name (any case) or its id; a sentence with close matches otherwise. */
export function chooseDevice(devices: readonly OfferableDevice[], wanted: string, nowMs: number): OfferableDevice {
  const byId = devices.find((device) => device.deviceId === wanted.trim());
  const matches = byId ? [byId] : devices.filter((device) => folded(device.name) === folded(wanted));
  if (matches.length > 1) {
    throw new DeviceChoiceError('ambiguous-device', `${matches.length} devices you may help are named "${wanted}": ${matches.map(named).join(', ')}; give its id instead: --device ID`);
  }
  const device = matches[0];
  if (!device) {
    const close = closeMatches(devices, wanted).slice(0, 5);
    throw new DeviceChoiceError(
      'unknown-device',
      close.length > 0
        ? `no device you may help is named "${wanted}"; close matches: ${close.map(named).join(', ')}`
        : devices.length === 0
          ? `no device you may help is named "${wanted}": you may help none (no enrolled device is in a group whose policy names one of your groups)`
          : `no device you may help is named "${wanted}" (you may help ${devices.length === 1 ? '1 device' : `${devices.length} devices`}: assist devices lists them)`,
    );
  }
  if (!device.online) {
    throw new DeviceChoiceError(
      'device-unavailable',
      `"${device.name}" is offline (${device.lastSeenAt === undefined ? 'it has never been online' : `last seen ${lastSeen(device.lastSeenAt, nowMs)}`}): it can be offered help once its agent runs (assist agent on that machine)`,
    );
  }
  return device;
}

export interface DevicesOptions {
  /** --relay, when given: must be the relay `assist login` signed in at. */
  relay: string | undefined;
  /** Only devices whose name, group or OS contain this (any case). */
  search: string | undefined;
  json: boolean;
}

const groupsText = (state: TechnicianState) => (state.technician.groups.length > 0 ? state.technician.groups.join(', ') : 'no groups');

function matchesSearch(device: OfferableDevice, search: string): boolean {
  const wanted = folded(search);
  return [device.name, device.group, device.os, osName(device.os)].some((field) => folded(field).includes(wanted));
}

function devicesSentence(state: TechnicianState, all: readonly OfferableDevice[], shown: readonly OfferableDevice[], search: string | undefined, nowMs: number): string {
  const who = `${state.technician.name} (${groupsText(state)})`;
  if (all.length === 0) {
    return `There is no device you may offer help to as ${who}: no enrolled device is in a group whose policy names one of your groups. Ask your operator (npm run operator -- policy set --help).`;
  }
  if (shown.length === 0) return `No device you may help matches "${search}" (you may help ${all.length}: assist devices lists them).`;
  const counted = shown.length === 1 ? '1 device' : `${shown.length} devices`;
  return [
    `${counted} you may offer help to as ${who}${search === undefined ? '' : `, matching "${search}"`}:`,
    '',
    devicesTable(shown, nowMs),
    '',
    'Offer help: assist offer --device NAME --reason TEXT',
  ].join('\n');
}

/** `assist devices`. */
export async function listDevices(options: DevicesOptions): Promise<number> {
  try {
    const state = readTechnicianState(options.relay);
    const all = await listTechnicianDevices({ relay: state.relay.httpUrl, idToken: state.idToken });
    const shown = options.search === undefined ? all : all.filter((device) => matchesSearch(device, options.search!));
    const { name, email, groups } = state.technician;
    report(options.json, { event: 'devices', technician: { name, email, groups }, devices: shown }, devicesSentence(state, all, shown, options.search, Date.now()));
    return 0;
  } catch (error) {
    const event = errorEvent(error);
    report(options.json, event, `assist: ${event.message}`, options.json ? process.stdout : process.stderr);
    return 1;
  }
}

export interface DeviceOfferOptions {
  relay: string | undefined;
  device: string;
  reason: string;
  /** The name the device's session shows (default: the technician's name from the sign-in). */
  name: string | undefined;
  invitationTtlSeconds: number | undefined;
}

/** `assist offer --device`: the technician's helper code, offered to the named device; the session waits for its answer. */
export async function offerToNamedDevice(options: DeviceOfferOptions): Promise<{ offer: HelpOffer; device: OfferableDevice; state: TechnicianState }> {
  const state = readTechnicianState(options.relay);
  const { ticket } = await requestTechnicianTicket(state.relay.httpUrl, state.idToken);
  const offer = await offerHelp({ relay: state.relay, name: options.name ?? state.technician.name, invitationTtlSeconds: options.invitationTtlSeconds });
  try {
    // One connection: the relay takes the offer only from the signed-in connection holding the helper code.
    await offer.client.signInTechnician(ticket);
    const device = chooseDevice(await offer.client.listOfferableDevices(), options.device, Date.now());
    // The operator's approval of the device's record, with the key pinned at login, then the device key pinned at
    // the first offer (known-devices.json): a relay that swaps a key is refused here, before anything is sent.
    const operatorKey = requirePinnedOperatorKey(state.relay.httpUrl, device.approval && deviceKeyFingerprint(device.approval.operatorKey));
    await offerToDevice(offer, device, options.reason, state, { operatorKey, pins: knownDeviceKeys() });
    return { offer, device, state };
  } catch (error) {
    await offer.revoke().catch(() => {});
    throw error;
  }
}
