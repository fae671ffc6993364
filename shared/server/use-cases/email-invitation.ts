import { composeInvitationEmail, isValidEmailAddress } from '../email/email-message.js';
import { InvitationFileError, parseInvitationFile } from '../../core/invitation-file.js';
import { relayJoinUrl } from '../../core/relay-url.js';
import type { EmailInvitationRequest, ServerMessage } from '../../core/messages.js';
import { MailerError } from '../ports/mailer.js';
import { recordAudit } from './audit.js';
import type { Caller, RelayDeps } from './deps.js';
import { RelayError } from './errors.js';
import { requireLiveSession } from './live-session.js';
import { addressNetwork, enforceRateLimits } from './rate-limits.js';

const HOUR = 60 * 60;

/**
 * Emails a waiting file invitation to the expert: the relay URL and the file, never the password.
 * The relay sees the file's secret here; it is neither logged nor stored.
 */
export async function emailInvitation(
  deps: RelayDeps,
  caller: Caller,
  request: Omit<EmailInvitationRequest, 'action'>,
): Promise<ServerMessage> {
  const { session, role, now } = await requireLiveSession(deps, caller);
  const { sessionId } = session;
  if (role !== 'agent' || session.kind !== 'file') {
    throw new RelayError('wrong-role', 'only the person who created an invitation file can have it emailed');
  }
  if (session.state !== 'waiting') {
    throw new RelayError('invalid-state', 'the invitation is no longer open, so it cannot be emailed');
  }
  if (!isValidEmailAddress(request.to)) throw new RelayError('invalid-request', `"${request.to}" is not an email address`);
  const invitation = parseEmailedInvitation(deps, request.invitation, now);
  if (invitation.nameplate !== session.nameplate) throw new RelayError('invalid-request', 'the invitation file belongs to another invitation');
  if (!deps.mailer) throw new RelayError('email-failed', 'this relay is not set up to send email; send the invitation file yourself');
  await enforceRateLimits(deps, now, [
    { key: `email-ip#${addressNetwork(caller.sourceIp)}`, limit: deps.policy.emailsPerSourceIpPerHour, windowSeconds: HOUR, what: 'emails from this network address' },
  ]);
  // The email is reserved against the invitation's limit first (so concurrent requests cannot exceed it)
  // and given back if it is not sent: only an email SES accepted counts.
  if (!(await deps.store.countEmail(sessionId, deps.policy.emailsPerSession))) {
    throw new RelayError('rate-limited', `an invitation can be emailed at most ${deps.policy.emailsPerSession} times`);
  }
  try {
    await deps.mailer.send(composeEmail(deps, session, invitation, request));
  } catch (error) {
    await deps.store.uncountEmail(sessionId);
    if (error instanceof MailerError) throw new RelayError('email-failed', error.message);
    throw error;
  }
  deps.log.info('invitation-emailed', { sessionId });
  await recordAudit(deps, sessionId, { event: 'emailed', role }, caller);
  return { type: 'invitationEmailed', to: request.to };
}

function composeEmail(
  deps: RelayDeps,
  session: { nameplate: string; invitationExpiresAt: number },
  invitation: { secret: string; expiresAt: Date },
  request: Omit<EmailInvitationRequest, 'action'>,
) {
  try {
    return composeInvitationEmail({
      to: request.to,
      requesterName: request.requesterName,
      relayUrl: relayJoinUrl(deps.endpoints.httpUrl, session.nameplate, invitation.secret),
      expiresAt: new Date(Math.min(session.invitationExpiresAt * 1000, invitation.expiresAt.getTime())),
      invitationFileText: request.invitation,
    });
  } catch (error) {
    throw new RelayError('invalid-request', (error as Error).message);
  }
}

function parseEmailedInvitation(deps: RelayDeps, text: string, now: number) {
  try {
    return parseInvitationFile(text, { now: new Date(now * 1000), relay: deps.endpoints });
  } catch (error) {
    if (error instanceof InvitationFileError) throw new RelayError('invalid-request', `invitation file: ${error.message}`);
    throw error;
  }
}
