import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildMimeMessage,
  decodeHeaderValue,
  encodeMailboxHeader,
  encodeQuotedPrintable,
  encodeUnstructuredHeader,
  MimeError,
  type MimeMessageInput,
  parseMailbox,
  parseMimeMessage,
} from '../../../shared/server/email/mime.js';

const bytes = (text: string) => new TextEncoder().encode(text);

const message = (overrides: Partial<MimeMessageInput> = {}): MimeMessageInput => ({
  from: { address: 'relay@example.org', name: 'Assist Relay' },
  to: 'tech@example.com',
  subject: 'Zoë Çelik asks for your help (Assist Relay)',
  date: new Date('2026-11-20T10:00:00.000Z'),
  text: 'Hello,\n\nZoë asks for help.\n',
  html: '<p>Zoë asks for help.</p>',
  attachments: [
    { filename: 'invitation.assistinvite', contentType: 'application/vnd.assist-relay.invitation+json', content: bytes('{"format":"assist-relay-invitation"}') },
  ],
  ...overrides,
});

const lines = (raw: string) => raw.split('\r\n');
const unfold = (header: string) => header.replace(/\r\n(?=[ \t])/g, '');

/** Characters a header may carry (control characters are refused by design). */
const headerText = fc.string({ unit: 'grapheme', maxLength: 120 }).filter((text) => !/[\u0000-\u001f\u007f]/.test(text));

