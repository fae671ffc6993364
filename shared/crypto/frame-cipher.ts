// AES-256-GCM record protection for the SDK's reliable stream (the FrameCodec of frame-codec.ts).
//
// Per direction and epoch:  key = HKDF-Expand(traffic secret, lv_cat("assist-relay v1 frame key", dir, epoch), 32)
//                           iv  = HKDF-Expand(traffic secret, lv_cat("assist-relay v1 frame iv",  dir, epoch), 12)
// nonce = iv XOR (0x00 × 7 || space || seq as uint32 big-endian); AAD = the 8-byte header.
// Within one key (one direction, one epoch) every (space, seq) pair gives a distinct nonce, and the
// stream layer never seals a (space, seq) twice, so no nonce ever repeats under a key.
// epoch = seq >>> 22 is a function of seq, so a retransmit or a reorder across an epoch boundary
// still opens, and a frame moved into another epoch's header fails (epoch-mismatch or tag).

import { expand } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { AES_256_KEY_BYTES, AES_GCM_NONCE_BYTES, AES_GCM_TAG_BYTES, aesGcmOpen, aesGcmSeal, importAesGcmKey } from './aes-gcm.js';
import { constantTimeEqual } from './bytes.js';
import { lvCat } from './cpace.js';
import {
  type Direction,
  FRAME_FORMAT_AES_256_GCM,
  FRAME_HEADER_BYTES,
  FrameAuthError,
  type FrameCodec,
  type Space,
  assertSealable,
  epochOf,
  readFrameHeader,
  writeFrameHeader,
} from './frame-codec.js';

/** Traffic secrets are HKDF-SHA512 outputs of hash length, as HKDF-Expand wants its PRK. */
export const TRAFFIC_SECRET_BYTES = 64;
/** What sealing adds to a body: the header and the GCM tag. */
export const FRAME_CIPHER_OVERHEAD_BYTES = FRAME_HEADER_BYTES + AES_GCM_TAG_BYTES;
/** Epoch keys kept per direction: enough for reorders around an epoch boundary; older ones are re-derived on demand. */
const CACHED_EPOCHS = 4;

const KEY_LABEL = utf8ToBytes('assist-relay v1 frame key');
const IV_LABEL = utf8ToBytes('assist-relay v1 frame iv');

export interface FrameCipherOptions {
  role: 'expert' | 'agent';
  /** 64-byte traffic secret for what this side sends (from the handshake result). */
  sendSecret: Uint8Array;
  /** 64-byte traffic secret for what the peer sends. */
  receiveSecret: Uint8Array;
}

interface EpochKey {
  key: CryptoKey;
  iv: Uint8Array;
}

/** One direction's secret, its per-epoch keys, and a nonce buffer reused by every frame. */
class DirectionKeys {
  readonly direction: Direction;
  readonly #secret: Uint8Array;
  readonly #epochs = new Map<number, Promise<EpochKey>>();
  readonly #nonce = new Uint8Array(AES_GCM_NONCE_BYTES);

  constructor(direction: Direction, secret: Uint8Array) {
    this.direction = direction;
    this.#secret = secret.slice();
  }

  forEpoch(epoch: number): Promise<EpochKey> {
    let entry = this.#epochs.get(epoch);
    if (entry === undefined) {
      entry = this.#derive(epoch);
      this.#epochs.set(epoch, entry);
      // Maps iterate in insertion order, so the first key is the least recently derived epoch.
      if (this.#epochs.size > CACHED_EPOCHS) this.#epochs.delete(this.#epochs.keys().next().value!);
    }
    return entry;
  }

  /** Fills the shared nonce buffer; valid until the next call, which is fine because WebCrypto copies it on use. */
  nonce(iv: Uint8Array, space: Space, seq: number): Uint8Array {
    const nonce = this.#nonce;
    nonce.set(iv);
    nonce[7]! ^= space === 'control' ? 1 : 0;
    nonce[8]! ^= seq >>> 24;
    nonce[9]! ^= (seq >>> 16) & 0xff;
    nonce[10]! ^= (seq >>> 8) & 0xff;
    nonce[11]! ^= seq & 0xff;
    return nonce;
  }

  async #derive(epoch: number): Promise<EpochKey> {
    const context = [Uint8Array.of(this.direction === 'agent-to-expert' ? 1 : 0), Uint8Array.of(epoch >>> 8, epoch & 0xff)];
    const rawKey = expand(sha512, this.#secret, lvCat(KEY_LABEL, ...context), AES_256_KEY_BYTES);
    const iv = expand(sha512, this.#secret, lvCat(IV_LABEL, ...context), AES_GCM_NONCE_BYTES);
    try {
      return { key: await importAesGcmKey(rawKey), iv };
    } finally {
      rawKey.fill(0);
    }
  }
}

/** The encrypting FrameCodec for one side of an established session. */
export function createFrameCipher(options: FrameCipherOptions): FrameCodec {
  const { role, sendSecret, receiveSecret } = options;
  if (sendSecret.length !== TRAFFIC_SECRET_BYTES || receiveSecret.length !== TRAFFIC_SECRET_BYTES) {
    throw new RangeError(`Traffic secrets are ${TRAFFIC_SECRET_BYTES} bytes`);
  }
  // Equal secrets mean the caller passed one direction's secret twice; the handshake never produces them.
  if (constantTimeEqual(sendSecret, receiveSecret)) throw new RangeError('Send and receive secrets must differ');
  const [sendDirection, receiveDirection]: [Direction, Direction] =
    role === 'expert' ? ['expert-to-agent', 'agent-to-expert'] : ['agent-to-expert', 'expert-to-agent'];
  const send = new DirectionKeys(sendDirection, sendSecret);
  const receive = new DirectionKeys(receiveDirection, receiveSecret);

  return {
    async seal(space, seq, body) {
      assertSealable(space, seq, body);
      const { key, iv } = await send.forEpoch(epochOf(seq));
      const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length + AES_GCM_TAG_BYTES);
      writeFrameHeader(frame, { format: FRAME_FORMAT_AES_256_GCM, direction: send.direction, space, seq });
      const header = frame.subarray(0, FRAME_HEADER_BYTES);
      frame.set(await aesGcmSeal(key, send.nonce(iv, space, seq), header, body), FRAME_HEADER_BYTES);
      return frame;
    },

    async open(frame) {
      const { direction, space, seq } = readFrameHeader(frame, FRAME_FORMAT_AES_256_GCM, AES_GCM_TAG_BYTES);
      if (direction !== receive.direction) throw new FrameAuthError('reflected-frame');
      const { key, iv } = await receive.forEpoch(epochOf(seq));
      const header = frame.subarray(0, FRAME_HEADER_BYTES);
      try {
        const body = await aesGcmOpen(key, receive.nonce(iv, space, seq), header, frame.subarray(FRAME_HEADER_BYTES));
        return { space, seq, body };
      } catch {
        throw new FrameAuthError('authentication-failed');
      }
    },
  };
}
