import {
  AccountSuspendedException,
  BadRequestException,
  InternalServiceErrorException,
  LimitExceededException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  SendEmailCommand,
  SendingPausedException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SesMailer } from '../../../shared/server/adapters/ses-mailer.js';
import { MimeError, parseMimeMessage } from '../../../shared/server/email/mime.js';
import type { Log } from '../../../shared/server/ports/log.js';
import { MailerError, type OutgoingEmail } from '../../../shared/server/ports/mailer.js';

const metadata = { $metadata: { httpStatusCode: 400 } };
const email: OutgoingEmail = {
  to: 'tech@example.com',
  subject: 'Zoë asks for your help (Assist Relay)',
  text: 'BODY-TEXT https://relay.example.org/join/7KQ3#SECRETSECRET',
  html: '<p>BODY-HTML https://relay.example.org/join/7KQ3#SECRETSECRET</p>',
  attachments: [{ filename: 'invitation.assistinvite', contentType: 'application/json', content: new TextEncoder().encode('{"secret":"FILE-SECRET"}') }],
};

describe('SesMailer', () => {
  const ses = mockClient(SESv2Client);
  const logged: string[] = [];
  const log: Log = {
    info: (event, fields) => logged.push(JSON.stringify({ event, ...fields })),
    warn: (event, fields) => logged.push(JSON.stringify({ event, ...fields })),
    error: (event, fields) => logged.push(JSON.stringify({ event, ...fields })),
  };
  const now = () => new Date('2026-11-20T10:00:00.000Z');
  const mailer = new SesMailer(
    new SESv2Client({ region: 'eu-west-1' }),
    { from: 'Assist Relay <relay@example.org>', configurationSetName: 'assist-relay' },
    log,
    now,
  );

  beforeEach(() => {
    ses.reset();
    logged.length = 0;
  });

  it('sends the raw MIME message from the configured sender to the one recipient', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-id-1' });
    expect(await mailer.send(email)).toEqual({ messageId: 'ses-id-1' });

    const [call] = ses.commandCalls(SendEmailCommand);
    const input = call!.args[0].input;
    expect(input).toMatchObject({
      FromEmailAddress: 'relay@example.org',
      Destination: { ToAddresses: ['tech@example.com'] },
      ConfigurationSetName: 'assist-relay',
    });
    expect(input.Content?.Simple).toBeUndefined();
    const raw = new TextDecoder().decode(input.Content!.Raw!.Data);
    expect(raw).toContain('\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n');
    expect(parseMimeMessage(raw)).toMatchObject({
      from: '"Assist Relay" <relay@example.org>',
      to: 'tech@example.com',
      subject: email.subject,
      text: email.text,
      html: email.html,
      attachments: [{ filename: 'invitation.assistinvite', contentType: 'application/json', content: email.attachments[0]!.content }],
    });
  });

  it('leaves out the configuration set when none is configured', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-id-2' });
    await new SesMailer(new SESv2Client({ region: 'eu-west-1' }), { from: 'relay@example.org' }).send(email);
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.ConfigurationSetName).toBeUndefined();
  });

  const cases = [
    [new MessageRejected({ message: 'Email address is not verified: tech@example.com', ...metadata }), 'rejected'],
    [new MailFromDomainNotVerifiedException({ message: 'no', ...metadata }), 'rejected'],
    [new AccountSuspendedException({ message: 'no', ...metadata }), 'rejected'],
    [new SendingPausedException({ message: 'no', ...metadata }), 'rejected'],
    [new BadRequestException({ message: 'no', ...metadata }), 'rejected'],
    [new TooManyRequestsException({ message: 'slow', $metadata: { httpStatusCode: 429 } }), 'throttled'],
    [new LimitExceededException({ message: 'quota', ...metadata }), 'throttled'],
    [new NotFoundException({ message: 'no configuration set', $metadata: { httpStatusCode: 404 } }), 'unavailable'],
    [new InternalServiceErrorException({ message: 'oops', $metadata: { httpStatusCode: 500 } }), 'unavailable'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'unavailable'],
  ] as const;

  it.each(cases.map(([sesError, code]) => [sesError.name, sesError, code] as const))(
    'maps %s to a MailerError "%s", revealing neither body nor address',
    async (_name, sesError, code) => {
    ses.on(SendEmailCommand).rejects(sesError);
    const error = await mailer.send(email).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailerError);
    expect(error).toMatchObject({ code });
    const exposed = JSON.stringify({ message: (error as Error).message, error, logged });
    for (const secret of ['BODY-TEXT', 'BODY-HTML', 'SECRETSECRET', 'FILE-SECRET', 'tech@example.com', email.subject]) {
      expect(exposed).not.toContain(secret);
    }
    expect(logged).toEqual([expect.stringContaining(`"error":"${sesError.name}"`)]);
    },
  );

  it('says whether retrying helps', async () => {
    expect(new MailerError('rejected').message).toMatch(/will not help/);
    expect(new MailerError('throttled').message).toMatch(/try again in a few minutes/);
    expect(new MailerError('unavailable').message).toMatch(/try again later/);
  });

  it('refuses an email whose headers would not be safe, without calling SES', async () => {
    await expect(mailer.send({ ...email, to: 'tech@example.com\r\nBcc: victim@example.net' })).rejects.toMatchObject({
      code: 'rejected',
      name: 'MailerError',
    });
    await expect(mailer.send({ ...email, subject: 'Hi\r\nBcc: victim@example.net' })).rejects.toBeInstanceOf(MailerError);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('refuses a sender that is not a mailbox when it is configured', () => {
    expect(() => new SesMailer(new SESv2Client({ region: 'eu-west-1' }), { from: 'Assist Relay' })).toThrow(MimeError);
  });
});
