// Clipboard text over the in-process relay (the real handlers on memory adapters): nothing moves until the person allows it; while allowed and
// not paused it moves both ways; the expert's text that arrives otherwise is refused and counted on
// the person's side, and the person's side sending it unallowed breaks the protocol.
import { describe, expect, it } from 'vitest';
import { useCleanups, Watch } from '../../support/harness.js';
import { decidingPair, sendRaw } from './support/assist-pair.js';

const defer = useCleanups();
/** Woken by every event of the pair's sessions and clients (decidingPair): the waits below check again then. */
const heard = new Watch();

async function active() {
  const pair = await decidingPair(defer, heard);
  const seen = { agent: [] as string[], expert: [] as string[], refused: [] as string[], allowed: [] as boolean[], errors: [] as string[] };
  pair.agent.on('clipboard', (text) => seen.agent.push(text));
  pair.agent.on('clipboard-refused', ({ why }) => seen.refused.push(why));
  pair.expert.on('clipboard', (text) => seen.expert.push(text));
  pair.expert.on('clipboard-allowed', ({ allowed }) => seen.allowed.push(allowed));
  pair.expert.on('error', (error) => seen.errors.push(error.message));
  await pair.agent.approve('view');
  await heard.until(() => pair.expert.phase === 'active', 'the approval');
  return { ...pair, seen };
}

describe('clipboard text', () => {
  it('moves neither way until the person allows it; the expert’s text is refused and counted', async () => {
    const { agent, expert, expertClient, seen } = await active();
    expect(await agent.sendClipboard('secret')).toBe(false);
    expect(await expert.sendClipboard('hello')).toBe(false); // its side knows it would be refused
    await sendRaw(expertClient, { type: 'clipboard', text: 'pushed anyway' });
    await heard.until(() => agent.refusedClipboardTexts === 1, 'the refusal');
    expect(seen.refused).toEqual(['the clipboard is not shared']);
    expect(seen.agent).toEqual([]);
  });

  it('moves both ways while allowed and not paused, and stops when the person says so; the relay’s audit records both decisions', async () => {
    const { agent, expert, expertClient, seen, relay } = await active();
    await agent.allowClipboard(true);
    await heard.until(() => expert.clipboardAllowed, 'the permission');
    expect(await agent.sendClipboard('from the person\n')).toBe(true);
    expect(await expert.sendClipboard('from the technician')).toBe(true);
    await heard.until(() => seen.expert.length === 1 && seen.agent.length === 1, 'both texts');
    expect(seen).toMatchObject({ expert: ['from the person\n'], agent: ['from the technician'], allowed: [true] });

    await agent.pause();
    await heard.until(() => expert.paused, 'the pause');
    expect(await agent.sendClipboard('while paused')).toBe(false);
    expect(await expert.sendClipboard('while paused')).toBe(false);
    await sendRaw(expertClient, { type: 'clipboard', text: 'pushed while paused' });
    await heard.until(() => agent.refusedClipboardTexts === 1, 'the refusal');
    expect(seen.refused).toEqual(['the session is paused']);
    await agent.resume();

    await agent.allowClipboard(false);
    await heard.until(() => !expert.clipboardAllowed, 'the permission withdrawn');
    expect(seen.allowed).toEqual([true, false]);
    expect(seen.agent).toEqual(['from the technician']);
    // Audited as the person's decisions, like control and pause; never the texts themselves.
    // allowClipboard resolves once the relay has recorded the decision.
    const audit = await relay.audit();
    expect(audit.filter((entry) => entry.event.startsWith('clipboard')).map(({ event, role }) => [event, role])).toEqual([
      ['clipboard-allowed', 'agent'],
      ['clipboard-stopped', 'agent'],
    ]);
    expect(JSON.stringify(audit)).not.toContain('from the');
  });

  it('clipboard text from a person’s side that did not allow it breaks the protocol', async () => {
    const { agentClient, expert, seen } = await active();
    await sendRaw(agentClient, { type: 'clipboard', text: 'unasked' });
    await heard.until(() => expert.phase === 'ended', 'the end');
    expect(seen.errors).toEqual(['the other side broke the assistance protocol: clipboard text it did not allow']);
  });
});
