// Consent and control (docs/invitations.md), on top of an end-to-end encrypted session: the two
// sides say who they are, the person who asked for help (the agent) approves or denies the expert,
// and stays in charge afterwards: control is granted and revoked, the session paused and resumed.
//
// The agent's side enforces every rule, since it is the side with something to protect:
//   - nothing of the agent's (output, chat, terminal size) is sent before approval;
//   - the expert's input is dropped unless control is granted and the session is not paused;
//   - while paused, output, input and screen images are dropped, not queued: a pause is for typing
//     a password or looking at something private, and queuing would deliver exactly that on resume.
//     Chat still flows both ways, so the person can say why they paused.
//   - screen images flow only between a share's start and stop, and at most one at a time: the next
//     goes out once the expert's side has acknowledged everything sent before, otherwise the image is
//     dropped (a newer one follows), so a slow link shows a slower picture, not an older one.
// The expert's side mirrors the rules so its user sees what will happen, but the agent decides.
//
// Both classes run on a RelayClient that holds the session (created or joined, sessionStream
// 'manual'); the creator's side runs a new handshake for each joiner until one gets in.

import { MAX_FAILED_ATTEMPTS_CEILING, type ApprovalMode, type RecordableEvent, type Role } from '../shared/core/messages.js';
import {
  assistMessageSenders,
  chatProblem,
  clipboardProblem,
  decodeAssistMessage,
  encodeAssistMessage,
  idleActivityMessages,
  MAX_TERMINAL_BYTES,
  nameProblem,
  screenImageProblem,
  type AssistMessage,
  type ControlState,
  type CursorShape,
  type CursorState,
  type KeyInput,
  type PointerInput,
  type ScreenImage,
  type ShareStopReason,
  type VideoChunk,
  type VideoConfig,
} from './assist-messages.js';
import type { AttemptVerdict, RelayClient, RelaySnapshot, SessionEnd } from './client.js';
import { CursorShapeCache } from './cursor-shapes.js';
import { systemClock, type CancelTimer, type Clock } from './clock.js';
import { Emitter } from './emitter.js';
import { DEFAULT_EXTENSION_SECONDS } from './time-limit.js';
import { IdleWatch } from './idle-limit.js';
import { isVersionMismatch, SecureSessionError, startSecureSession, type SecureSessionOptions, type SecureSessionStage } from './secure-session.js';
import { CodedError } from '../shared/core/coded-error.js';

/** What both sides feed the handshake (docs/protocol.md §1); the role, session id and nameplate come from the client. */
export interface HandshakeSecrets {
  secret: Uint8Array | string;
  invitationPassword?: Uint8Array | string;
  relayOrigin: string;
}

export type HandshakeTuning = Pick<SecureSessionOptions, 'handshakeTimeoutMs' | 'abortFlushMs'>;

export interface AssistSessionOptions {
  /** Holds an established session, created with sessionStream: 'manual'. */
  client: RelayClient;
  /** This side's name, shown to the other side (hello). */
  name: string;
  secrets: HandshakeSecrets;
  handshake?: HandshakeTuning;
  /** Expert: how long a request for control waits for the person's answer before it is given up ('unanswered'). Default 60 s. */
  controlRequestTimeoutMs?: number;
  /** Timers (the handshake's, the control request's, the agent's idle limit); tests pass a manual clock. */
  clock?: Clock;
}

/** How long a request for control waits for the person's answer before the expert's side gives it up. */
export const CONTROL_REQUEST_TIMEOUT_MS = 60_000;

/**
 * What an approved session must remember to continue in another process (restoreAssistSession): who
 * is who, what was decided, and the relay client's snapshot with the end-to-end keys. Secret: keep it
 * where only this side's user can read it, and delete it when the session ends. Nothing is kept before
 * approval: a reload or crash then ends the attempt, and a new invitation starts over.
 */
export interface AssistSnapshot {
  role: Role;
  /** This side's name. */
  name: string;
  /** The other side's name, as it said in its hello. */
  peerName: string;
  verificationCode: string;
  mode: ApprovalMode;
  /** The expert has control (granted, not revoked). */
  control: boolean;
  paused: boolean;
  /** The person shares a terminal (terminal-share). */
  terminal: boolean;
  /** The person shares their screen or desktop. */
  sharing: boolean;
  video: VideoConfig | undefined;
  /** The person's terminal size, last sent. */
  size: { cols: number; rows: number } | undefined;
  /** The person lets clipboard text follow both ways (absent in snapshots from before clipboard sharing: no). */
  clipboard?: boolean;
  maxFailedAttempts: number;
  relay: RelaySnapshot;
}

/** An AgentSession or ExpertSession continued from a snapshot (restoreAssistSession), on a RelayClient.restore()d client. */
export interface RestoredSessionOptions {
  client: RelayClient;
  restore: AssistSnapshot;
  clock?: Clock;
}

/** Restores an AssistChannel without a handshake: the keys come from the snapshot. */
interface RestoredChannel {
  maxFailedAttempts: number;
}

/** The fields of AssistSnapshot each side fills from its own state. */
type SideState = Omit<AssistSnapshot, 'relay' | 'maxFailedAttempts'>;

/** How a session ended: the client's SessionEnd; `error` also carries a failed handshake's SecureSessionError. */
export type AssistEnd = SessionEnd;

/** A peer that sent something the protocol does not allow; the session is ended. */
export class AssistProtocolError extends CodedError<'protocol-violation'> {
  override readonly name = 'AssistProtocolError';

  constructor(message: string, options?: ErrorOptions) {
    super('protocol-violation', message, options);
  }
}

interface ChannelHooks {
  secured(verificationCode: string): void;
  message(message: AssistMessage): void;
  /** A message was given to send (before it goes). */
  sent?(message: AssistMessage): void;
  attemptFailed(verdict: AttemptVerdict): void;
  /** Creator: the joiner left after the handshake, before approval; a new handshake waits for the next one. */
  joinerLeft(): void;
  ended(end: AssistEnd): void;
  error(error: Error): void;
}

/**
 * The creator's guess limit: the relay's policy as it stood when the invitation was made, capped by
 * MAX_FAILED_ATTEMPTS_CEILING. Fixed from then on: later answers from the relay cannot raise it.
 */
export function guessLimitOf(relayLimit: number): number {
  return Number.isInteger(relayLimit) && relayLimit >= 1 ? Math.min(relayLimit, MAX_FAILED_ATTEMPTS_CEILING) : 1;
}

/**
 * Where the channel is with the current joiner. Transitions:
 *
 *   handshaking ──established──▶ secured ──the joiner left (creator)──▶ handshaking, for the next joiner
 *   handshaking ──failed──▶ handshaking (creator: the next joiner at once)
 *                        ╰─▶ awaiting-departure (creator: the last joiner's stream is still open, or the
 *                            failure was not the handshake's) ──the joiner left──▶ handshaking
 *                        ╰─▶ idle (joiner: it leaves or is removed; or the invitation burned: 'ended' follows)
 *   handshaking ──the session ended──▶ ending ──the handshake settled──▶ ended (its error explains the end)
 *   any other ──the session ended──▶ ended
 * A restored channel starts secured; without secrets (restored) a departed joiner leaves it idle.
 */
type ChannelState =
  | { phase: 'idle' }
  /** `stage` gets the client's events, after the channel has taken them, until it settles. */
  | { phase: 'handshaking'; stage: SecureSessionStage }
  | { phase: 'secured' }
  | { phase: 'awaiting-departure' }
  /** The session ended while a handshake was settling: the end waits for its error. */
  | { phase: 'ending'; end: AssistEnd }
  | { phase: 'ended' };

