import { describe, expect, it } from 'vitest';
import { endReasons, localEndReasons } from '../../../shared/core/messages.js';
import { endText, readerOf, type Reader } from '../../../shared/core/end-texts.js';

// Why a session ended, in the words the CLI and the console both show.

const readers: Reader[] = ['person', 'technician'];

describe('endText', () => {
  it('has a sentence for every end reason, for each reader, with and without the other side’s name', () => {
    for (const reason of [...endReasons, ...localEndReasons]) {
      for (const reader of readers) {
        for (const context of [{}, { peerName: 'Ada', wasLive: true }, { peerName: 'Ada', wasLive: false }]) {
          const text = endText(reason, reader, context);
          expect(text, `${reason} for the ${reader}`).toMatch(/^[A-Z].*[.]$/s);
          expect(text).not.toMatch(/undefined|\$\{/);
        }
      }
    }
  });

  it.each([
    ['ended-by-agent', 'person', {}, 'You ended the session.'],
    ['ended-by-agent', 'technician', {}, 'The person you were helping ended the session.'],
    ['ended-by-agent', 'technician', { peerName: 'Ada' }, 'Ada ended the session.'],
    ['ended-by-expert', 'person', { peerName: 'Bob' }, 'Bob ended the session.'],
    ['denied', 'technician', {}, 'The person did not let you in.'],
    ['denied', 'technician', { peerName: 'Ada' }, 'Ada did not let you in.'],
    ['denied', 'person', {}, 'You did not let the technician in.'],
    ['expired', 'person', { wasLive: false }, 'The invitation expired before anyone connected. Create a new one to try again.'],
    ['expired', 'person', { wasLive: true }, 'The session reached its time limit.'],
    ['expired', 'technician', { peerName: 'Ada', wasLive: false }, 'The invitation expired before the session started. Ask Ada for a new one.'],
    ['burned', 'person', {}, 'Too many wrong passwords or codes were tried, so the invitation was blocked. Create a new one.'],
    ['burned', 'technician', {}, 'Too many wrong passwords or codes were tried, so the invitation was blocked. Ask the person for a new one.'],
    ['confirmation-failed', 'technician', {}, 'The password did not match. Check it with the person and try again.'],
    ['confirmation-failed', 'person', {}, 'The code or password did not match. Check it with the technician and try again.'],
    ['peer-gone', 'technician', {}, 'The person’s connection was lost and did not come back in time. The session is over.'],
    ['handshake-failed', 'person', {}, 'The secure connection with the technician could not be set up, so nothing was shared. Try again.'],
  ] as const)('%s, for the %s (%j)', (reason, reader, context, sentence) => {
    expect(endText(reason, reader, context)).toBe(sentence);
  });

  it('reads the agent as the person and the expert as the technician', () => {
    expect([readerOf('agent'), readerOf('expert')]).toEqual(['person', 'technician']);
  });
});
