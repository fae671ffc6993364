// RelayClient: one session on the relay, carried over as many WebSocket connections as it takes.
// Connections drop (idle timeout, 2-hour cap, networks); the client resumes the session with its
// token and the reliable streams resend whatever the peer has not acknowledged, so messages arrive
// once and in order end to end.
//
// Streams share the connection and are told apart by their frames' first byte (the codec's format),
// so an end-to-end handshake can run on a plain stream before the encrypted session stream starts.
//
// An invitation (docs/invitations.md) may see several joiners in turn: when the relay says the
// joiner left (`peer: left`), the creator's streams belong to nobody any more and are dropped, so
// the next joiner starts afresh.

import { defaultPacing, verifyPacing, type PacingPolicy } from './pacer.js';
import type { TechnicianIdentity } from '../shared/core/technician.js';
import type { OfferRefusalAnswer } from '../shared/core/offer-outcome.js';
import type {
  ApprovalMode,
  AuditEvent,
  CreateSessionRequest,
  EmailInvitationRequest,
  OfferableDevice,
  OfferDeviceRequest,
  EndSessionRequest,
  EndReason,
  InvitationKind,
  LocalEndReason,
  JoinSessionRequest,
  RecordableEvent,
  SessionInfo,
} from '../shared/core/messages.js';
import { creatorRoleOf } from '../shared/core/messages.js';
import { decodeBase64, encodeBase64 } from '../shared/core/base64.js';
import { systemClock, type Clock } from './clock.js';
import { codecFromKeys, createPlainCodec, PLAIN_FRAME_FORMAT, type CodecKeys, type FrameCodec } from './codec.js';
import {
  RelayConnection,
  RelayConnectionError,
  RelayError,
  type Notice,
  type RelayRequest,
  type ReplyTo,
  type ThrottleRetryPolicy,
  type WebSocketConstructor,
} from './connection.js';
import { Emitter } from './emitter.js';
import { ReliableStream, type StreamSnapshot, type StreamStats, type StreamTuning } from './stream.js';

export interface StreamBinding {
  codec: FrameCodec;
  /** First byte of every frame `codec` seals; received frames are routed to streams by it. */
  frameFormat: number;
  /** What rebuilds `codec` elsewhere; without it the session stream cannot be snapshotted. */
  keys?: CodecKeys;
}

/**
 * What a RelayClient must remember to continue its session in another process (RelayClient.restore):
 * the session (with its resume token), the activation, and the session stream with its codec keys.
 * Secret: it holds the resume token and the end-to-end keys.
 */
export interface RelaySnapshot {
  url: string;
  session: EstablishedSession;
  activation: Activation | undefined;
  sessionStream: { keys: CodecKeys; stream: StreamSnapshot } | undefined;
}