/**
 * The plumbing both sides share: handshakes (one per joiner, on the creator's side), decoding and
 * checking messages, sending, and one 'ended' carrying a failed handshake's error.
 *
 * The creator counts failed attempts itself and burns the invitation at its guess limit, whatever
 * the relay answers (docs/protocol.md §6): a relay that hid or rewrote its count would otherwise
 * get a fresh handshake, so a fresh guess, after every failure.
 */
class AssistChannel {
  readonly client: RelayClient;
  readonly role: Role;
  /** Creator: failed attempts that burn the invitation. */
  readonly maxFailedAttempts: number;
  #state: ChannelState = { phase: 'idle' };
  #failedAttempts = 0;
  #burned = false;
  /** The last handshake's failure: it explains the end that follows. */
  #handshakeError: Error | undefined;
  #persistence: { save: (snapshot: AssistSnapshot) => void; side: () => SideState } | undefined;

  constructor(
    client: RelayClient,
    private readonly secrets: HandshakeSecrets | undefined,
    /** The handshake's timeouts, and the session's clock they run on. */
    private readonly tuning: HandshakeTuning & Pick<SecureSessionOptions, 'clock'>,
    private readonly hooks: ChannelHooks,
    restored?: RestoredChannel,
  ) {
    const session = client.session;
    if (!session) throw new Error('an assistance session needs a RelayClient holding a session: createSession or joinSession first');
    if (!restored && client.hasSessionStream) throw new Error("an assistance session needs a RelayClient created with sessionStream: 'manual'");
    this.client = client;
    this.role = session.role;
    this.maxFailedAttempts = restored?.maxFailedAttempts ?? guessLimitOf(session.maxFailedAttempts);
    // The one listener for the session's pipeline: the channel first, then the handshake running
    // when the event came (a handshake the channel starts now waits for the next event).
    client.on('message', (bytes) => this.#onMessage(bytes));
    client.on('peer', (state) => {
      const stage = this.#stage;
      if (state === 'left') this.#onJoinerLeft();
      stage?.peer(state);
    });
    client.on('ended', (end) => {
      const stage = this.#stage;
      this.#onEnded(end);
      stage?.ended(end);
    });
    if (restored) this.#state = { phase: 'secured' };
    else this.#handshake();
  }

  /**
   * Saves this side's state (`side`) with the relay client's snapshot whenever that changes (before
   * any frame leaves), from now if `active`, else from approved(): nothing is kept before approval.
   */
  persistWith(save: ((snapshot: AssistSnapshot) => void) | undefined, side: () => SideState, active: boolean): void {
    this.#persistence = save && { save, side };
    if (active || !save) this.#startPersisting();
  }

  /** The session was approved: from now on it is worth keeping. */
  approved(): void {
    if (this.#persistence) this.#startPersisting();
  }

  #startPersisting(): void {
    const persistence = this.#persistence;
    this.client.persistWith(persistence && ((relay) => persistence.save({ ...persistence.side(), maxFailedAttempts: this.maxFailedAttempts, relay })));
  }

  get secured(): boolean {
    return this.#is('secured');
  }

  /** A method, not a comparison TypeScript narrows: the phase changes across awaits. */
  #is(phase: ChannelState['phase']): boolean {
    return this.#state.phase === phase;
  }

  get #stage(): SecureSessionStage | undefined {
    return this.#state.phase === 'handshaking' ? this.#state.stage : undefined;
  }

  /** Sends one message; false if the session has ended meanwhile (which 'ended' reports). */
  async send(message: AssistMessage): Promise<boolean> {
    if (!this.#is('secured')) return false;
    const bytes = encodeAssistMessage(message);
    this.hooks.sent?.(message);
    try {
      await this.client.send(bytes);
      return true;
    } catch (error) {
      if (!this.#is('secured')) return false;
      throw error;
    }
  }

  /** Ends the session after a peer broke the protocol: nothing it sends can be trusted to mean anything. */
  violation(why: string, cause?: unknown): void {
    this.hooks.error(new AssistProtocolError(`the other side broke the assistance protocol: ${why}`, { cause }));
    void this.client.end({ reason: 'protocol-violation' });
  }

  #handshake(): void {
    if (this.#is('ended') || this.#is('ending')) return;
    if (this.#burned || !this.secrets) return void (this.#state = { phase: 'idle' });
    const session = this.client.session!;
    let stage: SecureSessionStage;
    try {
      stage = startSecureSession(this.client, {
        role: this.role,
        nameplate: session.nameplate,
        sessionId: session.sessionId,
        ...this.secrets,
        ...this.tuning,
      });
    } catch {
      // The last joiner's handshake stream is still open: the relay has not removed it yet.
      this.#state = { phase: 'awaiting-departure' };
      return;
    }
    this.#state = { phase: 'handshaking', stage };
    stage.promise.then(
      ({ verificationCode }) => {
        if (this.#state.phase === 'ending') return this.#reportEnd(this.#state.end);
        this.#state = { phase: 'secured' };
        this.hooks.secured(verificationCode);
      },
      (error: Error) => {
        this.#handshakeError = error;
        if (error instanceof SecureSessionError && error.counted) this.#countFailedAttempt(error.verdict);
        // Another release of assist on the other side: the user is told to update (a creator's invitation stays open).
        if (isVersionMismatch(error)) this.hooks.error(error);
        if (this.#state.phase === 'ending') return this.#reportEnd(this.#state.end);
        this.#state = { phase: 'idle' };
        if (this.#burned) return void this.client.end();
        if (!this.client.isCreator) return; // the joiner has left or been removed: 'ended' follows
        if (error instanceof SecureSessionError) this.#handshake();
        else this.#state = { phase: 'awaiting-departure' };
      },
    );
  }

  #onEnded(end: AssistEnd): void {
    // A handshake still settling explains the end (e.g. a wrong password): report both together.
    if (this.#is('handshaking')) this.#state = { phase: 'ending', end };
    else this.#reportEnd(end);
  }

  #reportEnd(end: AssistEnd): void {
    this.#state = { phase: 'ended' };
    this.hooks.ended(this.#withHandshakeError(end));
  }

  /** Counts a failed attempt here; the relay's verdict can only make it burn sooner. */
  #countFailedAttempt(relayVerdict: AttemptVerdict | undefined): void {
    this.#failedAttempts++;
    this.#burned = this.#failedAttempts >= this.maxFailedAttempts || relayVerdict?.burned === true;
    this.hooks.attemptFailed({ failedAttempts: this.#failedAttempts, maxFailedAttempts: this.maxFailedAttempts, burned: this.#burned });
  }

  #withHandshakeError(end: AssistEnd): AssistEnd {
    // Burned here, whatever the relay called the end it brought about; a joiner that left because its
    // handshake failed did not simply end the session.
    const ownLeave = this.role === 'agent' ? 'ended-by-agent' : 'ended-by-expert';
    const explained =
      this.#burned && end.reason !== 'burned'
        ? { ...end, reason: 'burned' as const }
        : !this.client.isCreator && this.#handshakeError instanceof SecureSessionError && end.reason === ownLeave
          ? { ...end, reason: 'handshake-failed' as const }
          : end;
    return explained.error || !this.#handshakeError ? explained : { ...explained, error: this.#handshakeError };
  }

  #onJoinerLeft(): void {
    if (this.#is('secured')) {
      this.#state = { phase: 'idle' };
      this.hooks.joinerLeft();
      this.#handshake();
    } else if (this.#is('awaiting-departure')) {
      this.#handshake();
    }
  }

  #onMessage(bytes: Uint8Array): void {
    let message: AssistMessage;
    try {
      message = decodeAssistMessage(bytes);
    } catch (error) {
      return this.violation('a malformed message', error);
    }
    const peer: Role = this.role === 'agent' ? 'expert' : 'agent';
    if (!assistMessageSenders[message.type].has(peer)) return this.violation(`the ${peer} may not send ${message.type}`);
    this.hooks.message(message);
  }
}

function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem) throw new RangeError(problem);
}

function checkChat(text: string): void {
  const problem = chatProblem(text);
  if (problem) throw new RangeError(problem);
}

/** Terminal bytes as messages of at most MAX_TERMINAL_BYTES; empty input sends nothing. */
function* terminalChunks(bytes: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += MAX_TERMINAL_BYTES) yield bytes.subarray(offset, offset + MAX_TERMINAL_BYTES);
}

