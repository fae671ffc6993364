// The seam with end-to-end encryption: the stream runs unchanged over shared/crypto's AES-256-GCM codec.
import { describe, expect, it } from 'vitest';
import { createFrameCipher, TRAFFIC_SECRET_BYTES } from '../../../shared/crypto/frame-cipher.js';
import { MAX_BODY_BYTES } from '../../../sdk/codec.js';
import { DATA_HEADER_BYTES } from '../../../sdk/packets.js';
import { ReliableStream } from '../../../sdk/stream.js';
import { ManualClock } from './support/manual-clock.js';
import { fingerprint, patternedMessage } from './support/random.js';

function cipherPair() {
  const expertToAgent = crypto.getRandomValues(new Uint8Array(TRAFFIC_SECRET_BYTES));
  const agentToExpert = crypto.getRandomValues(new Uint8Array(TRAFFIC_SECRET_BYTES));
  return {
    expert: createFrameCipher({ role: 'expert', sendSecret: expertToAgent, receiveSecret: agentToExpert }),
    agent: createFrameCipher({ role: 'agent', sendSecret: agentToExpert, receiveSecret: expertToAgent }),
  };
}

describe('ReliableStream over the AES-256-GCM frame codec', () => {
  it('delivers, and fails on a tampered frame', async () => {
    const clock = new ManualClock();
    const codecs = cipherPair();
    const wire: Uint8Array[] = [];
    const expert = new ReliableStream({ clock, codec: codecs.expert, sendFrame: (frame) => wire.push(frame) });
    const agent = new ReliableStream({ clock, codec: codecs.agent, sendFrame: () => {} });
    const received: Uint8Array[] = [];
    const errors: Error[] = [];
    agent.on('message', (message) => received.push(message));
    agent.on('error', (error) => errors.push(error));
    const message = patternedMessage(2 * (MAX_BODY_BYTES - DATA_HEADER_BYTES) + 5, 1);

    await expert.send(message);
    await clock.advance(0);
    const frames = wire.splice(0);
    for (const frame of frames) await agent.receiveFrame(frame);
    expect(received.map(fingerprint)).toEqual([fingerprint(message)]);

    await expert.send(new Uint8Array([1, 2, 3]));
    await clock.advance(0);
    const [next] = wire.splice(0);
    next![next!.length - 1]! ^= 0x80;
    await agent.receiveFrame(next!);
    expect(errors.map((error) => error.name)).toEqual(['FrameAuthError']);
  });
});
