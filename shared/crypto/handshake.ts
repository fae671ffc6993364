// The session handshake, version 2: CPace (initiator = expert, responder = agent) with a session
// identifier made of both sides' fresh nonces, a commitment to the expert's share first, then an
// HKDF-SHA512 key schedule bound to the whole transcript, and HMAC-SHA512 key confirmation.
// Transport-agnostic: bytes in, bytes out. docs/protocol.md has the message flow, the key schedule
// and the security argument.
//
//   expert                                   agent
//   start()            ── hello(Ne) ───────▶  receive(): sid = Ne || Na
//   receive(): sid     ◀─────── hello(Na) ──  start()
//      reply commit    ── commit ──────────▶  receive(): reply share
//   receive(): reply   ◀────────── share ──
//              reveal  ── reveal ──────────▶  receive(): checks commitment and expert tag,
//                                                        reply confirm, established
//   receive():         ◀──────── confirm ──
//      established
//
// Both sides send their hello at once (start()); CPace's generator needs sid, so each side computes
// its share only once the other's hello is in. Every error is fatal: the handshake moves to 'failed',
// wipes what it holds and throws a HandshakeError. The caller then sends
// encodeHandshakeMessage({ type: 'abort' }) so the peer stops too.

import { hmac } from '@noble/hashes/hmac.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { constantTimeEqual } from './bytes.js';
import { CpaceParty, lvCat } from './cpace.js';
import { HandshakeError } from './errors.js';
import { TRAFFIC_SECRET_BYTES } from './frame-cipher.js';
import {
  COMMITMENT_NONCE_BYTES,
  HANDSHAKE_VERSION,
  SID_NONCE_BYTES,
  type HandshakeMessage,
  encodeHandshakeMessage,
  parseHandshakeMessage,
} from './handshake-messages.js';

export { HandshakeError, type HandshakeErrorCode } from './errors.js';

export type HandshakeRole = 'expert' | 'agent';

export type HandshakeState =
  | 'ready'
  | 'awaiting-hello'
  | 'awaiting-commit'
  | 'awaiting-share'
  | 'awaiting-reveal'
  | 'awaiting-confirm'
  | 'established'
  | 'failed';

export interface HandshakeContext {
  /** The relay's origin exactly as `new URL(relayUrl).origin` serializes it; both sides must agree byte for byte. */
  relayOrigin: string;
  nameplate: string;
  sessionId: string;
}

export interface HandshakeOptions extends HandshakeContext {
  role: HandshakeRole;
  /** CPace's PRS: passwordRelatedString(secret, invitationPassword). */
  password: Uint8Array;
}

export interface HandshakeResult {
  role: HandshakeRole;
  /** Six decimal digits both sides display; equal on both sides unless someone is in the middle. */
  verificationCode: string;
  /** 64-byte traffic secret for what this side sends; feed both secrets to createFrameCipher. */
  sendSecret: Uint8Array;
  receiveSecret: Uint8Array;
}

export interface HandshakeStep {
  /** Bytes to deliver to the peer, if any. */
  reply?: Uint8Array;
  /** Present once this side is established. */
  established?: HandshakeResult;
}

const CHANNEL_LABEL = utf8ToBytes('assist-relay');
const COMMIT_LABEL = utf8ToBytes('assist-relay v2 commit');
const TRANSCRIPT_LABEL = utf8ToBytes('assist-relay v2 transcript');
const EXPERT_TRAFFIC_LABEL = utf8ToBytes('assist-relay v2 expert-to-agent traffic');
const AGENT_TRAFFIC_LABEL = utf8ToBytes('assist-relay v2 agent-to-expert traffic');
const EXPERT_CONFIRM_LABEL = utf8ToBytes('assist-relay v2 expert confirmation');
const AGENT_CONFIRM_LABEL = utf8ToBytes('assist-relay v2 agent confirmation');
const CODE_LABEL = utf8ToBytes('assist-relay v2 verification code');
const CONFIRM_KEY_BYTES = 64;
const CODE_SOURCE_BYTES = 8;
const CODE_MODULUS = 1_000_000n;

