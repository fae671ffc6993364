// An enrolled device's agent (docs/help-desk.md): one connection to the relay, signed in with the device's
// key over a one-time challenge, heartbeats well within API Gateway's 10-minute idle limit, a fresh
// connection before the 2-hour cap (made before the old one is let go), and reconnects with backoff
// while the relay cannot be reached. It stops only when told to, or when the relay says the device is
// no longer enrolled (removed by the operator) or its key does not match.

import { decodeBase64Url, encodeBase64Url } from '../shared/core/base64.js';
import { deviceSignInMessage } from '../shared/core/device-sign-in.js';
import { systemClock, type CancelTimer, type Clock } from './clock.js';
import { RelayConnection, RelayError, type WebSocketConstructor } from './connection.js';
import { Emitter } from './emitter.js';
import type { DeviceOffer } from './device-offer.js';
import type { OfferAnswer } from '../shared/core/messages.js';

export interface DeviceIdentity {
  deviceId: string;
  /** PKCS #8, base64url (generateDeviceKeyPair). */
  privateKey: string;
  webSocketUrl: string;
}

export interface DeviceAgentTuning {
  /** Between heartbeats; API Gateway closes a connection idle for 10 minutes. Default 5 minutes. */
  heartbeatMs: number;
  /** When to replace the connection by a fresh one; API Gateway closes every connection after 2 hours. Default 1 h 50 min. */
  renewAfterMs: number;
  /** The first wait after a failed attempt, doubling up to maxBackoffMs (each with jitter: half to all of it). */
  initialBackoffMs: number;
  maxBackoffMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_DEVICE_AGENT_TUNING: DeviceAgentTuning = {
  heartbeatMs: 5 * 60_000,
  renewAfterMs: 110 * 60_000,
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  requestTimeoutMs: 15_000,
};

/** How long to wait before attempt `failures` + 1, after `failures` failed ones in a row (0: at once). */
export function backoffDelayMs(failures: number, tuning: Pick<DeviceAgentTuning, 'initialBackoffMs' | 'maxBackoffMs'>, random: () => number): number {
  if (failures <= 0) return 0;
  const cap = Math.min(tuning.maxBackoffMs, tuning.initialBackoffMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Relay answers after which trying again cannot help. */
const FATAL = new Set(['device-not-enrolled', 'device-sign-in-failed', 'device-signed-in-elsewhere']);

export interface DeviceAgentEvents {
  [event: string]: unknown[];
  /** Signed in on a new connection (the first, after a drop, or the renewal before the cap). */
  online: [{ deviceId: string; name: string; group: string; renewal: boolean }];
  /** The connection was lost; a new attempt follows after `delayMs`. */
  offline: [{ reason: string; delayMs: number; failures: number }];
  /** A technician offers help (docs/help-desk.md): check it (decideOffer), then answer with answerOffer. */
  offer: [offer: DeviceOffer];
  /** Stopped for good: the relay refused this device (`code`), or stop() was called (no code). */
  stopped: [{ code?: string; message: string }];
}

export interface DeviceAgentOptions {
  identity: DeviceIdentity;
  WebSocket: WebSocketConstructor;
  clock?: Clock;
  tuning?: Partial<DeviceAgentTuning>;
  random?: () => number;
}

export class DeviceAgent extends Emitter<DeviceAgentEvents> {
  readonly #identity: DeviceIdentity;
  readonly #WebSocket: WebSocketConstructor;
  readonly #clock: Clock;
  readonly #tuning: DeviceAgentTuning;
  readonly #random: () => number;
  #key: Promise<CryptoKey> | undefined;
  #current: RelayConnection | undefined;
  #timers: CancelTimer[] = [];
  #failures = 0;
  #stopped = false;
  /** A renewal is signing in: the relay closes the connection it replaces meanwhile, which is no loss. */
  #renewing = false;

  constructor(options: DeviceAgentOptions) {
    super();
    this.#identity = options.identity;
    this.#WebSocket = options.WebSocket;
    this.#clock = options.clock ?? systemClock;
    this.#tuning = { ...DEFAULT_DEVICE_AGENT_TUNING, ...options.tuning };
    this.#random = options.random ?? Math.random;
  }

  start(): void {
    void this.#attempt(false);
  }

  stop(message = 'stopped'): void {
    this.#finish(undefined, message);
  }

  #finish(code: string | undefined, message: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clearTimers();
    const connection = this.#current;
    this.#current = undefined;
    connection?.close();
    this.emit('stopped', { ...(code === undefined ? {} : { code }), message });
  }

  #clearTimers(): void {
    for (const cancel of this.#timers.splice(0)) cancel();
  }

  #signingKey(): Promise<CryptoKey> {
    this.#key ??= crypto.subtle.importKey('pkcs8', new Uint8Array(decodeBase64Url(this.#identity.privateKey)), { name: 'Ed25519' }, false, ['sign']);
    return this.#key;
  }

  /** Opens a connection and signs in on it; it becomes the current one (a renewal lets the old one go after). */
  async #attempt(renewal: boolean): Promise<void> {
    let connection: RelayConnection | undefined;
    this.#renewing = renewal;
    try {
      connection = await RelayConnection.open(
        this.#WebSocket,
        this.#identity.webSocketUrl,
        {
          notice: (message) => {
            if (message.type === 'helpOffered' && connection === this.#current) {
              const { type: _type, ...offer } = message;
              this.emit('offer', offer);
            }
          },
          malformed: () => {},
          closed: (cause) => this.#onClosed(connection, cause),
        },
        { clock: this.#clock, requestTimeoutMs: this.#tuning.requestTimeoutMs },
      );
      const { challenge } = await connection.request({ action: 'requestDeviceChallenge' });
      const signature = await crypto.subtle.sign({ name: 'Ed25519' }, await this.#signingKey(), deviceSignInMessage(this.#identity.deviceId, challenge));
      const signedIn = await connection.request({ action: 'signInDevice', deviceId: this.#identity.deviceId, signature: encodeBase64Url(new Uint8Array(signature)) });
      if (this.#stopped) return connection.close();
      const previous = this.#current;
      this.#current = connection;
      this.#failures = 0;
      this.#clearTimers();
      this.#timers.push(this.#every(this.#tuning.heartbeatMs, () => this.#heartbeat(connection!)));
      this.#timers.push(this.#clock.schedule(this.#tuning.renewAfterMs, () => void this.#attempt(true)));
      // The relay closes the earlier connection itself when this one signs in; closing it here too is harmless.
      previous?.close();
      this.emit('online', { deviceId: signedIn.deviceId, name: signedIn.name, group: signedIn.group, renewal });
    } catch (error) {
      connection?.close();
      if (error instanceof RelayError && FATAL.has(error.code)) return this.#finish(error.code, error.message);
      // A failed renewal leaves the current connection in place; it is tried again at the cap or on a drop.
      if (renewal && this.#current?.open) return;
      this.#retry(error instanceof Error ? error.message : String(error));
    } finally {
      if (renewal) this.#renewing = false;
    }
  }

  /** Tells the relay what became of an offer: the person's answer, or why the device refused it. */
  async answerOffer(sessionId: string, answer: OfferAnswer): Promise<void> {
    const connection = this.#current;
    if (!connection) throw new Error('the device is not connected to the relay: the offer cannot be answered');
    await connection.request({ action: 'answerOffer', deviceId: this.#identity.deviceId, sessionId, answer });
  }

  #every(intervalMs: number, tick: () => void): CancelTimer {
    let cancel: CancelTimer = () => {};
    const schedule = () => {
      cancel = this.#clock.schedule(intervalMs, () => {
        tick();
        schedule();
      });
    };
    schedule();
    return () => cancel();
  }

  async #heartbeat(connection: RelayConnection): Promise<void> {
    try {
      await connection.request({ action: 'deviceHeartbeat', deviceId: this.#identity.deviceId });
    } catch (error) {
      if (connection !== this.#current) return;
      if (error instanceof RelayError && FATAL.has(error.code)) return this.#finish(error.code, error.message);
      // A heartbeat that got no answer: the connection is not trusted any more; a new one replaces it.
      connection.close(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #onClosed(connection: RelayConnection | undefined, cause: Error): void {
    // Only the current connection's loss matters: a renewed one's predecessor is meant to close.
    if (this.#stopped || connection === undefined || connection !== this.#current) return;
    this.#current = undefined;
    this.#clearTimers();
    if (!this.#renewing) this.#retry(cause.message);
  }

  #retry(reason: string): void {
    if (this.#stopped) return;
    const delayMs = backoffDelayMs(this.#failures, this.#tuning, this.#random);
    this.#failures++;
    this.emit('offline', { reason, delayMs, failures: this.#failures - 1 });
    this.#timers.push(this.#clock.schedule(delayMs, () => void this.#attempt(false)));
  }
}
