// The end-to-end handshake (shared/crypto/handshake.ts) run over a RelayClient, then the encrypted
// session stream. docs/protocol.md §7 describes the wiring:
//
//   1. a plain stream (frame format 0x00) carries the five handshake messages as data packets, so
//      they arrive once and in order however the relay drops, reorders or duplicates frames;
//   2. once established, the session stream starts with the AES-256-GCM codec (format 0x01) on the
//      same connection: frames are routed by their first byte;
//   3. any handshake failure sends `abort`, waits (briefly) for the peer to acknowledge it, and ends
//      the session. The caller gets a SecureSessionError whose code never says which side erred.
//
// The agent reports every failed attempt after it sent its share as one guess (onFailedAttempt):
// only a wrong-password attempt can carry a real guess, but counting all of them is conservative.

import { createFrameCipher } from '../shared/crypto/frame-cipher.js';
import { createPlainCodec, FRAME_FORMAT_AES_256_GCM, FRAME_FORMAT_PLAIN, type FrameCodec } from '../shared/crypto/frame-codec.js';
import { encodeHandshakeMessage, HANDSHAKE_MESSAGE_BYTES } from '../shared/crypto/handshake-messages.js';
import {
  Handshake,
  HandshakeError,
  passwordRelatedString,
  type HandshakeErrorCode,
  type HandshakeResult,
  type HandshakeRole,
} from '../shared/crypto/handshake.js';
import type { RelayClient, SessionEnd } from './client.js';
import type { ReliableStream } from './stream.js';

export type SecureSessionErrorCode =
  | HandshakeErrorCode
  /** The session ended (or the connection was lost for good) before the handshake finished. */
  | 'session-ended'
  /** The handshake did not finish within handshakeTimeoutMs. */
  | 'timeout';

const messages: Record<SecureSessionErrorCode, string> = {
  'malformed-message': 'The end-to-end handshake failed: malformed message.',
  'unsupported-version': 'The end-to-end handshake failed: unsupported version.',
  'unexpected-message': 'The end-to-end handshake failed: unexpected message.',
  'wrong-state': 'The end-to-end handshake failed: wrong state.',
  'invalid-point': 'The end-to-end handshake failed: invalid key share.',
  'commitment-mismatch': 'The end-to-end handshake failed: the reveal does not match the commitment.',
  'confirmation-failed':
    'Key confirmation failed: the code or password did not match on both sides, or someone interfered. The session was ended.',
  'peer-aborted': 'The other side aborted the end-to-end handshake.',
  'session-ended': 'The session ended before the end-to-end handshake finished.',
  timeout: 'The end-to-end handshake did not finish in time.',
};

/** Why securing a session failed. Carries no secret material; the session has been ended. */
export class SecureSessionError extends Error {
  override readonly name = 'SecureSessionError';
  readonly code: SecureSessionErrorCode;

  constructor(code: SecureSessionErrorCode, options?: { cause?: unknown }) {
    super(messages[code], options);
    this.code = code;
  }
}

/** What the invitation layer counts (agent side): one failed guess at the invitation's secret and password. */
export interface FailedAttempt {
  code: SecureSessionErrorCode;
  nameplate: string;
  sessionId: string;
}

export interface SecureSessionOptions {
  /** Must be the client's session role. The expert is the handshake's initiator. */
  role: HandshakeRole;
  /**
   * The part of the code that never reaches the relay. Easy Connect: the 8 secret characters, normalised
   * as docs/protocol.md says (a string is taken as UTF-8). Invitation file / email: the 128-bit secret's bytes.
   */
  secret: Uint8Array | string;
  /** The password the user tells the expert separately; a string is NFC-normalized, then UTF-8. */
  invitationPassword?: Uint8Array | string;
  /** `new URL(relayUrl).origin`, byte-identical on both sides. */
  relayOrigin: string;
  /** The invitation's nameplate, normalized the same way on both sides. */
  nameplate: string;
  /** Must be the client's session id. */
  sessionId: string;
  /**
   * Agent only: called once when a handshake fails after the agent sent its share (wrong password,
   * tampering, an impostor, the peer's abort, the session ending or a timeout): one failed guess.
   */
  onFailedAttempt?: (attempt: FailedAttempt) => void;
  /** Fails the attempt ('timeout') if it has not finished by then. Default 60 s. */
  handshakeTimeoutMs?: number;
  /** After a failure, how long to wait for the peer to acknowledge the abort before ending the session. Default 2 s. */
  abortFlushMs?: number;
  /**
   * Builds the session stream's codec from the handshake result (default createFrameCipher). A seam
   * for instrumentation and tests; the result's secrets are wiped as soon as it returns.
   */
  createCipher?: (keys: HandshakeResult) => FrameCodec;
}

