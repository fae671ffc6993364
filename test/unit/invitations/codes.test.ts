import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CodeFormatError,
  fileSecretBytes,
  fileSecretText,
  formatCode,
  formatInvitationPassword,
  newCodeSecret,
  newFileSecret,
  newInvitationPassword,
  normalizeCode,
  normalizeInvitationPassword,
  normalizeNameplate,
  parseCode,
} from '../../../shared/core/codes.js';
import { CODE_ALPHABET } from '../../../shared/core/code-alphabet.js';
import { refusal } from '../../support/refusal.js';

const refusalOf = (parse: () => unknown) => refusal(CodeFormatError, parse);

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));
}

const symbol = fc.constantFrom(...CODE_ALPHABET);
const symbols = (length: number) => fc.array(symbol, { minLength: length, maxLength: length }).map((s) => s.join(''));
/** Printable ASCII, separators and look-alikes people type, and a few other scripts' letters. */
const typedCharacter = fc.oneof(
  fc.string({ minLength: 1, maxLength: 1 }),
  fc.constantFrom('-', ' ', '\t', '\u00A0', '\u2013', 'o', 'i', 'l', 'u', 'U', '\u0131', '\u017F', 'ß', '\uD800'),
  symbol,
);
const typed = fc.array(typedCharacter, { maxLength: 40 }).map((characters) => characters.join(''));
/** Valid symbols as people type them: lower case, look-alikes, separators anywhere. */
const typedSymbols = (length: number) =>
  fc
    .array(fc.tuple(symbol, fc.constantFrom('', '', '-', ' '), fc.boolean()), { minLength: length, maxLength: length })
    .map((parts) => parts.map(([s, separator, lower]) => (lower ? s.toLowerCase().replace('0', 'o') : s) + separator).join(''));

describe('normalizeCode', () => {
  it.each([
    ['7kq3-abcd-efgh', '7KQ3ABCDEFGH'],
    ['  7KQ3 ABCD\tEFGH\n', '7KQ3ABCDEFGH'],
    ['7KQ3\u2013ABCD\u2014EFGH', '7KQ3ABCDEFGH'],
    ['\uFEFF7KQ3\u00A0\u200BABCD', '7KQ3ABCD'],
    ['OoIiLl', '001111'],
    ['u', 'U'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeCode(input)).toBe(expected);
  });

  it('folds only ASCII letters, so no other script turns into a symbol', () => {
    // Dotless ı and long ſ upper-case to I and S in Unicode; they must stay what they are.
    expect(normalizeCode('\u0131\u017F')).toBe('\u0131\u017F');
  });
});

describe('parseCode', () => {
  it('splits a typed code into nameplate and secret', () => {
    expect(parseCode('7kq3-abcd-efgh')).toEqual({ nameplate: '7KQ3', secret: 'ABCDEFGH' });
    expect(parseCode('7KQ3 AB0D EF1H')).toEqual({ nameplate: '7KQ3', secret: 'AB0DEF1H' });
    expect(parseCode('7kq3-abod-efih')).toEqual({ nameplate: '7KQ3', secret: 'AB0DEF1H' });
  });

  it('names the character that is not allowed', () => {
    const error = refusalOf(() => parseCode('7KQ3-ABCD-EFGU'));
    expect(error.code).toBe('invalid-character');
    expect(error.message).toContain('"U"');
    expect(error.message).toContain('0-9');
  });

  it('names a character it cannot print by its code point', () => {
    const error = refusalOf(() => parseCode('7KQ3-ABCD-EFG\u0007'));
    expect(error.code).toBe('invalid-character');
    expect(error.message).toContain('U+0007');
  });

  it.each(['7KQ3-ABCD-EFG', '7KQ3-ABCD-EFGHJ', '', '----'])('says how many symbols %j has and how many it needs', (input) => {
    const error = refusalOf(() => parseCode(input));
    expect(error.code).toBe('wrong-length');
    expect(error.message).toContain(`has ${normalizeCode(input).length} symbols`);
    expect(error.message).toContain('expected 12');
  });

  it('round-trips every formatted code (fast-check)', () => {
    fc.assert(
      fc.property(symbols(4), symbols(8), (nameplate, secret) => {
        const code = formatCode(nameplate, secret);
        expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
        expect(parseCode(code)).toEqual({ nameplate, secret });
        expect(parseCode(code.toLowerCase().replace(/-/g, ' '))).toEqual({ nameplate, secret });
      }),
    );
  });

  it('returns canonical symbols or throws nothing but CodeFormatError, whatever is typed (fast-check)', () => {
    fc.assert(
      fc.property(fc.oneof(typed, typedSymbols(12), typedSymbols(11)), (input) => {
        let parsed: { nameplate: string; secret: string };
        try {
          parsed = parseCode(input);
        } catch (error) {
          expect(error).toBeInstanceOf(CodeFormatError);
          return;
        }
        expect(parsed.nameplate + parsed.secret).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/);
        expect(parsed.nameplate + parsed.secret).toBe(normalizeCode(input));
      }),
    );
  });
});