describe('buildMimeMessage', () => {
  it('builds 7-bit ASCII with CRLF line endings only, every line within 78 characters', () => {
    const raw = buildMimeMessage(message({ text: 'x'.repeat(500) + '\n' + 'é'.repeat(300), html: `<p>${'y'.repeat(400)}</p>` }));
    expect(raw).toMatch(/^[\x00-\x7f]*$/);
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    for (const line of lines(raw)) expect(line.length).toBeLessThanOrEqual(78);
  });

  it('can be taken apart without this module: headers, nested boundaries, base64 attachment', () => {
    const raw = buildMimeMessage(message());
    const [head, ...rest] = raw.split('\r\n\r\n');
    const body = rest.join('\r\n\r\n');
    const headers = Object.fromEntries(
      unfold(head!).split('\r\n').map((field) => [field.slice(0, field.indexOf(':')), field.slice(field.indexOf(':') + 2)]),
    );
    expect(headers).toMatchObject({
      From: '"Assist Relay" <relay@example.org>',
      To: 'tech@example.com',
      Date: 'Fri, 20 Nov 2026 10:00:00 +0000',
      'MIME-Version': '1.0',
    });
    const subjectWords = [...headers.Subject!.matchAll(/=\?UTF-8\?B\?([^?]*)\?=/g)].map((match) => Buffer.from(match[1]!, 'base64'));
    expect(Buffer.concat(subjectWords).toString('utf8')).toBe('Zoë Çelik asks for your help (Assist Relay)');

    const mixed = /boundary="([^"]+)"/.exec(headers['Content-Type']!)![1]!;
    expect(headers['Content-Type']).toMatch(/^multipart\/mixed;/);
    const mixedParts = body.split(`--${mixed}`);
    expect(mixedParts.at(-1)).toBe('--\r\n');
    expect(mixedParts).toHaveLength(4); // preamble, alternative, attachment, close

    const alternative = /boundary="([^"]+)"/.exec(mixedParts[1]!)![1]!;
    const alternativeParts = mixedParts[1]!.split(`--${alternative}`);
    expect(alternativeParts[1]).toContain('Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable');
    expect(alternativeParts[1]).toContain('Zo=C3=AB asks for help.');
    expect(alternativeParts[2]).toContain('Content-Type: text/html; charset=UTF-8');

    const attachment = mixedParts[2]!;
    expect(unfold(attachment)).toContain('Content-Disposition: attachment; filename="invitation.assistinvite"');
    const base64Body = attachment.split('\r\n\r\n')[1]!;
    expect(Buffer.from(base64Body, 'base64').toString('utf8')).toBe('{"format":"assist-relay-invitation"}');
  });

  it('reads back what it built: headers, both bodies, the attachment bytes', () => {
    const binary = Uint8Array.from({ length: 300 }, (_, index) => (index * 7) % 256);
    const parsed = parseMimeMessage(
      buildMimeMessage(
        message({
          attachments: [
            { filename: 'invitation.assistinvite', contentType: 'application/vnd.assist-relay.invitation+json', content: bytes('{}') },
            { filename: 'facture été.bin', contentType: 'application/octet-stream', content: binary },
          ],
        }),
      ),
    );
    expect(parsed).toMatchObject({
      from: '"Assist Relay" <relay@example.org>',
      to: 'tech@example.com',
      subject: 'Zoë Çelik asks for your help (Assist Relay)',
      text: 'Hello,\n\nZoë asks for help.\n',
      html: '<p>Zoë asks for help.</p>',
    });
    expect(parsed.attachments.map(({ filename, contentType }) => ({ filename, contentType }))).toEqual([
      { filename: 'invitation.assistinvite', contentType: 'application/vnd.assist-relay.invitation+json' },
      { filename: 'facture été.bin', contentType: 'application/octet-stream' },
    ]);
    expect(parsed.attachments[1]!.content).toEqual(binary);
  });

  it('writes a non-ASCII filename as an RFC 2231 parameter', () => {
    const raw = buildMimeMessage(message({ attachments: [{ filename: 'été.txt', contentType: 'text/plain', content: bytes('x') }] }));
    expect(raw).toContain("filename*=UTF-8''%C3%A9t%C3%A9.txt");
  });

  it('without attachments the message is just the multipart/alternative', () => {
    const raw = buildMimeMessage(message({ attachments: [] }));
    expect(raw).toMatch(/\r\nContent-Type: multipart\/alternative; boundary="[^"]+"\r\n/);
    expect(raw).not.toContain('multipart/mixed');
    expect(parseMimeMessage(raw)).toMatchObject({ text: 'Hello,\n\nZoë asks for help.\n', attachments: [] });
  });

  it('round-trips any text, HTML, subject and attachment', () => {
    fc.assert(
      fc.property(
        headerText,
        fc.string({ unit: 'grapheme', maxLength: 400 }),
        fc.string({ unit: 'grapheme', maxLength: 400 }),
        fc.uint8Array({ maxLength: 200 }),
        (subject, text, html, content) => {
          const raw = buildMimeMessage(
            message({ subject, text, html, attachments: [{ filename: 'a.bin', contentType: 'application/octet-stream', content }] }),
          );
          const parsed = parseMimeMessage(raw);
          const lineEnds = (value: string) => value.replace(/\r\n|\r/g, '\n');
          expect(parsed.subject.trim()).toBe(subject.trim());
          expect(parsed.text).toBe(lineEnds(text));
          expect(parsed.html).toBe(lineEnds(html));
          expect(parsed.attachments[0]!.content).toEqual(content);
          for (const line of lines(raw)) expect(line.length).toBeLessThanOrEqual(78);
        },
      ),
    );
  });

  it('refuses header values that could inject a header, whichever field carries them', () => {
    const injection = 'x\r\nBcc: victim@example.net';
    const attachment = { filename: 'a.txt', contentType: 'text/plain', content: bytes('x') };
    const attempts: Partial<MimeMessageInput>[] = [
      { subject: injection },
      { subject: 'x\nBcc: victim@example.net' },
      { subject: 'x\rBcc: victim@example.net' },
      { to: 'tech@example.com\r\nBcc: victim@example.net' },
      { to: 'Tech <tech@example.com>' },
      { from: { address: 'relay@example.org', name: injection } },
      { from: { address: 'relay@example.org>\r\nBcc: victim@example.net' } },
      { attachments: [{ ...attachment, filename: 'a.txt"\r\nX-Evil: 1' }] },
      { attachments: [{ ...attachment, contentType: 'text/plain\r\nX-Evil: 1' }] },
      { attachments: [{ ...attachment, contentType: 'text/plain; x="' }] },
    ];
    for (const attempt of attempts) expect(() => buildMimeMessage(message(attempt))).toThrow(MimeError);
  });

  it('refuses an invalid date and an over-long filename', () => {
    expect(() => buildMimeMessage(message({ date: new Date('nope') }))).toThrow(MimeError);
    const attachments = [{ filename: 'é'.repeat(200), contentType: 'text/plain', content: bytes('x') }];
    expect(() => buildMimeMessage(message({ attachments }))).toThrow(/filename/);
  });
});

