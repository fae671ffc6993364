// The device messages' parser: a valid enrolment keeps only its fields; any 32-byte key in base64url is
// taken and nothing else is; whatever arrives, the only failure is a typed RelayError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../../shared/core/parse.js';
import { RelayError } from '../../../shared/server/use-cases/errors.js';
import { encodeBase64Url as base64url } from '../../../shared/core/base64.js';

const token = 'T'.repeat(43);
const key = base64url(new Uint8Array(32).fill(7));
const enrol = (fields: Record<string, unknown>) => JSON.stringify({ action: 'enrolDevice', token, publicKey: key, name: 'PC', os: 'linux', ...fields });

function outcome(body: string): string {
  try {
    parseClientMessage(body);
    return 'accepted';
  } catch (error) {
    if (error instanceof RelayError) return error.code;
    throw error;
  }
}

describe('enrolDevice', () => {
  it('keeps only its fields', () => {
    expect(parseClientMessage(enrol({ extra: 1 }))).toEqual({ action: 'enrolDevice', token, publicKey: key, name: 'PC', os: 'linux' });
  });

  it('takes any 32-byte public key in base64url, and no other length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (bytes) => {
        expect(outcome(enrol({ publicKey: base64url(bytes) }))).toBe(bytes.length === 32 ? 'accepted' : 'invalid-request');
      }),
    );
  });

  it('fails only with a typed error, whatever the fields hold', () => {
    const anything = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.json(), fc.string({ unit: 'binary' }));
    fc.assert(
      fc.property(fc.record({ token: anything, publicKey: anything, name: anything, os: anything }, { requiredKeys: [] }), (fields) => {
        expect(['accepted', 'invalid-request']).toContain(outcome(enrol(fields)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('offerDevice', () => {
  const proof = { idToken: 'eyJh.eyJz.c2ln', publicKey: key, signature: base64url(new Uint8Array(64).fill(9)) };
  const offer = (fields: Record<string, unknown>) =>
    JSON.stringify({ action: 'offerDevice', deviceId: 'dev1234567890123456789', reason: 'INC-1', sealedCode: 'S'.repeat(80), offeredAt: 1_800_000_000, proof, ...fields });

  it('carries the technician’s proof, a whole ID token of bounded size, and when it was offered', () => {
    expect(outcome(offer({}))).toBe('accepted');
    expect(outcome(offer({ proof: undefined }))).toBe('invalid-request');
    expect(outcome(offer({ offeredAt: 1.5 }))).toBe('invalid-request');
    expect(outcome(offer({ proof: { ...proof, idToken: 'not a token' } }))).toBe('invalid-request');
    expect(outcome(offer({ proof: { ...proof, idToken: `a.${'b'.repeat(12_000)}.c` } }))).toBe('invalid-request');
  });

  it('fails only with a typed error, whatever the proof holds', () => {
    const anything = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.json(), fc.string({ unit: 'binary' }));
    fc.assert(
      fc.property(fc.record({ idToken: anything, publicKey: anything, signature: anything }, { requiredKeys: [] }), anything, (fields, offeredAt) => {
        expect(['accepted', 'invalid-request']).toContain(outcome(offer({ proof: fields, offeredAt })));
      }),
      { numRuns: 500 },
    );
  });
});