/** PRS = lv_cat(secret, invitation password): length-prefixed, so no secret/password split collides with another. */
export function passwordRelatedString(secret: Uint8Array, invitationPassword: Uint8Array = new Uint8Array(0)): Uint8Array {
  return lvCat(secret, invitationPassword);
}

/** CPace's CI: protocol, version, where, which invitation and relay session, and the roles in initiator-responder order. */
export function channelIdentifier(context: HandshakeContext): Uint8Array {
  return lvCat(
    CHANNEL_LABEL,
    Uint8Array.of(HANDSHAKE_VERSION),
    utf8ToBytes(context.relayOrigin),
    utf8ToBytes(context.nameplate),
    utf8ToBytes(context.sessionId),
    utf8ToBytes('expert'),
    utf8ToBytes('agent'),
  );
}

/**
 * CPace's sid: the concatenation of the two sides' fresh nonces, initiator (expert) first, as the
 * draft's "Nonce values" section suggests. Both have a fixed length, so the concatenation is unambiguous.
 */
export function sessionIdentifier(expertNonce: Uint8Array, agentNonce: Uint8Array): Uint8Array {
  if (expertNonce.length !== SID_NONCE_BYTES || agentNonce.length !== SID_NONCE_BYTES) {
    throw new RangeError(`sid nonces are ${SID_NONCE_BYTES} bytes`);
  }
  const sid = new Uint8Array(2 * SID_NONCE_BYTES);
  sid.set(expertNonce);
  sid.set(agentNonce, SID_NONCE_BYTES);
  return sid;
}

/** The expert's hash commitment to its share. */
export function commitmentTo(nonce: Uint8Array, share: Uint8Array): Uint8Array {
  return sha512(lvCat(COMMIT_LABEL, nonce, share));
}

/**
 * A uniform 64-bit integer reduced mod 10^6: the bias is below 10^6 / 2^64 ≈ 5.4·10^-14 per code,
 * negligible next to the 10^-6 a guess has anyway.
 */
export function verificationCodeFrom(bytes: Uint8Array): string {
  if (bytes.length !== CODE_SOURCE_BYTES) throw new RangeError(`Verification code source is ${CODE_SOURCE_BYTES} bytes`);
  const value = new DataView(bytes.buffer, bytes.byteOffset, CODE_SOURCE_BYTES).getBigUint64(0);
  return (value % CODE_MODULUS).toString().padStart(6, '0');
}

interface TranscriptFields {
  ci: Uint8Array;
  sid: Uint8Array;
  commitment: Uint8Array;
  agentShare: Uint8Array;
  nonce: Uint8Array;
  expertShare: Uint8Array;
}

interface SessionSecrets {
  expertToAgent: Uint8Array;
  agentToExpert: Uint8Array;
  expertTag: Uint8Array;
  agentTag: Uint8Array;
  verificationCode: string;
}

/**
 * ISK → PRK = HKDF-Extract(salt = transcript hash, ISK) → traffic secrets, confirmation keys and
 * verification code by HKDF-Expand with distinct labels. Confirmation tags are HMACs of the
 * transcript hash. Wipes the ISK and every intermediate key.
 */
