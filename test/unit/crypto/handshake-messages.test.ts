import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HandshakeError } from '../../../shared/crypto/errors.js';
import {
  HANDSHAKE_MESSAGE_BYTES,
  HANDSHAKE_VERSION,
  type HandshakeMessage,
  encodeHandshakeMessage,
  parseHandshakeMessage,
} from '../../../shared/crypto/handshake-messages.js';
import { caught, expectHandshakeError } from './helpers.js';

const filled = (length: number, value: number) => new Uint8Array(length).fill(value);

const samples: HandshakeMessage[] = [
  { type: 'hello', nonce: filled(16, 7) },
  { type: 'commit', commitment: filled(64, 1) },
  { type: 'share', share: filled(32, 2) },
  { type: 'reveal', nonce: filled(32, 3), share: filled(32, 4), tag: filled(64, 5) },
  { type: 'confirm', tag: filled(64, 6) },
  { type: 'abort' },
];

describe('handshake message encoding', () => {
  it('has the documented sizes', () => {
    expect(HANDSHAKE_MESSAGE_BYTES).toEqual({ hello: 18, commit: 66, share: 34, reveal: 130, confirm: 66, abort: 2 });
    expect(HANDSHAKE_VERSION).toBe(2);
  });

  for (const message of samples) {
    it(`round-trips ${message.type} behind a [version, type] header`, () => {
      const encoded = encodeHandshakeMessage(message);
      expect(encoded).toHaveLength(HANDSHAKE_MESSAGE_BYTES[message.type]);
      expect(encoded[0]).toBe(HANDSHAKE_VERSION);
      expect(parseHandshakeMessage(encoded)).toEqual(message);
    });

    it(`rejects ${message.type} one byte short or long`, () => {
      const encoded = encodeHandshakeMessage(message);
      const longer = Uint8Array.of(...encoded, 0);
      expectHandshakeError(caught(() => parseHandshakeMessage(longer)), 'malformed-message');
      if (encoded.length > 2) {
        expectHandshakeError(caught(() => parseHandshakeMessage(encoded.subarray(0, -1))), 'malformed-message');
      }
    });
  }

  it('puts the reveal fields in wire order: nonce, share, tag', () => {
    const encoded = encodeHandshakeMessage(samples[3]!);
    expect([encoded[2], encoded[34], encoded[66], encoded[129]]).toEqual([3, 4, 5, 5]);
  });

  it('copies fields out of the input buffer', () => {
    const encoded = encodeHandshakeMessage(samples[2]!);
    const parsed = parseHandshakeMessage(encoded);
    encoded[2] = 99;
    expect(parsed).toEqual(samples[2]);
  });

  it('rejects short input, other versions and unknown types', () => {
    expectHandshakeError(caught(() => parseHandshakeMessage(new Uint8Array(0))), 'malformed-message');
    expectHandshakeError(caught(() => parseHandshakeMessage(Uint8Array.of(HANDSHAKE_VERSION))), 'malformed-message');
    // Version 1 is an older release (its commit, its abort); above 2 a newer one; 0 never existed.
    expectHandshakeError(caught(() => parseHandshakeMessage(Uint8Array.of(1, 5))), 'peer-outdated');
    expectHandshakeError(caught(() => parseHandshakeMessage(Uint8Array.of(1, 1, ...filled(64, 1)))), 'peer-outdated');
    expectHandshakeError(caught(() => parseHandshakeMessage(Uint8Array.of(3, 5))), 'peer-newer');
    expectHandshakeError(caught(() => parseHandshakeMessage(Uint8Array.of(255, 6, ...filled(16, 1)))), 'peer-newer');
    expectHandshakeError(caught(() => parseHandshakeMessage(Uint8Array.of(0, 5))), 'malformed-message');
    expectHandshakeError(caught(() => parseHandshakeMessage(Uint8Array.of(HANDSHAKE_VERSION, 0))), 'malformed-message');
    expectHandshakeError(caught(() => parseHandshakeMessage(Uint8Array.of(HANDSHAKE_VERSION, 7))), 'malformed-message');
  });

  it('refuses to encode fields of the wrong size', () => {
    expect(() => encodeHandshakeMessage({ type: 'share', share: new Uint8Array(31) })).toThrow(RangeError);
  });

  it('parses arbitrary bytes only into messages that re-encode to the same bytes, else a typed error (fast-check)', () => {
    const wellFramed = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 140 }))
      .chain(([type, length]) =>
        fc.uint8Array({ minLength: length, maxLength: length }).map((body) => Uint8Array.of(HANDSHAKE_VERSION, type, ...body)),
      );
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), wellFramed), (bytes) => {
        const error = caught(() => {
          expect(encodeHandshakeMessage(parseHandshakeMessage(bytes))).toEqual(bytes);
        });
        if (error !== undefined) {
          expect(error).toBeInstanceOf(HandshakeError);
          expect(['malformed-message', 'peer-outdated', 'peer-newer']).toContain((error as HandshakeError).code);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
