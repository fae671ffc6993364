import { CodedError } from '../../core/coded-error.js';

/** One email to one recipient; the sender is the mailer's own configuration. */
export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; contentType: string; content: Uint8Array }[];
}

/** Sends email (SES on AWS, the outbox locally). A failure to send is a MailerError. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

/**
 * 'rejected': the mail service refused this email or this sender; sending it again will not help.
 * 'throttled': too many emails right now; retry in a few minutes.
 * 'unavailable': the mail service failed or could not be reached; retry later.
 */
export type MailerErrorCode = 'rejected' | 'throttled' | 'unavailable';

const userMessages: Record<MailerErrorCode, string> = {
  rejected: 'the mail service refused to send this email; sending it again will not help, share the invitation another way',
  throttled: 'the mail service is sending too many emails right now; try again in a few minutes',
  unavailable: 'the mail service is unavailable; try again later, or share the invitation another way',
};

/** A sending failure with a message a user can act on; never carries the email's content. */
export class MailerError extends CodedError<MailerErrorCode> {
  override readonly name = 'MailerError';

  constructor(code: MailerErrorCode, message: string = userMessages[code]) {
    super(code, message);
  }
}
