// What `assist resume` needs after a crash: the session's snapshot (sdk/snapshot.ts), kept in a file
// only its user can read, in the user's state directory ($XDG_STATE_HOME/assist, or
// ~/.local/state/assist), one per session, written before anything leaves (the SDK's persistWith)
// and removed when the session ends. Nothing is written before approval. The file holds the
// session's end-to-end keys and resume token: it is the session, for as long as the session lasts.

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodeAssistSnapshot, encodeAssistSnapshot, SnapshotFormatError, type AgentSession, type AssistSnapshot, type ExpertSession } from '../sdk/node.js';
import { CodedError } from '../shared/core/coded-error.js';

/** Where the state files live. */
export function stateDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  const base = environment.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'assist');
}

/** What the file says besides the snapshot: who kept it, and what the person shared. */
export interface KeptSession {
  /** The process that keeps the file up to date; `assist resume` refuses while it runs. */
  pid: number;
  /** Person: the --command that ran in the shared terminal (a resume starts it anew). */
  command?: string;
  snapshot: AssistSnapshot;
}

export type StateErrorCode = 'no-saved-session' | 'several-saved-sessions' | 'still-running' | 'unreadable-state';

export class StateError extends CodedError<StateErrorCode> {
  override readonly name = 'StateError';
}

/** One file per session and side: both sides of a session may run on one machine. */
const fileOf = (directory: string, snapshot: AssistSnapshot) => join(directory, `${snapshot.relay.session.sessionId}.${snapshot.role}.json`);
const SESSION_FILE = /^([A-Za-z0-9_-]+\.(?:agent|expert))\.json$/;

/** Keeps the session in its state file from approval on, and removes the file when it ends. */
export function keepSessionState(session: AgentSession | ExpertSession, extra: { command?: string }, directory = stateDirectory()): void {
  let file: string | undefined;
  session.persistWith((snapshot) => {
    file ??= fileOf(directory, snapshot);
    try {
      mkdirSync(directory, { recursive: true, mode: 0o700 });
      const kept = JSON.stringify({ pid: process.pid, ...(extra.command === undefined ? {} : { command: extra.command }), snapshot: encodeAssistSnapshot(snapshot) });
      // Written whole, then renamed over the old one: a crash mid-write leaves the previous state.
      const partial = `${file}.${process.pid}.partial`;
      writeFileSync(partial, kept, { mode: 0o600 });
      renameSync(partial, file);
    } catch {
      // A disk that is full or gone must not end the session; but a stale file could make a resume
      // reuse what was already sent, so there is no file rather than an old one.
      session.persistWith(undefined);
      rmSync(file, { force: true });
    }
  });
  session.client.on('ended', () => {
    if (file) rmSync(file, { force: true });
  });
}

/** The sessions kept in the state directory, by session id. */
export function savedSessionIds(directory = stateDirectory()): string[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  return names.flatMap((name) => SESSION_FILE.exec(name)?.[1] ?? []);
}

/**
 * The saved session to resume: the one named (a session id, or its start), or the only one. Refused
 * while the process that keeps it still runs: two processes on one session would reuse its keys.
 */
export function loadSessionState(which: string | undefined, directory = stateDirectory()): KeptSession & { file: string } {
  const named = savedSessionIds(directory).filter((id) => which === undefined || id.startsWith(which));
  // The ones a running assist holds are not candidates (the other side of a session on this machine), unless nothing else matches.
  const free = named.filter((id) => !isRunning(holderOf(join(directory, `${id}.json`))));
  const ids = free.length === 0 && named.length > 0 ? named.slice(0, 1) : free;
  if (ids.length === 0) {
    throw new StateError('no-saved-session', which === undefined ? `no session to resume in ${directory}: sessions are kept there only once approved, until they end` : `no saved session starts with "${which}" in ${directory}`);
  }
  if (ids.length > 1) {
    // Newest first, each with whose side it is and when it was last saved: an old one has most likely ended (trying it removes it).
    const saved = ids
      .map((id) => ({ id, at: savedAt(join(directory, `${id}.json`)) }))
      .sort((a, b) => b.at - a.at)
      .map(({ id, at }) => `  assist resume ${id}   (${id.endsWith('.agent') ? 'the person’s side' : 'the technician’s side'}, saved ${at ? new Date(at).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : 'at an unknown time'})`);
    throw new StateError(
      'several-saved-sessions',
      `several sessions were kept on this machine; name the one to resume:\n${saved.join('\n')}\nA session that ended or was away for more than 5 minutes cannot be resumed: trying it removes its file.`,
    );
  }
  const file = join(directory, `${ids[0]!}.json`);
  let kept: { pid?: unknown; command?: unknown; snapshot?: unknown };
  let snapshot: AssistSnapshot;
  try {
    kept = JSON.parse(readFileSync(file, 'utf8')) as typeof kept;
    snapshot = decodeAssistSnapshot(String(kept.snapshot));
  } catch (error) {
    const why = error instanceof SnapshotFormatError ? error.message : 'it is not a saved session';
    throw new StateError('unreadable-state', `${file} cannot be read (${why}); delete it, the session cannot be resumed from it`);
  }
  const pid = typeof kept.pid === 'number' ? kept.pid : 0;
  if (pid !== process.pid && isRunning(pid)) {
    throw new StateError('still-running', `the assist process that holds this session still runs (pid ${pid}); it reconnects by itself. Stop it first, or wait for it`);
  }
  return { file, pid, snapshot, ...(typeof kept.command === 'string' ? { command: kept.command } : {}) };
}

/** When a state file was last written, epoch milliseconds, or 0. */
function savedAt(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** The pid a state file names, or 0. */
function holderOf(file: string): number {
  try {
    const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && pid !== process.pid ? pid : 0;
  } catch {
    return 0;
  }
}

function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as someone else's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
