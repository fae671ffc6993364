import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET } from '../../../shared/core/code-alphabet.js';
import {
  createInvitationFile,
  formatUtcTime,
  INVITATION_FILE_EXTENSION,
  InvitationFileError,
  MAX_INVITATION_FILE_BYTES,
  parseInvitationFile,
  type InvitationFile,
  type ParseInvitationFileOptions,
} from '../../../shared/core/invitation-file.js';
import { RelayUrlError } from '../../../shared/core/relay-url.js';
import { refusal } from '../../support/refusal.js';

const invitation: InvitationFile = {
  relay: { webSocketUrl: 'wss://relay.example.org/prod', httpUrl: 'https://relay.example.org' },
  nameplate: '7KQ3',
  secret: '6YNPZEY00H48SM8NB6EY49KANV',
  requester: 'Ada Lovelace',
  createdAt: new Date('2026-11-20T10:00:00.000Z'),
  expiresAt: new Date('2026-11-20T16:00:00.000Z'),
};
const now = new Date('2026-11-20T12:00:00.000Z');

/** The example of docs/invitations.md, with a real secret. */
const documentedFile = `{
  "format": "assist-relay-invitation",
  "version": 1,
  "relay": {
    "webSocketUrl": "wss://relay.example.org/prod",
    "httpUrl": "https://relay.example.org"
  },
  "nameplate": "7KQ3",
  "secret": "6YNPZEY00H48SM8NB6EY49KANV",
  "requester": "Ada Lovelace",
  "createdAt": "2026-11-20T10:00:00.000Z",
  "expiresAt": "2026-11-20T16:00:00.000Z"
}
`;

function fileWith(changes: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(documentedFile), ...changes });
}

const refusalOf = (parse: () => unknown) => refusal(InvitationFileError, parse);

function parseRefusal(text: string, options: ParseInvitationFileOptions = { now }): InvitationFileError {
  return refusalOf(() => parseInvitationFile(text, options));
}

describe('createInvitationFile', () => {
  it('writes the documented format, fields in a fixed order', () => {
    expect(INVITATION_FILE_EXTENSION).toBe('.assistinvite');
    expect(createInvitationFile(invitation)).toBe(documentedFile);
  });

  it('writes canonical symbols', () => {
    const text = createInvitationFile({ ...invitation, nameplate: '7kq3', secret: '6ynp-zey0-oh48-sm8n-b6ey-49ka-nv' });
    expect(text).toBe(documentedFile);
  });

  it.each<[string, Partial<InvitationFile>, string]>([
    ['an empty requester', { requester: '  ' }, '"requester"'],
    ['an invalid date', { createdAt: new Date('nonsense') }, '"createdAt"'],
    ['a year past 9999', { expiresAt: new Date('+010000-01-01T00:00:00Z') }, '"expiresAt"'],
    ['an expiry before creation', { expiresAt: new Date('2026-11-20T09:00:00Z') }, 'before'],
    ['a short secret', { secret: '6YNPZEY' }, '"secret"'],
    ['an http WebSocket URL', { relay: { webSocketUrl: 'https://relay.example.org', httpUrl: 'https://relay.example.org' } }, 'webSocketUrl'],
    ['URLs too long for the file', { relay: { webSocketUrl: `wss://relay.example.org/${'a'.repeat(8000)}`, httpUrl: 'https://relay.example.org' } }, '8192'],
  ])('refuses %s, as parsing would', (_, change, mention) => {
    const error = refusalOf(() => createInvitationFile({ ...invitation, ...change }));
    expect(error.code).toBe('malformed');
    expect(error.message).toContain(mention);
  });
});

