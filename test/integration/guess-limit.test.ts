// The guess limit holds against the relay operator (docs/protocol.md §6): the invitation's creator
// counts failed key confirmations itself and burns the invitation at the limit it was given when the
// invitation was made, whatever the relay answers later. The relay here is malicious, played by the
// local runtime's tap: it hides every failed attempt from its own count, answers each report with
// "nothing counted", and lets one guessing joiner after another in.
import { describe, expect, it } from 'vitest';
import type { GatewayTap } from '../../infra/local/gateway.js';
import { FRAME_FORMAT_PLAIN, FRAME_HEADER_BYTES } from '../../shared/crypto/frame-codec.js';
import { parseCode } from '../../shared/core/codes.js';
import { MAX_FAILED_ATTEMPTS_CEILING, type ServerMessage } from '../../shared/core/messages.js';
import { acceptHelp, joinHelp, offerHelp, requestHelp, type ExpertSession } from '../../sdk/node.js';
import { fastAssistOptions, record, whenRecorded, type Recorded } from '../support/assist.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { injectToClient } from '../support/secure-pair.js';

/** A relay that lies about failed attempts, and (when asked) about the limit at creation. */
class LyingTap implements GatewayTap {
  /** Distinct first handshake messages (the agent's hello, a fresh sid nonce per handshake) per connection. */
  readonly sharesFrom = new Map<string, Set<string>>();
  hiddenReports = 0;
  /** The connection of each invitation's creator, newest last. */
  readonly creators: string[] = [];
  claimedLimit: number | undefined;

  fromClient = (connectionId: string, body: string): string | null => {
    const message = JSON.parse(body) as { action?: string; data?: string };
    if (message.action === 'reportFailedAttempt') {
      // Never counted by the relay; the creator is told nothing was counted.
      this.hiddenReports++;
      const lie: ServerMessage = { type: 'attemptRecorded', failedAttempts: 0, maxFailedAttempts: 1000, burned: false };
      void injectToClient(runtime(), connectionId, lie);
      return null;
    }
    if (message.action === 'frame' && message.data) {
      const frame = Buffer.from(message.data, 'base64');
      const seq = frame.readUInt32BE(4);
      const data = (frame[1]! & 0b10) === 0;
      if (frame[0] === FRAME_FORMAT_PLAIN && data && seq === 0 && frame.length > FRAME_HEADER_BYTES) {
        const shares = this.sharesFrom.get(connectionId) ?? new Set();
        shares.add(frame.toString('base64'));
        this.sharesFrom.set(connectionId, shares);
      }
    }
    return body;
  };

  toClient = (connectionId: string, body: string): string | null => {
    const message = JSON.parse(body) as ServerMessage;
    if (message.type !== 'sessionCreated') return body;
    this.creators.push(connectionId);
    if (this.claimedLimit === undefined) return body;
    return JSON.stringify({ ...message, maxFailedAttempts: this.claimedLimit });
  };
}

const tap = new LyingTap();
// The operator lets anyone join as often as they like.
const runtime = useLocalRuntime({ tap, policy: { joinsPerSourceIp: 10_000, invitationsPerSourceIp: 10_000 } });
const defer = useCleanups();

async function invite() {
  const agent = await requestHelp({ relay: runtime().httpUrl, kind: 'easy-connect', name: 'Ada Lovelace', ...fastAssistOptions });
  defer(() => agent.client.close());
  return { agent, agentSeen: record(agent) };
}

/** One joiner with `code`: its outcome, or the relay's refusal. */
async function guess(code: string): Promise<{ expert: ExpertSession; seen: Recorded } | { refused: string }> {
  let expert: ExpertSession;
  try {
    expert = await joinHelp({ invitation: code, relay: runtime().httpUrl, name: 'Mallory', ...fastAssistOptions });
  } catch (error) {
    return { refused: (error as Error).message };
  }
  defer(() => expert.client.close());
  const seen = record(expert);
  await whenRecorded(() => seen.ended !== undefined || expert.phase === 'awaiting-approval', 'the guess to settle');
  return { expert, seen };
}

/** A wrong code for the same nameplate: the relay knows the nameplate, never the secret. */
function wrongCode(right: string, n: number): string {
  const { nameplate, secret } = parseCode(right);
  const wrong = secret.slice(0, 4) + String(n).padStart(4, '0');
  return `${nameplate}-${wrong === secret ? 'ZZZZZZZZ' : wrong}`;
}

describe('the guess limit against a malicious relay', () => {
  it('the creator burns the invitation after 3 failed confirmations although the relay counts none; the right code comes too late', async () => {
    const { agent, agentSeen } = await invite();
    expect(agent.maxFailedAttempts).toBe(3);
    const agentConnection = tap.creators.at(-1)!;

    const outcomes = [];
    for (let n = 1; n <= 9; n++) outcomes.push(await guess(wrongCode(agent.invitation.password, n)));
    const last = await guess(agent.invitation.password);

    // Three handshakes ran (three fresh hellos from the agent), each a failed guess; then nothing.
    expect(tap.sharesFrom.get(agentConnection)?.size).toBe(3);
    expect(tap.hiddenReports).toBe(3);
    expect(outcomes.slice(0, 3).map((o) => ('seen' in o ? o.seen.ended?.error?.name : o.refused))).toEqual(Array(3).fill('SecureSessionError'));
    expect(outcomes.slice(3).every((o) => 'refused' in o)).toBe(true);
    expect('refused' in last).toBe(true);

    await whenRecorded(() => agentSeen.ended !== undefined, 'the agent’s end');
    expect(agentSeen.log).toEqual([1, 2, 3].map((n) => `attempt-failed {"failedAttempts":${n},"maxFailedAttempts":3,"burned":${n === 3}}`));
    expect(agentSeen.ended?.reason).toBe('burned');
    expect(agent.phase).toBe('ended');
  });

  it('helper code: the technician’s side burns its code after 3 failures just the same', async () => {
    const offer = await offerHelp({ relay: runtime().httpUrl, name: 'Grace Hopper', ...fastAssistOptions });
    defer(() => offer.client.close());
    const offerSeen = record(offer);
    const creatorConnection = tap.creators.at(-1)!;
    const refusals: string[] = [];
    for (let n = 1; n <= 6; n++) {
      try {
        const person = await acceptHelp({ code: wrongCode(offer.code, n), relay: runtime().httpUrl, name: 'Mallory', ...fastAssistOptions });
        defer(() => person.client.close());
        const seen = record(person);
        await whenRecorded(() => seen.ended !== undefined, 'the guess to fail');
      } catch (error) {
        refusals.push((error as Error).message);
      }
    }
    // The creator opens each handshake with a fresh commitment: three of them, then no more.
    expect(tap.sharesFrom.get(creatorConnection)?.size).toBe(3);
    await whenRecorded(() => offerSeen.ended !== undefined, 'the offer’s end');
    expect(offerSeen.ended?.reason).toBe('burned');
    expect(offerSeen.log.filter((entry) => entry.startsWith('attempt-failed'))).toHaveLength(3);
    expect(refusals).toHaveLength(3);
  });

  it('a limit the relay inflates when the invitation is made is capped by the client, and shown as such', async () => {
    tap.claimedLimit = 1000;
    defer(() => (tap.claimedLimit = undefined));
    const { agent } = await invite();
    expect(agent.client.session?.maxFailedAttempts).toBe(1000);
    expect(agent.maxFailedAttempts).toBe(MAX_FAILED_ATTEMPTS_CEILING);
  });
});
