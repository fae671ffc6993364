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
