// The assistance messages' codec: every valid message round-trips, every byte string either parses
// to the one message that encodes to exactly those bytes or is refused with a typed error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chatProblem,
  clipboardProblem,
  decodeAssistMessage,
  encodeAssistMessage,
  MAX_CHAT_BYTES,
  MAX_CLIPBOARD_BYTES,
  MAX_NAME_CHARACTERS,
  MAX_TERMINAL_BYTES,
  nameProblem,
  type AssistMessage,
} from '../../../sdk/assist-messages.js';
import { bytes, expectOneEncodingOrTypedError, refusal } from './support/assist-codec.js';

const anyText = (maxLength: number) => fc.string({ unit: 'grapheme', minLength: 1, maxLength });

const validMessage: fc.Arbitrary<AssistMessage> = fc.oneof(
  anyText(MAX_NAME_CHARACTERS / 2)
    .map((name) => name.trim())
    .filter((name) => nameProblem(name) === undefined)
    .map((name) => ({ type: 'hello' as const, name })),
  fc.constantFrom('view' as const, 'control' as const).map((mode) => ({ type: 'approve' as const, mode })),
  fc.constantFrom('granted' as const, 'revoked' as const, 'refused' as const, 'nothing-to-control' as const).map((state) => ({ type: 'control' as const, state })),
  fc.constantFrom('started' as const, 'stopped' as const).map((state) => ({ type: 'terminal-share' as const, state })),
  fc.constantFrom(...(['deny', 'request-control', 'pause', 'resume', 'leave'] as const)).map((type) => ({ type })),
  fc
    .tuple(anyText(200), fc.constantFrom('', '\n', '\t'))
    .map(([text, tail]) => text + tail)
    .filter((text) => chatProblem(text) === undefined)
    .map((text) => ({ type: 'chat' as const, text })),
  fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => ({ type: 'output' as const, bytes })),
  fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => ({ type: 'input' as const, bytes })),
  fc.record({ cols: fc.integer({ min: 1, max: 10_000 }), rows: fc.integer({ min: 1, max: 10_000 }) }).map((size) => ({ type: 'resize' as const, ...size })),
  fc.boolean().map((allowed) => ({ type: 'clipboard-allowed' as const, allowed })),
  fc.integer({ min: 1, max: 0xffff_ffff }).map((secondsLeft) => ({ type: 'idle-warning' as const, state: 'warning' as const, secondsLeft })),
  fc.constantFrom('cleared' as const, 'still-here' as const).map((state) => ({ type: 'idle-warning' as const, state })),
  fc.integer({ min: 1, max: 0xffff_ffff }).map((seconds) => ({ type: 'asked' as const, seconds })),
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: 300 })
    .filter((text) => clipboardProblem(text) === undefined)
    .map((text) => ({ type: 'clipboard' as const, text })),
);


