// Assertions shared by the crypto tests.

import { expect } from 'vitest';
import { HandshakeError, type HandshakeErrorCode } from '../../../shared/crypto/errors.js';
import { FrameAuthError, type FrameAuthErrorCode } from '../../../shared/crypto/frame-codec.js';

/** Runs `action` and returns what it threw (or undefined), so callers can assert on the type and code. */
export function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

export async function caughtAsync(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  return undefined;
}

export function expectHandshakeError(error: unknown, code: HandshakeErrorCode): void {
  expect(error).toBeInstanceOf(HandshakeError);
  expect((error as HandshakeError).code).toBe(code);
}

export function expectFrameAuthError(error: unknown, code: FrameAuthErrorCode): void {
  expect(error).toBeInstanceOf(FrameAuthError);
  expect((error as FrameAuthError).code).toBe(code);
}