describe('header encoders', () => {
  /** A header that cannot smuggle another: printable ASCII, every continuation line starts with whitespace. */
  const expectSingleHeader = (header: string, name: string) => {
    expect(header).toMatch(/^[\x20-\x7e\r\n]*$/);
    const [first, ...continuations] = header.split('\r\n');
    expect(first!.startsWith(`${name}:`)).toBe(true);
    for (const line of continuations) expect(line).toMatch(/^[ \t]\S/);
    expect(header.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  };

  it('either refuse with MimeError or produce exactly one well-formed header (fuzzed)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.emailAddress(), (value, address) => {
        for (const encode of [
          () => encodeUnstructuredHeader('Subject', value),
          () => encodeMailboxHeader('From', { address, name: value }),
          () => encodeMailboxHeader('From', { address: value }),
        ]) {
          let header: string;
          try {
            header = encode();
          } catch (error) {
            expect(error).toBeInstanceOf(MimeError);
            continue;
          }
          expectSingleHeader(header, header.startsWith('Subject') ? 'Subject' : 'From');
        }
        if (/[\r\n]/.test(value)) expect(() => encodeUnstructuredHeader('Subject', value)).toThrow(MimeError);
      }),
    );
  });

  it('decode back to the value they were given (fuzzed)', () => {
    fc.assert(
      fc.property(headerText, (value) => {
        const subject = encodeUnstructuredHeader('Subject', value);
        expect(decodeHeaderValue(unfold(subject).slice('Subject:'.length)).trim()).toBe(value.trim());
        for (const line of lines(subject)) expect(line.length).toBeLessThanOrEqual(78);

        const name = value.trim();
        const from = decodeHeaderValue(unfold(encodeMailboxHeader('From', { address: 'a@example.org', name })).slice('From: '.length));
        const quoted = `"${name.replace(/(["\\])/g, '\\$1')}" <a@example.org>`;
        expect(name ? [`${name} <a@example.org>`, quoted] : ['<a@example.org>']).toContain(from);
      }),
    );
  });

  it('keep short ASCII readable and encode what could be mistaken for an encoded word', () => {
    expect(encodeUnstructuredHeader('Subject', 'Hello there')).toBe('Subject: Hello there');
    expect(encodeUnstructuredHeader('Subject', 'Hello =?UTF-8?B?eA==?=')).toMatch(/^Subject: =\?UTF-8\?B\?/);
    expect(encodeMailboxHeader('From', { address: 'a@example.org', name: 'Ada "the" Count\\ess' })).toBe(
      'From: "Ada \\"the\\" Count\\\\ess" <a@example.org>',
    );
    expect(encodeMailboxHeader('From', { address: 'a@example.org' })).toBe('From: <a@example.org>');
  });
});

describe('encodeQuotedPrintable', () => {
  it('keeps lines within 76 characters, escapes "=" and trailing whitespace, and never writes "=_" (the boundaries rely on it)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 600 }), (text) => {
        const encoded = encodeQuotedPrintable(text);
        expect(encoded).toMatch(/^[\x20-\x7e\r\n]*$/);
        expect(encoded).not.toContain('=_');
        for (const line of lines(encoded)) {
          expect(line.length).toBeLessThanOrEqual(76);
          expect(line).not.toMatch(/[ \t]$/);
        }
      }),
    );
    expect(encodeQuotedPrintable('a = b \nc\t')).toBe('a =3D b=20\r\nc=09');
  });
});

describe('parseMailbox', () => {
  it('reads "Name <address>", a quoted name, or a bare address', () => {
    expect(parseMailbox('Assist Relay <relay@example.org>')).toEqual({ address: 'relay@example.org', name: 'Assist Relay' });
    expect(parseMailbox('"Relay \\"A\\"" <relay@example.org>')).toEqual({ address: 'relay@example.org', name: 'Relay "A"' });
    expect(parseMailbox(' relay@example.org ')).toEqual({ address: 'relay@example.org' });
    expect(parseMailbox('Assist Relay <relay@localhost>')).toEqual({ address: 'relay@localhost', name: 'Assist Relay' });
  });

  it('refuses what is not a mailbox', () => {
    for (const text of ['', 'relay', 'Relay <relay@example.org', 'a b@example.org', 'Relay\r\nBcc: x@y.z <relay@example.org>']) {
      expect(() => parseMailbox(text)).toThrow(MimeError);
    }
  });
});