describe('assistance messages', () => {
  it('round-trips every valid message', () => {
    fc.assert(
      fc.property(validMessage, (message) => {
        expect(decodeAssistMessage(encodeAssistMessage(message))).toEqual(message);
      }),
      { numRuns: 2000 },
    );
  });

  it('parses arbitrary bytes to the one message that encodes to them, or refuses them with a typed error', () => {
    const candidate = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      // Mostly well-formed headers, so the bodies get exercised too.
      fc.tuple(fc.integer({ min: 0, max: 30 }), fc.uint8Array({ maxLength: 40 })).map(([type, body]) => bytes(1, type, ...body)),
    );
    expectOneEncodingOrTypedError(candidate);
  });

  it('refuses each malformed message with its own code', () => {
    expect(refusal(() => decodeAssistMessage(bytes(1)))).toBe('empty');
    expect(refusal(() => decodeAssistMessage(bytes(2, 1, 65)))).toBe('unsupported-version');
    expect(refusal(() => decodeAssistMessage(bytes(1, 0)))).toBe('unknown-type');
    expect(refusal(() => decodeAssistMessage(bytes(1, 30)))).toBe('unknown-type'); // the first code not yet given
    expect(decodeAssistMessage(bytes(1, 29, 0, 0, 0, 90))).toEqual({ type: 'asked', seconds: 90 });
    expect(refusal(() => decodeAssistMessage(bytes(1, 29, 0, 90)))).toBe('malformed'); // asked, 2 bytes
    expect(refusal(() => decodeAssistMessage(bytes(1, 29, 0, 0, 0, 0)))).toBe('out-of-range'); // no time to answer
    expect(refusal(() => decodeAssistMessage(bytes(1, 28)))).toBe('malformed'); // idle-warning without its state
    expect(refusal(() => decodeAssistMessage(bytes(1, 28, 3)))).toBe('out-of-range');
    expect(refusal(() => decodeAssistMessage(bytes(1, 28, 0)))).toBe('malformed'); // a warning without its seconds left
    expect(refusal(() => decodeAssistMessage(bytes(1, 28, 0, 0, 0, 0, 0)))).toBe('out-of-range'); // no seconds left
    expect(refusal(() => decodeAssistMessage(bytes(1, 28, 1, 0)))).toBe('malformed'); // cleared carries nothing more
    expect(decodeAssistMessage(bytes(1, 28, 0, 0, 0, 1, 44))).toEqual({ type: 'idle-warning', state: 'warning', secondsLeft: 300 });
    expect(decodeAssistMessage(bytes(1, 28, 2))).toEqual({ type: 'idle-warning', state: 'still-here' });
    expect(refusal(() => decodeAssistMessage(bytes(1, 27)))).toBe('malformed'); // terminal-share without its state
    expect(refusal(() => decodeAssistMessage(bytes(1, 27, 2)))).toBe('out-of-range');
    expect(refusal(() => decodeAssistMessage(bytes(1, 5, 4)))).toBe('out-of-range'); // control: after nothing-to-control
    expect(refusal(() => decodeAssistMessage(bytes(1, 3, 0)))).toBe('malformed'); // deny with a body
    expect(refusal(() => decodeAssistMessage(bytes(1, 2)))).toBe('malformed'); // approve without a mode
    expect(refusal(() => decodeAssistMessage(bytes(1, 2, 2)))).toBe('out-of-range');
    expect(refusal(() => decodeAssistMessage(bytes(1, 11, 0, 80, 0)))).toBe('malformed'); // resize, 3 bytes
    expect(refusal(() => decodeAssistMessage(bytes(1, 11, 0, 80, 0, 0)))).toBe('out-of-range'); // 0 rows
    expect(refusal(() => decodeAssistMessage(bytes(1, 1, 0xc3)))).toBe('invalid-text'); // truncated UTF-8
    expect(refusal(() => decodeAssistMessage(bytes(1, 1)))).toBe('invalid-text'); // empty name
    expect(refusal(() => decodeAssistMessage(bytes(1, 10)))).toBe('out-of-range'); // empty input
  });

  it('keeps what reaches a screen harmless: no escape sequences, other controls or direction overrides in names and chat', () => {
    const refusedNames = ['Eve\u001b[2J', 'Eve\r', 'Eve\u2028Mallory', '\u202Eevil', 'Eve\u2066', ' Eve', 'Eve ', 'x'.repeat(MAX_NAME_CHARACTERS + 1), 'a\uD800'];
    for (const name of refusedNames) expect(refusal(() => encodeAssistMessage({ type: 'hello', name }))).toBe('invalid-text');
    expect(refusal(() => encodeAssistMessage({ type: 'hello', name: 'Zoë 👩‍💻 Å' }))).toBe('accepted');
    expect(refusal(() => decodeAssistMessage(bytes(1, 1, 0x45, 0x1b, 0x5b, 0x32, 0x4a)))).toBe('invalid-text');

    expect(refusal(() => encodeAssistMessage({ type: 'chat', text: 'line one\nline\ttwo' }))).toBe('accepted');
    for (const text of ['', 'bell\u0007', 'esc\u001b]0;title\u0007', 'c1\u009b', 'x'.repeat(MAX_CHAT_BYTES + 1)]) {
      expect(refusal(() => encodeAssistMessage({ type: 'chat', text }))).toBe('invalid-text');
    }
  });

  it('carries clipboard text of any characters but NUL, up to 64 KiB, and the permission as one byte', () => {
    expect(encodeAssistMessage({ type: 'clipboard-allowed', allowed: true })).toEqual(bytes(1, 25, 1));
    expect(encodeAssistMessage({ type: 'clipboard', text: 'a\tb\r\n' })).toEqual(bytes(1, 26, 0x61, 0x09, 0x62, 0x0d, 0x0a));
    expect(refusal(() => encodeAssistMessage({ type: 'clipboard', text: 'é'.repeat(MAX_CLIPBOARD_BYTES / 2) }))).toBe('accepted');
    expect(refusal(() => encodeAssistMessage({ type: 'clipboard', text: 'x'.repeat(MAX_CLIPBOARD_BYTES + 1) }))).toBe('invalid-text');
    expect(refusal(() => encodeAssistMessage({ type: 'clipboard', text: '' }))).toBe('invalid-text');
    expect(refusal(() => encodeAssistMessage({ type: 'clipboard', text: 'a\u0000b' }))).toBe('invalid-text');
    expect(refusal(() => decodeAssistMessage(bytes(1, 26, 0xff)))).toBe('invalid-text'); // not UTF-8
    expect(refusal(() => decodeAssistMessage(bytes(1, 25, 2)))).toBe('out-of-range');
    expect(refusal(() => decodeAssistMessage(bytes(1, 25)))).toBe('malformed');
  });

  it('bounds terminal chunks and sizes', () => {
    expect(refusal(() => encodeAssistMessage({ type: 'output', bytes: new Uint8Array(MAX_TERMINAL_BYTES) }))).toBe('accepted');
    expect(refusal(() => encodeAssistMessage({ type: 'output', bytes: new Uint8Array(MAX_TERMINAL_BYTES + 1) }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'input', bytes: new Uint8Array(0) }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'output', bytes: new Uint8Array(0) }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'resize', cols: 80.5, rows: 24 }))).toBe('out-of-range');
    expect(refusal(() => encodeAssistMessage({ type: 'resize', cols: 80, rows: 10_001 }))).toBe('out-of-range');
  });
});
