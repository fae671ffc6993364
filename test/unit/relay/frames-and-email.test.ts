// The frame path (shared/server/use-cases/relay-frame.ts) and emailed invitations (email-invitation.ts) on the
// in-memory adapters.
import { describe, expect, it } from 'vitest';
import { MAX_PRE_APPROVAL_FRAME_DATA_CHARS } from '../../../shared/core/messages.js';
import { createInvitationFile } from '../../../shared/core/invitation-file.js';
import { newFileSecret } from '../../../shared/core/codes.js';
import { approveSession } from '../../../shared/server/use-cases/consent.js';
import { emailInvitation } from '../../../shared/server/use-cases/email-invitation.js';
import { relayFrame } from '../../../shared/server/use-cases/relay-frame.js';
import { MemoryRelay } from '../../support/memory-relay.js';
import { activeSession, as, joinedSession, openInvitation, refusal } from './support/sessions.js';


describe('relayFrame', () => {
  it('forwards a frame to the peer only, as the relay received it', async () => {
    const relay = new MemoryRelay();
    const { agent, expert } = await activeSession(relay);
    relay.notifier.clear(expert.connectionId);
    expect(await relayFrame(relay.deps, agent, { data: 'AAEC' })).toBeUndefined();
    expect(relay.messagesTo(expert)).toEqual([{ type: 'frame', data: 'AAEC' }]);
    expect(relay.messagesTo(agent).filter((message) => message.type === 'frame')).toEqual([]);
  });

  it('before approval limits each frame’s size and a connection’s number of frames', async () => {
    const relay = new MemoryRelay({ policy: { preApprovalFramesPerConnection: 2 } });
    const { agent, expert } = await joinedSession(relay);
    await expect(relayFrame(relay.deps, expert, { data: 'A'.repeat(MAX_PRE_APPROVAL_FRAME_DATA_CHARS + 4) })).rejects.toEqual(refusal('not-approved'));
    await relayFrame(relay.deps, expert, { data: 'AAAA' });
    await relayFrame(relay.deps, expert, { data: 'AAAA' });
    await expect(relayFrame(relay.deps, expert, { data: 'AAAA' })).rejects.toEqual(refusal('not-approved'));
    // Approval lifts both limits.
    await approveSession(relay.deps, agent, { mode: 'view' });
    await expect(relayFrame(relay.deps, expert, { data: 'A'.repeat(MAX_PRE_APPROVAL_FRAME_DATA_CHARS + 4) })).resolves.toBeUndefined();
  });

  it('a peer whose connection proved gone is detached, and the sender told', async () => {
    const relay = new MemoryRelay();
    const { agent, expert, created } = await activeSession(relay);
    relay.notifier.gone(expert.connectionId);
    expect(await relayFrame(relay.deps, agent, { data: 'AAAA' })).toBeUndefined();
    expect(relay.messagesTo(agent).at(-1)).toEqual({ type: 'peer', state: 'disconnected' });
    expect((await relay.store.getSession(created.sessionId))?.expert).not.toHaveProperty('connectionId');
    expect(await relayFrame(relay.deps, agent, { data: 'AAAA' })).toEqual({ type: 'peer', state: 'disconnected' });
  });

  it('counts traffic for the idle limit', async () => {
    const relay = new MemoryRelay();
    const { agent, created } = await activeSession(relay);
    relay.advanceSeconds(600);
    await relayFrame(relay.deps, agent, { data: 'AAAA' });
    expect((await relay.store.getSession(created.sessionId))?.lastActiveAt).toBe(relay.clock.nowSeconds());
  });
});

describe('emailInvitation', () => {
  async function fileInvitation(relay: MemoryRelay) {
    const { creator, created } = await openInvitation(relay, 'file');
    const now = new Date(relay.clock.now());
    const invitation = createInvitationFile({
      relay: relay.deps.endpoints,
      nameplate: created.nameplate,
      secret: newFileSecret(),
      requester: 'Ada',
      createdAt: now,
      expiresAt: new Date(created.invitationExpiresAt * 1000),
    });
    return { creator, created, request: { to: 'help@example.org', requesterName: 'Ada', invitation } };
  }

  it('sends the relay URL and the file, never the password, and audits it', async () => {
    const relay = new MemoryRelay();
    const { creator, created, request } = await fileInvitation(relay);
    expect(as('invitationEmailed', await emailInvitation(relay.deps, creator, request))).toEqual({ type: 'invitationEmailed', to: 'help@example.org' });
    const [email] = relay.mailer.sent;
    expect(email).toMatchObject({ to: 'help@example.org' });
    expect(email!.text).toContain(`https://relay.example.org/join/${created.nameplate}#`);
    expect((await relay.audit.list(created.sessionId)).at(-1)).toMatchObject({ event: 'emailed', role: 'agent' });
  });

  it('counts only emails the mail service accepted, up to the policy’s limit', async () => {
    const relay = new MemoryRelay({ policy: { emailsPerSession: 1 } });
    const { creator, request } = await fileInvitation(relay);
    relay.mailer.failWith = 'throttled';
    await expect(emailInvitation(relay.deps, creator, request)).rejects.toEqual(refusal('email-failed'));
    relay.mailer.failWith = undefined;
    await emailInvitation(relay.deps, creator, request);
    await expect(emailInvitation(relay.deps, creator, request)).rejects.toEqual(refusal('rate-limited'));
  });

  it('refuses what it cannot send: a bad address, another invitation’s file, a relay without a mailer', async () => {
    const relay = new MemoryRelay();
    const { creator, request } = await fileInvitation(relay);
    await expect(emailInvitation(relay.deps, creator, { ...request, to: 'not an address' })).rejects.toEqual(refusal('invalid-request'));
    const other = await fileInvitation(relay);
    await expect(emailInvitation(relay.deps, creator, other.request)).rejects.toThrow('the invitation file belongs to another invitation');
    const noMail = new MemoryRelay({ mailer: false });
    const lone = await fileInvitation(noMail);
    await expect(emailInvitation(noMail.deps, lone.creator, lone.request)).rejects.toThrow('this relay is not set up to send email');
  });

  it('is for a waiting file invitation’s creator only', async () => {
    const relay = new MemoryRelay();
    const { creator } = await openInvitation(relay);
    await expect(emailInvitation(relay.deps, creator, { to: 'a@example.org', requesterName: 'A', invitation: '{}' })).rejects.toEqual(refusal('wrong-role'));
  });
});
