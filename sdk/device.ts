// A device's side of help-desk enrolment (docs/help-desk.md): its long-term Ed25519 key pair (WebCrypto,
// so Node and browsers share one implementation) and the enrolment request. Keeping the private key is
// the caller's (the CLI writes it to a file only its user can read).

import { encodeBase64Url } from '../shared/core/base64.js';
import type { ServerMessage } from '../shared/core/messages.js';
import { operatorKeyFingerprint } from '../shared/core/operator-key.js';
import { discoverRelay, type DiscoveredRelay, type FetchLike, type RelayAddress } from './assist.js';
import { openRequestConnection, type WebSocketConstructor } from './connection.js';
import { CodedError } from '../shared/core/coded-error.js';

/** A device key pair as it is kept: both halves base64url (public: raw 32 bytes; private: PKCS #8). */
export interface DeviceKeyPair {
  publicKey: string;
  privateKey: string;
}

const ED25519 = { name: 'Ed25519' } as const;

const toBase64url = (bytes: ArrayBuffer) => encodeBase64Url(new Uint8Array(bytes));

export async function generateDeviceKeyPair(): Promise<DeviceKeyPair> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify'])) as CryptoKeyPair;
  return {
    publicKey: toBase64url(await crypto.subtle.exportKey('raw', pair.publicKey)),
    privateKey: toBase64url(await crypto.subtle.exportKey('pkcs8', pair.privateKey)),
  };
}

export type DeviceEnrolmentErrorCode = 'operator-key-mismatch';

export class DeviceEnrolmentError extends CodedError<DeviceEnrolmentErrorCode> {
  override readonly name = 'DeviceEnrolmentError';
}

export type DeviceEnrolment = Omit<Extract<ServerMessage, { type: 'deviceEnrolled' }>, 'type'> & { endpoints: DiscoveredRelay };

export interface EnrolDeviceOptions {
  relay: RelayAddress;
  token: string;
  publicKey: string;
  name: string;
  os: string;
  /** Browsers: the global WebSocket. Node: pass `ws`. */
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  requestTimeoutMs?: number;
}

/**
 * Registers the device's public key with the relay, spending the enrolment token, and returns the operator key
 * to pin. The technicians' issuer is not asked of the relay: each signed group policy names it (group-policy.ts).
 */
export async function enrolDevice(options: EnrolDeviceOptions): Promise<DeviceEnrolment> {
  const endpoints = await discoverRelay(options.relay, options.fetch);
  const connection = await openRequestConnection(options.WebSocket, endpoints.webSocketUrl, options.requestTimeoutMs);
  try {
    const { type: _type, ...enrolled } = await connection.request({
      action: 'enrolDevice',
      token: options.token,
      publicKey: options.publicKey,
      name: options.name,
      os: options.os,
    });
    // The token ends with the operator key's fingerprint: a relay that hands over another key is caught here.
    if (!options.token.endsWith(operatorKeyFingerprint(enrolled.operatorKey))) {
      throw new DeviceEnrolmentError(
        'operator-key-mismatch',
        'the relay answered with an operator key that is not the one this enrolment token names, so this device keeps nothing; tell the operator (the relay may have been tampered with)',
      );
    }
    return { ...enrolled, endpoints };
  } finally {
    connection.close();
  }
}
