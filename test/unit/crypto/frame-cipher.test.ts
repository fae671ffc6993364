import { expand } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aesGcmSeal, importAesGcmKey } from '../../../shared/crypto/aes-gcm.js';
import { lvCat } from '../../../shared/crypto/cpace.js';
import { FRAME_CIPHER_OVERHEAD_BYTES, createFrameCipher } from '../../../shared/crypto/frame-cipher.js';
import {
  FRAME_HEADER_BYTES,
  FrameAuthError,
  type FrameCodec,
  MAX_FRAME_BODY_BYTES,
  MAX_SEQ,
  createPlainCodec,
  epochOf,
} from '../../../shared/crypto/frame-codec.js';
import { caughtAsync, expectFrameAuthError } from './helpers.js';
import { party, password, runHandshake } from './handshake-driver.js';

const TAG_BYTES = FRAME_CIPHER_OVERHEAD_BYTES - FRAME_HEADER_BYTES;
const EPOCH = 2 ** 22;
const body = new TextEncoder().encode('pointer moved to (120, 48)');

/** A pair of codecs from a real handshake, so the test covers the handshake → cipher hand-off too. */
function sessionCodecs(): { expert: FrameCodec; agent: FrameCodec } {
  const run = runHandshake(party('expert', password('K7QMX2PA')), party('agent', password('K7QMX2PA')));
  return { expert: createFrameCipher(run.expertResult!), agent: createFrameCipher(run.agentResult!) };
}

function withSeq(frame: Uint8Array, seq: number, epoch = epochOf(seq)): Uint8Array {
  const copy = frame.slice();
  const view = new DataView(copy.buffer);
  view.setUint16(2, epoch);
  view.setUint32(4, seq);
  return copy;
}

