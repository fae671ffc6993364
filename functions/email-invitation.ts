import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SesMailer } from '../shared/adapters/ses-mailer.js';
import { createJsonLog } from '../shared/ports/log.js';
import { emailInvitation } from '../shared/relay/email-invitation.js';
import { messageRoute } from './lib/ws-handler.js';
import { dynamo, management } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

export const emailInvitationRoute = messageRoute('emailInvitation', emailInvitation);

/** The sender identity and configuration set come from CDK context; without a sender, emailing is refused. */
const sender = process.env.ASSIST_EMAIL_FROM;
const mailer = sender
  ? new SesMailer(new SESv2Client({}), { from: sender, configurationSetName: process.env.ASSIST_SES_CONFIGURATION_SET || undefined }, createJsonLog())
  : undefined;

export const handler = emailInvitationRoute(depsFromEnvironment({ dynamo, management }, { mailer }));
