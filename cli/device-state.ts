// The enrolled device's identity (docs/help-desk.md): its id, group, relay and long-term Ed25519 key
// pair, in `device.json` in the state directory (cli/state.ts), a file only its user can read (0600).
// Whoever reads it can sign in as the device until the operator removes it.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceKeyPair } from '../sdk/node.js';
import { stateDirectory } from './state.js';
import { CodedError } from '../shared/core/coded-error.js';

export const DEVICE_STATE_VERSION = 1;

export interface DeviceState extends DeviceKeyPair {
  version: typeof DEVICE_STATE_VERSION;
  deviceId: string;
  name: string;
  group: string;
  os: string;
  /** Epoch seconds. */
  enrolledAt: number;
  /**
   * The operator's Ed25519 public key, pinned at enrolment: only group policies it signed are obeyed, and they name
   * the technicians' issuer. (Files written before then also hold a `technicianIssuer` the relay named: ignored.)
   */
  operatorKey: string;
  /** The newest group-policy date (epoch seconds) accepted: an older policy is a relay rolling it back, after restarts too. */
  policyNotBefore?: number;
  relay: { webSocketUrl: string; httpUrl?: string };
}

export type DeviceStateErrorCode = 'already-enrolled' | 'not-enrolled' | 'unreadable-device-state';

export class DeviceStateError extends CodedError<DeviceStateErrorCode> {
  override readonly name = 'DeviceStateError';
}

export const deviceFile = (directory = stateDirectory()) => join(directory, 'device.json');

/** Writes `value` whole, only its user may read it, then renames it over `file`. */
export function writePrivately(file: string, value: unknown): void {
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, file);
}

/** Refuses when this machine already has a device identity: enrolling again would orphan it on the relay. */
export function assertNotEnrolled(directory = stateDirectory()): void {
  let existing: DeviceState;
  try {
    existing = readDeviceState(directory);
  } catch (error) {
    if (error instanceof DeviceStateError && error.code === 'not-enrolled') return;
    throw error;
  }
  throw new DeviceStateError(
    'already-enrolled',
    `this machine is already enrolled as "${existing.name}" (${existing.deviceId}) in "${existing.group}"; to enrol it again, have the operator remove it (npm run operator -- device remove ${existing.deviceId}), then delete ${deviceFile(directory)}`,
  );
}

/**
 * Keeps the key pair before it is registered (`device.json.pending`), so a relay that registered it while the
 * answer was lost does not leave a registered key nobody holds; the identity becomes `device.json` once enrolled.
 */
export function keepPendingKeys(keys: DeviceKeyPair, directory = stateDirectory()): { enrolled(state: DeviceState): void; abandon(): void } {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const pending = `${deviceFile(directory)}.pending`;
  writePrivately(pending, keys);
  return {
    enrolled: (state) => {
      writePrivately(deviceFile(directory), state);
      rmSync(pending, { force: true });
    },
    abandon: () => rmSync(pending, { force: true }),
  };
}

/** Keeps the newest accepted group-policy date in device.json (whole-file write, then rename). */
export function rememberPolicyDate(issuedAt: number, directory = stateDirectory()): void {
  const state = readDeviceState(directory);
  if ((state.policyNotBefore ?? 0) < issuedAt) writePrivately(deviceFile(directory), { ...state, policyNotBefore: issuedAt });
}

/**
 * The offers this device took lately (the technician's proof signature, and when it may be forgotten, epoch ms),
 * in `offers-seen.json` beside device.json (0600): a restarted agent still refuses an offer the relay replays
 * within its 5 minutes. Kept short: entries past their time are dropped, and at most MAX_OFFERS_SEEN, the newest.
 */
export const offersSeenFile = (directory = stateDirectory()) => join(directory, 'offers-seen.json');

/** Far more offers than one device answers in 10 minutes (one at a time, each asked for up to 10 minutes). */
export const MAX_OFFERS_SEEN = 1000;

/** Those still to remember at `nowMs`; none when there is no file (or it cannot be read: only this user can write it). */
export function readOffersSeen(nowMs: number, directory = stateDirectory()): Map<string, number> {
  let entries: unknown;
  try {
    entries = (JSON.parse(readFileSync(offersSeenFile(directory), 'utf8')) as { offers?: unknown }).offers;
  } catch {
    return new Map();
  }
  if (!Array.isArray(entries)) return new Map();
  const valid = entries.filter((entry): entry is [string, number] => Array.isArray(entry) && typeof entry[0] === 'string' && Number.isSafeInteger(entry[1]) && entry[1] > nowMs);
  return new Map(valid.slice(-MAX_OFFERS_SEEN));
}

/** Keeps `seen` (whole-file write, then rename), without what may be forgotten at `nowMs`. */
export function keepOffersSeen(seen: ReadonlyMap<string, number>, nowMs: number, directory = stateDirectory()): void {
  const offers = [...seen].filter(([, forgetAt]) => forgetAt > nowMs).sort((a, b) => a[1] - b[1]);
  writePrivately(offersSeenFile(directory), { version: 1, offers: offers.slice(-MAX_OFFERS_SEEN) });
}

export function readDeviceState(directory = stateDirectory()): DeviceState {
  const file = deviceFile(directory);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DeviceStateError('not-enrolled', `this machine is not enrolled (no ${file}); enrol it first: assist enrol --relay URL --token TOKEN`);
    }
    throw new DeviceStateError('unreadable-device-state', `${file} cannot be read (${(error as Error).message}); check its owner and permissions`);
  }
  try {
    const state = JSON.parse(text) as Partial<DeviceState>;
    const strings = ['deviceId', 'name', 'group', 'os', 'publicKey', 'privateKey', 'operatorKey'] as const;
    if (
      state.version !== DEVICE_STATE_VERSION ||
      strings.some((key) => typeof state[key] !== 'string') ||
      typeof state.relay?.webSocketUrl !== 'string' ||
      (state.policyNotBefore !== undefined && !Number.isSafeInteger(state.policyNotBefore))
    ) {
      throw new Error('fields are missing');
    }
    return state as DeviceState;
  } catch (error) {
    throw new DeviceStateError('unreadable-device-state', `${file} is not a device identity (${(error as Error).message}); enrol again after the operator removed this device, or restore the file`);
  }
}