export interface ReconnectPolicy {
  /** Attempts per outage; a successful resume starts the count again. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** About 100 s of attempts at most, well inside the relay's default 5-minute resume grace. */
export const DEFAULT_RECONNECT_POLICY: Readonly<ReconnectPolicy> = Object.freeze({
  maxAttempts: 12,
  initialDelayMs: 250,
  maxDelayMs: 15_000,
});

export interface RelayClientOptions {
  /** The relay's WebSocket URL. */
  url: string;
  /** Browsers: the global WebSocket. Node: use createRelayClient from sdk/node.ts, which passes `ws`. */
  WebSocket: WebSocketConstructor;
  /**
   * The session stream, started as soon as the session is established (default: plain codec), or
   * 'manual' to start it later with startStream(), e.g. with the codec an end-to-end handshake produced.
   */
  sessionStream?: StreamBinding | 'manual';
  streamTuning?: Partial<StreamTuning>;
  reconnect?: Partial<ReconnectPolicy>;
  /** How long the relay has to answer a request (createSession, joinSession, approveSession, ...). */
  requestTimeoutMs?: number;
  /** How a request is sent again after API Gateway throttles this connection (connection.ts, defaultThrottleRetry). */
  throttleRetry?: Partial<ThrottleRetryPolicy>;
  /**
   * The stage throttle the client paces its sends under (pacer.ts, defaultPacing: the deployed stage's
   * messageRateLimit and messageBurstLimit). Give the stage's values if its operator changed them.
   */
  pacing?: Partial<PacingPolicy>;
  /** How long end() waits for the peer to acknowledge everything sent before ending anyway. */
  endTimeoutMs?: number;
  clock?: Clock;
}

export type EstablishedSession = SessionInfo & { nameplate: string };
export type ResumedSession = Omit<SessionInfo, 'resumeToken'>;

export interface CreateSessionOptions {
  /** How the invitation travels; it decides who creates it (creatorRoleOf). Default 'easy-connect'. */
  kind?: InvitationKind;
  /** How long the invitation stays open for a joiner (the relay caps it). */
  invitationTtlSeconds?: number;
  /** The session's hard lifetime once approved (the relay caps it). */
  sessionTtlSeconds?: number;
}

/** The relay's answer to reportFailedAttempt. */
export interface AttemptVerdict {
  failedAttempts: number;
  maxFailedAttempts: number;
  /** The limit is reached: the session has ended with 'burned' for both sides. */
  burned: boolean;
}

/** The session is active: the agent approved. */
export interface Activation {
  mode: ApprovalMode;
  /** Epoch seconds of the hard expiry, counted from the approval. */
  expiresAt: number;
}

/** Reasons this side may give when it ends the session (EndSessionRequest's). */
export type OwnEndReason = NonNullable<EndSessionRequest['reason']>;

export interface SessionEnd {
  reason: EndReason | LocalEndReason;
  /** A help-desk offer turned down ('denied'): the device's answer, as the relay passed it on (offer-outcome.ts). */
  offerAnswer?: OfferRefusalAnswer;
  /** The peer's authenticated close arrived after all its data: an orderly end, not a cut. */
  peerClosed: boolean;
  /** The peer acknowledged everything this side sent, close included (only end() sends a close). */
  delivered: boolean;
  error?: Error;
}

export interface RelayClientStats {
  reconnects: number;
  /** Frames whose first byte matched no open stream (e.g. sent before that stream started here). */
  unroutedFrames: number;
  /** Messages API Gateway refused with its throttle answer (frames are resent by the stream, requests by the connection). */
  throttled: number;
  /** Messages that waited for the client's pacing under the stage throttle before going out. */
  paced: number;
  /** The session stream's statistics, once it has started. */
  stream: StreamStats | undefined;
}

export type RelayClientEvents = {
  /** A message on the session stream. */
  message: [message: Uint8Array];
  /** 'left': the joiner left or was removed, and its streams were dropped (creator only; the invitation is open again). */
  peer: [state: 'connected' | 'disconnected' | 'left'];
  /** The agent approved (both sides; the agent's approveSession also resolves with it). */
  active: [activation: Activation];
  /**
   * The hard limit moved: the agent extended the session (both sides), or a resume learned of an
   * extension made meanwhile. `maxExpiresAt` (when the relay said) is the latest it can move to.
   */
  extended: [limit: { expiresAt: number; maxExpiresAt?: number }];
  reconnecting: [info: { attempt: number; delayMs: number; cause: Error }];
  reconnected: [session: ResumedSession];
  /** Emitted once, whatever ended the session. */
  ended: [end: SessionEnd];
  /** Not fatal: relay errors that answer no request (e.g. about a frame), or unreadable relay messages. */
  error: [error: Error];
};

/**
 * Where a client is in its session's life. Every transition goes through #enter:
 *
 *   idle ──createSession / joinSession──▶ establishing ──the relay's answer──▶ connected
 *   establishing ──failed (after retrying lost answers)──▶ idle
 *   connected ──connection closed──▶ reconnecting ──resumed──▶ connected
 *   connected ──end(): endSession sent──▶ leaving
 *   any ──'ended' notice, close(), every reconnect failed, a stream failed, leaving's connection closed──▶ ended
 *   RelayClient.restore() starts in reconnecting.
 *
 * Whether the peer is there is a separate question (PeerPresence): the streams flow only when this
 * side is connected (or leaving) and the peer is present.
 */
type ClientState =
  | { phase: 'idle' }
  | { phase: 'establishing' }
  | { phase: 'connected' }
  /** `resumed` settles when the phase ends (resumed, or the session ended): requests made meanwhile wait for it. */
  | { phase: 'reconnecting'; resumed: Promise<void>; settle: () => void }
  /** endSession went out: a closing connection is the end, not an outage. `reason` is why this side ended, when it said. */
  | { phase: 'leaving'; reason: OwnEndReason | undefined; delivered: boolean }
  | { phase: 'ended'; end: SessionEnd };

/** The peer, as far as the relay's notices and its frames tell; `since` is when it was last seen going. */
type PeerPresence = { present: true } | { present: false; since: number };

/** How long after the peer left its frames are taken as in-flight leftovers rather than as a sign it is back. */
const STALE_FRAME_GRACE_MS = 1_000;

/** Resume errors that another attempt cannot fix. */
const FUTILE_RESUME_ERRORS = new Set(['invalid-resume-token', 'session-not-found', 'session-ended', 'session-expired']);

/** Requests the relay answers alike when they arrive twice: sent again once resumed if the connection dropped before the answer. */
const RESENDABLE_ACTIONS: ReadonlySet<RelayRequest['action']> = new Set(['approveSession', 'listAudit']);

const connectionLost = (error: unknown) => error instanceof RelayConnectionError && error.code === 'connection-lost';

export class RelayClient extends Emitter<RelayClientEvents> {
  readonly #url: string;
  readonly #WebSocket: WebSocketConstructor;
  readonly #sessionStreamBinding: StreamBinding | 'manual';
  readonly #streamTuning: Partial<StreamTuning>;
  readonly #reconnectPolicy: ReconnectPolicy;
  readonly #requestTimeoutMs: number;
  readonly #endTimeoutMs: number;
  readonly #clock: Clock;