function deriveSessionSecrets(isk: Uint8Array, transcript: TranscriptFields): SessionSecrets {
  const transcriptHash = sha512(
    lvCat(
      TRANSCRIPT_LABEL,
      transcript.ci,
      transcript.sid,
      transcript.commitment,
      transcript.agentShare,
      transcript.nonce,
      transcript.expertShare,
    ),
  );
  const prk = extract(sha512, isk, transcriptHash);
  isk.fill(0);
  const expertConfirmKey = expand(sha512, prk, EXPERT_CONFIRM_LABEL, CONFIRM_KEY_BYTES);
  const agentConfirmKey = expand(sha512, prk, AGENT_CONFIRM_LABEL, CONFIRM_KEY_BYTES);
  const codeSource = expand(sha512, prk, CODE_LABEL, CODE_SOURCE_BYTES);
  const secrets: SessionSecrets = {
    expertToAgent: expand(sha512, prk, EXPERT_TRAFFIC_LABEL, TRAFFIC_SECRET_BYTES),
    agentToExpert: expand(sha512, prk, AGENT_TRAFFIC_LABEL, TRAFFIC_SECRET_BYTES),
    expertTag: hmac(sha512, expertConfirmKey, transcriptHash),
    agentTag: hmac(sha512, agentConfirmKey, transcriptHash),
    verificationCode: verificationCodeFrom(codeSource),
  };
  for (const key of [prk, expertConfirmKey, agentConfirmKey, codeSource]) key.fill(0);
  return secrets;
}

function resultFor(role: HandshakeRole, secrets: SessionSecrets): HandshakeResult {
  const expert = role === 'expert';
  return {
    role,
    verificationCode: secrets.verificationCode,
    sendSecret: expert ? secrets.expertToAgent : secrets.agentToExpert,
    receiveSecret: expert ? secrets.agentToExpert : secrets.expertToAgent,
  };
}

function wipe(secrets: SessionSecrets | undefined): void {
  if (secrets === undefined) return;
  for (const bytes of [secrets.expertToAgent, secrets.agentToExpert, secrets.expertTag, secrets.agentTag]) bytes.fill(0);
}

export class Handshake {
  readonly role: HandshakeRole;
  #state: HandshakeState;
  readonly #ci: Uint8Array;
  /** CPace's PRS, held only until the peer's hello lets CPace compute its generator. */
  #prs: Uint8Array | undefined;
  /** This side's contribution to sid, sent in its hello. */
  readonly #sidNonce: Uint8Array;
  /** Both nonces, once the peer's hello is in. */
  #sid: Uint8Array | undefined;
  #cpace: CpaceParty | undefined;
  /** Expert: its commitment nonce. */
  #nonce: Uint8Array | undefined;
  /** The commitment the expert sent, or the agent received. */
  #commitment: Uint8Array | undefined;
  /** Expert: derived secrets held back until the agent's tag verifies. */
  #pending: SessionSecrets | undefined;

  constructor(options: HandshakeOptions) {
    const { role, password, relayOrigin, nameplate, sessionId } = options;
    if (role !== 'expert' && role !== 'agent') throw new RangeError(`Unknown role: ${String(role)}`);
    if (password.length === 0) throw new RangeError('password must not be empty');
    for (const [name, value] of Object.entries({ relayOrigin, nameplate, sessionId })) {
      if (typeof value !== 'string' || value.length === 0) throw new RangeError(`${name} must be a non-empty string`);
    }
    this.role = role;
    this.#ci = channelIdentifier({ relayOrigin, nameplate, sessionId });
    this.#prs = password.slice();
    this.#sidNonce = randomBytes(SID_NONCE_BYTES);
    this.#state = 'ready';
  }

  get state(): HandshakeState {
    return this.#state;
  }

