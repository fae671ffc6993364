// RelayClient: one session on the relay, carried over as many WebSocket connections as it takes.
// Connections drop (idle timeout, 2-hour cap, networks); the client resumes the session with its
// token and the reliable streams resend whatever the peer has not acknowledged, so messages arrive
// once and in order end to end.
//
// Streams share the connection and are told apart by their frames' first byte (the codec's format),
// so an end-to-end handshake can run on a plain stream before the encrypted session stream starts.

import type { CreateSessionRequest, EndReason, JoinSessionRequest, SessionInfo } from '../shared/protocol/messages.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { systemClock, type Clock } from './clock.js';
import { createPlainCodec, PLAIN_FRAME_FORMAT, type FrameCodec } from './codec.js';
import { RelayConnection, RelayError, type Notice, type WebSocketConstructor } from './connection.js';
import { Emitter } from './emitter.js';
import { ReliableStream, type StreamStats, type StreamTuning } from './stream.js';

export interface StreamBinding {
  codec: FrameCodec;
  /** First byte of every frame `codec` seals; received frames are routed to streams by it. */
  frameFormat: number;
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
  /** How long the relay has to answer createSession, joinSession or resumeSession. */
  requestTimeoutMs?: number;
  /** How long end() waits for the peer to acknowledge everything sent before ending anyway. */
  endTimeoutMs?: number;
  clock?: Clock;
}

export type EstablishedSession = SessionInfo & { nameplate: string };
export type ResumedSession = Omit<SessionInfo, 'resumeToken'>;

/** Ends the client sees without the relay saying so. */
export type LocalEndReason =
  /** close() was called. */
  | 'closed'
  /** Every reconnect attempt failed. */
  | 'connection-lost'
  /** The relay refused to resume (token, session ended or expired). */
  | 'resume-rejected'
  /** A frame failed to open (authentication) or a stream broke its protocol; the session was ended. */
  | 'stream-failed';

export interface SessionEnd {
  reason: EndReason | LocalEndReason;
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
  /** The session stream's statistics, once it has started. */
  stream: StreamStats | undefined;
}

export type RelayClientEvents = {
  /** A message on the session stream. */
  message: [message: Uint8Array];
  peer: [state: 'connected' | 'disconnected'];
  reconnecting: [info: { attempt: number; delayMs: number; cause: Error }];
  reconnected: [session: ResumedSession];
  /** Emitted once, whatever ended the session. */
  ended: [end: SessionEnd];
  /** Not fatal: relay errors that answer no request (e.g. about a frame), or unreadable relay messages. */
  error: [error: Error];
};

type ClientState = 'idle' | 'establishing' | 'connected' | 'reconnecting' | 'ended';

/** How long after the peer left its frames are taken as in-flight leftovers rather than as a sign it is back. */
const STALE_FRAME_GRACE_MS = 1_000;

/** Resume errors that another attempt cannot fix. */
const FUTILE_RESUME_ERRORS = new Set(['invalid-resume-token', 'session-not-found', 'session-ended', 'session-expired']);

export class RelayClient extends Emitter<RelayClientEvents> {
  readonly #url: string;
  readonly #WebSocket: WebSocketConstructor;
  readonly #sessionStreamBinding: StreamBinding | 'manual';
  readonly #streamTuning: Partial<StreamTuning>;
  readonly #reconnectPolicy: ReconnectPolicy;
  readonly #requestTimeoutMs: number;
  readonly #endTimeoutMs: number;
  readonly #clock: Clock;

  #state: ClientState = 'idle';
  #connection: RelayConnection | undefined;
  #session: EstablishedSession | undefined;
  #peerConnected = false;
  #peerLeftAt = -Infinity;
  /** Keyed by frame format (first byte of their frames). */
  readonly #streams = new Map<number, ReliableStream>();
  #sessionStream: ReliableStream | undefined;
  #delivered = false;
  #ending: Promise<SessionEnd> | undefined;
  #end: SessionEnd | undefined;
  /** Aborted when the session ends: cuts short backoff sleeps and end() waits. */
  readonly #stopped = new AbortController();
  #reconnects = 0;
  #unroutedFrames = 0;

