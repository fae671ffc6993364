// Helpers for tests of assistance sessions: a recorder of everything a side emitted, and the fast
// client options for the high-level entry points.
import { AgentSession, type AssistEnd, type ConnectOptions, type ExpertSession } from '../../sdk/index.js';
import { afterEach } from 'vitest';
import { fastClientOptions, useCleanups, Watch } from './harness.js';

export interface Recorded {
  /** Every event but 'ended' and 'error', in order, as `name arg…` (bytes as UTF-8, objects as JSON). */
  log: string[];
  ended: AssistEnd | undefined;
  errors: Error[];
}

const agentEvents = ['expert', 'attempt-failed', 'expert-left', 'control-requested', 'chat', 'input', 'idle-warning', 'idle-cleared'];
const expertEvents = ['verification', 'agent', 'approved', 'denied', 'asked', 'control', 'paused', 'resumed', 'terminal-share', 'output', 'resize', 'chat', 'screen-share', 'screen', 'attempt-failed', 'agent-left', 'idle-warning', 'idle-cleared'];

function show(value: unknown): string {
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** Woken by every event of a recorded session and its client (a test file's tests run one at a time). */
const heard = new Watch();

/** Resolves when `condition` holds, checked again after each event of a heard (or recorded) session or its client (never on a timer). */
export const whenRecorded = (condition: () => boolean, what: string): Promise<void> => heard.until(condition, what);

/** Wakes `whenRecorded` after every event of `session` and its client, from now on (a restored session too). */
export function hear(session: AgentSession | ExpertSession): void {
  heard.hears(session, session.client);
}

export function record(session: AgentSession | ExpertSession): Recorded {
  hear(session);
  const recorded: Recorded = { log: [], ended: undefined, errors: [] };
  // The two classes' event maps differ; the recorder treats them alike.
  const on = session.on.bind(session) as (event: string, listener: (...args: unknown[]) => void) => void;
  for (const event of session instanceof AgentSession ? agentEvents : expertEvents) {
    on(event, (...args) => recorded.log.push([event, ...args.map(show)].join(' ')));
  }
  on('ended', (end) => (recorded.ended = end as AssistEnd));
  on('error', (error) => recorded.errors.push(error as Error));
  return recorded;
}

/** Short timers, so failures and departures are noticed in milliseconds on localhost. */
export const fastAssistOptions: Pick<ConnectOptions, 'clientOptions' | 'handshake'> = {
  clientOptions: fastClientOptions,
  handshake: { abortFlushMs: 500 },
};

export const utf8 = (text: string) => new TextEncoder().encode(text);

/**
 * For a test file: `keep(session)` ends the session after the test (if it has not ended), while the
 * browser pages of the test are still there to acknowledge its last frames; whenRecorded hears it meanwhile.
 */
export function useSessionsEndedAfterEach(): <Session extends AgentSession | ExpertSession>(session: Session) => Session {
  const defer = useCleanups();
  return (session) => {
    defer(() => (session.phase === 'ended' ? undefined : session.client.end()));
    hear(session);
    return session;
  };
}

/**
 * Sessions the SDK opens in a test, ended after it so the next test starts clean: before the hooks
 * registered earlier (the browser's), while a page is still there to acknowledge their last frames.
 */
export function useSdkSessions(): Array<AgentSession | ExpertSession> {
  const sessions: Array<AgentSession | ExpertSession> = [];
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => (session.phase === 'ended' ? undefined : session.client.end())));
  });
  return sessions;
}
