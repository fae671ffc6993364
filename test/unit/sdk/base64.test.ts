import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../../sdk/base64.js';

describe('base64', () => {
  it('matches the standard encoding and round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(text)).toEqual(bytes);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects anything but canonical padded base64', () => {
    for (const text of ['abc', 'ab=c', 'YQ', 'YQ==\n', 'a-_b', 'Y Q==']) {
      expect(() => decodeBase64(text), text).toThrow('invalid base64');
    }
  });
});
