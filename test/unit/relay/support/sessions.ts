// Opening moves shared by the use-case tests: an invitation, a joined one, an approved one.
import { expect } from 'vitest';
import type { InvitationKind, ServerMessage } from '../../../../shared/core/messages.js';
import { approveSession } from '../../../../shared/server/use-cases/consent.js';
import type { Caller } from '../../../../shared/server/use-cases/deps.js';
import { createSession, joinSession } from '../../../../shared/server/use-cases/sessions.js';
import type { MemoryRelay } from '../../../support/memory-relay.js';

export type Reply<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export const AGENT_IP = '198.51.100.1';
export const EXPERT_IP = '203.0.113.9';

/** Narrows a use case's answer to the type the test expects, failing clearly otherwise. */
export function as<T extends ServerMessage['type']>(type: T, message: ServerMessage | undefined): Reply<T> {
  if (message?.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(message)}`);
  return message as Reply<T>;
}

export async function openInvitation(relay: MemoryRelay, kind: InvitationKind = 'easy-connect') {
  const creator = await relay.connect(kind === 'helper-code' ? EXPERT_IP : AGENT_IP);
  const created = as('sessionCreated', await createSession(relay.deps, creator, { kind }));
  return { creator, created };
}

export async function joinInvitation(relay: MemoryRelay, nameplate: string, sourceIp = EXPERT_IP): Promise<{ joiner: Caller; joined: Reply<'sessionJoined'> }> {
  const joiner = await relay.connect(sourceIp);
  return { joiner, joined: as('sessionJoined', await joinSession(relay.deps, joiner, { nameplate })) };
}

/** An Easy Connect invitation the expert joined; `agent` created it. */
export async function joinedSession(relay: MemoryRelay) {
  const { creator: agent, created } = await openInvitation(relay);
  const { joiner: expert, joined } = await joinInvitation(relay, created.nameplate);
  return { agent, expert, created, joined };
}

/** A joined session the agent approved (control). */
export async function activeSession(relay: MemoryRelay) {
  const session = await joinedSession(relay);
  const active = as('sessionActive', await approveSession(relay.deps, session.agent, { mode: 'control' }));
  return { ...session, active };
}

/** Matches the RelayError a refused request throws, by its code. */
export const refusal = (code: string) => expect.objectContaining({ name: 'RelayError', code });