  constructor(options: RelayClientOptions) {
    super();
    this.#url = options.url;
    this.#WebSocket = options.WebSocket;
    this.#sessionStreamBinding = options.sessionStream ?? { codec: createPlainCodec(), frameFormat: PLAIN_FRAME_FORMAT };
    this.#streamTuning = options.streamTuning ?? {};
    this.#reconnectPolicy = { ...DEFAULT_RECONNECT_POLICY, ...options.reconnect };
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
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

  get stats(): RelayClientStats {
    return { reconnects: this.#reconnects, unroutedFrames: this.#unroutedFrames, stream: this.#sessionStream?.stats };
  }

  /** Creates a session as the agent; the nameplate goes into the invitation. */
  createSession(options: { ttlSeconds?: number } = {}): Promise<EstablishedSession> {
    const request: CreateSessionRequest = { action: 'createSession' };
    if (options.ttlSeconds !== undefined) request.ttlSeconds = options.ttlSeconds;
    return this.#establish(request);
  }

  /** Joins the session behind a nameplate as the expert. */
  joinSession(nameplate: string): Promise<EstablishedSession> {
    return this.#establish({ action: 'joinSession', nameplate });
  }

  /**
   * Opens a stream over this session's connection for frames starting with `binding.frameFormat`
   * (e.g. a plain stream for the end-to-end handshake). The client pauses, resumes and disposes it.
   */
  openStream(binding: StreamBinding): ReliableStream {
    if (!this.#session || this.#state === 'ended') throw new Error('streams need an established session');
    if (this.#streams.has(binding.frameFormat)) throw new Error(`a stream for frame format ${binding.frameFormat} is already open`);
    const stream = new ReliableStream({
      ...this.#streamTuning,
      codec: binding.codec,
      clock: this.#clock,
      paused: !this.#flowing,
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
  startStream(binding: StreamBinding): void {
    if (this.#sessionStream) throw new Error('the session stream has already started');
    const stream = this.openStream(binding);
    stream.on('message', (message) => this.emit('message', message));
    this.#sessionStream = stream;
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
   * (waiting at most endTimeoutMs), then asks the relay to end the session for both sides.
   */
  end(): Promise<SessionEnd> {
    this.#ending ??= this.#endInOrder();
    return this.#ending;
  }

  /** Drops the connection without ending the session: the relay keeps it for its resume grace. */
  close(): void {
    this.#finish('closed');
  }

  // ---- session lifecycle ----

  async #establish(request: CreateSessionRequest | JoinSessionRequest): Promise<EstablishedSession> {
    if (this.#state !== 'idle') throw new Error('a RelayClient holds one session, and this one already has one');
    this.#state = 'establishing';
    try {
      const connection = await this.#connect();
      const { type: _reply, ...session } = await connection.request(request);
      this.#session = session;
      this.#state = 'connected';
      this.#peerConnected = session.peerConnected;
      if (this.#sessionStreamBinding !== 'manual') this.startStream(this.#sessionStreamBinding);
      return session;
    } catch (error) {
      this.#connection?.close();
      if (this.#state === 'establishing') this.#state = 'idle';
      throw error;
    }
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
        closed: (cause) => this.#onConnectionClosed(connection, cause),
      },
      { clock: this.#clock, requestTimeoutMs: this.#requestTimeoutMs },
    );
    this.#connection = connection;
    return connection;
  }

  #onConnectionClosed(connection: RelayConnection, cause: Error): void {
    if (connection !== this.#connection) return;
    this.#connection = undefined;
    this.#updateFlow();
    if (this.#state === 'connected') void this.#reconnect(cause);
  }

  async #reconnect(cause: Error): Promise<void> {
    this.#state = 'reconnecting';
    const { sessionId, resumeToken } = this.#session!;
    for (let attempt = 1; attempt <= this.#reconnectPolicy.maxAttempts; attempt++) {
      const delayMs = this.#backoffDelay(attempt);
      this.emit('reconnecting', { attempt, delayMs, cause });
      await this.#waitAtMost(delayMs);
      if (this.#end) return;
      try {
        const connection = await this.#connect();
        const { type: _reply, ...resumed } = await connection.request({ action: 'resumeSession', sessionId, resumeToken });
        this.#state = 'connected';
        this.#reconnects++;
        this.#setPeerConnected(resumed.peerConnected);
        this.#updateFlow();
        this.emit('reconnected', resumed);
        return;
      } catch (error) {
        if (this.#end) return; // ended (close() or the relay) while connecting
        this.#connection?.close();
        // A session that ended while we were away ends here for the reason it ended there.
        if (error instanceof RelayError && error.endReason) return void this.#finish(error.endReason);
        if (error instanceof RelayError && FUTILE_RESUME_ERRORS.has(error.code)) return void this.#finish('resume-rejected', error);
        cause = error instanceof Error ? error : new Error(String(error));
      }
    }
    this.#finish('connection-lost', cause);
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
        return this.#setPeerConnected(message.state === 'connected');
      case 'ended':
        return void this.#finish(message.reason);
      case 'error':
        return this.emit('error', new RelayError(message.code, message.message, message.requestAction, message.endReason));
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
    if (!this.#peerConnected && this.#clock.now() - this.#peerLeftAt >= STALE_FRAME_GRACE_MS) this.#setPeerConnected(true);
    const stream = this.#streams.get(frame[0] ?? -1);
    if (stream) void stream.receiveFrame(frame);
    else this.#unroutedFrames++;
  }

  #setPeerConnected(connected: boolean): void {
    if (connected === this.#peerConnected) return;
    this.#peerConnected = connected;
    if (!connected) this.#peerLeftAt = this.#clock.now();
    this.#updateFlow();
    this.emit('peer', connected ? 'connected' : 'disconnected');
  }

  /** Frames flow only with our connection up and the peer's too: otherwise the relay drops them. */
  get #flowing(): boolean {
    return this.#state === 'connected' && this.#connection !== undefined && this.#peerConnected;
  }

  #updateFlow(): void {
    const flowing = this.#flowing;
    for (const stream of this.#streams.values()) {
      if (flowing) stream.resume();
      else stream.pause();
    }
  }

  // ---- ending ----

  async #endInOrder(): Promise<SessionEnd> {
    if (!this.#session) return this.#finish('closed');
    if (this.#sessionStream) this.#delivered = await this.#waitAtMost(this.#endTimeoutMs, this.#sessionStream.end());
    this.#connection?.send({ action: 'endSession' });
    // The relay answers with an 'ended' notice (which finishes the session); without one, end anyway.
    await this.#waitAtMost(this.#requestTimeoutMs);
    return this.#finish(this.#ownEndReason());
  }

  #ownEndReason(): 'ended-by-agent' | 'ended-by-expert' {
    return this.#session?.role === 'expert' ? 'ended-by-expert' : 'ended-by-agent';
  }

  /** Any authentication failure ends the session, for both sides. */
  #failSession(error: Error): void {
    if (this.#end) return;
    this.#connection?.send({ action: 'endSession' });
    this.#finish('stream-failed', error);
  }

  #finish(reason: SessionEnd['reason'], error?: Error): SessionEnd {
    if (this.#end) return this.#end;
    const end: SessionEnd = { reason, peerClosed: this.#sessionStream?.remoteClosed ?? false, delivered: this.#delivered };
    if (error) end.error = error;
    this.#end = end;
    this.#state = 'ended';
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
  #waitAtMost(ms: number, promise?: Promise<unknown>): Promise<boolean> {
    const signal = this.#stopped.signal;
    if (signal.aborted) return Promise.resolve(false);
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
