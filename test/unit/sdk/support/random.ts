import { createHash } from 'node:crypto';

/** The local runtime's seeded PRNG, so a failing fast-check seed replays the same network decisions. */
export { seededRandom } from '../../../../infra/local/chaos.js';

/** Deterministic bytes that differ per message, so a swapped, shifted or truncated message is noticed. */
export function patternedMessage(size: number, tag: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index++) bytes[index] = (index * 31 + tag * 17 + (index >>> 8)) & 0xff;
  return bytes;
}

/** Length and digest: compares large messages fast, and reads well in a failed assertion. */
export function fingerprint(bytes: Uint8Array): string {
  return `${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`;
}
