// The end-to-end handshake (shared/crypto/handshake.ts) run over a RelayClient, then the encrypted
// session stream. docs/protocol.md §7 describes the wiring:
//
//   1. a plain stream (frame format 0x00) carries the handshake messages as data packets, so
//      they arrive once and in order however the relay drops, reorders or duplicates frames;
//   2. once established, the session stream starts with the AES-256-GCM codec (format 0x01) on the
//      same connection: frames are routed by their first byte;
//   3. any handshake failure sends `abort` and waits (briefly) for the peer to acknowledge it. The
//      caller gets a SecureSessionError whose code never says which side erred.
//
// An invitation outlives failed joiners (docs/invitations.md). Its creator (the agent of a file or
// Easy Connect invitation, the expert of a helper code) keeps the session open after a failure:
// it reports the failed attempt, the relay removes the joiner and counts, and the next joiner gets
// a fresh handshake. The joiner leaves. A failure counts as a guess once the creator has sent what
// lets a joiner test a password guess: the agent's share (it answers the joiner's commitment), the
// expert's reveal (its tag checks the password). Counting every failure from then on is conservative:
// only a wrong password can carry a real guess.

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
import type { AttemptVerdict, RelayClient, SessionEnd } from './client.js';
import type { CodecKeys } from './codec.js';
import type { ReliableStream } from './stream.js';
import { systemClock, type Clock } from './clock.js';
import { CodedError } from '../shared/core/coded-error.js';

export type SecureSessionErrorCode =
  | HandshakeErrorCode
  /** The session ended (or the connection was lost for good) before the handshake finished. */
  | 'session-ended'
  /** Creator: the joiner left (or was removed) before the handshake finished. */
  | 'peer-left'
  /** The handshake did not finish within handshakeTimeoutMs. */
  | 'timeout';

const messages: Record<SecureSessionErrorCode, string> = {
  'malformed-message': 'The end-to-end handshake failed: malformed message.',
  'peer-outdated':
    'The other side runs an older version of assist, which cannot connect to this one: they need to update it (or reload the web console), then try again.',
  'peer-newer': 'The other side runs a newer version of assist: update this one (or reload the web console), then try again.',
  'unexpected-message': 'The end-to-end handshake failed: unexpected message.',
  'wrong-state': 'The end-to-end handshake failed: wrong state.',
  'invalid-point': 'The end-to-end handshake failed: invalid key share.',
  'commitment-mismatch': 'The end-to-end handshake failed: the reveal does not match the commitment.',
  'confirmation-failed': 'Key confirmation failed: the code or password did not match on both sides, or someone interfered.',
  'peer-aborted': 'The other side aborted the end-to-end handshake.',
  'session-ended': 'The session ended before the end-to-end handshake finished.',
  'peer-left': 'The other side left before the end-to-end handshake finished.',
  timeout: 'The end-to-end handshake did not finish in time.',
};

/**
 * Why securing a session failed. Carries no secret material. The joiner has left the session; the
 * creator's session stays open for the next joiner unless `verdict.burned` (or the session ended).
 */
export class SecureSessionError extends CodedError<SecureSessionErrorCode> {
  override readonly name = 'SecureSessionError';
  /** Creator: the relay's count, when this failure was reported as a failed attempt. */
  readonly verdict: AttemptVerdict | undefined;
  /**
   * Creator: this failure counts against the invitation's guess limit, whatever the relay answered:
   * this side had sent what lets a joiner test a guess, or it reported the joiner. The creator
   * counts these itself (assist-session.ts), so a relay that hides or rewrites its count gains nothing.
   */
  readonly counted: boolean;

  constructor(code: SecureSessionErrorCode, options?: { cause?: unknown; verdict?: AttemptVerdict; counted?: boolean }) {
    super(code, messages[code], options);
    this.verdict = options?.verdict;
    this.counted = options?.counted ?? false;
  }
}

