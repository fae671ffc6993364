// One display-name rule (shared/core/display-name.ts) behind every place a name is shown: the SDK's
// participant names, the invitation file's requester, and the relay's email. None is weaker than another.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayNameProblem, MAX_DISPLAY_NAME_CHARACTERS } from '../../../shared/core/display-name.js';
import { composeInvitationEmail } from '../../../shared/server/email/email-message.js';
import { createInvitationFile } from '../../../shared/core/invitation-file.js';
import { nameProblem } from '../../../sdk/assist-messages.js';

/** Each place a name is shown, asked whether it takes `name` (already without surrounding spaces). */
const takers: Record<string, (name: string) => boolean> = {
  'the SDK (participant names)': (name) => nameProblem(name) === undefined,
  'the invitation file (requester)': (name) => succeeds(() => createInvitationFile({ ...invitation, requester: name })),
  'the relay’s email (requester name)': (name) => succeeds(() => composeInvitationEmail({ ...email, requesterName: name })),
};

const invitation = {
  relay: { webSocketUrl: 'wss://relay.example.org/prod', httpUrl: 'https://relay.example.org' },
  nameplate: '7KQ3',
  secret: '6YNPZEY00H48SM8NB6EY49KANV',
  requester: 'Ada',
  createdAt: new Date('2026-11-20T10:00:00.000Z'),
  expiresAt: new Date('2026-11-20T16:00:00.000Z'),
};
const email = {
  to: 'help@example.org',
  requesterName: 'Ada',
  relayUrl: 'https://relay.example.org/join/7KQ3#6YNPZEY00H48SM8NB6EY49KANV',
  expiresAt: new Date('2026-11-20T16:00:00.000Z'),
  invitationFileText: '{}',
};

function succeeds(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch {
    return false;
  }
}

const refused = [
  ['a right-to-left mark (U+200F)', 'Ada\u200F'],
  ['a left-to-right mark (U+200E)', '\u200EAda'],
  ['an Arabic letter mark (U+061C)', 'Ada\u061Cx'],
  ['a right-to-left override', 'Ada\u202EecilA'],
  ['an isolate', 'Ada\u2066x'],
  ['a terminal escape', 'Ada\u001b[2J'],
  ['a line break', 'Ada\r\nBcc: x@example.net'],
  ['a line separator', 'Ada\u2028Bcc'],
  ['a C1 control', 'Ada\u0085'],
  ['a lone surrogate', 'Ada\uD800'],
  ['one character too many', 'a'.repeat(MAX_DISPLAY_NAME_CHARACTERS + 1)],
];
const taken = ['Ada Lovelace', 'Zoë Ærøskøbing-Łukasiewicz 李', 'x'.repeat(MAX_DISPLAY_NAME_CHARACTERS), 'عائشة', 'Grace Hopper (Company IT)'];

describe.each(Object.entries(takers))('%s', (_where, takes) => {
  it.each(refused)('refuses a name with %s', (_what, name) => {
    expect(displayNameProblem(name)).toBeDefined();
    expect(takes(name)).toBe(false);
  });

  it.each(taken)('takes %s', (name) => {
    expect(takes(name)).toBe(true);
  });

  it('agrees with the rule on any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (text) => {
        const name = text.trim();
        expect(takes(name)).toBe(displayNameProblem(name) === undefined);
      }),
      { numRuns: 300 },
    );
  });
});