// ---------------------------------------------------------------------------------------------

export interface ExpertIdentity {
  /** As the expert gave it (checked: no control or text-direction characters). */
  name: string;
  /** Six digits; the user approves only if the expert reads out the same. */
  verificationCode: string;
}

export type AgentPhase =
  /** No expert through the handshake yet (the invitation is open, or a handshake runs). */
  | 'waiting'
  /** An expert is through the handshake and has said who it is: approve() or deny(). */
  | 'deciding'
  | 'active'
  | 'ended';

export type AgentSessionEvents = {
  /** An expert is through the handshake: show its name and code, then approve(mode) or deny(). */
  expert: [expert: ExpertIdentity];
  /** Creator: a joiner failed the handshake; this side's count against maxFailedAttempts (at `burned` the session ends). */
  'attempt-failed': [verdict: AttemptVerdict];
  /** The expert left before approval; the invitation is open again (creator) or the session over (joiner). */
  'expert-left': [];
  'control-requested': [];
  chat: [text: string];
  /** Keystrokes for the terminal: only while control is granted and the session not paused. */
  input: [bytes: Uint8Array];
  /** The technician's mouse and keyboard for the shared desktop: only with control, not paused, in a controllable video share. */
  pointer: [pointer: PointerInput];
  key: [key: KeyInput];
  /** Input that arrived outside those rules and was dropped (counted in droppedInputEvents). */
  'input-dropped': [dropped: { type: 'pointer' | 'key' | 'input'; why: string }];
  /** The expert's decoder needs a key frame: the next chunk sent must be one (keyFrameNeeded). */
  'key-frame-requested': [];
  /** Text the expert sent for the person's clipboard: only while allowed (allowClipboard), approved and not paused. */
  clipboard: [text: string];
  /** Clipboard text that arrived while not allowed or paused: dropped and counted (refusedClipboardTexts), never written. */
  'clipboard-refused': [refused: { why: string }];
  /** The codecs the expert can decode, most preferred first. */
  'video-codecs': [codecs: string[]];
  /**
   * Nobody did anything for a while: the session ends for inactivity in `secondsLeft` (5 minutes,
   * then 1) unless someone does (stillHere(), or any activity). The expert is warned too.
   */
  'idle-warning': [warning: { secondsLeft: number }];
  /** Activity after an idle warning: the session goes on (the expert is told too). */
  'idle-cleared': [];
  ended: [end: AssistEnd];
  /** Not fatal by itself: an audit record that failed, or a peer breaking the protocol (the session then ends). */
  error: [error: Error];
};

/** The side of the person who asked for help. It decides: approval, control, pause. */
export class AgentSession extends Emitter<AgentSessionEvents> {
  readonly #channel: AssistChannel;
  readonly #name: string;
  #phase: AgentPhase = 'waiting';
  #verificationCode: string | undefined;
  #expertName: string | undefined;
  /** This joiner announced it is leaving: 'expert-left' is not repeated when the relay confirms. */
  #expertLeaving = false;
  #mode: ApprovalMode | undefined;
  #controlGranted = false;
  #paused = false;
  /** The latest terminal size, sent whenever output may flow (after approval, after resume). */
  #size: { cols: number; rows: number } | undefined;
  /** The expert was told a terminal is shared (startTerminalShare, or the first output). */
  #sharingTerminal = false;
  #sharingScreen = false;
  /** The video configuration the expert was last told, during a video share. */
  #video: VideoConfig | undefined;
  #keyFrameNeeded = true;
  #expertCodecs: string[] | undefined;
  #droppedInputEvents = 0;
  #clipboardAllowed = false;
  #refusedClipboardTexts = 0;
  /** The idle limit, kept here from approval to the end (sdk/idle-limit.ts). */
  readonly #idle: IdleWatch;

