// The operator key's fingerprint (docs/help-desk.md): every enrolment token ends with it, so a device can check
// the operator key the relay hands it at enrolment. Kept apart from the policy code: the enrolment route needs
// only a hash, not the signature code.
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeBase64Url, encodeBase64Url } from './base64.js';

/** 128 bits of the key's SHA-256, base64url. */
export const OPERATOR_KEY_FINGERPRINT_CHARS = 22;

export function operatorKeyFingerprint(publicKey: string): string {
  return encodeBase64Url(sha256(decodeBase64Url(publicKey))).slice(0, OPERATOR_KEY_FINGERPRINT_CHARS);
}
