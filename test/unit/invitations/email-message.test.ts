import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  composeInvitationEmail,
  INVITATION_CONTENT_TYPE,
  InvitationEmailError,
  type InvitationEmailInput,
  isValidEmailAddress,
} from '../../../shared/server/email/email-message.js';
import { buildMimeMessage, parseMimeMessage } from '../../../shared/server/email/mime.js';

const relayUrl = 'https://relay.example.org/join/7KQ3#0123456789ABCDEFGHJKMNPQRS';
const fileText = '{"format":"assist-relay-invitation","version":1}';

const input = (overrides: Partial<InvitationEmailInput> = {}): InvitationEmailInput => ({
  to: 'tech@example.com',
  requesterName: 'Ada Lovelace',
  relayUrl,
  expiresAt: new Date('2026-11-20T16:00:00.000Z'),
  invitationFileText: fileText,
  ...overrides,
});

const errorCode = (call: () => unknown) => {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(InvitationEmailError);
    return (error as InvitationEmailError).code;
  }
  throw new Error('expected an InvitationEmailError');
};

describe('composeInvitationEmail', () => {
  const email = composeInvitationEmail(input());

  it('addresses the technician with a subject naming who asks', () => {
    expect(email.to).toBe('tech@example.com');
    expect(email.subject).toBe('Ada Lovelace asks for your help (Assist Relay)');
  });

  it('says who, until when (UTC), to open the link in a browser, the relay’s own command (never an npm package), the separate password, and when to ignore it', () => {
    for (const body of [email.text, email.html]) {
      expect(body).toContain('Ada Lovelace asks for your help');
      expect(body).toContain('Friday 20 November 2026, 16:00 UTC');
      expect(body).toContain(relayUrl);
      expect(body).toContain('by phone or chat');
      expect(body).toContain('If you do not know Ada Lovelace, ignore this email.');
      expect(body).toContain('open this link in a web browser');
      expect(body).not.toContain('npx');
    }
    expect(email.text).toContain(`\nassist join '${relayUrl}'\n`);
    expect(email.html).toContain(`<code>assist join &#39;${relayUrl}&#39;</code>`);
    expect(email.html).toContain(`<a href="${relayUrl}">`);
  });

  it('attaches the invitation file as the relay received it', () => {
    expect(email.attachments).toHaveLength(1);
    expect(email.attachments[0]).toMatchObject({ filename: 'invitation.assistinvite', contentType: INVITATION_CONTENT_TYPE });
    expect(new TextDecoder().decode(email.attachments[0]!.content)).toBe(fileText);
    expect(composeInvitationEmail(input({ fileName: 'ada.assistinvite' })).attachments[0]!.filename).toBe('ada.assistinvite');
  });

  it('escapes every value it puts into the HTML', () => {
    const hostile = composeInvitationEmail(
      input({
        requesterName: '<script>alert("x")</script> & Co',
        relayUrl: `https://relay.example.org/join/7KQ3#"><img/src=x/onerror=alert(1)>`,
        fileName: '<b>.assistinvite',
      }),
    );
    expect(hostile.html).not.toContain('<script>');
    expect(hostile.html).not.toContain('<img');
    expect(hostile.html).not.toContain('<b>');
    expect(hostile.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    // The plain text carries the name as typed, and the subject too.
    expect(hostile.text).toContain('<script>alert("x")</script> & Co asks');
  });

  it('escapes any valid name in the HTML (fuzzed)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }), (name) => {
        let html: string;
        try {
          html = composeInvitationEmail(input({ requesterName: name })).html;
        } catch (error) {
          expect((error as InvitationEmailError).code).toBe('invalid-requester-name');
          return;
        }
        const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
        const escaped = name.trim().replace(/[&<>"']/g, (character) => entities[character]!);
        expect(html).toContain(`<p>${escaped} asks for your help`);
        expect(html.replace(/<\/?(?:!DOCTYPE html|html|head|meta|title|body|p|strong|br|a|code)\b[^<>]*>/g, '')).not.toMatch(/[<>]/);
      }),
    );
  });

  it('trims the name and accepts 64 characters, counting emoji as one', () => {
    expect(composeInvitationEmail(input({ requesterName: '  Ada  ' })).subject).toBe('Ada asks for your help (Assist Relay)');
    const name = '😀'.repeat(64);
    expect(composeInvitationEmail(input({ requesterName: name })).subject.startsWith(name)).toBe(true);
  });

  it('quotes the CLI command for the shell whatever the URL holds', () => {
    const url = "https://relay.example.org/join/7KQ3#it's";
    expect(composeInvitationEmail(input({ relayUrl: url })).text).toContain(`assist join 'https://relay.example.org/join/7KQ3#it'\\''s'`);
  });

  it('refuses bad input with a typed error', () => {
    expect(errorCode(() => composeInvitationEmail(input({ to: 'tech@example.com\r\nBcc: x@example.net' })))).toBe('invalid-address');
    for (const requesterName of ['', '   ', 'a'.repeat(65), 'Ada\r\nBcc: x@example.net', 'Ada\u0007', 'Ada\u202eecilA', 'Ada\u2028Bcc']) {
      expect(errorCode(() => composeInvitationEmail(input({ requesterName })))).toBe('invalid-requester-name');
    }
    for (const url of ['javascript:alert(1)', 'relay.example.org/join/7KQ3', 'https://relay.example.org/join/7KQ3 #x', 'https://relay.example.org/\njoin']) {
      expect(errorCode(() => composeInvitationEmail(input({ relayUrl: url })))).toBe('invalid-relay-url');
    }
    expect(errorCode(() => composeInvitationEmail(input({ expiresAt: new Date(Number.NaN) })))).toBe('invalid-expiry');
  });

  it('becomes a MIME message that reads back the same', () => {
    const international = composeInvitationEmail(input({ requesterName: 'Zoë Ærøskøbing-Łukasiewicz 李' }));
    const parsed = parseMimeMessage(
      buildMimeMessage({ ...international, from: { address: 'relay@example.org', name: 'Assist Relay' }, date: new Date(0) }),
    );
    expect(parsed).toMatchObject({ subject: international.subject, text: international.text, html: international.html });
    expect(new TextDecoder().decode(parsed.attachments[0]!.content)).toBe(fileText);
  });
});

