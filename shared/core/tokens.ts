import { sha256 } from '@noble/hashes/sha2.js';
import { encodeBase64Url } from './base64.js';

// Runtime-neutral helpers (Node and browsers) for identifiers and bearer tokens.

export function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/** 128-bit random id, URL-safe. */
export function newSessionId(): string {
  return encodeBase64Url(randomBytes(16));
}

/**
 * How an id or token people type as a command's argument starts (device ids, enrolment tokens): a letter or digit,
 * never `-` or `_`, since a leading `-` reads as an option (`assist enrol --token -x…` is a usage error).
 */
export const typeableStart = /^[A-Za-z0-9]/;

/** A value of `newValue` (URL-safe random) that starts as typeableStart says. */
export function typeableAsArgument(newValue: () => string): string {
  for (;;) {
    const value = newValue();
    if (typeableStart.test(value)) return value;
  }
}

/** 256-bit bearer token. */
export function newResumeToken(): string {
  return encodeBase64Url(randomBytes(32));
}

/** Only this hash is stored, so a leaked table cannot be used to resume anyone's session. */
export function hashToken(token: string): string {
  return encodeBase64Url(sha256(new TextEncoder().encode(token)));
}

/** Constant-time comparison of two equal-length strings (token hashes). */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