export interface SecureSessionOptions {
  /** Must be the client's session role. The expert is the handshake's initiator. */
  role: HandshakeRole;
  /**
   * The part of the code that never reaches the relay. Easy Connect and helper codes: the 8 secret
   * characters, normalised as docs/protocol.md says (a string is taken as UTF-8). Invitation file:
   * the 128-bit secret's bytes.
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
  /** Fails the attempt ('timeout') if it has not finished by then, counted from the moment both sides are there. Default 60 s. */
  handshakeTimeoutMs?: number;
  /**
   * After a failure, how long to wait for the peer to acknowledge the abort; then, for the joiner,
   * how long to wait for the relay to remove it before leaving by itself. Default 2 s.
   */
  abortFlushMs?: number;
  /** Runs the handshake timeout and the abort flush's wait; default the system clock (tests pass a manual one). */
  clock?: Clock;
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

/** The other side runs an older or a newer handshake than this release: only updating helps, and nothing was exposed. */
export function isVersionMismatch(error: unknown): error is SecureSessionError {
  return error instanceof SecureSessionError && (error.code === 'peer-outdated' || error.code === 'peer-newer');
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 60_000;
const DEFAULT_ABORT_FLUSH_MS = 2_000;
const ABORT = encodeHandshakeMessage({ type: 'abort' });

function utf8(value: Uint8Array | string, normalize: boolean): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(normalize ? value.normalize('NFC') : value) : value;
}

/** An abort of any handshake version (an older release aborts with its own): nobody is left to tell. */
function isAbort(bytes: Uint8Array): boolean {
  return bytes.length === HANDSHAKE_MESSAGE_BYTES.abort && bytes[1] === ABORT[1];
}

/**
 * Runs the end-to-end handshake over `client` and starts its encrypted session stream. The client
 * must have been created with `sessionStream: 'manual'` and hold an established session. Call it
 * right after createSession or joinSession; the creator calls it again for each new joiner after a
 * failure (or after the joiner left). The creator's handshake starts once a joiner is connected.
 *
 * Resolves with the verification code once this side is established. Rejects with a
 * SecureSessionError on any failure (a wrong password is 'confirmation-failed' on both sides),
 * after the joiner left the session or the creator reported the failed attempt to the relay.
 * Throws at once on misuse (see the checks below).
 */
export function establishSecureSession(client: RelayClient, options: SecureSessionOptions): Promise<SecureSession> {
  const stage = startSecureSession(client, options);
  const stopDriving = [client.on('ended', (end) => stage.ended(end)), client.on('peer', (state) => stage.peer(state))];
  const stop = () => stopDriving.forEach((off) => off());
  stage.promise.then(stop, stop);
  return stage.promise;
}

/**
 * The handshake as a stage of the session's pipeline (AssistChannel): it acts on the client (its
 * plain stream, the session stream it starts, reports and ends), and whoever runs it feeds it the
 * client's 'peer' and 'ended' events, in the order that caller decides. establishSecureSession is
 * the same stage fed straight from the client. Inputs after it settled are ignored.
 */
export interface SecureSessionStage {
  readonly promise: Promise<SecureSession>;
  peer(state: 'connected' | 'disconnected' | 'left'): void;
  ended(end: SessionEnd): void;
}

/** Checks the options (throwing on misuse, as establishSecureSession) and starts the stage. */
export function startSecureSession(client: RelayClient, options: SecureSessionOptions): SecureSessionStage {
  const session = client.session;
  if (!session) throw new Error('establishSecureSession needs an established session: createSession or joinSession first');
  if (options.role !== session.role) throw new RangeError(`role ${options.role} is not this session's role (${session.role})`);
  if (options.sessionId !== session.sessionId) throw new RangeError("sessionId is not this client's session id");
  if (client.hasSessionStream) {
    throw new Error("the session stream has already started: create the RelayClient with sessionStream: 'manual' (a creator may run a new handshake once the joiner left)");
  }
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
    password.fill(0); // the handshake keeps its own copy until CPace has computed the generator
  }
  return new SecureSessionRun(client, handshake, options, handshakeTimeoutMs, abortFlushMs);
}

/**
 * Where one attempt is, and whether its peer is still there to talk to.
 *
 *   waiting ──peer connected──▶ running ──established──▶ established ──a later message──▶ failed
 *      │                          │
 *      └──── failure ───▶ failing ──abort flushed, joiner removed or gone──▶ failed
 *
 * `waiting`: a creator with no joiner yet. `failing`: failed, but still flushing its abort and waiting
 * for the joiner to go, so it still hears peer and end events. `established` and `failed` are settled:
 * the caller's events mean nothing to it any more. (Opening the stream can fail at once: waiting ──▶ failed.)
 *
 *   peer: there ──peer left──▶ left ──session ended──▶ session-ended   (there ──session ended──▶ session-ended)
 */
type RunState = {
  phase: 'waiting' | 'running' | 'failing' | 'established' | 'failed';
  peer: 'there' | 'left' | 'session-ended';
};