describe('isValidEmailAddress', () => {
  it('accepts ordinary addresses, up to 64 characters before the "@" and 254 in all', () => {
    for (const address of [
      'ada@example.org',
      'a.b+tag@sub.example.co.uk',
      "o'brien@example.ie",
      'x@xn--bcher-kva.example',
      `${'a'.repeat(64)}@example.org`,
      `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(60)}`,
    ]) {
      expect(isValidEmailAddress(address), address).toBe(true);
    }
  });

  it('refuses anything else', () => {
    for (const address of [
      '',
      'ada',
      'ada@localhost',
      'a@@example.org',
      'a@b@example.org',
      'a b@example.org',
      ' ada@example.org',
      'ada@example.org\r\n',
      'ada\n@example.org',
      'ada\u0000@example.org',
      '.ada@example.org',
      'ada.@example.org',
      'a..b@example.org',
      'ada@-example.org',
      'ada@example-.org',
      'ada@example..org',
      'ada@example.org.',
      'ada@1.2.3.4',
      'Ada <ada@example.org>',
      'zoë@example.org',
      'ada@bücher.example',
      `${'a'.repeat(65)}@example.org`,
      `a@${'b'.repeat(64)}.org`,
      `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(61)}`,
    ]) {
      expect(isValidEmailAddress(address), JSON.stringify(address)).toBe(false);
    }
  });

  it('never accepts whitespace or control characters, and accepts generated plain addresses (fuzzed)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (text) => {
        if (/[\s\p{Cc}]/u.test(text)) expect(isValidEmailAddress(text)).toBe(false);
        if (isValidEmailAddress(text)) expect(text).toMatch(/^[^@]{1,64}@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/);
      }),
    );
    const plainAddress = fc
      .tuple(fc.stringMatching(/^[a-z0-9]+(?:[._+-][a-z0-9]+)*$/), fc.stringMatching(/^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+)*\.[a-z]{2,10}$/))
      .filter(([local, domain]) => local.length <= 64 && domain.split('.').every((label) => label.length <= 63))
      .map(([local, domain]) => `${local}@${domain}`)
      .filter((address) => address.length <= 254);
    fc.assert(fc.property(plainAddress, (address) => isValidEmailAddress(address)));
  });
});
