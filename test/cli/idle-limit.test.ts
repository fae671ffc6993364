// The idle limit between two real assist processes over the local relay: the person in a real
// terminal (tmux), the technician scripted (--json). With a 2-minute idle limit, a session in which
// nothing happens warns both sides a minute before the end; the person's Ctrl-] then i ("I'm still
// here") puts it off, and both sides are told. (The end itself, and the 5-minute warning, are in the
// SDK's tests on a manual clock: test/unit/sdk/assist-session.test.ts.)
import { afterAll, expect, it } from 'vitest';
import { ASSIST_BIN, useAssist } from '../support/cli.js';
import { useLocalRuntime } from '../support/runtime.js';
import { Tmux } from './tmux.js';

const runtime = useLocalRuntime({ policy: { idleTimeoutSeconds: 120 } });
const { assist } = useAssist(() => runtime().httpUrl);
const tmux = new Tmux();
afterAll(() => tmux.close());

const env = { TERM: 'xterm-256color', LANG: 'C.UTF-8' };
/** The minute before the warning, and then some: generous, as the suite runs on two busy cores. */
const WARNING_PATIENCE_MS = 150_000;

it('warns both sides before the idle end, and the person’s Ctrl-] then i puts it off for both', { timeout: 240_000 }, async () => {
  // cat prints nothing by itself: once approved, nothing happens.
  await tmux.start('agent', [process.execPath, ASSIST_BIN, 'invite', '--easy-connect', '--name', 'Ada', '--command', 'cat', '--relay', runtime().httpUrl], { cols: 120, rows: 40 }, env);
  const [, password] = await tmux.waitFor('agent', /^ {4}([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/m);
  const expert = assist('join', password!, '--name', 'Bob');
  await tmux.waitFor('agent', /Press v, c or d:/);
  await tmux.press('agent', 'v');
  await expert.next('approved');

  await tmux.waitFor('agent', /Nothing has happened for a while: the session ends at .+ \(in 60 seconds\) unless someone does something\. Ctrl-\] then i says you are still here\./, WARNING_PATIENCE_MS);
  const warning = await expert.next('idle-warning');
  expect(warning).toMatchObject({ event: 'idle-warning', secondsLeft: 60 });
  expect(Number.isNaN(Date.parse(warning.endsAt as string))).toBe(false);

  // The menu offers it first while the warning is out.
  await tmux.press('agent', 'C-]');
  await tmux.waitFor('agent', /\[assist\] i I’m still here · c give control/);
  await tmux.press('agent', 'i');
  await tmux.waitFor('agent', /Someone is active again: the session goes on\./);
  await expert.next('idle-cleared');

  // The technician's own still-here is taken too (nothing to clear now: no answer, no error).
  expert.send({ cmd: 'still-here' });
  expert.send({ cmd: 'chat', text: 'thanks' });
  await tmux.waitFor('agent', /Bob: thanks/);
  expect(expert.events.filter((event) => event.event === 'error')).toEqual([]);

  expert.send({ cmd: 'end' });
  expect(await expert.next('ended')).toEqual({ event: 'ended', reason: 'ended-by-expert' });
  await tmux.waitFor('agent', /Bob ended the session\./);
});