/** One attempt with one joiner: feeds the handshake from the plain stream and settles exactly once. */
class SecureSessionRun implements SecureSessionStage {
  readonly promise: Promise<SecureSession>;
  #resolve!: (session: SecureSession) => void;
  #reject!: (error: Error) => void;
  #state: RunState = { phase: 'waiting', peer: 'there' };
  readonly #creator: boolean;
  #stream: ReliableStream | undefined;
  /** Creator: it sent what lets the joiner test a guess, so from now on a failure counts. */
  #guessExposed = false;
  #cancelTimeout: (() => void) | undefined;
  readonly #clock: Clock;
  /** Re-checked on every peer or end event: the conditions #until waits for. */
  readonly #waiters = new Set<() => void>();

  constructor(
    private readonly client: RelayClient,
    private readonly handshake: Handshake,
    private readonly options: SecureSessionOptions,
    private readonly handshakeTimeoutMs: number,
    private readonly abortFlushMs: number,
  ) {
    this.#clock = options.clock ?? systemClock;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#creator = client.isCreator;
    // The joiner finds the creator there; the creator waits for a joiner, so that its stream starts
    // with this joiner's frames and the timeout counts only once someone is there to answer.
    if (!this.#creator || client.peerConnected) this.#begin();
  }

  peer(state: 'connected' | 'disconnected' | 'left'): void {
    if (!this.#settled) this.#onPeer(state);
  }

  ended(end: SessionEnd): void {
    if (!this.#settled) this.#onEnded(end);
  }

  get #settled(): boolean {
    return this.#state.phase === 'established' || this.#state.phase === 'failed';
  }

  /** Not yet established nor failing: a failure now is this attempt's outcome. */
  get #undecided(): boolean {
    return this.#state.phase === 'waiting' || this.#state.phase === 'running';
  }

  #begin(): void {
    // Throws if the session has ended or a plain stream is already open: misuse, reported at once when called synchronously.
    this.#stream = this.client.openStream({ codec: createPlainCodec(), frameFormat: FRAME_FORMAT_PLAIN });
    this.#stream.on('message', (message) => this.#onMessage(message));
    this.#state.phase = 'running';
    this.#cancelTimeout = this.#clock.schedule(this.handshakeTimeoutMs, () => void this.#fail(new SecureSessionError('timeout'), { sendAbort: true }));
    // Both sides open with their hello (their half of CPace's sid) at once.
    this.#step(() => ({ reply: this.handshake.start() }), { sendAbort: true });
  }

