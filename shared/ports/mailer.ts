/** One email to send; bodies and attachments are composed by the caller. */
export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; contentType: string; content: Uint8Array }[];
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

/** Why sending failed, in words a user can act on; never carries the message itself. */
export class MailerError extends Error {
  override readonly name = 'MailerError';
  constructor(
    readonly code: 'rejected' | 'throttled' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}
