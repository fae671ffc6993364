// The relay's use cases over the in-memory adapters, with a clock the test moves: expiry without sleeping.
import { defaultPolicy, type RelayPolicy } from '../../shared/server/config/policy.js';
import { MemoryAuditTrail } from '../../shared/server/adapters/memory-audit-trail.js';
import { MemoryDeviceRegistry } from '../../shared/server/adapters/memory-device-registry.js';
import { RecordingMailer } from '../../shared/server/adapters/memory-mailer.js';
import { RecordingNotifier, type RecordingNotifierHooks } from '../../shared/server/adapters/memory-notifier.js';
import { MemoryRateLimiter } from '../../shared/server/adapters/memory-rate-limiter.js';
import { MemorySessionStore } from '../../shared/server/adapters/memory-session-store.js';
import { MemoryTechnicianRegistry } from '../../shared/server/adapters/memory-technician-registry.js';
import { silentLog, type Log } from '../../shared/server/ports/log.js';
import { closeConnection, openConnection } from '../../shared/server/use-cases/connections.js';
import type { Caller, RelayDeps, RelayEndpoints } from '../../shared/server/use-cases/deps.js';
import { RouteCache } from '../../shared/server/use-cases/route-cache.js';

/** A wall clock in epoch milliseconds that the test moves forward. */
export class SteppedClock {
  #offsetMs = 0;
  /** `base`: a fixed instant by default; `Date.now` for a clock that also follows real time. */
  constructor(private readonly base: () => number = () => Date.UTC(2030, 0, 1)) {}
  readonly now = (): number => this.base() + this.#offsetMs;
  readonly nowSeconds = (): number => Math.floor(this.now() / 1000);
  advanceSeconds(seconds: number): void {
    this.#offsetMs += seconds * 1000;
  }
}

export interface MemoryRelayOptions {
  policy?: Partial<RelayPolicy>;
  clock?: SteppedClock;
  log?: Log;
  /** What the notifier does besides recording (an in-process relay sends posts on and closes sockets). */
  notifier?: RecordingNotifierHooks;
  /** false: the relay has no mailer (emailing is refused). */
  mailer?: boolean;
  /** Where clients reach the relay (what invitation files must name); example.org by default. */
  endpoints?: RelayEndpoints;
}

/** Everything a use case needs, in memory, and handles on each part for the test to look at. */
export class MemoryRelay {
  readonly clock: SteppedClock;
  readonly store: MemorySessionStore;
  readonly notifier: RecordingNotifier;
  readonly audit: MemoryAuditTrail;
  readonly devices: MemoryDeviceRegistry;
  readonly technicians = new MemoryTechnicianRegistry();
  readonly rateLimiter = new MemoryRateLimiter();
  readonly mailer = new RecordingMailer();
  readonly deps: RelayDeps;
  #connections = 0;

  constructor(options: MemoryRelayOptions = {}) {
    this.clock = options.clock ?? new SteppedClock();
    this.store = new MemorySessionStore(this.clock.nowSeconds);
    this.audit = new MemoryAuditTrail(this.clock.nowSeconds);
    this.devices = new MemoryDeviceRegistry(this.clock.nowSeconds);
    this.notifier = new RecordingNotifier(options.notifier);
    const policy = { ...defaultPolicy, ...options.policy };
    this.deps = {
      store: this.store,
      notifier: this.notifier,
      audit: this.audit,
      devices: this.devices,
      technicians: this.technicians,
      rateLimiter: this.rateLimiter,
      ...(options.mailer !== false && { mailer: this.mailer }),
      endpoints: options.endpoints ?? { webSocketUrl: 'wss://relay.example.org/live', httpUrl: 'https://relay.example.org' },
      policy,
      log: options.log ?? silentLog,
      clock: this.clock.now,
      routes: new RouteCache(policy.routeCacheSeconds * 1000),
    };
  }

  /** A client connects ($connect), from `sourceIp`. */
  async connect(sourceIp = '198.51.100.7', connectionId = `conn-${++this.#connections}`): Promise<Caller> {
    const caller = { connectionId, sourceIp };
    this.notifier.connect(connectionId);
    await openConnection(this.deps, caller);
    return caller;
  }

  /** The client's connection drops: posts to it are gone, then API Gateway runs $disconnect. */
  async disconnect(caller: Caller): Promise<void> {
    this.notifier.gone(caller.connectionId);
    await closeConnection(this.deps, caller);
  }

  /** Every message the relay posted to this connection so far. */
  messagesTo(caller: Caller) {
    return this.notifier.messagesTo(caller.connectionId);
  }

  advanceSeconds(seconds: number): void {
    this.clock.advanceSeconds(seconds);
  }
}
