// CPace, cipher suite CPACE-RISTR255-SHA512, as specified in draft-irtf-cfrg-cpace-21 (sections
// "CPace protocol instructions", "Common function for computing generators", "CPace group objects
// G_Ristretto255 and G_Decaf448", and the appendix "CPace function definitions").
// Pure code over @noble/curves and @noble/hashes, so it runs unchanged in Node and browsers.
// The draft's ristretto255 test vectors are checked in test/unit/crypto/cpace.test.ts.

import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { constantTimeEqual } from './bytes.js';
import { HandshakeError } from './errors.js';

type RistrettoPoint = InstanceType<typeof ristretto255.Point>;

/** G_Ristretto255.DSI. */
export const CPACE_DSI = utf8ToBytes('CPaceRistretto255');
/** G.DSI || "_ISK", the domain separator of the ISK hash. */
const ISK_DSI = utf8ToBytes('CPaceRistretto255_ISK');
/** H.s_in_bytes: SHA-512 processes 128-byte blocks; the generator string pads PRS to fill the first one. */
const SHA512_BLOCK_BYTES = 128;
/** Encoded group element (Ya, Yb, K) and G.I, its all-zero identity encoding. */
export const CPACE_SHARE_BYTES = 32;
export const CPACE_IDENTITY: Uint8Array = new Uint8Array(CPACE_SHARE_BYTES);

/** prepend_len: the LEB128-encoded length, then the bytes. */
export function prependLen(data: Uint8Array): Uint8Array {
  const length: number[] = [];
  let remaining = data.length;
  do {
    const low = remaining & 0x7f;
    remaining = Math.floor(remaining / 128);
    length.push(remaining > 0 ? low | 0x80 : low);
  } while (remaining > 0);
  return concatBytes(Uint8Array.from(length), data);
}

/** lv_cat: every argument length-prefixed, so no two argument lists encode to the same bytes. */
export function lvCat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(...parts.map(prependLen));
}

/** generator_string(G.DSI, PRS, CI, sid, H.s_in_bytes). */
export function generatorString(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const zeroPadLength = Math.max(
    0,
    SHA512_BLOCK_BYTES - 1 - prependLen(prs).length - prependLen(CPACE_DSI).length,
  );
  return lvCat(CPACE_DSI, prs, new Uint8Array(zeroPadLength), ci, sid);
}

/** calculate_generator: SHA-512 of the generator string, mapped by RFC 9496 element derivation. */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): RistrettoPoint {
  return ristretto255_hasher.deriveToCurve!(sha512(generatorString(prs, ci, sid)));
}

/**
 * sample_scalar as the draft recommends: 32 random bytes with the bits above group_size_bits (252)
 * cleared, read little-endian. Every such value is below the group order; zero is redrawn because
 * it would make the share the identity.
 */
export function sampleScalar(): bigint {
  for (;;) {
    const bytes = randomBytes(32);
    bytes[31]! &= 0x0f;
    const scalar = bytesToNumberLE(bytes);
    bytes.fill(0);
    if (scalar !== 0n) return scalar;
  }
}

/** scalar_mult(y, g): the encoded share Y = y·g. */
export function scalarMult(scalar: bigint, generator: RistrettoPoint): Uint8Array {
  return generator.multiply(scalar).toBytes();
}

/** scalar_mult_vfy(y, X): encode(y·decode(X)), or G.I when X is not a canonical encoding. */
export function scalarMultVfy(scalar: bigint, encoded: Uint8Array): Uint8Array {
  let point: RistrettoPoint;
  try {
    point = ristretto255.Point.fromBytes(encoded);
  } catch {
    return CPACE_IDENTITY.slice();
  }
  return point.multiply(scalar).toBytes();
}

/** transcript_ir: the initiator's message first, as the initiator-responder setting requires. */
export function transcriptIr(ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return concatBytes(lvCat(ya, ada), lvCat(yb, adb));
}

export type CpaceRole = 'initiator' | 'responder';

export interface CpaceInputs {
  role: CpaceRole;
  /** Password-related string: the shared secret. */
  prs: Uint8Array;
  /** Channel identifier: confidential context both sides must agree on (never sent). */
  ci: Uint8Array;
  /** Session identifier: public and unique per session. */
  sid: Uint8Array;
  /** This party's associated data (ADa or ADb), sent in clear beside its share. */
  ad?: Uint8Array;
}

/** One party's CPace run: holds its secret scalar between sending its share and receiving the peer's. */
export class CpaceParty {
  /** This party's share, Ya or Yb. */
  readonly share: Uint8Array;
  readonly #role: CpaceRole;
  readonly #sid: Uint8Array;
  readonly #ad: Uint8Array;
  #scalar: bigint | undefined;

  /** `scalar` is for test vectors only; production code lets it be sampled. */
  constructor(inputs: CpaceInputs, scalar: bigint = sampleScalar()) {
    this.#role = inputs.role;
    this.#sid = inputs.sid;
    this.#ad = inputs.ad ?? new Uint8Array(0);
    this.#scalar = scalar;
    this.share = scalarMult(scalar, calculateGenerator(inputs.prs, inputs.ci, inputs.sid));
  }

  /**
   * Derives ISK from the peer's share (transcript_ir ordering). Usable once: the scalar is dropped
   * afterwards because the draft forbids reusing it. K itself never leaves this method.
   */
  deriveIsk(peerShare: Uint8Array, peerAd: Uint8Array = new Uint8Array(0)): Uint8Array {
    const scalar = this.#scalar;
    if (scalar === undefined) throw new HandshakeError('wrong-state');
    this.#scalar = undefined;
    const sharedPoint = scalarMultVfy(scalar, peerShare);
    if (constantTimeEqual(sharedPoint, CPACE_IDENTITY)) throw new HandshakeError('invalid-point');
    const transcript =
      this.#role === 'initiator'
        ? transcriptIr(this.share, this.#ad, peerShare, peerAd)
        : transcriptIr(peerShare, peerAd, this.share, this.#ad);
    const hashInput = concatBytes(lvCat(ISK_DSI, this.#sid, sharedPoint), transcript);
    sharedPoint.fill(0);
    const isk = sha512(hashInput);
    hashInput.fill(0);
    return isk;
  }
}