  /** Both sides, once: the first message, this side's hello. */
  start(): Uint8Array {
    return this.#guard(() => {
      if (this.#state !== 'ready') throw new HandshakeError('wrong-state');
      this.#state = 'awaiting-hello';
      return encodeHandshakeMessage({ type: 'hello', nonce: this.#sidNonce });
    });
  }

  /** Processes one message from the peer. */
  receive(bytes: Uint8Array): HandshakeStep {
    return this.#guard(() => {
      if (this.#state === 'ready' || this.#state === 'failed') throw new HandshakeError('wrong-state');
      const message = parseHandshakeMessage(bytes);
      if (message.type === 'abort') {
        // Only the expert waits on a verdict about keys it already used; to it an abort is that verdict.
        throw new HandshakeError(this.#state === 'awaiting-confirm' ? 'confirmation-failed' : 'peer-aborted');
      }
      return this.#advance(message);
    });
  }

  #advance(message: Exclude<HandshakeMessage, { type: 'abort' }>): HandshakeStep {
    if (this.#state === 'awaiting-hello' && message.type === 'hello') {
      const expert = this.role === 'expert';
      const sid = expert ? sessionIdentifier(this.#sidNonce, message.nonce) : sessionIdentifier(message.nonce, this.#sidNonce);
      const prs = this.#prs!;
      this.#prs = undefined;
      try {
        this.#cpace = new CpaceParty({ role: expert ? 'initiator' : 'responder', prs, ci: this.#ci, sid });
      } finally {
        prs.fill(0); // CPace uses it only to compute the generator
      }
      this.#sid = sid;
      if (!expert) {
        this.#state = 'awaiting-commit';
        return {};
      }
      this.#nonce = randomBytes(COMMITMENT_NONCE_BYTES);
      this.#commitment = commitmentTo(this.#nonce, this.#cpace.share);
      this.#state = 'awaiting-share';
      return { reply: encodeHandshakeMessage({ type: 'commit', commitment: this.#commitment }) };
    }
    if (this.#state === 'awaiting-commit' && message.type === 'commit') {
      this.#commitment = message.commitment;
      this.#state = 'awaiting-reveal';
      return { reply: encodeHandshakeMessage({ type: 'share', share: this.#cpace!.share }) };
    }
    if (this.#state === 'awaiting-share' && message.type === 'share') {
      const nonce = this.#nonce!;
      const expertShare = this.#cpace!.share;
      const isk = this.#cpace!.deriveIsk(message.share);
      const secrets = deriveSessionSecrets(isk, {
        ci: this.#ci, sid: this.#sid!, commitment: this.#commitment!, agentShare: message.share, nonce, expertShare,
      });
      this.#pending = secrets;
      this.#state = 'awaiting-confirm';
      return { reply: encodeHandshakeMessage({ type: 'reveal', nonce, share: expertShare, tag: secrets.expertTag }) };
    }
    if (this.#state === 'awaiting-reveal' && message.type === 'reveal') {
      const commitment = this.#commitment!;
      if (!constantTimeEqual(commitmentTo(message.nonce, message.share), commitment)) {
        throw new HandshakeError('commitment-mismatch');
      }
      const agentShare = this.#cpace!.share;
      const isk = this.#cpace!.deriveIsk(message.share);
      const secrets = deriveSessionSecrets(isk, {
        ci: this.#ci, sid: this.#sid!, commitment, agentShare, nonce: message.nonce, expertShare: message.share,
      });
      // Verify before replying: an impostor expert learns only "abort", which the agent counts as its guess.
      if (!constantTimeEqual(message.tag, secrets.expertTag)) {
        wipe(secrets);
        throw new HandshakeError('confirmation-failed');
      }
      this.#state = 'established';
      return {
        reply: encodeHandshakeMessage({ type: 'confirm', tag: secrets.agentTag }),
        established: resultFor('agent', secrets),
      };
    }
    if (this.#state === 'awaiting-confirm' && message.type === 'confirm') {
      const secrets = this.#pending!;
      if (!constantTimeEqual(message.tag, secrets.agentTag)) throw new HandshakeError('confirmation-failed');
      this.#pending = undefined;
      this.#state = 'established';
      return { established: resultFor('expert', secrets) };
    }
    throw new HandshakeError('unexpected-message');
  }

  /** Runs a step; on any error moves to 'failed' and drops every secret before rethrowing. */
  #guard<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      this.#state = 'failed';
      wipe(this.#pending);
      this.#pending = undefined;
      this.#prs?.fill(0);
      this.#prs = undefined;
      this.#nonce?.fill(0);
      this.#nonce = undefined;
      this.#commitment = undefined;
      throw error;
    }
  }
}
