// Why a session ended, in words, for the side reading it: the one table the CLI and the console both show,
// so a new end reason gets its text here, once (test/unit/core/end-texts.test.ts fails on a reason without one).

import type { EndReason, LocalEndReason, Role } from './messages.js';

/** Who reads the text: the person who asked for help (the agent), or the technician helping (the expert). */
export type Reader = 'person' | 'technician';

export const readerOf = (role: Role): Reader => (role === 'agent' ? 'person' : 'technician');

export interface EndTextContext {
  /** The other side's name, once this side knows it (the CLI does; the console says "the person" or "the technician"). */
  peerName?: string;
  /** Whether the session had been approved: an expiry then is its time limit, not the invitation's. Default true. */
  wasLive?: boolean;
}

/** What a text is made from: the other side as the sentence names it, and whether the session was live. */
interface Said {
  /** The peer's name, or "the person" / "the technician". */
  peer: string;
  /** The same, to start a sentence with. */
  Peer: string;
  peerName: string | undefined;
  wasLive: boolean;
}

type Text = (said: Said) => string;
const both = (text: Text): Record<Reader, Text> => ({ person: text, technician: text });

const endTexts: Record<EndReason | LocalEndReason, Record<Reader, Text>> = {
  'ended-by-agent': { person: () => 'You ended the session.', technician: ({ peerName }) => `${peerName ?? 'The person you were helping'} ended the session.` },
  'ended-by-expert': { person: ({ Peer }) => `${Peer} ended the session.`, technician: () => 'You ended the session.' },
  expired: {
    person: ({ wasLive }) => (wasLive ? 'The session reached its time limit.' : 'The invitation expired before anyone connected. Create a new one to try again.'),
    technician: ({ wasLive, peer }) => (wasLive ? 'The session reached its time limit.' : `The invitation expired before the session started. Ask ${peer} for a new one.`),
  },
  'idle-timeout': {
    person: () => 'The session ended because nothing happened for too long. Ask for help again if you still need it.',
    technician: ({ Peer }) => `The session ended because nothing happened for too long. ${Peer} can invite you again.`,
  },
  'peer-gone': both(({ Peer }) => `${Peer}’s connection was lost and did not come back in time. The session is over.`),
  burned: {
    person: () => 'Too many wrong passwords or codes were tried, so the invitation was blocked. Create a new one.',
    technician: ({ peer }) => `Too many wrong passwords or codes were tried, so the invitation was blocked. Ask ${peer} for a new one.`,
  },
  revoked: { person: () => 'You withdrew the invitation. Nobody can use it any more.', technician: () => 'The invitation was withdrawn. Nobody can use it any more.' },
  denied: { person: ({ peer }) => `You did not let ${peer} in.`, technician: ({ Peer }) => `${Peer} did not let you in.` },
  'confirmation-failed': {
    person: ({ peer }) => `The code or password did not match. Check it with ${peer} and try again.`,
    technician: ({ peer }) => `The password did not match. Check it with ${peer} and try again.`,
  },
  'protocol-violation': both(() => `The session was ended because one side’s program sent something the assistance protocol does not allow. Make sure both sides run the latest assist (in a browser, reload this page), then try again.`),
  closed: both(() => 'The session was closed.'),
  'connection-lost': both(() => 'The connection to the relay was lost and could not be restored.'),
  'resume-rejected': both(() => 'The connection came back too late: the session is over.'),
  'stream-failed': both(() => 'The session was stopped because data arrived damaged or altered on the way.'),
  'handshake-failed': both(({ peer }) => `The secure connection with ${peer} could not be set up, so nothing was shared. Try again.`),
};

/** Why a session ended, for the reader. */
export function endText(reason: EndReason | LocalEndReason, reader: Reader, context: EndTextContext = {}): string {
  const peer = context.peerName ?? (reader === 'person' ? 'the technician' : 'the person');
  const Peer = peer[0]!.toUpperCase() + peer.slice(1);
  return endTexts[reason][reader]({ peer, Peer, peerName: context.peerName, wasLive: context.wasLive ?? true });
}
