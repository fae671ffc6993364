// What the session drivers (agent.ts, expert.ts) need from a user interface, and how a session's
// end becomes the command's exit status. Two interfaces implement it: json-lines.ts and human.ts.

import { InvitationMixUpError, watchTimeLimit, type AssistEnd, type InvitationShape, type RelayClient } from '../sdk/node.js';
import type { Command, SessionEvent } from './events.js';
import type { OfferRefusalAnswer } from '../shared/core/offer-outcome.js';

export interface Frontend {
  /** Shows one event; a returned promise resolves once the output can take more (backpressure). */
  show(event: SessionEvent): void | Promise<void>;
  /** Starts delivering the user's commands. */
  listen(onCommand: (command: Command) => void): void;
  /** Gives the terminal back (cooked mode, no listeners); the process can then exit. */
  close(): void;
}

export interface Outcome {
  reason: string;
  /** A help-desk offer turned down: the device's answer (shared/core/offer-outcome.ts). */
  offerAnswer?: OfferRefusalAnswer;
  /** Ended by this side's own choice, or by the other side once the session was under way. */
  normal: boolean;
}

/** Ends either side may bring about in the ordinary course of a session. */
const ORDINARY_ENDS = new Set(['ended-by-agent', 'ended-by-expert']);

export function outcomeOf(end: AssistEnd, endedHere: boolean): Outcome {
  return { reason: end.reason, normal: endedHere || ORDINARY_ENDS.has(end.reason), ...(end.offerAnswer && { offerAnswer: end.offerAnswer }) };
}

/** A mix-up, by what was given: what it is and who uses it with which command. */
const mixUpSentences: Record<InvitationShape, string> = {
  'helper-code': 'This is a helper code: the person who needs help types it with `assist accept`.',
  'easy-connect': 'This is an Easy Connect password: the technician types it with `assist join`.',
  file: 'This is an invitation file or link: the technician opens it with `assist join FILE` or `assist join URL`, with its password.',
  password: 'This is an invitation file’s password: the technician gives it with the file or link, `assist join FILE --password XXXX-XXXX`.',
};

const isoTime = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** The session's hard limit and the warnings before it, as events (both sides); stops with the session. */
export function reportTimeLimit(client: RelayClient, show: (event: SessionEvent) => void): void {
  watchTimeLimit(client, {
    limit: ({ expiresAt, maxExpiresAt }) =>
      show({
        event: 'time-limit',
        expiresAt: isoTime(expiresAt),
        secondsLeft: Math.max(0, Math.round(expiresAt - Date.now() / 1000)),
        ...(maxExpiresAt === undefined ? {} : { maxExpiresAt: isoTime(maxExpiresAt) }),
      }),
    warning: ({ secondsLeft, expiresAt }) => show({ event: 'expiry-warning', secondsLeft, expiresAt: isoTime(expiresAt) }),
  });
}

/** What both sessions (AgentSession, ExpertSession) say about the idle limit. */
interface IdleReports {
  on(event: 'idle-warning', listener: (warning: { secondsLeft: number }) => void): unknown;
  on(event: 'idle-cleared', listener: () => void): unknown;
}

/** The idle limit's warnings and their end, as events (both sides). */
export function reportIdleLimit(session: IdleReports, show: (event: SessionEvent) => void): void {
  session.on('idle-warning', ({ secondsLeft }) => show({ event: 'idle-warning', secondsLeft, endsAt: new Date(Date.now() + secondsLeft * 1000).toISOString() }));
  session.on('idle-cleared', () => show({ event: 'idle-cleared' }));
}

/** An error as an event; the SDK's and the shared parsers' errors all carry a stable `code`. */
export function errorEvent(error: unknown): Extract<SessionEvent, { event: 'error' }> {
  if (error instanceof InvitationMixUpError) return { event: 'error', code: error.code, message: mixUpSentences[error.given] };
  const code = (error as { code?: unknown } | null)?.code;
  return {
    event: 'error',
    code: typeof code === 'string' ? code : 'internal',
    message: error instanceof Error ? error.message : String(error),
  };
}

/** The relay connection's ups and downs, and the other side's, as events (both drivers). */
export function reportConnection(client: RelayClient, show: (event: SessionEvent) => void): void {
  client.on('peer', (state) => {
    // Before approval a joiner comes and goes with its connection ('connected', 'peer-left'): only
    // a session under way waits for the other side to come back.
    if (state !== 'left' && client.activation) show({ event: 'peer', state });
  });
  client.on('reconnecting', ({ attempt }) => show({ event: 'connection', state: 'reconnecting', attempt }));
  client.on('reconnected', () => show({ event: 'connection', state: 'connected' }));
}

/**
 * Runs commands one after another (an approval must be on its way before a grant that follows it),
 * reporting a failed one as an error event instead of stopping.
 */
export class CommandQueue {
  #tail: Promise<void> = Promise.resolve();

  constructor(private readonly report: (event: SessionEvent) => void) {}

  run(action: () => Promise<unknown>): void {
    this.#tail = this.#tail.then(action).then(
      () => {},
      (error: unknown) => this.report(errorEvent(error)),
    );
  }
}
