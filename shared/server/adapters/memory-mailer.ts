import { type Mailer, MailerError, type MailerErrorCode, type OutgoingEmail } from '../ports/mailer.js';

/** Keeps every email it accepts; `failWith` makes the next sends fail as the mail service can. */
export class RecordingMailer implements Mailer {
  readonly sent: OutgoingEmail[] = [];
  /** While set, every send fails with this code. */
  failWith: MailerErrorCode | undefined;

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    if (this.failWith) throw new MailerError(this.failWith);
    this.sent.push(email);
    return { messageId: `memory-${this.sent.length}` };
  }
}
