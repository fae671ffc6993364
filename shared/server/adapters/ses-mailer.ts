import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { buildMimeMessage, type Mailbox, MimeError, parseMailbox } from '../email/mime.js';
import { silentLog, type Log } from '../ports/log.js';
import { type Mailer, MailerError, type MailerErrorCode, type OutgoingEmail } from '../ports/mailer.js';

export interface SesMailerOptions {
  /** A verified SES identity, optionally with a display name: "Assist Relay <relay@example.org>". */
  from: string;
  configurationSetName?: string;
}

// Matched by name rather than class: the name is what SES sends (x-amzn-ErrorType) and what the
// SDK's exception classes carry, whichever copy of the SDK a bundle ends up with.
const rejectedErrors = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'BadRequestException',
]);
const throttledErrors = new Set(['TooManyRequestsException', 'LimitExceededException']);

function errorCode(name: string): MailerErrorCode {
  if (rejectedErrors.has(name)) return 'rejected';
  return throttledErrors.has(name) ? 'throttled' : 'unavailable';
}

/** Sends raw MIME through SES v2 (or the local outbox, which speaks the same API). */
export class SesMailer implements Mailer {
  private readonly from: Mailbox;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly client: SESv2Client,
    private readonly options: SesMailerOptions,
    private readonly log: Log = silentLog,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.from = parseMailbox(options.from);
  }

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    let raw: string;
    try {
      raw = buildMimeMessage({ ...email, from: this.from, date: this.now() });
    } catch (error) {
      if (error instanceof MimeError) throw new MailerError('rejected', `the email cannot be sent: ${error.message}`);
      throw error;
    }
    try {
      const result = await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.from.address,
          Destination: { ToAddresses: [email.to] },
          Content: { Raw: { Data: this.encoder.encode(raw) } },
          ConfigurationSetName: this.options.configurationSetName,
        }),
      );
      // SES always answers with an id; the SDK's type merely says it may not.
      return { messageId: result.MessageId ?? '' };
    } catch (error) {
      // Only the error's name and status: SES messages can quote addresses, and the body never leaves here.
      // Error level: the stack counts these lines (EmailSendFailures) and alarms on them.
      const name = error instanceof Error ? error.name : 'unknown';
      const code = errorCode(name);
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      this.log.error('email-send-failed', { error: name, code, status });
      throw new MailerError(code);
    }
  }
}
