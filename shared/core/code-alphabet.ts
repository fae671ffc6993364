import { randomBytes } from './tokens.js';

/** Crockford's base32 alphabet: 32 symbols, none a look-alike of another (no I, L, O, U). */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export const NAMEPLATE_LENGTH = 4;

/** Uniform random symbols: 256 is a multiple of 32, so masking the low 5 bits has no bias. */
function randomCodeSymbols(count: number): string {
  let symbols = '';
  for (const byte of randomBytes(count)) symbols += CODE_ALPHABET[byte & 31];
  return symbols;
}

export function newNameplate(): string {
  return randomCodeSymbols(NAMEPLATE_LENGTH);
}