export interface SecureSession {
  /** Six digits to show; the user checks that the expert reads out the same. */
  verificationCode: string;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 60_000;
const DEFAULT_ABORT_FLUSH_MS = 2_000;
const ABORT = encodeHandshakeMessage({ type: 'abort' });

function utf8(value: Uint8Array | string, normalize: boolean): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(normalize ? value.normalize('NFC') : value) : value;
}

function isAbort(bytes: Uint8Array): boolean {
  return bytes.length === HANDSHAKE_MESSAGE_BYTES.abort && bytes[0] === ABORT[0] && bytes[1] === ABORT[1];
}

/**
 * Runs the end-to-end handshake over `client` and starts its encrypted session stream. The client
 * must have been created with `sessionStream: 'manual'` and hold an established session. Call it
 * right after createSession (agent) or joinSession (expert).
 *
 * Resolves with the verification code once this side is established. Rejects with a
 * SecureSessionError after ending the session on any failure; a wrong password is
 * 'confirmation-failed' on both sides. Throws at once on misuse (see the checks below).
 */
export function establishSecureSession(client: RelayClient, options: SecureSessionOptions): Promise<SecureSession> {
  const session = client.session;
  if (!session) throw new Error('establishSecureSession needs an established session: createSession or joinSession first');
  if (options.role !== session.role) throw new RangeError(`role ${options.role} is not this session's role (${session.role})`);
  if (options.sessionId !== session.sessionId) throw new RangeError("sessionId is not this client's session id");
  if (client.stats.stream) throw new Error("the session stream has already started: create the RelayClient with sessionStream: 'manual'");
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const abortFlushMs = options.abortFlushMs ?? DEFAULT_ABORT_FLUSH_MS;
  for (const [name, value] of Object.entries({ handshakeTimeoutMs, abortFlushMs })) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
  }

  const secret = utf8(options.secret, false);
  // An empty secret would leave only the (optional) password between an attacker and the session.
  if (secret.length === 0) throw new RangeError('secret must not be empty');
  const password = passwordRelatedString(
    secret,
    options.invitationPassword === undefined ? undefined : utf8(options.invitationPassword, true),
  );
  let handshake: Handshake;
  try {
    handshake = new Handshake({
      role: options.role,
      password,
      relayOrigin: options.relayOrigin,
      nameplate: options.nameplate,
      sessionId: options.sessionId,
    });
  } finally {
    password.fill(0); // CPace uses it only to compute the generator
  }
  // Opening the stream throws if the session has ended or a plain stream is already open.
  const stream = client.openStream({ codec: createPlainCodec(), frameFormat: FRAME_FORMAT_PLAIN });
  return new SecureSessionRun(client, stream, handshake, options, handshakeTimeoutMs, abortFlushMs).promise;
}

/** One attempt: feeds the handshake from the plain stream and settles exactly once. */
class SecureSessionRun {
  readonly promise: Promise<SecureSession>;
  #resolve!: (session: SecureSession) => void;
  #reject!: (error: SecureSessionError) => void;
  #state: 'running' | 'established' | 'failed' = 'running';
  #sessionEnded = false;
  /** Agent: its share is out, so from now on a failure counts as a guess. */
  #shareSent = false;
  #cancelTimeout: (() => void) | undefined;
  #stopWatchingEnd: () => void;