  #onPeer(state: 'connected' | 'disconnected' | 'left'): void {
    if (state === 'connected' && this.#state.phase === 'waiting') {
      try {
        this.#begin();
      } catch (error) {
        this.#settle('failed');
        this.#reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    if (state === 'left') {
      if (this.#state.peer === 'there') this.#state.peer = 'left';
      // Its streams were dropped with it: nobody is left to tell.
      if (this.#state.phase === 'running') void this.#fail(new SecureSessionError('peer-left'), { sendAbort: false });
    }
    this.#wake();
  }

  #onMessage(message: Uint8Array): void {
    if (this.#state.phase === 'running') {
      // After the peer's abort there is nobody to tell.
      this.#step(() => this.handshake.receive(message), { sendAbort: !isAbort(message) });
    } else if (this.#state.phase === 'established') {
      // After the handshake the plain stream carries nothing but retransmits, which the stream drops. A new
      // message is the expert rejecting the agent's confirm (an abort), or an injection. Before approval
      // the creator has the relay remove the joiner (counted, conservatively) and the joiner leaves;
      // after approval the session ends.
      this.#state.phase = 'failed';
      if (this.#creator && !this.client.activation) this.client.reportFailedAttempt().catch(() => {});
      else void this.client.end();
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
      let keys: CodecKeys;
      try {
        codec = (this.options.createCipher ?? createFrameCipher)(result);
        // What a snapshot needs to rebuild the cipher after a reload or a crash (RelayClient.persistWith).
        keys = { format: 'aes-256-gcm', role: this.handshake.role, sendSecret: result.sendSecret.slice(), receiveSecret: result.receiveSecret.slice() };
      } finally {
        // The cipher and the keys keep their own copies.
        result.sendSecret.fill(0);
        result.receiveSecret.fill(0);
      }
      // Before the agent's confirm goes out, so the expert's first encrypted frames find a stream here.
      this.client.startStream({ codec, frameFormat: FRAME_FORMAT_AES_256_GCM, keys });
      this.#settle('established');
      this.#resolve({ verificationCode: result.verificationCode });
    }
    if (step.reply) {
      // The agent just answered the commitment with its share, or the expert the share with its reveal.
      if (this.handshake.state === 'awaiting-reveal' || this.handshake.state === 'awaiting-confirm') this.#guessExposed = true;
      // Rejects only if the stream fails or is dropped, which ends the session or means the peer left: reported there.
      this.#stream!.send(step.reply).catch(() => {});
    }
  }

  #onEnded(end: SessionEnd): void {
    this.#state.peer = 'session-ended';
    this.#wake();
    if (!this.#undecided) return;
    const cause = end.error ?? new Error(`session ended: ${end.reason}`);
    // The relay removing a joiner whose confirmation failed says so; the joiner learns nothing more from it.
    const code = end.reason === 'confirmation-failed' ? 'confirmation-failed' : 'session-ended';
    void this.#fail(new SecureSessionError(code, { cause }), { sendAbort: false });
  }

  async #fail(error: SecureSessionError, { sendAbort }: { sendAbort: boolean }): Promise<void> {
    if (!this.#undecided) return;
    this.#state.phase = 'failing';
    this.#cancelTimeout?.();
    if (sendAbort && this.#peerStillThere) await this.#sendAbort();
    if (this.#creator) {
      // An older release's joiner leaves only after waiting up to abortFlushMs for its own abort to be
      // acknowledged and as long again to be removed: wait for both before reporting it.
      const verdict = await this.#removeJoiner(isVersionMismatch(error) ? 2 * this.abortFlushMs : this.abortFlushMs);
      this.#settle('failed');
      const counted = this.#guessExposed || verdict !== undefined;
      this.#reject(verdict || counted ? new SecureSessionError(error.code, { cause: error.cause, verdict, counted }) : error);
    } else {
      // Versions that cannot talk: no guess was exposed, so the creator will not remove this joiner; leave at once.
      if (!isVersionMismatch(error)) await this.#leave();
      else if (!this.#sessionEnded) await this.client.end();
      this.#settle('failed');
      this.#reject(error);
    }
  }

  get #peerStillThere(): boolean {
    return this.#state.peer === 'there';
  }

  get #sessionEnded(): boolean {
    return this.#state.peer === 'session-ended';
  }

  /**
   * Creator: reports the failed attempt so the relay removes the joiner and counts it, then waits
   * until the joiner's streams are gone, so that the next handshake can start at once. A failure that
   * exposed nothing is no guess: an honest joiner leaves by itself, and only one that stays is reported.
   */
  async #removeJoiner(patienceMs: number): Promise<AttemptVerdict | undefined> {
    if (this.#sessionEnded) return undefined;
    if (!this.#guessExposed && (await this.#until(() => !this.#peerStillThere, patienceMs))) return undefined;
    let verdict: AttemptVerdict;
    try {
      verdict = await this.client.reportFailedAttempt();
    } catch {
      return undefined; // the session ended meanwhile, which #onEnded's listeners learn anyway
    }
    if (!verdict.burned) await this.#until(() => !this.#peerStillThere);
    return verdict;
  }

  /** Joiner: waits briefly for the creator's report to remove it (it then learns 'confirmation-failed'), else leaves. */
  async #leave(): Promise<void> {
    if (this.#sessionEnded) return;
    if (!(await this.#until(() => this.#sessionEnded, this.abortFlushMs))) await this.client.end();
  }

  /** Resolves true once `condition` holds (checked on peer and end events), false after `ms`. */
  #until(condition: () => boolean, ms = Infinity): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const cancelTimer = Number.isFinite(ms) ? this.#clock.schedule(ms, () => settle(false)) : undefined;
      const check = () => {
        if (condition()) settle(true);
      };
      const settle = (met: boolean) => {
        cancelTimer?.();
        this.#waiters.delete(check);
        resolve(met);
      };
      this.#waiters.add(check);
    });
  }

  #wake(): void {
    for (const check of [...this.#waiters]) check();
  }

  /**
   * Sends abort and waits until the peer has acknowledged it (then it has stopped too), the session
   * ends, or abortFlushMs pass. Ending the session or removing the joiner at once could overtake the
   * abort at the relay, and the peer would then learn only that the session ended.
   */
  async #sendAbort(): Promise<void> {
    const stream = this.#stream!;
    const acknowledged = stream
      .send(ABORT)
      .then(() => stream.end())
      .catch(() => {});
    await Promise.race([acknowledged, this.#until(() => !this.#peerStillThere, this.abortFlushMs)]);
  }

  #settle(outcome: 'established' | 'failed'): void {
    this.#cancelTimeout?.();
    this.#state.phase = outcome;
  }
}