describe('formatCode', () => {
  it('groups nameplate and secret in fours', () => {
    expect(formatCode('7KQ3', 'ABCDEFGH')).toBe('7KQ3-ABCD-EFGH');
    expect(formatCode('7kq3', 'abcdefgh')).toBe('7KQ3-ABCD-EFGH');
  });

  it('refuses parts that would not parse back, saying which part', () => {
    expect(refusalOf(() => formatCode('7KQ', 'ABCDEFGH')).message).toContain('nameplate');
    expect(refusalOf(() => formatCode('7KQ3', 'ABCDEFG')).message).toContain('code secret');
  });
});

describe('normalizeNameplate', () => {
  it('upper-cases and checks 4 symbols', () => {
    expect(normalizeNameplate('7kq3')).toBe('7KQ3');
    expect(refusalOf(() => normalizeNameplate('7KQ3A')).code).toBe('wrong-length');
    expect(refusalOf(() => normalizeNameplate('7KQ%')).code).toBe('invalid-character');
  });
});

describe('random codes', () => {
  it('makes 8-symbol code secrets and passwords of the alphabet', () => {
    for (let i = 0; i < 50; i++) {
      expect(newCodeSecret()).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
      expect(newInvitationPassword()).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    }
  });

  it('uses every symbol in every position', () => {
    // 2000 draws miss a given symbol at a given position with probability (31/32)^2000 ≈ 3e-28.
    const seen = Array.from({ length: 8 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) {
      [...newCodeSecret()].forEach((s, position) => seen[position]!.add(s));
    }
    for (const position of seen) expect(position.size).toBe(32);
  });

  it('makes 26-symbol file secrets that decode to 16 bytes and back', () => {
    for (let i = 0; i < 50; i++) {
      const secret = newFileSecret();
      expect(secret).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
      expect(fileSecretText(fileSecretBytes(secret))).toBe(secret);
    }
    expect(newFileSecret()).not.toBe(newFileSecret());
  });
});

describe('invitation password', () => {
  it('normalises and formats 8 symbols', () => {
    expect(normalizeInvitationPassword('ab0d-ef1h')).toBe('AB0DEF1H');
    expect(normalizeInvitationPassword(' abod efih ')).toBe('AB0DEF1H');
    expect(formatInvitationPassword('AB0DEF1H')).toBe('AB0D-EF1H');
  });

  it('refuses the wrong length and foreign characters with the typed error', () => {
    const short = refusalOf(() => normalizeInvitationPassword('ABCD-EFG'));
    expect(short.code).toBe('wrong-length');
    expect(short.message).toContain('password has 7 symbols; expected 8');
    expect(refusalOf(() => normalizeInvitationPassword('ABCD-EFGU')).code).toBe('invalid-character');
  });

  it('round-trips and never throws anything but CodeFormatError (fast-check)', () => {
    fc.assert(
      fc.property(symbols(8), (password) => {
        expect(normalizeInvitationPassword(formatInvitationPassword(password))).toBe(password);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(typed, typedSymbols(8)), (input) => {
        try {
          expect(normalizeInvitationPassword(input)).toHaveLength(8);
        } catch (error) {
          expect(error).toBeInstanceOf(CodeFormatError);
        }
      }),
    );
  });
});

describe('file secret encoding', () => {
  // Computed independently (Python: int.from_bytes(bytes, 'big') read 5 bits at a time, 26 symbols).
  it.each([
    ['00000000000000000000000000000000', '00000000000000000000000000'],
    ['00000000000000000000000000000001', '00000000000000000000000001'],
    ['80000000000000000000000000000000', '40000000000000000000000000'],
    ['ffffffffffffffffffffffffffffffff', '7ZZZZZZZZZZZZZZZZZZZZZZZZZ'],
    ['000102030405060708090a0b0c0d0e0f', '00041061050R3GG28A1C60T3GF'],
    ['deadbeef00112233445566778899aabb', '6YNPZEY00H48SM8NB6EY49KANV'],
  ])('%s ↔ %s', (bytesHex, text) => {
    expect(fileSecretText(hex(bytesHex))).toBe(text);
    expect(fileSecretBytes(text)).toEqual(hex(bytesHex));
  });

  it('accepts typed variations of the same secret', () => {
    expect(fileSecretBytes('6ynp-zey0-oh48-sm8n-b6ey-49ka-nv')).toEqual(hex('deadbeef00112233445566778899aabb'));
  });

  it('refuses a first symbol above 7: it would set bits beyond the 128', () => {
    const error = refusalOf(() => fileSecretBytes('8' + '0'.repeat(25)));
    expect(error.code).toBe('non-canonical');
    expect(error.message).toContain('0 to 7');
  });

  it('refuses other lengths', () => {
    expect(refusalOf(() => fileSecretBytes('0'.repeat(25))).code).toBe('wrong-length');
    expect(() => fileSecretText(new Uint8Array(15))).toThrow(RangeError);
  });

  it('round-trips any 16 bytes, and decodes any text only to bytes that encode back to it (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        expect(fileSecretBytes(fileSecretText(bytes))).toEqual(bytes);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(typed, typedSymbols(26)), (text) => {
        let bytes: Uint8Array;
        try {
          bytes = fileSecretBytes(text);
        } catch (error) {
          expect(error).toBeInstanceOf(CodeFormatError);
          return;
        }
        expect(fileSecretText(bytes)).toBe(normalizeCode(text));
      }),
    );
  });
});