  constructor(
    private readonly client: RelayClient,
    private readonly stream: ReliableStream,
    private readonly handshake: Handshake,
    private readonly options: SecureSessionOptions,
    private readonly handshakeTimeoutMs: number,
    private readonly abortFlushMs: number,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The stream is disposed with the session, so these listeners live exactly as long as it does.
    stream.on('message', (message) => this.#onMessage(message));
    this.#stopWatchingEnd = client.on('ended', (end) => this.#onEnded(end));
    if (handshake.role === 'expert') {
      this.#armTimeout();
      this.#step(() => ({ reply: handshake.start() }), { sendAbort: true });
    }
  }

  /** The expert's clock starts with its commit, the agent's with the first message: it may wait long for an expert to join. */
  #armTimeout(): void {
    if (this.#cancelTimeout) return;
    const timer = setTimeout(() => void this.#fail(new SecureSessionError('timeout'), { sendAbort: true }), this.handshakeTimeoutMs);
    this.#cancelTimeout = () => clearTimeout(timer);
  }

  #onMessage(message: Uint8Array): void {
    if (this.#state === 'running') {
      this.#armTimeout();
      // After the peer's abort there is nobody to tell.
      this.#step(() => this.handshake.receive(message), { sendAbort: !isAbort(message) });
    } else if (this.#state === 'established') {
      // After the handshake the plain stream carries nothing but retransmits, which the stream drops. A new
      // message is the expert rejecting our confirm (an abort), or an injection: either way, end the session.
      this.#state = 'failed';
      void this.client.end();
    }
  }

  /** Runs one handshake step; on establishment starts the encrypted stream; then sends the reply. */
  #step(run: () => { reply?: Uint8Array; established?: HandshakeResult }, failure: { sendAbort: boolean }): void {
    let step: { reply?: Uint8Array; established?: HandshakeResult };
    try {
      step = run();
    } catch (error) {
      const code = error instanceof HandshakeError ? error.code : 'wrong-state';
      void this.#fail(new SecureSessionError(code, { cause: error }), failure);
      return;
    }
    if (step.established) {
      const result = step.established;
      let codec: FrameCodec;
      try {
        codec = (this.options.createCipher ?? createFrameCipher)(result);
      } finally {
        // The cipher keeps its own copies.
        result.sendSecret.fill(0);
        result.receiveSecret.fill(0);
      }
      // Before the agent's confirm goes out, so the expert's first encrypted frames find a stream here.
      this.client.startStream({ codec, frameFormat: FRAME_FORMAT_AES_256_GCM });
      this.#state = 'established';
      this.#settle();
      this.#resolve({ verificationCode: result.verificationCode });
    }
    if (step.reply) {
      if (this.handshake.state === 'awaiting-reveal') this.#shareSent = true; // the agent just answered the commit
      // Rejects only if the stream fails, which ends the session: #onEnded reports that.
      this.stream.send(step.reply).catch(() => {});
    }
  }

  #onEnded(end: SessionEnd): void {
    this.#sessionEnded = true;
    if (this.#state !== 'running') return;
    const cause = end.error ?? new Error(`session ended: ${end.reason}`);
    void this.#fail(new SecureSessionError('session-ended', { cause }), { sendAbort: false });
  }

  async #fail(error: SecureSessionError, { sendAbort }: { sendAbort: boolean }): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'failed';
    this.#cancelTimeout?.();
    if (this.handshake.role === 'agent' && this.#shareSent) this.#reportFailedAttempt(error.code);
    if (sendAbort && !this.#sessionEnded) await this.#sendAbort();
    this.#settle();
    await this.client.end();
    this.#reject(error);
  }

  #reportFailedAttempt(code: SecureSessionErrorCode): void {
    const { nameplate, sessionId, onFailedAttempt } = this.options;
    try {
      onFailedAttempt?.({ code, nameplate, sessionId });
    } catch (listenerError) {
      // A throwing counter must not stop the session from ending.
      queueMicrotask(() => {
        throw listenerError;
      });
    }
  }

  /**
   * Sends abort and waits until the peer has acknowledged it (then it has stopped too), the session
   * ends, or abortFlushMs pass. Ending the session at once could overtake the abort at the relay,
   * and the peer would then learn only that the session ended.
   */
  async #sendAbort(): Promise<void> {
    let stop = () => {};
    const givenUp = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.abortFlushMs);
      const stopWatching = this.client.on('ended', () => resolve());
      stop = () => {
        clearTimeout(timer);
        stopWatching();
      };
    });
    const acknowledged = this.stream
      .send(ABORT)
      .then(() => this.stream.end())
      .catch(() => {});
    await Promise.race([acknowledged, givenUp]);
    stop();
  }

  #settle(): void {
    this.#cancelTimeout?.();
    this.#stopWatchingEnd();
  }
}