  #state: ClientState = { phase: 'idle' };
  #connection: RelayConnection | undefined;
  #session: EstablishedSession | undefined;
  #peer: PeerPresence = { present: false, since: -Infinity };
  /** Keyed by frame format (first byte of their frames). */
  readonly #streams = new Map<number, ReliableStream>();
  #sessionStream: ReliableStream | undefined;
  #activation: Activation | undefined;
  /** end()'s run, so that calling it again waits for the same end. */
  #ending: Promise<SessionEnd> | undefined;
  /** Aborted when the session ends: cuts short backoff sleeps and end() waits. */
  readonly #stopped = new AbortController();
  readonly #counts = { reconnects: 0, unroutedFrames: 0, throttled: 0, paced: 0 };
  #sessionStreamKeys: CodecKeys | undefined;
  #save: ((snapshot: RelaySnapshot) => void) | undefined;
  readonly #throttleRetry: Partial<ThrottleRetryPolicy> | undefined;
  readonly #pacing: Partial<PacingPolicy> | undefined;

  constructor(options: RelayClientOptions) {
    super();
    this.#url = options.url;
    this.#WebSocket = options.WebSocket;
    this.#sessionStreamBinding = options.sessionStream ?? { codec: createPlainCodec(), frameFormat: PLAIN_FRAME_FORMAT };
    this.#streamTuning = options.streamTuning ?? {};
    this.#reconnectPolicy = { ...DEFAULT_RECONNECT_POLICY, ...options.reconnect };
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#throttleRetry = options.throttleRetry;
    // Checked now, so a bad value fails here and not at the first connection.
    if (options.pacing) verifyPacing({ ...defaultPacing, ...options.pacing });
    this.#pacing = options.pacing;
    this.#endTimeoutMs = options.endTimeoutMs ?? 10_000;
    this.#clock = options.clock ?? systemClock;
    const { maxAttempts, initialDelayMs, maxDelayMs } = this.#reconnectPolicy;
    for (const [name, value] of Object.entries({ maxAttempts, initialDelayMs, maxDelayMs, requestTimeoutMs: this.#requestTimeoutMs, endTimeoutMs: this.#endTimeoutMs })) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
    }
  }

  /** The session as created or joined; undefined before. */
  get session(): EstablishedSession | undefined {
    return this.#session;
  }

  /** Set once the agent approved. */
  get activation(): Activation | undefined {
    return this.#activation;
  }

  /** Whether the peer is there now, as far as the relay's notices and its frames tell. */
  get peerConnected(): boolean {
    return this.#peer.present;
  }

  /** The side that created the invitation: it outlives failed and departed joiners. */
  get isCreator(): boolean {
    return this.#session !== undefined && creatorRoleOf(this.#session.kind) === this.#session.role;
  }

  /** The session stream, once started (by the session, startStream, or a secure session). */
  get hasSessionStream(): boolean {
    return this.#sessionStream !== undefined;
  }

  get stats(): RelayClientStats {
    return { ...this.#counts, stream: this.#sessionStream?.stats };
  }

  /**
   * Continues a session from a snapshot another process took (before a reload or a crash): resumes
   * it on the relay with its token and restarts the session stream where it stopped, so nothing is
   * lost or duplicated end to end. Returns at once; 'reconnected' or 'ended' (e.g. 'resume-rejected',
   * or the reason the session ended meanwhile) follow, as after any outage.
   */
  static restore(snapshot: RelaySnapshot, options: Omit<RelayClientOptions, 'url' | 'sessionStream'>): RelayClient {
    const client = new RelayClient({ ...options, url: snapshot.url, sessionStream: 'manual' });
    client.#enterReconnecting();
    client.#session = structuredClone(snapshot.session);
    client.#activation = snapshot.activation && { ...snapshot.activation };
    // Until the relay says otherwise (as for a new client): the streams wait for both sides.
    if (snapshot.sessionStream) {
      const { keys, stream } = snapshot.sessionStream;
      client.startStream({ ...codecFromKeys(keys), keys }, stream);
    }
    queueMicrotask(() => void client.#reconnect(new Error('restored from a snapshot'), { immediately: true }));
    return client;
  }

  /** What restore() needs to continue this session elsewhere; undefined before the session exists. */
  snapshot(): RelaySnapshot | undefined {
    if (!this.#session) return undefined;
    return this.#snapshotWith(this.#sessionStream?.snapshot());
  }

  #snapshotWith(stream: StreamSnapshot | undefined): RelaySnapshot {
    if (stream && !this.#sessionStreamKeys) throw new Error('the session stream was started without codec keys: it cannot be snapshotted');
    return {
      url: this.#url,
      session: { ...this.#session! },
      activation: this.#activation && { ...this.#activation },
      sessionStream: stream && { keys: this.#sessionStreamKeys!, stream },
    };
  }

  /**
   * Calls `save` with a fresh snapshot now, whenever the session changes (a new resume token, the
   * activation, a new expiry), and synchronously before any frame or acknowledgement of the session
   * stream leaves after its state changed: a process that crashes then restores what it saved last
   * never reuses a sequence number and never misses what the peer already saw acknowledged. `save`
   * must store synchronously (or accept that a crash loses what it had not yet stored). Pass
   * undefined to stop.
   */
  persistWith(save: ((snapshot: RelaySnapshot) => void) | undefined): void {
    this.#save = save;
    this.#sessionStream?.persistWith(save && ((stream) => this.#save?.(this.#snapshotWith(stream))));
    if (!this.#sessionStream) this.#persist();
  }

  /** Saves the whole state now (the session changed). */
  #persist(): void {
    if (this.#save && this.#session && !this.#is('ended')) this.#save(this.#snapshotWith(this.#sessionStream?.snapshot()));
  }

  /**
   * Creates an invitation: a session in which this client takes the creator's role (the agent for
   * 'file' and 'easy-connect', the expert for 'helper-code'). The nameplate goes into the invitation.
   */
  createSession(options: CreateSessionOptions = {}): Promise<EstablishedSession> {
    const request: CreateSessionRequest = { action: 'createSession' };
    if (options.kind !== undefined) request.kind = options.kind;
    if (options.invitationTtlSeconds !== undefined) request.invitationTtlSeconds = options.invitationTtlSeconds;
    if (options.sessionTtlSeconds !== undefined) request.sessionTtlSeconds = options.sessionTtlSeconds;
    return this.#establish(request);
  }

  /**
   * Joins the invitation behind a nameplate, taking the other role. With `expectedKind` the relay
   * refuses another kind of invitation (RelayError `wrong-kind`) before taking a seat.
   */
  joinSession(nameplate: string, expectedKind?: InvitationKind): Promise<EstablishedSession> {
    return this.#establish(expectedKind === undefined ? { action: 'joinSession', nameplate } : { action: 'joinSession', nameplate, expectedKind });
  }

  /** Agent, once its user approved the expert: lifts the relay's pre-approval limits and starts the session's lifetime. */
  async approveSession(mode: ApprovalMode): Promise<Activation> {
    const { mode: approved, expiresAt } = await this.#request({ action: 'approveSession', mode });
    return this.#activate({ mode: approved, expiresAt });
  }

  /** Creator: the joiner failed key confirmation. The relay removes it and counts; the verdict says whether the invitation burned. */
  async reportFailedAttempt(): Promise<AttemptVerdict> {
    const { failedAttempts, maxFailedAttempts, burned } = await this.#request({ action: 'reportFailedAttempt' });
    return { failedAttempts, maxFailedAttempts, burned };
  }

  /**
   * Agent, once approved: adds `seconds` to the session's hard limit; the relay caps it at approval +
   * its maximum session lifetime. Resolves with the limit as it now is (unchanged at the cap).
   */
  async extendSession(seconds: number): Promise<{ expiresAt: number; maxExpiresAt: number }> {
    const { expiresAt, maxExpiresAt } = await this.#request({ action: 'extendSession', seconds });
    if (this.#takeLimit(expiresAt, maxExpiresAt)) this.#persist();
    return { expiresAt, maxExpiresAt };
  }

  /**
   * Signs this session's connection in as a technician (docs/technicians.md), with a one-time ticket: the
   * help-desk actions below need it. A new connection (after a drop) is not signed in.
   */
  async signInTechnician(ticket: string): Promise<TechnicianIdentity> {
    return (await this.#request({ action: 'signInTechnician', ticket })).technician;
  }

  /** Signed in as a technician: the enrolled devices this technician may offer help to. */
  async listOfferableDevices(): Promise<OfferableDevice[]> {
    return (await this.#request({ action: 'listOfferableDevices' })).devices;
  }

  /**
   * Expert of a waiting helper code, signed in as a technician on this connection: offers the session to an
   * enrolled device (docs/help-desk.md), its code sealed to the device's key.
   */
  async offerDevice(offer: Omit<OfferDeviceRequest, 'action'>): Promise<{ deviceId: string; name: string }> {
    const { deviceId, name } = await this.#request({ action: 'offerDevice', ...offer });
    return { deviceId, name };
  }

  /** Agent: records a decision taken inside the encrypted channel in the relay's audit log. */
  async recordEvent(event: RecordableEvent): Promise<void> {
    await this.#request({ action: 'recordEvent', event });
  }

  /** Agent of a waiting 'file' invitation: the relay emails the invitation file (never the password). */
  async emailInvitation(email: Omit<EmailInvitationRequest, 'action'>): Promise<{ to: string }> {
    const { to } = await this.#request({ action: 'emailInvitation', ...email });
    return { to };
  }

  /** Agent: the session's audit log, oldest first. */
  async listAudit(): Promise<AuditEvent[]> {
    return (await this.#request({ action: 'listAudit' })).events;
  }

  /**
   * Opens a stream over this session's connection for frames starting with `binding.frameFormat`
   * (e.g. a plain stream for the end-to-end handshake). The client pauses, resumes and disposes it.
   */
  openStream(binding: StreamBinding, restore?: StreamSnapshot): ReliableStream {
    if (!this.#session || this.#is('ended')) throw new Error('streams need an established session');
    if (this.#streams.has(binding.frameFormat)) throw new Error(`a stream for frame format ${binding.frameFormat} is already open`);
    const stream = new ReliableStream({
      ...this.#streamTuning,
      codec: binding.codec,
      clock: this.#clock,
      paused: !this.#flowing,
      restore,
      sendFrame: (frame) => {
        // A mismatch would route the frame to the wrong stream on the other side, where it is lost for good.
        if (frame[0] !== binding.frameFormat) {
          return this.#failSession(new Error(`codec sealed a frame of format ${frame[0]}, not ${binding.frameFormat}`));
        }
        this.#connection?.send({ action: 'frame', data: encodeBase64(frame) });
      },
    });
    stream.on('error', (error) => this.#failSession(error));
    this.#streams.set(binding.frameFormat, stream);
    return stream;
  }

  /** Starts the session stream (for `sessionStream: 'manual'`), whose messages send() and 'message' carry. */
  startStream(binding: StreamBinding, restore?: StreamSnapshot): void {
    if (this.#sessionStream) throw new Error('the session stream has already started');
    const stream = this.openStream(binding, restore);
    stream.on('message', (message) => this.emit('message', message));
    this.#sessionStream = stream;
    this.#sessionStreamKeys = binding.keys;
    if (this.#save) this.persistWith(this.#save);
  }

  /** Resolves once the message is in the send window (backpressure); delivery survives reconnects. */
  send(message: Uint8Array): Promise<void> {
    if (!this.#sessionStream) return Promise.reject(new Error('no session stream yet: establish a session (and call startStream when manual)'));
    return this.#sessionStream.send(message);
  }

  sendText(text: string): Promise<void> {
    return this.send(new TextEncoder().encode(text));
  }

  /**
   * Ends the session in order: closes the session stream once the peer has acknowledged everything
   * (waiting at most endTimeoutMs, and only while the peer is connected), then asks the relay to end the session for both sides. A
   * joiner before approval only leaves (the invitation reopens for the creator); an agent that
   * refuses the expert passes `reason: 'denied'`, one that ends an approved session for inactivity
   * `reason: 'idle-timeout'` (sdk/idle-limit.ts).
   */
  end(options: { reason?: OwnEndReason } = {}): Promise<SessionEnd> {
    this.#ending ??= this.#endInOrder(options.reason);
    return this.#ending;
  }

  /** Drops the connection without ending the session: the relay keeps it for its resume grace. */
  close(): void {
    this.#finish('closed');
  }

  // ---- session lifecycle ----

  async #establish(request: CreateSessionRequest | JoinSessionRequest): Promise<EstablishedSession> {
    if (!this.#is('idle')) throw new Error('a RelayClient holds one session, and this one already has one');
    this.#enter({ phase: 'establishing' });
    for (let attempt = 1; ; attempt++) {
      try {
        const connection = await this.#connect();
        const { type: _reply, ...session } = await connection.request(request);
        this.#session = session;
        this.#enter({ phase: 'connected' });
        if (session.peerConnected) this.#peer = { present: true };
        if (this.#sessionStreamBinding !== 'manual') this.startStream(this.#sessionStreamBinding);
        return session;
      } catch (error) {
        this.#connection?.close();
        // The answer was lost with the connection: ask again on a new one. A joiner's seat went with
        // the connection; an invitation made for a lost answer waits unjoinable (its secret never
        // left this client) until it expires.
        if (connectionLost(error) && attempt < this.#reconnectPolicy.maxAttempts && this.#is('establishing')) {
          await this.#waitAtMost(this.#backoffDelay(attempt));
          continue;
        }
        if (this.#is('establishing')) this.#enter({ phase: 'idle' });
        throw error;
      }
    }
  }

  /** A method, not a comparison TypeScript narrows: the phase changes across awaits. */
  #is(phase: ClientState['phase']): boolean {
    return this.#state.phase === phase;
  }

  /** The one place the phase changes. Ended is final; leaving reconnecting settles what waited for the resume. */
  #enter(next: ClientState): void {
    if (this.#state.phase === 'ended') return;
    if (this.#state.phase === 'reconnecting' && next.phase !== 'reconnecting') this.#state.settle();
    this.#state = next;
  }

  /** Reconnecting from now on (kept as it is if already: restore() enters it before its first attempt). */
  #enterReconnecting(): void {
    if (this.#is('reconnecting')) return;
    let settle!: () => void;
    const resumed = new Promise<void>((resolve) => (settle = resolve));
    this.#enter({ phase: 'reconnecting', resumed, settle });
  }

  /** Settles once the client is not reconnecting (resumed or ended). */
  async #resumption(): Promise<void> {
    while (this.#state.phase === 'reconnecting') await this.#state.resumed;
  }

  async #connect(): Promise<RelayConnection> {
    const connection: RelayConnection = await RelayConnection.open(
      this.#WebSocket,
      this.#url,
      {
        notice: (message) => {
          if (connection === this.#connection) this.#onNotice(message);
        },
        malformed: (error) => this.emit('error', error),
        throttled: () => void this.#counts.throttled++,
        paced: () => void this.#counts.paced++,
        closed: (cause) => this.#onConnectionClosed(connection, cause),
      },
      { clock: this.#clock, requestTimeoutMs: this.#requestTimeoutMs, throttleRetry: this.#throttleRetry, pacing: this.#pacing },
    );
    this.#connection = connection;
    return connection;
  }

  #onConnectionClosed(connection: RelayConnection, cause: Error): void {
    if (connection !== this.#connection) return;
    this.#connection = undefined;
    this.#updateFlow();
    // After endSession the relay closes the connection (perhaps without an 'ended' notice when we only left).
    if (this.#is('leaving')) return void this.#finish(this.#ownEndReason());
    if (this.#is('connected')) void this.#reconnect(cause);
  }

  /** Sends a request on the connection, waiting for a reconnect first if the connection is down (and again, for a resendable request, if it drops before the answer). */
  async #request<Request extends RelayRequest>(request: Request): Promise<ReplyTo<Request>> {
    if (!this.#session) throw new Error(`${request.action} needs an established session`);
    for (;;) {
      await this.#resumption();
      if (this.#is('ended') || !this.#connection) throw new Error(`the session has ended: ${request.action} was not sent`);
      try {
        return await this.#connection.request(request);
      } catch (error) {
        if (!(connectionLost(error) && RESENDABLE_ACTIONS.has(request.action))) throw error;
      }
    }
  }

  #activate(activation: Activation): Activation {
    if (!this.#activation) {
      this.#activation = activation;
      this.#session!.expiresAt = activation.expiresAt;
      this.#persist();
      this.emit('active', activation);
    }
    return this.#activation;
  }

  async #reconnect(cause: Error, { immediately = false } = {}): Promise<void> {
    this.#enterReconnecting();
    const { sessionId } = this.#session!;
    for (let attempt = 1; attempt <= this.#reconnectPolicy.maxAttempts; attempt++) {
      const delayMs = immediately && attempt === 1 ? 0 : this.#backoffDelay(attempt);
      this.emit('reconnecting', { attempt, delayMs, cause });
      await this.#waitAtMost(delayMs);
      if (this.#is('ended')) return;
      try {
        const connection = await this.#connect();
        const { type: _reply, resumeToken: nextToken, ...resumed } = await connection.request({ action: 'resumeSession', sessionId, resumeToken: this.#session!.resumeToken });
        // Tokens rotate: the next resume needs this one (kept at once, with persistWith, for a restore).
        this.#session!.resumeToken = nextToken;
        this.#enter({ phase: 'connected' });
        this.#counts.reconnects++;
        this.#takeResumedSession(resumed);
        this.#setPeerConnected(resumed.peerConnected);
        this.#updateFlow();
        this.emit('reconnected', resumed);
        return;
      } catch (error) {
        if (this.#is('ended')) return; // ended (close() or the relay) while connecting
        this.#connection?.close();
        // A session that ended while we were away ends here for the reason it ended there.
        if (error instanceof RelayError && error.endReason) return void this.#finish(error.endReason);
        if (error instanceof RelayError && FUTILE_RESUME_ERRORS.has(error.code)) return void this.#finish('resume-rejected', error);
        cause = error instanceof Error ? error : new Error(String(error));
      }
    }
    this.#finish('connection-lost', cause);
  }

  /** What the relay says now wins: the session may have been extended while this side was away. Kept at once: the token changed. */
  #takeResumedSession(resumed: ResumedSession): void {
    this.#takeLimit(resumed.expiresAt);
    this.#persist();
  }

  /** A new hard limit (an extension, or a resume that learned of one): kept and told; true if it changed. */
  #takeLimit(expiresAt: number, maxExpiresAt?: number): boolean {
    const session = this.#session!;
    if (expiresAt === session.expiresAt) return false;
    session.expiresAt = expiresAt;
    if (this.#activation) {
      this.#activation = { ...this.#activation, expiresAt };
      this.emit('extended', maxExpiresAt === undefined ? { expiresAt } : { expiresAt, maxExpiresAt });
    }
    return true;
  }

  /** Exponential backoff with "equal jitter": half the cap, plus a random share of the other half. */
  #backoffDelay(attempt: number): number {
    const { initialDelayMs, maxDelayMs } = this.#reconnectPolicy;
    const cap = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
    return cap / 2 + (Math.random() * cap) / 2;
  }

  #onNotice(message: Notice): void {
    switch (message.type) {
      case 'frame':
        return this.#onFrame(message.data);
      case 'peer':
        // The relay removes a joiner only before approval: a 'left' after it contradicts the session, and
        // dropping the streams would end it for nothing. It means no more than a dropped connection.
        if (message.state === 'left' && !this.#activation) return this.#onPeerLeft();
        return this.#setPeerConnected(message.state === 'connected');
      case 'sessionExtended':
        if (this.#takeLimit(message.expiresAt, message.maxExpiresAt)) this.#persist();
        return;
      case 'sessionActive':
        // Only the agent approves, and it learns the activation from its own approveSession: an
        // unasked one is the relay's word alone.
        if (this.#session?.role === 'agent') return;
        return void this.#activate({ mode: message.mode, expiresAt: message.expiresAt });
      case 'ended':
        return void this.#finish(message.reason, undefined, message.offerAnswer === 'view' || message.offerAnswer === 'control' ? undefined : message.offerAnswer);
      case 'error':
        return this.emit('error', RelayError.fromReply(message));
    }
  }

  #onFrame(data: string): void {
    let frame: Uint8Array;
    try {
      frame = decodeBase64(data);
    } catch {
      return this.#failSession(new Error('the relay forwarded a frame that is not base64'));
    }
    // Only a connected peer sends frames, and its 'connected' notice may be overtaken or lost. But frames
    // it sent just before dropping out still arrive after the 'disconnected' notice: resuming on those
    // would resend the whole window into the void, so they count only after a grace period.
    if (!this.#peer.present && this.#clock.now() - this.#peer.since >= STALE_FRAME_GRACE_MS) this.#setPeerConnected(true);
    const stream = this.#streams.get(frame[0] ?? -1);
    if (stream) void stream.receiveFrame(frame);
    else this.#counts.unroutedFrames++;
  }

  /** The joiner is gone for good: its streams' state means nothing to the next one. */
  #onPeerLeft(): void {
    for (const stream of this.#streams.values()) stream.dispose();
    this.#streams.clear();
    this.#sessionStream = undefined;
    // What end() found delivered went to the joiner that left.
    if (this.#state.phase === 'leaving') this.#enter({ ...this.#state, delivered: false });
    this.#peer = { present: false, since: this.#clock.now() };
    this.emit('peer', 'left');
  }

  #setPeerConnected(connected: boolean): void {
    if (connected === this.#peer.present) return;
    this.#peer = connected ? { present: true } : { present: false, since: this.#clock.now() };
    this.#updateFlow();
    this.emit('peer', connected ? 'connected' : 'disconnected');
  }

  /** Frames flow only with our connection up and the peer's too: otherwise the relay drops them. */
  get #flowing(): boolean {
    const { phase } = this.#state;
    return (phase === 'connected' || phase === 'leaving') && this.#connection !== undefined && this.#peer.present;
  }

  #updateFlow(): void {
    const flowing = this.#flowing;
    for (const stream of this.#streams.values()) {
      if (flowing) stream.resume();
      else stream.pause();
    }
  }

  // ---- ending ----

  async #endInOrder(reason: OwnEndReason | undefined): Promise<SessionEnd> {
    if (!this.#session) return this.#finish('closed');
    await this.#resumption();
    const delivered = this.#sessionStream ? await this.#waitAtMost(this.#endTimeoutMs, this.#whilePeerPresent(this.#sessionStream.end())) : false;
    // The connection may have dropped while the peer acknowledged: the relay must hear endSession.
    await this.#resumption();
    if (this.#state.phase === 'ended') return this.#state.end;
    this.#enter({ phase: 'leaving', reason, delivered });
    this.#connection?.send(reason ? { action: 'endSession', reason } : { action: 'endSession' });
    // The relay answers with an 'ended' notice (which finishes the session); without one, end anyway.
    await this.#waitAtMost(this.#requestTimeoutMs);
    return this.#finish(this.#ownEndReason());
  }

  #ownEndReason(): EndReason {
    if (this.#state.phase === 'leaving' && this.#state.reason) return this.#state.reason;
    return this.#session?.role === 'expert' ? 'ended-by-expert' : 'ended-by-agent';
  }

  /** Any authentication failure ends the session, for both sides. */
  #failSession(error: Error): void {
    if (this.#is('ended')) return;
    this.#connection?.send({ action: 'endSession' });
    this.#finish('stream-failed', error);
  }

  #finish(reason: SessionEnd['reason'], error?: Error, offerAnswer?: OfferRefusalAnswer): SessionEnd {
    if (this.#state.phase === 'ended') return this.#state.end;
    const delivered = this.#state.phase === 'leaving' && this.#state.delivered;
    const end: SessionEnd = { reason, peerClosed: this.#sessionStream?.remoteClosed ?? false, delivered };
    if (error) end.error = error;
    if (offerAnswer) end.offerAnswer = offerAnswer;
    this.#enter({ phase: 'ended', end });
    this.#stopped.abort();
    for (const stream of this.#streams.values()) stream.dispose();
    this.#connection?.close();
    this.emit('ended', end);
    return end;
  }

  /**
   * Waits until `promise` settles, `ms` pass, or the session ends, whichever comes first.
   * True only if `promise` was given and fulfilled.
   */
  /**
   * `delivery`, given up (rejected) as soon as the peer is away: it acknowledges nothing until it is
   * back, so ending waits for it only while it is there (the relay tells it of the end when it resumes).
   */
  #whilePeerPresent(delivery: Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const away = () => {
        stopListening();
        reject(new Error('the peer is away'));
      };
      const stopListening = this.on('peer', (state) => (state === 'connected' ? undefined : away()));
      if (!this.#peer.present) away();
      delivery.then(
        (value) => (stopListening(), resolve(value)),
        (error: unknown) => (stopListening(), reject(error)),
      );
    });
  }

  #waitAtMost(ms: number, promise?: Promise<unknown>): Promise<boolean> {
    const signal = this.#stopped.signal;
    if (signal.aborted) {
      // Stopped already: whatever `promise` comes to is nobody's business, its rejection included (leave() after the end).
      promise?.catch(() => {});
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const settle = (fulfilled: boolean) => {
        cancelTimer();
        signal.removeEventListener('abort', onStop);
        resolve(fulfilled);
      };
      const onStop = () => settle(false);
      const cancelTimer = this.#clock.schedule(ms, () => settle(false));
      signal.addEventListener('abort', onStop, { once: true });
      promise?.then(
        () => settle(true),
        () => settle(false),
      );
    });
  }
}
