import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeBase64Lenient, encodeBase64, encodeBase64Url, isBase64 } from '../../../shared/core/base64.js';

describe('base64 (shared/core/base64.ts, the one implementation)', () => {
  it('matches the standard encoding and round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(isBase64(text)).toBe(true);
        expect(decodeBase64(text)).toEqual(bytes);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects anything but canonical padded base64', () => {
    for (const text of ['abc', 'ab=c', 'YQ', 'YQ==\n', 'a-_b', 'Y Q==', 'A===', '====']) {
      expect(isBase64(text), text).toBe(false);
      expect(() => decodeBase64(text), text).toThrow('invalid base64');
    }
  });

  it('accepts exactly the strings made of groups of four with a padded last group (the grammar, as a regular expression)', () => {
    const grammar = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
    const characters = fc.constantFrom('A', 'z', '0', '+', '/', '=', '-', ' ', '\n');
    fc.assert(
      fc.property(fc.array(characters, { maxLength: 14 }), (chosen) => {
        const text = chosen.join('');
        expect(isBase64(text), JSON.stringify(text)).toBe(grammar.test(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('URL-safe without padding, as Node writes base64url', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(encodeBase64Url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      }),
    );
  });

  it('reads base64 as mail wraps it, skipping line breaks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const wrapped = (encodeBase64(bytes).match(/.{1,76}/g) ?? []).join('\r\n');
        expect(decodeBase64Lenient(wrapped)).toEqual(bytes);
      }),
    );
  });
});