  constructor(options: AssistSessionOptions | RestoredSessionOptions) {
    super();
    const restore = 'restore' in options ? options.restore : undefined;
    const name = restore?.name ?? (options as AssistSessionOptions).name;
    checkName(name);
    if (options.client.session?.role !== 'agent') throw new RangeError("an AgentSession needs the client of the session's agent");
    this.#name = name;
    this.#idle = new IdleWatch(
      options.client.session.idleTimeoutSeconds,
      {
        warning: (secondsLeft) => {
          this.emit('idle-warning', { secondsLeft });
          this.#tell({ type: 'idle-warning', state: 'warning', secondsLeft });
        },
        cleared: () => {
          this.emit('idle-cleared');
          this.#tell({ type: 'idle-warning', state: 'cleared' });
        },
        expired: () => void this.client.end({ reason: 'idle-timeout' }),
      },
      { clock: options.clock ?? systemClock },
    );
    if (restore) {
      this.#phase = 'active';
      this.#verificationCode = restore.verificationCode;
      this.#expertName = restore.peerName;
      this.#mode = restore.mode;
      this.#controlGranted = restore.control;
      this.#paused = restore.paused;
      this.#size = restore.size && { ...restore.size };
      this.#sharingTerminal = restore.terminal;
      this.#sharingScreen = restore.sharing;
      this.#video = restore.video && { ...restore.video };
      if (restore.clipboard) {
        // So did the clipboard's reader and writer: the expert is told it is no longer shared; the person allows it again.
        this.#clipboardAllowed = true;
        const stop = options.client.on('reconnected', () => {
          stop();
          void this.allowClipboard(false).catch((error: Error) => this.emit('error', error));
        });
      }
      if (restore.sharing) {
        // The capture belonged to the process (or page) that is gone: the expert is told the share
        // stopped rather than left with a frozen picture; the person starts a new one.
        const stop = options.client.on('reconnected', () => {
          stop();
          void this.stopScreenShare('restarted').catch((error: Error) => this.emit('error', error));
        });
      }
    }
    const fresh = restore ? undefined : (options as AssistSessionOptions);
    this.#channel = new AssistChannel(options.client, fresh?.secrets, { ...fresh?.handshake, clock: options.clock ?? systemClock }, {
      secured: (code) => this.#onSecured(code),
      message: (message) => this.#onMessage(message),
      sent: (message) => {
        if (idleActivityMessages.has(message.type)) this.#idle.touch();
      },
      attemptFailed: (verdict) => this.emit('attempt-failed', verdict),
      joinerLeft: () => this.#onExpertLeft(),
      ended: (end) => {
        this.#idle.stop();
        this.#phase = 'ended';
        this.#sharingTerminal = false;
        this.#sharingScreen = false;
        this.#video = undefined;
        this.emit('ended', end);
      },
      error: (error) => this.emit('error', error),
    }, restore);
    // A restored session counts its idle time afresh: the restore itself is the person's doing, and
    // a warning the expert may still show from before is over.
    if (restore) {
      this.#idle.start();
      const stop = options.client.on('reconnected', () => {
        stop();
        this.#tell({ type: 'idle-warning', state: 'cleared' });
      });
    }
    // An expert that comes back (a reload, a crash, a drop) is told of a warning it may have missed.
    options.client.on('peer', (state) => {
      if (state === 'connected' && this.#phase === 'active' && this.#idle.warned) this.#tell({ type: 'idle-warning', state: 'warning', secondsLeft: this.#idle.secondsLeft });
    });
  }

  /**
   * Keeps what restoreAssistSession needs to continue this session after a reload or a crash: `save`
   * gets a fresh AssistSnapshot once the session is approved, whenever it changes, and synchronously
   * before anything leaves (RelayClient.persistWith). Nothing is saved before approval.
   */
  persistWith(save: ((snapshot: AssistSnapshot) => void) | undefined): void {
    this.#channel.persistWith(save, () => this.#sideState(), this.#phase === 'active');
  }

  #sideState(): SideState {
    return {
      role: 'agent',
      name: this.#name,
      peerName: this.#expertName!,
      verificationCode: this.#verificationCode!,
      mode: this.#mode!,
      control: this.#controlGranted,
      paused: this.#paused,
      terminal: this.#sharingTerminal,
      sharing: this.#sharingScreen,
      video: this.#video && { ...this.#video },
      size: this.#size && { ...this.#size },
      clipboard: this.#clipboardAllowed,
    };
  }

  get phase(): AgentPhase {
    return this.#phase;
  }

  /** The expert through the handshake, once it said who it is. */
  get expert(): ExpertIdentity | undefined {
    return this.#expertName === undefined ? undefined : { name: this.#expertName, verificationCode: this.#verificationCode! };
  }

  get mode(): ApprovalMode | undefined {
    return this.#mode;
  }

  get controlGranted(): boolean {
    return this.#controlGranted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** The expert was told a terminal is shared: from startTerminalShare (or the first output) until stopTerminalShare or the end. */
  get sharingTerminal(): boolean {
    return this.#sharingTerminal;
  }

  /** The expert was told a share is on: from startScreenShare until stopScreenShare or the end. */
  get sharingScreen(): boolean {
    return this.#sharingScreen;
  }

  /** The video the expert was told about (startVideoShare), until the share stops. */
  get video(): VideoConfig | undefined {
    return this.#video;
  }

  /** The next video chunk must be a key frame: at the start, after a request, after anything was dropped (a pause). */
  get keyFrameNeeded(): boolean {
    return this.#keyFrameNeeded;
  }

  /** What the expert said it can decode, most preferred first; undefined until it said so. */
  get expertCodecs(): readonly string[] | undefined {
    return this.#expertCodecs;
  }

  /** A terminal or a desktop the expert could use with control (a browser's screen share is view only). */
  get hasSomethingToControl(): boolean {
    return this.#sharingTerminal || this.#video?.controllable === true;
  }

  /** Pointer, key and terminal input that arrived without control, while paused or outside a controllable share: never applied. */
  get droppedInputEvents(): number {
    return this.#droppedInputEvents;
  }

  /** Whether the person lets clipboard text follow both ways (allowClipboard). */
  get clipboardAllowed(): boolean {
    return this.#clipboardAllowed;
  }

  /** Clipboard text from the expert that arrived while not allowed or paused: never written. */
  get refusedClipboardTexts(): number {
    return this.#refusedClipboardTexts;
  }

  /** Whether sendVideoChunk would send a chunk now (apart from needing a key frame): a configured share, approved, not paused. */
  get readyForVideo(): boolean {
    return this.#flowing && this.#video !== undefined;
  }

  /**
   * Bytes given to the session and not yet acknowledged by the expert's side: what a video sender
   * compares with what the link carries, to send fewer frames instead of building a queue.
   */
  get unacknowledgedBytes(): number {
    const stream = this.client.stats.stream;
    return stream ? stream.queuedBytes + stream.inFlightBytes : 0;
  }

  /**
   * Whether sendScreen would send an image now: sharing, approved, not paused, and everything sent
   * before acknowledged by the expert's side. Lets a sender skip capturing an image that would be dropped.
   */
  get readyForScreenImage(): boolean {
    if (!this.#flowing || !this.#sharingScreen) return false;
    // A packet counts as in flight from the moment it takes its seq (before sealing) until the expert's side acknowledges it.
    const stream = this.client.stats.stream;
    return stream !== undefined && stream.queuedBytes === 0 && stream.inFlightPackets === 0;
  }

  get client(): RelayClient {
    return this.#channel.client;
  }

  /** Creator: failed attempts that burn the invitation, fixed when it was made; show it to the user. */
  get maxFailedAttempts(): number {
    return this.#channel.maxFailedAttempts;
  }

  /** Lets the expert in: the relay lifts its limits, then the expert learns the mode. 'control' grants control at once. */
  async approve(mode: ApprovalMode): Promise<void> {
    this.#require('deciding', 'approve');
    await this.client.approveSession(mode);
    this.#phase = 'active';
    this.#mode = mode;
    this.#controlGranted = mode === 'control';
    this.#idle.start();
    this.#channel.approved();
    await this.#channel.send({ type: 'approve', mode });
    await this.#sendSize();
  }

  /**
   * Adds time to the session's hard limit (default 30 minutes), up to the relay's cap counted from
   * the approval; audited, and both sides learn the new limit (the client's 'extended'). Resolves with
   * the limit as it now is: unchanged (expiresAt equal to maxExpiresAt) once at the cap.
   */
  extend(seconds: number = DEFAULT_EXTENSION_SECONDS): Promise<{ expiresAt: number; maxExpiresAt: number }> {
    this.#require('active', 'extend the session');
    this.#idle.touch();
    return this.client.extendSession(seconds);
  }

  /**
   * The person is still there: puts off the idle end as any activity does (after a warning, both
   * sides are told it is over). Call it for what the person does that sends nothing, such as typing
   * into their own terminal while paused.
   */
  stillHere(): void {
    if (this.#phase === 'active') this.#idle.touch();
  }

  /** Whether an idle warning is out and nobody has done anything since. */
  get idleWarned(): boolean {
    return this.#idle.warned;
  }

  /**
   * Tells the expert the person is asked now and has `seconds` to answer (a help-desk device's consent
   * timeout), so its countdown is this side's, not a guess.
   */
  async asked(seconds: number): Promise<void> {
    this.#require('deciding', 'say the person is asked');
    await this.#channel.send({ type: 'asked', seconds });
  }

  /** Refuses the expert: it is told, and the session ends for both ('denied'). */
  async deny(): Promise<AssistEnd> {
    this.#require('deciding', 'deny');
    await this.#channel.send({ type: 'deny' });
    return this.client.end({ reason: 'denied' });
  }

  async grantControl(): Promise<void> {
    this.#require('active', 'grant control');
    if (this.#controlGranted) return;
    this.#controlGranted = true;
    await this.#channel.send({ type: 'control', state: 'granted' });
    await this.#record('control-granted');
  }

  /** Answers the expert's request for control with no; it keeps viewing. */
  async refuseControl(): Promise<void> {
    this.#require('active', 'refuse control');
    if (this.#controlGranted) return;
    await this.#channel.send({ type: 'control', state: 'refused' });
  }

  async revokeControl(): Promise<void> {
    this.#require('active', 'revoke control');
    if (!this.#controlGranted) return;
    // Before anything is sent: input already on its way is dropped from now on.
    this.#controlGranted = false;
    await this.#channel.send({ type: 'control', state: 'revoked' });
    await this.#record('control-revoked');
  }

  /** Stops output and input (dropped, not queued) until resume(); chat still flows. */
  async pause(): Promise<void> {
    this.#require('active', 'pause');
    if (this.#paused) return;
    this.#paused = true;
    await this.#channel.send({ type: 'pause' });
    await this.#record('paused');
  }

  async resume(): Promise<void> {
    this.#require('active', 'resume');
    if (!this.#paused) return;
    this.#paused = false;
    // Nothing was encoded while paused: the expert's picture restarts from a key frame.
    this.#keyFrameNeeded = true;
    await this.#channel.send({ type: 'resume' });
    await this.#record('resumed');
    await this.#sendSize();
  }

  /** Lets clipboard text follow both ways, or stops it; the expert is told. Off until the person allows it. */
  async allowClipboard(allowed: boolean): Promise<void> {
    this.#require('active', 'allow the clipboard');
    if (this.#clipboardAllowed === allowed) return;
    this.#clipboardAllowed = allowed;
    await this.#channel.send({ type: 'clipboard-allowed', allowed });
    await this.#record(allowed ? 'clipboard-allowed' : 'clipboard-stopped');
  }

  /**
   * Text from the person's clipboard for the expert. False (not sent) unless allowed, approved and
   * not paused; a RangeError for text that cannot travel (empty, over 64 KiB, NUL).
   */
  async sendClipboard(text: string): Promise<boolean> {
    const problem = clipboardProblem(text);
    if (problem) throw new RangeError(problem);
    if (!this.#clipboardAllowed || !this.#flowing) return false;
    return this.#channel.send({ type: 'clipboard', text });
  }

  /**
   * Tells the expert a terminal is shared: its size and output follow (the first sendOutput does this
   * by itself). Once approved; while paused the expert learns of it, output waits for resume.
   */
  async startTerminalShare(): Promise<void> {
    this.#require('active', 'share a terminal');
    if (this.#sharingTerminal) return;
    this.#sharingTerminal = true;
    await this.#channel.send({ type: 'terminal-share', state: 'started' });
    await this.#sendSize();
  }

  /** Tells the expert the terminal is no longer shared; output is dropped from now on. */
  async stopTerminalShare(): Promise<void> {
    if (!this.#sharingTerminal) return;
    this.#sharingTerminal = false;
    await this.#channel.send({ type: 'terminal-share', state: 'stopped' });
  }

  /**
   * Terminal output for the expert. Resolves true once it is in the send window (backpressure), or
   * false when it was dropped: before approval, while paused, or after the end.
   */
  async sendOutput(bytes: Uint8Array): Promise<boolean> {
    if (!this.#flowing) return false;
    if (!this.#sharingTerminal) await this.startTerminalShare();
    for (const chunk of terminalChunks(bytes)) {
      if (!this.#flowing || !(await this.#channel.send({ type: 'output', bytes: chunk }))) return false;
    }
    return true;
  }

  /**
   * Tells the expert the person shares their screen (view only); images follow with sendScreen.
   * Once approved, in either mode; while paused the expert learns of the share, images wait for resume.
   */
  async startScreenShare(): Promise<void> {
    this.#require('active', 'share the screen');
    if (this.#sharingScreen) return;
    this.#sharingScreen = true;
    await this.#channel.send({ type: 'screen-share', state: 'started' });
    await this.#record('screen-share-started');
  }

  /** Tells the expert the share is over, and why if it was not the person's choice; images and video are dropped from now on. */
  async stopScreenShare(reason: ShareStopReason = 'by-person'): Promise<void> {
    if (!this.#sharingScreen) return;
    const desktop = this.#video?.source === 'desktop';
    this.#sharingScreen = false;
    this.#video = undefined;
    await this.#channel.send({ type: 'screen-share', state: 'stopped', reason });
    await this.#record(desktop ? 'desktop-share-stopped' : 'screen-share-stopped');
  }

  /**
   * Starts a video share (the desktop, or a browser's screen) or changes its configuration (another
   * monitor, another size, another codec): the expert is told, and the next chunk must be a key
   * frame. Once approved, in either mode. Stop it with stopScreenShare.
   */
  async startVideoShare(config: VideoConfig): Promise<void> {
    this.#require('active', 'share video');
    encodeAssistMessage({ type: 'video-config', ...config }); // checks it now, not when it is sent
    const starting = !this.#sharingScreen;
    this.#sharingScreen = true;
    this.#video = { ...config };
    this.#keyFrameNeeded = true;
    if (starting) await this.#channel.send({ type: 'screen-share', state: 'started' });
    await this.#channel.send({ type: 'video-config', ...config });
    if (starting) await this.#record(config.source === 'desktop' ? 'desktop-share-started' : 'screen-share-started');
  }

  /**
   * One encoded frame of the video share. Resolves true once it is in the send window, or false when
   * it was dropped: no share, before approval, while paused, after the end, or a delta frame while a
   * key frame is needed. A dropped chunk makes the next one a key frame (the expert's decoder cannot
   * skip a frame), so the sender checks readyForVideo and keyFrameNeeded before encoding.
   */
  async sendVideoChunk(chunk: VideoChunk): Promise<boolean> {
    if (!this.readyForVideo || (this.#keyFrameNeeded && !chunk.key)) {
      this.#keyFrameNeeded = true;
      return false;
    }
    if (chunk.key) this.#keyFrameNeeded = false;
    const sent = await this.#channel.send({ type: 'video-chunk', ...chunk });
    if (!sent) this.#keyFrameNeeded = true;
    return sent;
  }

  /** Where the pointer is now; dropped (false) when no video would flow. */
  async sendCursor(cursor: CursorState): Promise<boolean> {
    if (!this.readyForVideo) return false;
    return this.#channel.send({ type: 'cursor', ...cursor });
  }

  /**
   * What the pointer looks like now: a shape defined with `id` (its pixels), or one defined before
   * (the id alone; see sdk/cursor-shapes.ts for which the expert still has). Dropped (false) when no
   * video would flow: a definition that was dropped is not one the expert has.
   */
  async sendCursorShape(id: number, shape?: CursorShape): Promise<boolean> {
    if (!this.readyForVideo) return false;
    return this.#channel.send(shape ? { type: 'cursor-shape', id, shape } : { type: 'cursor-shape', id });
  }

  /**
   * One image of the shared screen. Resolves true once it is in the send window, or false when it
   * was dropped: not sharing, before approval, while paused, after the end, or while anything sent
   * before is not yet acknowledged (see readyForScreenImage). Throws a RangeError for an image that
   * is not a JPEG within the size limits.
   */
  async sendScreen(image: ScreenImage): Promise<boolean> {
    const problem = screenImageProblem(image);
    if (problem) throw new RangeError(problem);
    if (!this.readyForScreenImage) return false;
    return this.#channel.send({ type: 'screen', ...image });
  }

  /** The terminal's size; remembered, and sent whenever output may flow. */
  async sendResize(cols: number, rows: number): Promise<void> {
    encodeAssistMessage({ type: 'resize', cols, rows }); // checks the values now, not when they are sent
    this.#size = { cols, rows };
    await this.#sendSize();
  }

  /** A chat message to the expert, once approved (also while paused). */
  async chat(text: string): Promise<void> {
    checkChat(text);
    this.#require('active', 'chat');
    await this.#channel.send({ type: 'chat', text });
  }

  /** Ends the session for both sides, in order (everything sent is delivered first). */
  end(): Promise<AssistEnd> {
    return this.client.end();
  }

  /** Creator: withdraws the invitation before an expert got through ('revoked', or ended-by-agent mid-handshake). */
  revoke(): Promise<AssistEnd> {
    if (!this.client.isCreator) throw new Error('only the invitation’s creator can revoke it');
    this.#require('waiting', 'revoke the invitation');
    return this.client.end();
  }

  /** The session's audit log (docs/invitations.md). */
  audit() {
    return this.client.listAudit();
  }

  get #flowing(): boolean {
    return this.#phase === 'active' && !this.#paused;
  }

  #require(phase: AgentPhase, what: string): void {
    if (this.#phase !== phase) throw new Error(`cannot ${what} now: the session is ${this.#phase}, not ${phase}`);
  }

  async #sendSize(): Promise<void> {
    if (this.#size && this.#flowing && this.#sharingTerminal) await this.#channel.send({ type: 'resize', ...this.#size });
  }

  /** Sends a message nobody waits for; a failure is reported, not thrown. */
  #tell(message: AssistMessage): void {
    void this.#channel.send(message).catch((error: Error) => this.emit('error', error));
  }

  /** The audit log is the relay's record, not a condition of the user's decision: a failure is reported, not thrown. */
  async #record(event: RecordableEvent): Promise<void> {
    try {
      await this.client.recordEvent(event);
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * The one gate for the expert's input: terminal keystrokes need control and an unpaused session;
   * pointer and keys also need a controllable video share, and a pointer inside the video.
   * Anything else is dropped and counted, never applied.
   */
  #applyInput(type: 'input' | 'pointer' | 'key', apply: () => void, pointer?: PointerInput): void {
    const why = this.#inputRefusal(type, pointer);
    if (why === undefined) return apply();
    this.#droppedInputEvents++;
    this.emit('input-dropped', { type, why });
  }

  /** Why the expert's input may not be applied now, or undefined if it may. */
  #inputRefusal(type: 'input' | 'pointer' | 'key', pointer: PointerInput | undefined): string | undefined {
    if (this.#paused) return 'the session is paused';
    if (this.#phase !== 'active') return 'the session is not active';
    if (!this.#controlGranted) return 'control is not granted';
    if (type === 'input') return undefined;
    const video = this.#video;
    if (!video?.controllable) return 'no desktop is shared';
    if (pointer && (pointer.x >= video.width || pointer.y >= video.height)) return 'the pointer is outside the shared screen';
    return undefined;
  }

  #onSecured(verificationCode: string): void {
    this.#verificationCode = verificationCode;
    this.#expertLeaving = false;
    void this.#channel.send({ type: 'hello', name: this.#name }).catch((error: Error) => this.emit('error', error));
  }

  #onExpertLeft(): void {
    const announced = this.#expertName !== undefined && !this.#expertLeaving;
    this.#phase = 'waiting';
    this.#verificationCode = undefined;
    this.#expertName = undefined;
    if (announced) this.emit('expert-left');
  }

  #onMessage(message: AssistMessage): void {
    if (idleActivityMessages.has(message.type)) this.#idle.touch();
    switch (message.type) {
      case 'hello':
        if (this.#expertName !== undefined) return this.#channel.violation('a second hello');
        this.#expertName = message.name;
        this.#phase = 'deciding';
        return this.emit('expert', this.expert!);
      case 'request-control':
        if (this.#phase !== 'active' || this.#controlGranted) return;
        // Nothing to control: answered here, so the expert is not left waiting and the person not asked.
        if (!this.hasSomethingToControl) {
          void this.#channel.send({ type: 'control', state: 'nothing-to-control' }).catch((error: Error) => this.emit('error', error));
          return;
        }
        return this.emit('control-requested');
      case 'chat':
        if (this.#phase === 'active') this.emit('chat', message.text);
        return;
      case 'input':
        return this.#applyInput(message.type, () => this.emit('input', message.bytes));
      case 'pointer': {
        const { type, ...pointer } = message;
        return this.#applyInput(type, () => this.emit('pointer', pointer), pointer);
      }
      case 'key': {
        const { type, ...key } = message;
        return this.#applyInput(type, () => this.emit('key', key));
      }
      case 'clipboard': {
        const why = !this.#clipboardAllowed ? 'the clipboard is not shared' : this.#paused ? 'the session is paused' : this.#phase !== 'active' ? 'the session is not active' : undefined;
        if (why === undefined) return this.emit('clipboard', message.text);
        this.#refusedClipboardTexts++;
        return this.emit('clipboard-refused', { why });
      }
      case 'key-frame-request':
        if (!this.#video) return;
        this.#keyFrameNeeded = true;
        return this.emit('key-frame-requested');
      case 'video-codecs':
        this.#expertCodecs = message.codecs;
        return this.emit('video-codecs', message.codecs);
      case 'ping':
        void this.#channel.send({ type: 'pong', id: message.id }).catch((error: Error) => this.emit('error', error));
        return;
      case 'leave':
        if (this.#phase === 'deciding' && !this.#expertLeaving) {
          this.#expertLeaving = true;
          this.emit('expert-left');
        }
        return;
      case 'idle-warning':
        if (message.state !== 'still-here') return this.#channel.violation(`an idle ${message.state}, which only the person’s side sends`);
        return this.#idle.touch();
    }
  }
}

// ---------------------------------------------------------------------------------------------

export type ExpertPhase =
  /** The handshake runs (or, for a helper code, the expert waits for the person to type it). */
  | 'connecting'
  /** Through the handshake: read the verification code to the person and wait. */
  | 'awaiting-approval'
  | 'active'
  | 'ended';

export type ExpertSessionEvents = {
  /** Through the handshake: read these six digits out to the person. */
  verification: [verification: { code: string }];
  /** The person's name, as their side gave it. */
  agent: [agent: { name: string }];
  approved: [approval: { mode: ApprovalMode }];
  /** The person refused; 'ended' ('denied') follows. */
  denied: [];
  /** The person is asked now and has `seconds` to answer (a help-desk device says so; an invitation's person does not). */
  asked: [question: { seconds: number }];
  /**
   * The person's answer about control, or 'unanswered' (this side's own): a request had no answer
   * within controlRequestTimeoutMs, and may be made again.
   */
  control: [control: { state: ControlState | 'unanswered' }];
  /** The person started or stopped sharing a terminal (output and its size come in between). */
  'terminal-share': [share: { state: 'started' | 'stopped' }];
  paused: [];
  resumed: [];
  output: [bytes: Uint8Array];
  resize: [size: { cols: number; rows: number }];
  /** The person started or stopped sharing their screen or desktop; a stop may say why (a sender before reasons does not). */
  'screen-share': [share: { state: 'started' } | { state: 'stopped'; reason?: ShareStopReason }];
  /** The shared screen as it is now; each image replaces the one before. */
  screen: [image: ScreenImage];
  /** A video share's configuration (at its start, and when it changes); chunks that follow belong to it. */
  'video-config': [config: VideoConfig];
  /** One encoded frame: feed it to a VideoDecoder configured from the last video-config. */
  'video-chunk': [chunk: VideoChunk];
  /** The person's pointer, in video coordinates. */
  cursor: [cursor: CursorState];
  /** What the person's pointer looks like now (draw it with its hot spot at the cursor's point). */
  'cursor-shape': [shape: CursorShape];
  /** The person lets clipboard text follow both ways, or stopped it (clipboardAllowed). */
  'clipboard-allowed': [clipboard: { allowed: boolean }];
  /** Text from the person's clipboard. */
  clipboard: [text: string];
  chat: [text: string];
  /** Helper code (the expert created it): a joiner failed the handshake; this side's count against maxFailedAttempts. */
  'attempt-failed': [verdict: AttemptVerdict];
  /** Helper code: the person's side left before approving; the code is open again. */
  'agent-left': [];
  /** Nobody did anything for a while: the session ends for inactivity in `secondsLeft` unless someone does (stillHere()). */
  'idle-warning': [warning: { secondsLeft: number }];
  /** Activity after an idle warning: the session goes on. */
  'idle-cleared': [];
  ended: [end: AssistEnd];
  error: [error: Error];
};

/** The side of the expert who helps. It asks; the agent's side decides. */
export class ExpertSession extends Emitter<ExpertSessionEvents> {
  readonly #channel: AssistChannel;
  readonly #name: string;
  #phase: ExpertPhase = 'connecting';
  #verificationCode: string | undefined;
  #agentName: string | undefined;
  #mode: ApprovalMode | undefined;
  #hasControl = false;
  /** The person's side warned of the idle end and has not said it is over. */
  #idleWarned = false;
  #paused = false;
  #terminalShared = false;
  #screenShared = false;
  readonly #clock: Clock;
  readonly #controlRequestTimeoutMs: number;
  /** A request for control waits for its answer; cancels the timeout. */
  #controlRequestPending: CancelTimer | undefined;
  #video: VideoConfig | undefined;
  /** A chunk may follow only once a key frame started the picture since the last configuration. */
  #keyFrameSeen = false;
  readonly #cursorShapes = new CursorShapeCache<CursorShape>();
  #clipboardAllowed = false;
  readonly #pings = new Map<number, { resolve(): void; reject(error: Error): void }>();
  #nextPingId = 0;
  /** Restored in the middle of a video share: delta frames are skipped until a key frame, which is asked for. */
  #skipDeltasUntilKeyFrame = false;
  /** Restored in the middle of a video share: cursor shapes defined before are unknown here, until the share is configured anew. */
  #restoredMidShare = false;

  constructor(options: AssistSessionOptions | RestoredSessionOptions) {
    super();
    const restore = 'restore' in options ? options.restore : undefined;
    const name = restore?.name ?? (options as AssistSessionOptions).name;
    checkName(name);
    if (options.client.session?.role !== 'expert') throw new RangeError("an ExpertSession needs the client of the session's expert");
    this.#name = name;
    this.#clock = ('clock' in options ? options.clock : undefined) ?? systemClock;
    this.#controlRequestTimeoutMs = ('controlRequestTimeoutMs' in options ? options.controlRequestTimeoutMs : undefined) ?? CONTROL_REQUEST_TIMEOUT_MS;
    if (restore) {
      this.#phase = 'active';
      this.#verificationCode = restore.verificationCode;
      this.#agentName = restore.peerName;
      this.#mode = restore.mode;
      this.#hasControl = restore.control;
      this.#paused = restore.paused;
      this.#terminalShared = restore.terminal;
      this.#screenShared = restore.sharing;
      this.#clipboardAllowed = restore.clipboard ?? false;
      this.#video = restore.video && { ...restore.video };
      this.#skipDeltasUntilKeyFrame = this.#video !== undefined;
      this.#restoredMidShare = this.#video !== undefined;
      if (this.#skipDeltasUntilKeyFrame) {
        const stop = options.client.on('reconnected', () => {
          stop();
          void this.requestKeyFrame().catch((error: Error) => this.emit('error', error));
        });
      }
    }
    const fresh = restore ? undefined : (options as AssistSessionOptions);
    this.#channel = new AssistChannel(options.client, fresh?.secrets, { ...fresh?.handshake, clock: options.clock ?? systemClock }, {
      secured: (code) => this.#onSecured(code),
      message: (message) => this.#onMessage(message),
      attemptFailed: (verdict) => this.emit('attempt-failed', verdict),
      joinerLeft: () => {
        this.#phase = 'connecting';
        this.#verificationCode = undefined;
        this.#agentName = undefined;
        this.emit('agent-left');
      },
      ended: (end) => {
        this.#phase = 'ended';
        this.#video = undefined;
        this.#settleControlRequest();
        for (const ping of this.#pings.values()) ping.reject(new Error('the session ended before the person’s side answered'));
        this.#pings.clear();
        this.emit('ended', end);
      },
      error: (error) => this.emit('error', error),
    }, restore);
  }

  /** As AgentSession.persistWith: nothing before approval, then before anything leaves. */
  persistWith(save: ((snapshot: AssistSnapshot) => void) | undefined): void {
    this.#channel.persistWith(save, () => this.#sideState(), this.#phase === 'active');
  }

  #sideState(): SideState {
    return {
      role: 'expert',
      name: this.#name,
      peerName: this.#agentName ?? '',
      verificationCode: this.#verificationCode!,
      mode: this.#mode!,
      control: this.#hasControl,
      paused: this.#paused,
      terminal: this.#terminalShared,
      sharing: this.#screenShared,
      video: this.#video && { ...this.#video },
      size: undefined,
      clipboard: this.#clipboardAllowed,
    };
  }

  /** The person's video share as configured now, while they share. */
  get video(): VideoConfig | undefined {
    return this.#video;
  }

  /** Whether the person lets clipboard text follow both ways; sendClipboard sends only while this holds and the session is not paused. */
  get clipboardAllowed(): boolean {
    return this.#clipboardAllowed;
  }

  /** Text for the person's clipboard. False (not sent) unless allowed and not paused: the person's side would refuse it. */
  async sendClipboard(text: string): Promise<boolean> {
    const problem = clipboardProblem(text);
    if (problem) throw new RangeError(problem);
    return this.#clipboardAllowed && this.#phase === 'active' && !this.#paused && this.#channel.send({ type: 'clipboard', text });
  }

  /** Whether sendPointer and sendKey would send: control, not paused, a controllable share. */
  get mayControlDesktop(): boolean {
    return this.#mayType && this.#video?.controllable === true;
  }

  get phase(): ExpertPhase {
    return this.#phase;
  }

  get verificationCode(): string | undefined {
    return this.#verificationCode;
  }

  get agentName(): string | undefined {
    return this.#agentName;
  }

  get mode(): ApprovalMode | undefined {
    return this.#mode;
  }

  get hasControl(): boolean {
    return this.#hasControl;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** The person shares their screen (between 'screen-share' started and stopped). */
  get screenShared(): boolean {
    return this.#screenShared;
  }

  get client(): RelayClient {
    return this.#channel.client;
  }

  /** Creator: failed attempts that burn the invitation, fixed when it was made; show it to the user. */
  get maxFailedAttempts(): number {
    return this.#channel.maxFailedAttempts;
  }

  /** The person shares a terminal (between 'terminal-share' started and stopped). */
  get terminalShared(): boolean {
    return this.#terminalShared;
  }

  /** A terminal or a desktop shared that control would let this side use (a browser's screen share is view only). */
  get somethingToControl(): boolean {
    return this.#terminalShared || this.#video?.controllable === true;
  }

  /** A request for control is waiting for the person's answer. */
  get controlRequested(): boolean {
    return this.#controlRequestPending !== undefined;
  }

  /**
   * Asks the person for control (while viewing). Every request gets an answer as a 'control' event:
   * granted, refused, nothing-to-control, or 'unanswered' after controlRequestTimeoutMs.
   */
  async requestControl(): Promise<void> {
    this.#require('active', 'request control');
    if (this.#hasControl) return;
    if (!(await this.#channel.send({ type: 'request-control' }))) return;
    this.#controlRequestPending ??= this.#clock.schedule(this.#controlRequestTimeoutMs, () => {
      this.#controlRequestPending = undefined;
      this.emit('control', { state: 'unanswered' });
    });
  }

  #settleControlRequest(): void {
    this.#controlRequestPending?.();
    this.#controlRequestPending = undefined;
  }

  /** Keystrokes for the person's terminal. False (not sent) without control or while paused: the agent would drop them. */
  async sendInput(bytes: Uint8Array): Promise<boolean> {
    for (const chunk of terminalChunks(bytes)) {
      if (!this.#mayType || !(await this.#channel.send({ type: 'input', bytes: chunk }))) return false;
    }
    return bytes.length > 0;
  }

  /** A chat message to the person, once approved. */
  async chat(text: string): Promise<void> {
    checkChat(text);
    this.#require('active', 'chat');
    await this.#channel.send({ type: 'chat', text });
  }

  /** Tells the person's side which codecs this side decodes, most preferred first (it encodes VP8 until told). */
  async sendVideoCodecs(codecs: string[]): Promise<void> {
    this.#require('active', 'list video codecs');
    await this.#channel.send({ type: 'video-codecs', codecs });
  }

  /** The person's side warned that the session ends for inactivity, and nobody has done anything since. */
  get idleWarned(): boolean {
    return this.#idleWarned;
  }

  /** Tells the person's side this side is still there: the idle end is put off, as by any activity. */
  async stillHere(): Promise<void> {
    this.#require('active', 'say you are still here');
    await this.#channel.send({ type: 'idle-warning', state: 'still-here' });
  }

  /** Asks for a key frame: after a decoder error, or to start a picture. */
  async requestKeyFrame(): Promise<void> {
    if (this.#video && this.#phase === 'active') await this.#channel.send({ type: 'key-frame-request' });
  }

  /** The mouse on the person's desktop, in video coordinates. False (not sent) unless mayControlDesktop. */
  async sendPointer(pointer: PointerInput): Promise<boolean> {
    encodeAssistMessage({ type: 'pointer', ...pointer });
    return this.mayControlDesktop && this.#channel.send({ type: 'pointer', ...pointer });
  }

  /** A key on the person's desktop. False (not sent) unless mayControlDesktop. */
  async sendKey(key: KeyInput): Promise<boolean> {
    encodeAssistMessage({ type: 'key', ...key });
    return this.mayControlDesktop && this.#channel.send({ type: 'key', ...key });
  }

  /** The round trip to the person's side through the relay and both stream layers, in milliseconds. */
  async measureRoundTrip(): Promise<number> {
    this.#require('active', 'measure the round trip');
    const id = this.#nextPingId;
    this.#nextPingId = (this.#nextPingId + 1) >>> 0;
    const started = this.#clock.now();
    const answered = new Promise<void>((resolve, reject) => this.#pings.set(id, { resolve, reject }));
    await this.#channel.send({ type: 'ping', id });
    await answered;
    return this.#clock.now() - started;
  }

  /**
   * Leaves: before approval the invitation reopens for the person (or, for a helper code the
   * expert created, it is withdrawn); after approval the session ends for both.
   */
  async leave(): Promise<AssistEnd> {
    if (this.#channel.secured && this.#phase !== 'ended') await this.#channel.send({ type: 'leave' });
    return this.client.end();
  }

  /** Helper code: withdraws it before the person got through. */
  revoke(): Promise<AssistEnd> {
    if (!this.client.isCreator) throw new Error('only the invitation’s creator can revoke it');
    this.#require('connecting', 'revoke the invitation');
    return this.client.end();
  }

  get #mayType(): boolean {
    return this.#phase === 'active' && this.#hasControl && !this.#paused;
  }

  #require(phase: ExpertPhase, what: string): void {
    if (this.#phase !== phase) throw new Error(`cannot ${what} now: the session is ${this.#phase}, not ${phase}`);
  }

  #onSecured(verificationCode: string): void {
    this.#verificationCode = verificationCode;
    this.#phase = 'awaiting-approval';
    this.emit('verification', { code: verificationCode });
    void this.#channel.send({ type: 'hello', name: this.#name }).catch((error: Error) => this.emit('error', error));
  }

  #onMessage(message: AssistMessage): void {
    const active = this.#phase === 'active';
    switch (message.type) {
      case 'hello':
        if (this.#agentName !== undefined) return this.#channel.violation('a second hello');
        this.#agentName = message.name;
        return this.emit('agent', { name: message.name });
      case 'approve':
        if (this.#phase !== 'awaiting-approval') return this.#channel.violation('an approval out of turn');
        this.#phase = 'active';
        this.#mode = message.mode;
        this.#hasControl = message.mode === 'control';
        this.#channel.approved();
        return this.emit('approved', { mode: message.mode });
      case 'deny':
        if (this.#phase !== 'awaiting-approval') return this.#channel.violation('a denial out of turn');
        return this.emit('denied');
      case 'asked':
        if (this.#phase !== 'awaiting-approval') return this.#channel.violation('a question out of turn');
        return this.emit('asked', { seconds: message.seconds });
      case 'chat':
        if (active) this.emit('chat', message.text);
        return;
    }
    // The rest is the agent's content or its decisions, which exist only once approved.
    if (!active) return this.#channel.violation(`${message.type} before approval`);
    switch (message.type) {
      case 'control':
        this.#hasControl = message.state === 'granted';
        this.#settleControlRequest();
        return this.emit('control', { state: message.state });
      case 'terminal-share':
        if (this.#terminalShared === (message.state === 'started')) return this.#channel.violation(`a terminal share ${message.state} twice`);
        this.#terminalShared = message.state === 'started';
        return this.emit('terminal-share', { state: message.state });
      case 'pause':
        this.#paused = true;
        return this.emit('paused');
      case 'resume':
        this.#paused = false;
        return this.emit('resumed');
      case 'output':
        if (!this.#terminalShared) return this.#channel.violation('terminal output without a terminal share');
        return this.emit('output', message.bytes);
      case 'resize':
        if (!this.#terminalShared) return this.#channel.violation('a terminal size without a terminal share');
        return this.emit('resize', { cols: message.cols, rows: message.rows });
      case 'screen-share': {
        // The agent's side sends only changes: anything else is a side that does not keep the rules.
        if (this.#screenShared === (message.state === 'started')) return this.#channel.violation(`a screen share ${message.state} twice`);
        this.#screenShared = message.state === 'started';
        this.#video = undefined;
        const { type, ...share } = message;
        return this.emit('screen-share', share);
      }
      case 'video-config': {
        if (!this.#screenShared) return this.#channel.violation('a video configuration outside a share');
        const { type, ...config } = message;
        this.#video = config;
        this.#keyFrameSeen = false;
        this.#skipDeltasUntilKeyFrame = false;
        return this.emit('video-config', config);
      }
      case 'video-chunk': {
        if (!this.#video || this.#paused) return this.#channel.violation(this.#paused ? 'video while paused' : 'video without a configuration');
        // Restored mid-share: the deltas the person's side sends before our key-frame request arrives are useless, not a violation.
        if (!message.key && this.#skipDeltasUntilKeyFrame) return;
        if (!message.key && !this.#keyFrameSeen) return this.#channel.violation('a delta frame before any key frame');
        this.#skipDeltasUntilKeyFrame = false;
        this.#keyFrameSeen = true;
        const { type, ...chunk } = message;
        return this.emit('video-chunk', chunk);
      }
      case 'cursor': {
        if (!this.#video || this.#paused) return this.#channel.violation(this.#paused ? 'a cursor while paused' : 'a cursor without video');
        const { type, ...cursor } = message;
        return this.emit('cursor', cursor);
      }
      case 'cursor-shape': {
        if (!this.#video || this.#paused) return this.#channel.violation(this.#paused ? 'a cursor shape while paused' : 'a cursor shape without video');
        if (message.shape) this.#cursorShapes.define(message.id, message.shape);
        const shape = this.#cursorShapes.get(message.id);
        // Restored from a snapshot, this side has forgotten the shapes defined before (they are not kept): the pointer keeps its look.
        if (!shape && this.#restoredMidShare) return;
        if (!shape) return this.#channel.violation(`cursor shape ${message.id}, which it never defined or which was forgotten`);
        return this.emit('cursor-shape', shape);
      }
      case 'clipboard-allowed':
        this.#clipboardAllowed = message.allowed;
        return this.emit('clipboard-allowed', { allowed: message.allowed });
      case 'clipboard':
        if (!this.#clipboardAllowed || this.#paused) return this.#channel.violation(this.#paused ? 'clipboard text while paused' : 'clipboard text it did not allow');
        return this.emit('clipboard', message.text);
      case 'ping':
        void this.#channel.send({ type: 'pong', id: message.id }).catch((error: Error) => this.emit('error', error));
        return;
      case 'pong':
        this.#pings.get(message.id)?.resolve();
        this.#pings.delete(message.id);
        return;
      case 'screen':
        if (!this.#screenShared || this.#paused) return this.#channel.violation(this.#paused ? 'a screen image while paused' : 'a screen image outside a share');
        return this.emit('screen', { width: message.width, height: message.height, jpeg: message.jpeg });
      case 'idle-warning':
        if (message.state === 'still-here') return this.#channel.violation('a still-here, which only the technician’s side sends');
        if (message.state === 'warning') {
          this.#idleWarned = true;
          return this.emit('idle-warning', { secondsLeft: message.secondsLeft });
        }
        // Also sent by a person's side that restarted, whether or not this side saw a warning.
        if (!this.#idleWarned) return;
        this.#idleWarned = false;
        return this.emit('idle-cleared');
    }
  }
}