describe('frame cipher', () => {
  const { expert, agent } = sessionCodecs();

  it('opens what the peer sealed, both ways, in both spaces', async () => {
    for (const [from, to] of [[expert, agent], [agent, expert]] as const) {
      for (const space of ['data', 'control'] as const) {
        const frame = await from.seal(space, 7, body);
        expect(frame).toHaveLength(body.length + FRAME_CIPHER_OVERHEAD_BYTES);
        expect(FRAME_CIPHER_OVERHEAD_BYTES).toBe(24);
        expect(await to.open(frame)).toEqual({ space, seq: 7, body });
      }
    }
  });

  it('hides the body', async () => {
    const frame = await expert.seal('data', 1, body);
    const text = new TextDecoder().decode(frame);
    expect(text).not.toContain('pointer');
  });

  it('opens empty and maximal bodies and the last seq', async () => {
    for (const [seq, payload] of [[0, new Uint8Array(0)], [MAX_SEQ, new Uint8Array(MAX_FRAME_BODY_BYTES).fill(1)]] as const) {
      expect(await agent.open(await expert.seal('data', seq, payload))).toEqual({ space: 'data', seq, body: payload });
    }
  });

  it('opens retransmits and reorders across an epoch boundary', async () => {
    const seqs = [EPOCH - 2, EPOCH - 1, EPOCH, EPOCH + 1, 3 * EPOCH, 9 * EPOCH];
    const frames = await Promise.all(seqs.map((seq) => expert.seal('data', seq, Uint8Array.of(seq & 0xff))));
    const order = [2, 0, 5, 3, 1, 4, 0, 2];
    for (const i of order) {
      expect(await agent.open(frames[i]!)).toEqual({ space: 'data', seq: seqs[i], body: Uint8Array.of(seqs[i]! & 0xff) });
    }
  });

  it('opens many concurrent frames correctly (shared nonce buffers are safe)', async () => {
    const frames = await Promise.all(Array.from({ length: 64 }, (_, seq) => expert.seal(seq % 2 ? 'control' : 'data', seq, Uint8Array.of(seq))));
    const opened = await Promise.all(frames.map((frame) => agent.open(frame)));
    opened.forEach(({ seq, body: payload }, i) => expect([seq, payload[0]]).toEqual([i, i]));
  });

  it('accepts a replayed frame only as the same (space, seq): replay policy is the stream layer\'s', async () => {
    const frame = await expert.seal('data', 42, body);
    expect(await agent.open(frame)).toEqual(await agent.open(frame.slice()));
  });

  it('gives data and control with the same seq different nonces (different keystreams)', async () => {
    const ciphertextOf = (frame: Uint8Array) => frame.subarray(FRAME_HEADER_BYTES, frame.length - TAG_BYTES);
    const data = await expert.seal('data', 3, body);
    const control = await expert.seal('control', 3, body);
    expect(ciphertextOf(data)).not.toEqual(ciphertextOf(control));
  });

  it('rejects a frame reflected back to its sender', async () => {
    const fromExpert = await expert.seal('data', 1, body);
    expectFrameAuthError(await caughtAsync(() => expert.open(fromExpert)), 'reflected-frame');
    const fromAgent = await agent.seal('control', 1, body);
    expectFrameAuthError(await caughtAsync(() => agent.open(fromAgent)), 'reflected-frame');
  });

  it('rejects a frame whose direction bit was flipped to pass the reflection check', async () => {
    const frame = await expert.seal('data', 1, body);
    frame[1]! ^= 0b01;
    expectFrameAuthError(await caughtAsync(() => expert.open(frame)), 'authentication-failed');
  });

  it('rejects frames spliced into another seq, space or epoch', async () => {
    const frame = await expert.seal('data', EPOCH + 5, body);
    // Inconsistent header: epoch field no longer matches seq.
    expectFrameAuthError(await caughtAsync(() => agent.open(withSeq(frame, EPOCH + 5, 2))), 'epoch-mismatch');
    expectFrameAuthError(await caughtAsync(() => agent.open(withSeq(frame, EPOCH + 5, 0))), 'epoch-mismatch');
    // Consistent headers that claim another seq in the same epoch, or another epoch.
    expectFrameAuthError(await caughtAsync(() => agent.open(withSeq(frame, EPOCH + 6))), 'authentication-failed');
    expectFrameAuthError(await caughtAsync(() => agent.open(withSeq(frame, 5))), 'authentication-failed');
    expectFrameAuthError(await caughtAsync(() => agent.open(withSeq(frame, 2 * EPOCH + 5))), 'authentication-failed');
    const otherSpace = frame.slice();
    otherSpace[1]! ^= 0b10;
    expectFrameAuthError(await caughtAsync(() => agent.open(otherSpace)), 'authentication-failed');
  });

  it('rejects every single-byte change in header, ciphertext and tag', async () => {
    const frame = await expert.seal('data', EPOCH - 1, body);
    const regions = { header: [0, FRAME_HEADER_BYTES], ciphertext: [FRAME_HEADER_BYTES, frame.length - TAG_BYTES], tag: [frame.length - TAG_BYTES, frame.length] };
    for (const [region, [from, to]] of Object.entries(regions)) {
      for (let position = from!; position < to!; position++) {
        for (const mask of [0x01, 0x80]) {
          const tampered = frame.slice();
          tampered[position]! ^= mask;
          const error = await caughtAsync(() => agent.open(tampered));
          expect(error, `${region} byte ${position} mask ${mask}`).toBeInstanceOf(FrameAuthError);
        }
      }
    }
  });

  it('rejects truncated and extended frames', async () => {
    const frame = await expert.seal('data', 1, body);
    expectFrameAuthError(await caughtAsync(() => agent.open(frame.subarray(0, frame.length - 1))), 'authentication-failed');
    expectFrameAuthError(await caughtAsync(() => agent.open(Uint8Array.of(...frame, 0))), 'authentication-failed');
    expectFrameAuthError(await caughtAsync(() => agent.open(frame.subarray(0, FRAME_HEADER_BYTES + TAG_BYTES - 1))), 'malformed-frame');
  });

  it('rejects frames of another session', async () => {
    const other = sessionCodecs();
    const frame = await other.expert.seal('data', 1, body);
    expectFrameAuthError(await caughtAsync(() => agent.open(frame)), 'authentication-failed');
  });

  it('does not open plain frames, and the plain codec does not open encrypted ones', async () => {
    const plain = createPlainCodec();
    expectFrameAuthError(await caughtAsync(async () => agent.open(await plain.seal('data', 1, body))), 'unsupported-version');
    expectFrameAuthError(await caughtAsync(async () => plain.open(await expert.seal('data', 1, body))), 'unsupported-version');
  });

  it('throws nothing but FrameAuthError for arbitrary bytes (fast-check)', async () => {
    const sealed = await expert.seal('control', 77, body);
    const mutated = fc
      .tuple(fc.nat({ max: sealed.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.nat({ max: sealed.length }))
      .map(([position, mask, length]) => {
        const copy = sealed.slice(0, Math.max(length, position + 1));
        copy[position]! ^= mask;
        return copy;
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 80 }), mutated), async (bytes) => {
        const error = await caughtAsync(() => agent.open(bytes));
        expect(error).toBeInstanceOf(FrameAuthError);
      }),
      { numRuns: 1000 },
    );
  });

  it('follows the documented per-epoch key schedule, nonce and header (docs/protocol.md)', async () => {
    const sendSecret = new Uint8Array(64).fill(0x11);
    const codec = createFrameCipher({ role: 'agent', sendSecret, receiveSecret: new Uint8Array(64).fill(0x22) });
    const seq = 5 * EPOCH + 0x0123;
    const frame = await codec.seal('control', seq, body);

    const header = Uint8Array.of(0x01, 0b11, 0x00, 0x05, 0x01, 0x40, 0x01, 0x23);
    const context = [Uint8Array.of(1), Uint8Array.of(0, 5)]; // agent-to-expert, epoch 5
    const label = (text: string) => new TextEncoder().encode(text);
    const key = await importAesGcmKey(expand(sha512, sendSecret, lvCat(label('assist-relay v1 frame key'), ...context), 32));
    const nonce = expand(sha512, sendSecret, lvCat(label('assist-relay v1 frame iv'), ...context), 12);
    nonce[7]! ^= 1; // control space
    [0x01, 0x40, 0x01, 0x23].forEach((byte, i) => (nonce[8 + i]! ^= byte));
    const expected = new Uint8Array([...header, ...(await aesGcmSeal(key, nonce, header, body))]);
    expect(frame).toEqual(expected);
  });

  it('validates its options', () => {
    const secret = new Uint8Array(64).fill(1);
    expect(() => createFrameCipher({ role: 'expert', sendSecret: new Uint8Array(32), receiveSecret: secret })).toThrow(RangeError);
    expect(() => createFrameCipher({ role: 'expert', sendSecret: secret, receiveSecret: secret.slice() })).toThrow(RangeError);
  });
});
