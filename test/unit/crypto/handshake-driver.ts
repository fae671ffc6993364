// Drives two handshake parties through the relay the way the SDK does, with a hook for the
// relay to tamper with, drop or replace messages. Used by the handshake tests.

import { Handshake, type HandshakeOptions, type HandshakeResult } from '../../../shared/crypto/handshake.js';
import { encodeHandshakeMessage } from '../../../shared/crypto/handshake-messages.js';
import { passwordRelatedString } from '../../../shared/crypto/handshake.js';

export const context = { relayOrigin: 'https://relay.example.com', nameplate: 'K7QM', sessionId: 'session-1' };

export const password = (secret: string, invitationPassword?: string) =>
  passwordRelatedString(
    new TextEncoder().encode(secret),
    invitationPassword === undefined ? undefined : new TextEncoder().encode(invitationPassword),
  );

export function party(role: HandshakeOptions['role'], prs: Uint8Array, overrides: Partial<HandshakeOptions> = {}): Handshake {
  return new Handshake({ ...context, role, password: prs, ...overrides });
}

/** Index of each message in a run: expert hello, agent hello, commit, share, reveal, confirm. */
export type Relay = (index: number, message: Uint8Array) => Uint8Array;

export interface Run {
  expert: Handshake;
  agent: Handshake;
  messages: Uint8Array[];
  expertResult?: HandshakeResult;
  agentResult?: HandshakeResult;
  /** Errors in the order they were thrown, with the side that threw. */
  errors: { side: 'expert' | 'agent'; error: unknown }[];
}

const abort = encodeHandshakeMessage({ type: 'abort' });

/**
 * Runs expert and agent to completion. When a side throws, the driver delivers an abort to the
 * other side, as the SDK does, and records both errors.
 */
export function runHandshake(expert: Handshake, agent: Handshake, relay: Relay = (_, m) => m): Run {
  const run: Run = { expert, agent, messages: [], errors: [] };
  const sides = { expert, agent };
  const deliver = (to: 'expert' | 'agent', message: Uint8Array) => {
    const relayed = relay(run.messages.length, message);
    run.messages.push(relayed);
    return step(to, () => sides[to].receive(relayed));
  };
  const step = <T>(side: 'expert' | 'agent', action: () => T): T | undefined => {
    try {
      return action();
    } catch (error) {
      run.errors.push({ side, error });
      const peer = side === 'expert' ? 'agent' : 'expert';
      if (sides[peer].state !== 'failed') {
        try {
          sides[peer].receive(abort);
        } catch (peerError) {
          run.errors.push({ side: peer, error: peerError });
        }
      }
      return undefined;
    }
  };

  const expertHello = expert.start();
  const agentHello = agent.start();
  if (!deliver('agent', expertHello)) return run;
  const commit = deliver('expert', agentHello)?.reply;
  if (!commit) return run;
  const share = deliver('agent', commit)?.reply;
  if (!share) return run;
  const reveal = deliver('expert', share)?.reply;
  if (!reveal) return run;
  const agentStep = deliver('agent', reveal);
  if (!agentStep?.reply) return run;
  run.agentResult = agentStep.established;
  run.expertResult = deliver('expert', agentStep.reply)?.established;
  return run;
}

/** Exchanges the two hellos (no relay in between) and returns the expert's commit. */
export function opened(expert: Handshake, agent: Handshake): Uint8Array {
  const expertHello = expert.start();
  const agentHello = agent.start();
  agent.receive(expertHello);
  return expert.receive(agentHello).reply!;
}
