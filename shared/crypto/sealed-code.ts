// A help-desk offer's code, sealed to the device's enrolled key (docs/help-desk.md, docs/protocol.md): the
// technician's helper code travels through the relay, which must not read it, and only the holder of the
// device's Ed25519 private key can open it. An anonymous sealed box: X25519 between a one-time key and the
// device key's Montgomery form (as age does for ssh-ed25519 recipients), HKDF-SHA-256 bound to both public
// keys and the offer's context, AES-256-GCM. Whoever opens it can join the session: the technician takes the
// device's key from the relay's device list, so a relay that substituted a device's key could open it (the
// threat model in docs/protocol.md says what then still protects the person).

import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { decodeBase64Url, encodeBase64Url } from '../core/base64.js';
import { CodedError } from '../core/coded-error.js';
import { aesGcmOpen, aesGcmSeal, AES_GCM_NONCE_BYTES, importAesGcmKey } from './aes-gcm.js';

const SEALED_CODE_INFO = 'assist-relay sealed code v1';
const X25519_KEY_BYTES = 32;
/** A one-time key per box, so the nonce can be fixed. */
const NONCE = new Uint8Array(AES_GCM_NONCE_BYTES);

export class SealedCodeError extends CodedError<'unopenable-code'> {
  override readonly name = 'SealedCodeError';

  constructor(message: string) {
    super('unopenable-code', message);
  }
}

async function boxKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array, context: string): Promise<CryptoKey> {
  const info = new TextEncoder().encode(`${SEALED_CODE_INFO}\n${context}`);
  return importAesGcmKey(hkdf(sha256, shared, concatBytes(ephemeralPublic, recipientPublic), info, 32));
}

/** Seals `code` to the device's Ed25519 public key (base64url); `context` (the device id) is bound in. */
export async function sealCode(devicePublicKey: string, context: string, code: string): Promise<string> {
  const recipient = ed25519.utils.toMontgomery(decodeBase64Url(devicePublicKey));
  const ephemeral = x25519.utils.randomSecretKey();
  const ephemeralPublic = x25519.getPublicKey(ephemeral);
  const key = await boxKey(x25519.getSharedSecret(ephemeral, recipient), ephemeralPublic, recipient, context);
  return encodeBase64Url(concatBytes(ephemeralPublic, await aesGcmSeal(key, NONCE, new Uint8Array(0), new TextEncoder().encode(code))));
}

/** Opens a sealed code with the device's 32-byte Ed25519 secret key; a box for another key or context is refused. */
export async function openSealedCode(deviceSecretKey: Uint8Array, context: string, sealed: string): Promise<string> {
  try {
    const bytes = decodeBase64Url(sealed);
    const ephemeralPublic = bytes.subarray(0, X25519_KEY_BYTES);
    const secret = ed25519.utils.toMontgomerySecret(deviceSecretKey);
    const key = await boxKey(x25519.getSharedSecret(secret, ephemeralPublic), ephemeralPublic, x25519.getPublicKey(secret), context);
    return new TextDecoder('utf-8', { fatal: true }).decode(await aesGcmOpen(key, NONCE, new Uint8Array(0), bytes.subarray(X25519_KEY_BYTES)));
  } catch {
    throw new SealedCodeError('the offer’s code was not sealed to this device’s key: the relay or the technician sent it for another device');
  }
}

/** The 32-byte Ed25519 secret key inside a PKCS #8 export (what generateDeviceKeyPair keeps): its last 32 bytes. */
export function ed25519SecretFromPkcs8(pkcs8: string): Uint8Array {
  return decodeBase64Url(pkcs8).slice(-32);
}
