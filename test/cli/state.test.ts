// Which kept session `assist resume` picks (cli/state.ts): the ones a running assist holds are not
// candidates, named or not; several candidates are listed newest first, with their side and age.
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadSessionState, StateError } from '../../cli/state.js';

/** A pid that is not running: beyond any pid_max. */
const GONE = 2 ** 31 - 2;

function keep(directory: string, name: string, pid: number, savedAt: Date): void {
  const file = join(directory, `${name}.json`);
  writeFileSync(file, JSON.stringify({ pid, snapshot: 'not a snapshot' }));
  utimesSync(file, savedAt, savedAt);
}

const refusal = (run: () => unknown): StateError => {
  try {
    run();
  } catch (error) {
    if (error instanceof StateError) return error;
    throw error;
  }
  throw new Error('no StateError');
};

it('lists the sessions that can be resumed newest first, with their side and when they were saved; not those a running assist holds', () => {
  const directory = mkdtempSync(join(tmpdir(), 'assist-state-'));
  keep(directory, 'oldSession.agent', GONE, new Date('2026-01-01T07:05:00Z'));
  keep(directory, 'newSession.expert', GONE, new Date('2026-01-01T08:53:00Z'));
  keep(directory, 'liveSession.agent', process.ppid, new Date('2026-01-01T09:00:00Z'));
  const error = refusal(() => loadSessionState(undefined, directory));
  expect(error.code).toBe('several-saved-sessions');
  const lines = error.message.split('\n');
  expect(lines[1]).toMatch(/^ {2}assist resume newSession\.expert {3}\(the technician’s side, saved .+\)$/);
  expect(lines[2]).toMatch(/^ {2}assist resume oldSession\.agent {3}\(the person’s side, saved .+\)$/);
  expect(error.message).not.toContain('liveSession');
  expect(lines.at(-1)).toBe('A session that ended or was away for more than 5 minutes cannot be resumed: trying it removes its file.');
});

it('a name matching both sides of a session on this machine takes the side no running assist holds', () => {
  const directory = mkdtempSync(join(tmpdir(), 'assist-state-'));
  keep(directory, 'shared.agent', process.ppid, new Date());
  keep(directory, 'shared.expert', GONE, new Date());
  // The chosen file is then read: this one holds no snapshot, which is said with its name.
  const error = refusal(() => loadSessionState('shared', directory));
  expect(error.code).toBe('unreadable-state');
  expect(error.message).toContain('shared.expert.json');
});
