// Small helpers shared by the tests that drive SDK clients.
import { afterEach } from 'vitest';
import type { AgentSession, AgentSessionEvents, ExpertSession, ExpertSessionEvents } from '../../sdk/assist-session.js';
import type { RelayClient, RelayClientEvents, RelayClientOptions } from '../../sdk/client.js';
import type { DeviceAgent } from '../../sdk/device-agent.js';
import type { Emitter } from '../../sdk/emitter.js';
import type { ReliableStream, StreamEvents } from '../../sdk/stream.js';

/** Short timers so outages heal in milliseconds on localhost. Nothing asserts on time. */
export const fastClientOptions: Omit<RelayClientOptions, 'url' | 'WebSocket'> = {
  streamTuning: { initialRtoMs: 100, minRtoMs: 20, ackDelayMs: 5, answerAckDelayMs: 5 },
  reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
  requestTimeoutMs: 2_000,
  endTimeoutMs: 5_000,
};

/** A hang, not a timing assertion: a wait that sees nothing for this long fails naming what it waited for. */
export const HANG_MS = 20_000;

/** Resolves when `condition` holds; rejects naming `what` if it does not within 20 s (a hang, not a timing assertion). */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + HANG_MS; !condition(); await new Promise((resolve) => setTimeout(resolve, 5))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Each SDK emitter's events (its class is nominal: it has private fields), so `nextEvent` is typed per event. */
type EventsOf<Target> = Target extends RelayClient
  ? RelayClientEvents
  : Target extends ReliableStream
    ? StreamEvents
    : Target extends AgentSession
      ? AgentSessionEvents
      : Target extends ExpertSession
        ? ExpertSessionEvents
        : never;

/** Resolves with the arguments of `target`'s next `event` that `accept` takes (every one by default). */
export function nextEvent<Target extends RelayClient | ReliableStream | AgentSession | ExpertSession, E extends keyof EventsOf<Target> & string>(
  target: Target,
  event: E,
  accept: (...args: Extract<EventsOf<Target>[E], unknown[]>) => boolean = () => true,
): Promise<EventsOf<Target>[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for '${event}'`));
    }, HANG_MS);
    const stop = (target as unknown as Emitter<Record<string, unknown[]>>).on(event, (...heard) => {
      const args = heard as Extract<EventsOf<Target>[E], unknown[]>;
      if (!accept(...args)) return;
      stop();
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Resolves at once if `condition` holds, else at the first `event` of `target` after which it holds. */
export async function when<Target extends RelayClient | ReliableStream | AgentSession | ExpertSession>(
  target: Target,
  event: keyof EventsOf<Target> & string,
  condition: () => boolean,
): Promise<void> {
  if (!condition()) await nextEvent(target, event, () => condition());
}

/**
 * Wakes waits when the events a test records change: the recorder calls `changed()` after noting each
 * event, and `until(condition)` re-checks its condition then (never on a timer).
 */
export class Watch {
  readonly #checks = new Set<() => void>();
  readonly #heard = new WeakSet<object>();

  changed(): void {
    for (const check of [...this.#checks]) check();
  }

  /**
   * Wakes this watch after every event each target emits, once its listeners have run: the SDK sets its state
   * (phase, hasControl, paused…) before it emits, so a wait on that state is checked again when it can change.
   * A client's streams opened from now on are heard too, and after every frame they have processed: an
   * acknowledgement emits nothing, yet changes what is in flight (readyForScreenImage, unacknowledgedBytes).
   */
  hears(...targets: Array<RelayClient | ReliableStream | AgentSession | ExpertSession | DeviceAgent>): this {
    for (const target of targets) {
      if (this.#heard.has(target)) continue;
      this.#heard.add(target);
      const emitter = target as unknown as { emit(event: string, ...args: unknown[]): void };
      const emit = emitter.emit.bind(emitter);
      emitter.emit = (event, ...args) => {
        emit(event, ...args);
        this.changed();
      };
      if ('openStream' in target) this.#hearStreamsOf(target);
    }
    return this;
  }

  #hearStreamsOf(client: RelayClient): void {
    const openStream = client.openStream.bind(client);
    client.openStream = (...args) => {
      const stream = openStream(...args);
      const receiveFrame = stream.receiveFrame.bind(stream);
      stream.receiveFrame = async (frame) => {
        await receiveFrame(frame);
        this.changed();
      };
      this.hears(stream);
      return stream;
    };
  }

  /** Resolves when `condition` holds; rejects naming `what` if no recorded event makes it hold. */
  until(condition: () => boolean, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const stop = () => {
        this.#checks.delete(check);
        clearTimeout(timer);
      };
      const check = () => {
        if (!condition()) return;
        stop();
        resolve();
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`timed out waiting for ${what}`));
      }, HANG_MS);
      this.#checks.add(check);
    });
  }
}

/** Returns `defer(cleanup)`: deferred cleanups run after each test of the file, newest first. */
export function useCleanups(): (cleanup: () => unknown) => void {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => cleanups.push(cleanup);
}