describe('parseInvitationFile', () => {
  it('reads the documented example', () => {
    expect(parseInvitationFile(documentedFile, { now })).toEqual(invitation);
  });

  it('ignores fields it does not know and a byte order mark', () => {
    expect(parseInvitationFile(`\uFEFF${fileWith({ colour: 'blue', relay: { ...invitation.relay, region: 'eu' } })}`, { now })).toEqual(invitation);
  });

  it('gives the relay URLs in canonical form, whatever tabs, newlines or slashes the file has', () => {
    const relay = { webSocketUrl: 'WSS://relay.example.org:443/pr\nod/', httpUrl: 'https://relay.\texample.org/' };
    expect(parseInvitationFile(fileWith({ relay }), { now }).relay).toEqual(invitation.relay);
  });

  it('refuses to compare with a relay URL of the caller that is not one', () => {
    expect(() => parseInvitationFile(documentedFile, { now, relay: { webSocketUrl: 'https://relay.example.org' } })).toThrow(
      RelayUrlError,
    );
  });

  it('accepts times without milliseconds or with fewer digits', () => {
    const parsed = parseInvitationFile(fileWith({ createdAt: '2026-11-20T10:00:00Z', expiresAt: '2026-11-20T16:00:00.5Z' }), { now });
    expect(parsed.expiresAt.toISOString()).toBe('2026-11-20T16:00:00.500Z');
  });

  it.each([
    ['not JSON', 'not json', 'not JSON'],
    ['a JSON array', '[1]', 'not a JSON object'],
    ['no format', JSON.stringify({ version: 1 }), '"format"'],
    ['no version', fileWith({ version: undefined }), '"version"'],
    ['a string version', fileWith({ version: '1' }), '"version"'],
    ['no relay', fileWith({ relay: undefined }), '"relay"'],
    ['an ftp WebSocket URL', fileWith({ relay: { webSocketUrl: 'ftp://relay.example.org', httpUrl: 'https://relay.example.org' } }), 'relay.webSocketUrl'],
    ['a ws httpUrl', fileWith({ relay: { webSocketUrl: 'wss://relay.example.org', httpUrl: 'wss://relay.example.org' } }), 'relay.httpUrl'],
    ['a URL with credentials', fileWith({ relay: { webSocketUrl: 'wss://u:p@relay.example.org', httpUrl: 'https://relay.example.org' } }), 'user name'],
    ['a relative URL', fileWith({ relay: { webSocketUrl: '/prod', httpUrl: 'https://relay.example.org' } }), 'relay.webSocketUrl'],
    ['a nameplate with U', fileWith({ nameplate: '7KQU' }), '"U"'],
    ['a 5-symbol nameplate', fileWith({ nameplate: '7KQ3A' }), 'expected 4'],
    ['a numeric nameplate', fileWith({ nameplate: 7123 }), '"nameplate" must be a string'],
    ['a secret beyond 128 bits', fileWith({ secret: `Z${'0'.repeat(25)}` }), '0 to 7'],
    ['a short secret', fileWith({ secret: 'ABC' }), 'expected 26'],
    ['an empty requester', fileWith({ requester: '' }), '"requester"'],
    ['a 65-character requester', fileWith({ requester: 'é'.repeat(65) }), '65 characters'],
    ['a requester with a newline', fileWith({ requester: 'Ada\nBob' }), 'control'],
    ['a requester with a right-to-left override', fileWith({ requester: 'Ada \u202Eecila' }), 'text-direction'],
    ['a requester with a lone surrogate', fileWith({ requester: 'Ada \uD800' }), 'control'],
    ['a local time', fileWith({ createdAt: '2026-11-20T10:00:00' }), '"createdAt"'],
    ['a time zone offset', fileWith({ createdAt: '2026-11-20T10:00:00+01:00' }), '"createdAt"'],
    ['an impossible date', fileWith({ createdAt: '2026-02-30T10:00:00Z' }), '"createdAt"'],
    ['hour 24', fileWith({ expiresAt: '2026-11-20T24:00:00Z' }), '"expiresAt"'],
    ['a numeric time', fileWith({ expiresAt: 1795190400000 }), '"expiresAt"'],
    ['an expiry before creation', fileWith({ createdAt: '2026-11-20T17:00:00Z' }), 'before'],
    ['more than 8 KB', fileWith({ padding: 'x'.repeat(MAX_INVITATION_FILE_BYTES) }), '8192 bytes'],
    ['8 KB of multi-byte characters', fileWith({ padding: '€'.repeat(3000) }), '8192 bytes'],
  ])('refuses %s as malformed, saying what', (_, text, mention) => {
    const error = parseRefusal(text);
    expect(error.code).toBe('malformed');
    expect(error.message).toContain(mention);
  });

  it('takes 64 characters of any script, counted as characters', () => {
    const requester = '👩‍💻'.repeat(16) + 'Ω'.repeat(16);
    expect([...requester]).toHaveLength(64);
    expect(parseInvitationFile(fileWith({ requester }), { now }).requester).toBe(requester);
  });

  it.each([
    ['another format', fileWith({ format: 'something-else' }), 'not "assist-relay-invitation"'],
    ['version 2', fileWith({ version: 2, secret: 'different in v2' }), 'version 2'],
    ['version 0', fileWith({ version: 0 }), 'version 0'],
  ])('refuses %s as unsupported', (_, text, mention) => {
    const error = parseRefusal(text);
    expect(error.code).toBe('unsupported-version');
    expect(error.message).toContain(mention);
  });

  it('refuses an expired invitation, saying since when', () => {
    const error = parseRefusal(documentedFile, { now: new Date('2026-11-20T16:00:00.000Z') });
    expect(error.code).toBe('expired');
    expect(error.message).toContain('2026-11-20 16:00 UTC');
    expect(parseInvitationFile(documentedFile, { now: new Date('2026-11-20T15:59:59.999Z') })).toEqual(invitation);
  });

  it.each([
    { webSocketUrl: 'wss://relay.example.org/prod' },
    { webSocketUrl: 'wss://RELAY.example.org:443/prod/' },
    { httpUrl: 'https://relay.example.org/' },
    { httpUrl: 'https://relay.example.org/some/stage' },
    { webSocketUrl: 'wss://relay.example.org/prod', httpUrl: 'https://relay.example.org' },
  ])('accepts a file for the same relay %j', (relay) => {
    expect(parseInvitationFile(documentedFile, { now, relay })).toEqual(invitation);
  });

  it.each([
    [{ webSocketUrl: 'wss://relay.example.org/dev' }, 'wss://relay.example.org/prod, not wss://relay.example.org/dev'],
    [{ webSocketUrl: 'wss://other.example.org/prod' }, 'not wss://other.example.org/prod'],
    [{ webSocketUrl: 'ws://relay.example.org/prod' }, 'not ws://relay.example.org/prod'],
    [{ httpUrl: 'https://relay.example.org:8443' }, 'https://relay.example.org, not https://relay.example.org:8443'],
    [{ httpUrl: 'http://relay.example.org' }, 'not http://relay.example.org'],
  ])('refuses a file for another relay than %j', (relay, mention) => {
    const error = parseRefusal(documentedFile, { now, relay });
    expect(error.code).toBe('wrong-relay');
    expect(error.message).toContain(mention);
  });

  const symbols = (length: number) =>
    fc.array(fc.constantFrom(...CODE_ALPHABET), { minLength: length, maxLength: length }).map((s) => s.join(''));
  const validInvitation: fc.Arbitrary<InvitationFile> = fc
    .record({
      host: fc.domain(),
      stage: fc.constantFrom('', '/prod', '/a/b'),
      nameplate: symbols(4),
      secret: fc.tuple(fc.constantFrom(...'01234567'), symbols(25)).map(([first, rest]) => first + rest),
      requester: fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 64 })
        .filter((name) => name.trim() !== '' && [...name].length <= 64 && !/[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u.test(name)),
      createdAt: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
      lifetime: fc.integer({ min: 1, max: 86_400_000 }),
    })
    .map(({ host, stage, nameplate, secret, requester, createdAt, lifetime }) => ({
      relay: { webSocketUrl: `wss://${host}${stage}`, httpUrl: `https://${host}` },
      nameplate,
      secret,
      requester,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + lifetime),
    }));

  it('round-trips every valid invitation (fast-check)', () => {
    fc.assert(
      fc.property(validInvitation, (original) => {
        const text = createInvitationFile(original);
        expect(parseInvitationFile(text, { now: original.createdAt, relay: original.relay })).toEqual(original);
      }),
      { numRuns: 200 },
    );
  });

  it('throws nothing but InvitationFileError, and what it accepts writes back the same (fast-check)', () => {
    const later = new Date('2000-01-01T00:00:00Z');
    const mutated = fc
      .tuple(
        validInvitation,
        fc.constantFrom('format', 'version', 'relay', 'nameplate', 'secret', 'requester', 'createdAt', 'expiresAt', 'extra'),
        fc.oneof(fc.jsonValue(), fc.string(), fc.constant(undefined)),
      )
      .map(([valid, field, value]) => {
        const fields = JSON.parse(createInvitationFile(valid));
        fields[field] = value;
        return JSON.stringify(fields);
      });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), mutated), (text) => {
        let parsed: InvitationFile;
        try {
          parsed = parseInvitationFile(text, { now: later });
        } catch (error) {
          expect(error).toBeInstanceOf(InvitationFileError);
          return;
        }
        expect(parseInvitationFile(createInvitationFile(parsed), { now: later })).toEqual(parsed);
      }),
      { numRuns: 500 },
    );
  });
});

describe('formatUtcTime', () => {
  it('shows minutes in UTC', () => {
    expect(formatUtcTime(new Date('2026-11-20T16:05:59.999+01:00'))).toBe('2026-11-20 15:05 UTC');
  });
});
