// AES-256-GCM through WebCrypto, so Node ≥ 20 and browsers share one implementation (browsers
// expose crypto.subtle in secure contexts only, which the relay's HTTPS origin provides).
// WebCrypto copies the nonce, AAD and data when the call is made, so callers may reuse those
// buffers as soon as seal/open has been called.

import { arrayBufferView } from './bytes.js';

export const AES_256_KEY_BYTES = 32;
export const AES_GCM_NONCE_BYTES = 12;
export const AES_GCM_TAG_BYTES = 16;

/** Imports a raw 32-byte key as a non-extractable AES-GCM key. */
export function importAesGcmKey(rawKey: Uint8Array): Promise<CryptoKey> {
  if (rawKey.length !== AES_256_KEY_BYTES) throw new RangeError('AES-256 keys are 32 bytes');
  return globalThis.crypto.subtle.importKey('raw', arrayBufferView(rawKey), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** The algorithm parameters both directions use: 96-bit nonce, the header as AAD, a 128-bit tag. */
const gcmParameters = (nonce: Uint8Array, additionalData: Uint8Array): AesGcmParams => ({
  name: 'AES-GCM',
  iv: arrayBufferView(nonce),
  additionalData: arrayBufferView(additionalData),
  tagLength: 128,
});

/** Returns ciphertext || 16-byte tag. */
export async function aesGcmSeal(key: CryptoKey, nonce: Uint8Array, additionalData: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.encrypt(gcmParameters(nonce, additionalData), key, arrayBufferView(plaintext)));
}

/** Opens ciphertext || tag; rejects (WebCrypto's OperationError) when the tag does not verify. */
export async function aesGcmOpen(key: CryptoKey, nonce: Uint8Array, additionalData: Uint8Array, sealed: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.decrypt(gcmParameters(nonce, additionalData), key, arrayBufferView(sealed)));
}
