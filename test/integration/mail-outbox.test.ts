import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailOutbox, type MailOutbox, OUTBOX_SES_PATH, readOutboxMessage } from '../../infra/local/mail-outbox.js';
import { startLocalRuntime } from '../../infra/local/runtime.js';
import { SesMailer } from '../../shared/server/adapters/ses-mailer.js';
import { composeInvitationEmail } from '../../shared/server/email/email-message.js';
import { MailerError } from '../../shared/server/ports/mailer.js';

const relayUrl = 'https://relay.example.org/join/7KQ3#0123456789ABCDEFGHJKMNPQRS';
const invitationFileText = '{"format":"assist-relay-invitation","version":1,"nameplate":"7KQ3"}';

/** GET with the path sent exactly as written (fetch would normalise "..", which would hide what is tested). */
function get(port: number, path: string): Promise<{ status: number; type: string; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, type: String(response.headers['content-type']), body, headers: response.headers }));
    })
      .on('error', reject)
      .end();
  });
}

describe('local mail outbox, driven by the real SESv2Client', () => {
  let dir: string;
  let outbox: MailOutbox;
  let server: Server;
  let port: number;
  let client: SESv2Client;
  let mailer: SesMailer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outbox-test-'));
    outbox = createMailOutbox({ dir: join(dir, 'mail') });
    server = createServer(async (request, response) => {
      if (!(await outbox.handle(request, response))) response.writeHead(404).end('fell through');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    client = new SESv2Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}${OUTBOX_SES_PATH}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    mailer = new SesMailer(client, { from: 'Assist Relay <relay@example.org>' });
  });

  afterAll(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('stores what SesMailer sends as an .eml file, lists it, serves it and reads its parts back', async () => {
    const email = composeInvitationEmail({
      to: 'tech@example.com',
      requesterName: 'Zoë Lovelace',
      relayUrl,
      expiresAt: new Date('2026-11-20T16:00:00.000Z'),
      invitationFileText,
    });
    const { messageId } = await mailer.send(email);

    const files = await readdir(outbox.dir);
    expect(files).toHaveLength(1);
    const [file] = files;
    expect(file).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{3}Z-${messageId}\\.eml$`));

    const [entry] = await outbox.messages();
    expect(entry).toMatchObject({ file, messageId, to: 'tech@example.com', subject: 'Zoë Lovelace asks for your help (Assist Relay)' });
    expect(new Date(entry!.time).toISOString()).toBe(entry!.time);

    const listing = await get(port, '/outbox.json');
    expect(listing.type).toBe('application/json');
    expect(JSON.parse(listing.body)).toEqual([entry]);

    const page = await get(port, '/outbox');
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('Zoë Lovelace asks for your help (Assist Relay)');
    expect(page.body).toContain(`<a href="/outbox/${file}">Zoë Lovelace asks for your help (Assist Relay)</a>`);
    expect(page.body).toContain(`<a href="/outbox/${file}?raw">`);
    // Styled by its one hashed style element: the policy allows no inline style and nothing else.
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*';/);
    expect(page.body).not.toMatch(/\sstyle=/);

    // The message as a page: the link clickable, every value escaped.
    const view = await get(port, entry!.url);
    expect(view.status).toBe(200);
    expect(view.type).toBe('text/html; charset=utf-8');
    expect(view.body).toContain(`<a href="${relayUrl}">${relayUrl}</a>`);
    expect(view.body).toContain('Zoë Lovelace asks for your help');
    expect(view.body).toContain('invitation.assistinvite');

    const raw = await get(port, entry!.rawUrl);
    expect(raw.status).toBe(200);
    expect(raw.type).toBe('message/rfc822');
    expect(raw.body).toBe(await readFile(join(outbox.dir, file!), 'utf8'));

    const parsed = await readOutboxMessage(outbox.dir, file!);
    expect(parsed).toMatchObject({ from: '"Assist Relay" <relay@example.org>', to: email.to, subject: email.subject, text: email.text, html: email.html });
    expect(parsed.text).toContain(`\nassist join '${relayUrl}'\n`);
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]).toMatchObject({ filename: 'invitation.assistinvite', contentType: 'application/vnd.assist-relay.invitation+json' });
    expect(new TextDecoder().decode(parsed.attachments[0]!.content)).toBe(invitationFileText);
  });

  it('lists newest first and escapes what it shows', async () => {
    const hostile = composeInvitationEmail({
      to: 'second@example.com',
      requesterName: '<script>alert(1)</script>',
      relayUrl,
      expiresAt: new Date('2026-11-20T16:00:00.000Z'),
      invitationFileText,
    });
    await mailer.send(hostile);
    const entries = await outbox.messages();
    expect(entries.map((entry) => entry.to)).toEqual(['second@example.com', 'tech@example.com']);
    const page = await get(port, '/outbox');
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; asks for your help');
    expect(page.body.indexOf('second@example.com')).toBeLessThan(page.body.indexOf('tech@example.com'));
  });

  it('refuses Simple content the way SES refuses a bad request, so the SDK raises a named exception', async () => {
    const simple = new SendEmailCommand({
      FromEmailAddress: 'relay@example.org',
      Destination: { ToAddresses: ['tech@example.com'] },
      Content: { Simple: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'Hello' } } } },
    });
    await expect(client.send(simple)).rejects.toMatchObject({ name: 'BadRequestException', message: expect.stringMatching(/Raw content/) });
  });

  it('refuses Raw data that is not the canonical padded base64 the SDK sends', async () => {
    for (const data of ['SGk', 'SGk=\n', 'SG-k']) {
      const response = await fetch(`http://127.0.0.1:${port}${OUTBOX_SES_PATH}/v2/email/outbound-emails`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ FromEmailAddress: 'relay@example.org', Destination: { ToAddresses: ['tech@example.com'] }, Content: { Raw: { Data: data } } }),
      });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('Raw content');
    }
  });

  it('turns an SES refusal on the wire into a MailerError for SesMailer callers', async () => {
    // A server that answers as SES does when it refuses a message: the whole path of an SES error.
    const refusing = createServer((_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json', 'x-amzn-ErrorType': 'MessageRejected' }).end('{"message":"no"}');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const refusingClient = new SESv2Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(refusing.address() as { port: number }).port}${OUTBOX_SES_PATH}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const email = composeInvitationEmail({ to: 'tech@example.com', requesterName: 'Ada', relayUrl, expiresAt: new Date(), invitationFileText });
      const error = await new SesMailer(refusingClient, { from: 'relay@example.org' }).send(email).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MailerError);
      expect(error).toMatchObject({ code: 'rejected' });
    } finally {
      refusingClient.destroy();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it('serves only outbox messages: no traversal, no other files, 404 for unknown ones', async () => {
    await writeFile(join(dir, 'secret.txt'), 'outside the outbox');
    await writeFile(join(outbox.dir, 'notes.eml'), 'not an outbox name');
    for (const path of ['/outbox/..%2Fsecret.txt', '/outbox/%2e%2e%2fsecret.txt', '/outbox/notes.eml', '/outbox/a/b.eml', '/outbox/']) {
      const response = await get(port, path);
      expect(response.status, path).toBe(400);
      expect(response.body).not.toContain('outside the outbox');
    }
    // Dot segments are resolved before routing, so these leave /outbox/ altogether and fall through.
    for (const path of ['/outbox/../secret.txt', '/outbox/%2e%2e/secret.txt']) {
      expect(await get(port, path), path).toMatchObject({ status: 404, body: 'fell through' });
    }
    const unknown = await get(port, '/outbox/2026-11-20T10-00-00.000Z-00000000-0000-4000-8000-000000000000.eml');
    expect(unknown.status).toBe(404);
    await expect(readOutboxMessage(outbox.dir, '../secret.txt')).rejects.toThrow(/not an outbox message/);
  });

  it('leaves every other request to the caller', async () => {
    for (const path of ['/', '/outboxes', '/ses/v2/email/identities', '/ses/v2/email/outbound-emails']) {
      expect(await get(port, path), path).toMatchObject({ status: 404, body: 'fell through' });
    }
  });

  it('creates a temporary outbox directory when none is given, and removes it on close; a given one stays', async () => {
    const temporary = createMailOutbox();
    expect(existsSync(temporary.dir)).toBe(true);
    expect(temporary.dir.startsWith(tmpdir())).toBe(true);
    expect(await temporary.messages()).toEqual([]);
    await temporary.close();
    expect(existsSync(temporary.dir)).toBe(false);
    await outbox.close();
    expect(existsSync(outbox.dir)).toBe(true);
  });

  it('a local runtime leaves no outbox folder behind', async () => {
    const runtime = await startLocalRuntime({ port: 0 });
    const { dir } = runtime.outbox;
    expect(existsSync(dir)).toBe(true);
    await runtime.close();
    expect(existsSync(dir)).toBe(false);
  });
});
