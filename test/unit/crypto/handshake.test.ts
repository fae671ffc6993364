import { ristretto255 } from '@noble/curves/ed25519.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CPACE_IDENTITY } from '../../../shared/crypto/cpace.js';
import {
  HandshakeError,
  type HandshakeErrorCode,
  commitmentTo,
  passwordRelatedString,
  verificationCodeFrom,
} from '../../../shared/crypto/handshake.js';
import {
  HANDSHAKE_MESSAGE_BYTES,
  HANDSHAKE_VERSION,
  encodeHandshakeMessage,
  parseHandshakeMessage,
} from '../../../shared/crypto/handshake-messages.js';
import { caught, expectHandshakeError } from './helpers.js';
import { context, opened, party, password, runHandshake } from './handshake-driver.js';

const secret = 'K7QMX2PA';
const abort = encodeHandshakeMessage({ type: 'abort' });
/** A 32-byte string that is not a canonical ristretto255 encoding (the draft's Y_i1). */
const nonCanonicalPoint = hexToBytes('2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c');

function codeOf(error: unknown): HandshakeErrorCode {
  expect(error).toBeInstanceOf(HandshakeError);
  return (error as HandshakeError).code;
}

describe('handshake between honest parties', () => {
  it('agrees on traffic secrets and a 6-digit verification code', () => {
    const run = runHandshake(party('expert', password(secret)), party('agent', password(secret)));
    expect(run.errors).toEqual([]);
    const { expertResult, agentResult } = run;
    expect(expertResult && agentResult).toBeTruthy();
    expect(expertResult!.sendSecret).toEqual(agentResult!.receiveSecret);
    expect(expertResult!.receiveSecret).toEqual(agentResult!.sendSecret);
    expect(expertResult!.sendSecret).not.toEqual(expertResult!.receiveSecret);
    expect(expertResult!.sendSecret).toHaveLength(64);
    expect(expertResult!.verificationCode).toMatch(/^\d{6}$/);
    expect(expertResult!.verificationCode).toBe(agentResult!.verificationCode);
    expect([run.expert.state, run.agent.state]).toEqual(['established', 'established']);
    expect(run.messages.map((m) => m.length)).toEqual([
      HANDSHAKE_MESSAGE_BYTES.hello,
      HANDSHAKE_MESSAGE_BYTES.hello,
      HANDSHAKE_MESSAGE_BYTES.commit,
      HANDSHAKE_MESSAGE_BYTES.share,
      HANDSHAKE_MESSAGE_BYTES.reveal,
      HANDSHAKE_MESSAGE_BYTES.confirm,
    ]);
  });

  it('derives fresh secrets every run', () => {
    const first = runHandshake(party('expert', password(secret)), party('agent', password(secret)));
    const second = runHandshake(party('expert', password(secret)), party('agent', password(secret)));
    expect(first.expertResult!.sendSecret).not.toEqual(second.expertResult!.sendSecret);
  });

  it('with an invitation password, both it and the secret must match', () => {
    const ok = runHandshake(party('expert', password(secret, 'pw')), party('agent', password(secret, 'pw')));
    expect(ok.errors).toEqual([]);
    const wrong = runHandshake(party('expert', password(secret, 'pw2')), party('agent', password(secret, 'pw')));
    expect(codeOf(wrong.errors[0]?.error)).toBe('confirmation-failed');
  });

  it('length-prefixes the password parts, so moving bytes between them changes the PRS', () => {
    const encode = (text: string) => new TextEncoder().encode(text);
    expect(passwordRelatedString(encode('AB'), encode('C'))).not.toEqual(passwordRelatedString(encode('A'), encode('BC')));
  });
});

describe('handshake failures', () => {
  it('a wrong password fails confirmation on both sides and exposes no key material', () => {
    const run = runHandshake(party('expert', password(secret)), party('agent', password('K7QMX2PB')));
    expect(run.errors.map(({ side, error }) => [side, codeOf(error)])).toEqual([
      ['agent', 'confirmation-failed'],
      ['expert', 'confirmation-failed'],
    ]);
    expect(run.expertResult).toBeUndefined();
    expect(run.agentResult).toBeUndefined();
    for (const { error } of run.errors) {
      expect(Object.values(error as object).some((value) => value instanceof Uint8Array)).toBe(false);
      expect((error as Error).message).toBe('Key confirmation failed.');
    }
    for (const handshake of [run.expert, run.agent]) {
      expect(handshake.state).toBe('failed');
      expect(Object.values(handshake).some((value) => value instanceof Uint8Array)).toBe(false);
      expectHandshakeError(caught(() => handshake.receive(abort)), 'wrong-state');
    }
  });

  for (const field of ['relayOrigin', 'nameplate', 'sessionId'] as const) {
    it(`a different ${field} on one side fails confirmation`, () => {
      const run = runHandshake(
        party('expert', password(secret)),
        party('agent', password(secret), { [field]: `${context[field]}x` }),
      );
      expect(codeOf(run.errors[0]?.error)).toBe('confirmation-failed');
      expect(run.expertResult).toBeUndefined();
    });
  }

  it('detects tampering with any byte of any message (fast-check)', () => {
    const honest = runHandshake(party('expert', password(secret)), party('agent', password(secret)));
    const lengths = honest.messages.map((m) => m.length);
    const expected = (index: number, position: number): HandshakeErrorCode[] => {
      if (position === 0) return ['peer-outdated', 'peer-newer', 'malformed-message'];
      // A changed type byte is malformed, or a same-length message of the wrong type (commit ↔ confirm).
      if (position === 1) return ['malformed-message', 'unexpected-message'];
      // Either hello's nonce: the two sides compute different sids, so different generators and keys.
      if (index === 0 || index === 1) return ['confirmation-failed'];
      if (index === 2) return ['commitment-mismatch'];
      if (index === 3) return ['invalid-point', 'confirmation-failed'];
      if (index === 4) return position < 2 + 32 + 32 ? ['commitment-mismatch'] : ['confirmation-failed'];
      return ['confirmation-failed'];
    };
    const tamperedRunFails = (index: number, position: number, mask: number) => {
      const run = runHandshake(party('expert', password(secret)), party('agent', password(secret)), (i, message) => {
        if (i !== index) return message;
        const tampered = message.slice();
        tampered[position]! ^= mask;
        return tampered;
      });
      expect(expected(index, position)).toContain(codeOf(run.errors[0]?.error));
      expect(run.expertResult).toBeUndefined();
      expect([run.expert.state, run.agent.state]).toEqual(['failed', 'failed']);
    };

    // Every position once, then random positions and masks.
    lengths.forEach((length, index) => {
      for (let position = 0; position < length; position++) tamperedRunFails(index, position, 0x80);
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: lengths.length - 1 }).chain((index) =>
          fc.tuple(fc.constant(index), fc.integer({ min: 0, max: lengths[index]! - 1 }), fc.integer({ min: 1, max: 255 })),
        ),
        ([index, position, mask]) => tamperedRunFails(index, position, mask),
      ),
      { numRuns: 150 },
    );
  });

  describe('replaying an earlier handshake', () => {
    const earlier = runHandshake(party('expert', password(secret)), party('agent', password(secret)));
    const [oldExpertHello, oldAgentHello, oldCommit, oldShare, oldReveal, oldConfirm] = earlier.messages as [
      Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array,
    ];

    for (const sessionId of ['session-2', context.sessionId]) {
      it(`an old hello, commit and reveal fail confirmation at a new agent (session id ${sessionId})`, () => {
        const agent = party('agent', password(secret), { sessionId });
        agent.start();
        agent.receive(oldExpertHello);
        agent.receive(oldCommit);
        // The old reveal opens the old commitment, so only key confirmation can catch it: the agent's fresh nonce is in sid.
        expectHandshakeError(caught(() => agent.receive(oldReveal)), 'confirmation-failed');
      });
    }

    it("a relay replaying either side's old hello into a new run (same session id) fails confirmation", () => {
      for (const [index, old] of [[0, oldExpertHello], [1, oldAgentHello]] as const) {
        const run = runHandshake(party('expert', password(secret)), party('agent', password(secret)), (i, message) => (i === index ? old : message));
        expect(run.errors.map(({ side, error }) => [side, codeOf(error)])).toEqual([
          ['agent', 'confirmation-failed'],
          ['expert', 'confirmation-failed'],
        ]);
        expect(run.expertResult ?? run.agentResult).toBeUndefined();
      }
    });

    it("a relay reflecting a side's own hello back to it fails confirmation", () => {
      // The expert's hello, reflected to the expert in place of the agent's: its sid is Ne || Ne.
      let expertHello: Uint8Array | undefined;
      const run = runHandshake(party('expert', password(secret)), party('agent', password(secret)), (i, message) => {
        if (i === 0) expertHello = message;
        return i === 1 ? expertHello! : message;
      });
      expect(codeOf(run.errors[0]?.error)).toBe('confirmation-failed');
      expect(run.expertResult ?? run.agentResult).toBeUndefined();
      // The agent's hello, reflected to the agent: it then expects a commit under sid Na || Na, the expert computes Ne || Na.
      const expert = party('expert', password(secret));
      const agent = party('agent', password(secret));
      expert.start();
      const agentHello = agent.start();
      agent.receive(agentHello);
      const share = agent.receive(expert.receive(agentHello).reply!).reply!;
      expectHandshakeError(caught(() => agent.receive(expert.receive(share).reply!)), 'confirmation-failed');
    });

    it('an old share makes a new expert reveal a tag the real agent rejects', () => {
      const expert = party('expert', password(secret), { sessionId: 'session-2' });
      const agent = party('agent', password(secret), { sessionId: 'session-2' });
      agent.receive(opened(expert, agent));
      const { reply: reveal } = expert.receive(oldShare);
      expectHandshakeError(caught(() => agent.receive(reveal!)), 'confirmation-failed');
    });

    it('an old confirm fails at a new expert', () => {
      const expert = party('expert', password(secret));
      const agent = party('agent', password(secret));
      expert.receive(agent.receive(opened(expert, agent)).reply!);
      expectHandshakeError(caught(() => expert.receive(oldConfirm)), 'confirmation-failed');
    });
  });

  it('a man in the middle guessing the password is caught by confirmation on both sides', () => {
    const guess = password('AAAAAAAA');
    const expert = party('expert', password(secret));
    const agent = party('agent', password(secret));
    const impostorAgent = party('agent', guess);
    const impostorExpert = party('expert', guess);

    // Toward the agent the attacker plays expert with its guess.
    const agentShare = agent.receive(opened(impostorExpert, agent)).reply!;
    const forgedReveal = impostorExpert.receive(agentShare).reply!;
    expectHandshakeError(caught(() => agent.receive(forgedReveal)), 'confirmation-failed');

    // Toward the expert it plays agent; it cannot check the expert's tag, nor make a valid one.
    const expertReveal = expert.receive(impostorAgent.receive(opened(expert, impostorAgent)).reply!).reply!;
    expectHandshakeError(caught(() => impostorAgent.receive(expertReveal)), 'confirmation-failed');
    const forgedConfirm = encodeHandshakeMessage({ type: 'confirm', tag: new Uint8Array(64).fill(7) });
    expectHandshakeError(caught(() => expert.receive(forgedConfirm)), 'confirmation-failed');
  });

  it('a man in the middle who knows the password ends with different keys on each leg (the verification code exposes it)', () => {
    const mitmExpert = party('expert', password(secret));
    const mitmAgent = party('agent', password(secret));
    const towardExpert = runHandshake(party('expert', password(secret)), mitmAgent);
    const towardAgent = runHandshake(mitmExpert, party('agent', password(secret)));
    expect(towardExpert.expertResult!.sendSecret).not.toEqual(towardAgent.agentResult!.receiveSecret);
  });

  describe('commitment', () => {
    const reopen = (reveal: Uint8Array, change: { nonce?: Uint8Array; share?: Uint8Array }) => {
      const parsed = parseHandshakeMessage(reveal);
      if (parsed.type !== 'reveal') throw new Error('expected a reveal');
      return encodeHandshakeMessage({ ...parsed, ...change });
    };

    it('a reveal with another nonce does not open the commitment', () => {
      const agent = party('agent', password(secret));
      const expert = party('expert', password(secret));
      const reveal = expert.receive(agent.receive(opened(expert, agent)).reply!).reply!;
      expectHandshakeError(caught(() => agent.receive(reopen(reveal, { nonce: new Uint8Array(32) }))), 'commitment-mismatch');
      expect(agent.state).toBe('failed');
    });

    it('a reveal of another valid share (as if chosen after seeing Yb) does not open the commitment', () => {
      const agent = party('agent', password(secret));
      const expert = party('expert', password(secret));
      const reveal = expert.receive(agent.receive(opened(expert, agent)).reply!).reply!;
      const otherShare = ristretto255.Point.BASE.toBytes();
      expectHandshakeError(caught(() => agent.receive(reopen(reveal, { share: otherShare }))), 'commitment-mismatch');
    });
  });

  describe('invalid points', () => {
    for (const [name, point] of [['the identity', CPACE_IDENTITY], ['a non-canonical encoding', nonCanonicalPoint]] as const) {
      it(`an agent share that is ${name} is rejected by the expert`, () => {
        const expert = party('expert', password(secret));
        opened(expert, party('agent', password(secret)));
        const share = encodeHandshakeMessage({ type: 'share', share: point });
        expectHandshakeError(caught(() => expert.receive(share)), 'invalid-point');
      });

      it(`an expert share that is ${name}, even correctly committed, is rejected by the agent`, () => {
        const agent = party('agent', password(secret));
        agent.start();
        agent.receive(party('expert', password(secret)).start());
        const nonce = new Uint8Array(32).fill(1);
        agent.receive(encodeHandshakeMessage({ type: 'commit', commitment: commitmentTo(nonce, point) }));
        const reveal = encodeHandshakeMessage({ type: 'reveal', nonce, share: point, tag: new Uint8Array(64) });
        expectHandshakeError(caught(() => agent.receive(reveal)), 'invalid-point');
      });
    }
  });
});

describe('handshake state machine', () => {
  it('each side starts once, with a hello of its own fresh nonce', () => {
    for (const role of ['expert', 'agent'] as const) {
      const side = party(role, password(secret));
      const hello = parseHandshakeMessage(side.start());
      expect(hello.type).toBe('hello');
      expect(side.state).toBe('awaiting-hello');
      expectHandshakeError(caught(() => side.start()), 'wrong-state');
      expect(side.state).toBe('failed');
    }
    const nonceOf = (bytes: Uint8Array) => (parseHandshakeMessage(bytes) as { nonce: Uint8Array }).nonce;
    expect(nonceOf(party('agent', password(secret)).start())).not.toEqual(nonceOf(party('agent', password(secret)).start()));
  });

  it('a side receives nothing before it starts', () => {
    for (const role of ['expert', 'agent'] as const) {
      const hello = party(role === 'expert' ? 'agent' : 'expert', password(secret)).start();
      expectHandshakeError(caught(() => party(role, password(secret)).receive(hello)), 'wrong-state');
    }
  });

  it('a well-formed message out of order is unexpected', () => {
    const agent = party('agent', password(secret));
    agent.start();
    const share = encodeHandshakeMessage({ type: 'share', share: ristretto255.Point.BASE.toBytes() });
    expectHandshakeError(caught(() => agent.receive(share)), 'unexpected-message');
    expect(agent.state).toBe('failed');
    // A commit before the expert's hello: the agent has no sid yet.
    const early = party('agent', password(secret));
    early.start();
    expectHandshakeError(caught(() => early.receive(encodeHandshakeMessage({ type: 'commit', commitment: new Uint8Array(64) }))), 'unexpected-message');
    // A second hello.
    const twice = party('agent', password(secret));
    twice.start();
    const hello = party('expert', password(secret)).start();
    twice.receive(hello);
    expectHandshakeError(caught(() => twice.receive(hello)), 'unexpected-message');
  });

  it('a message of the previous version (an older release) is peer-outdated; of a higher one, peer-newer', () => {
    const v1Commit = Uint8Array.of(1, 1, ...new Uint8Array(64));
    const v1Abort = Uint8Array.of(1, 5);
    for (const bytes of [v1Commit, v1Abort]) {
      const agent = party('agent', password(secret));
      agent.start();
      expectHandshakeError(caught(() => agent.receive(bytes)), 'peer-outdated');
      expect(agent.state).toBe('failed');
    }
    const expert = party('expert', password(secret));
    expert.start();
    expectHandshakeError(caught(() => expert.receive(Uint8Array.of(HANDSHAKE_VERSION + 1, 6, ...new Uint8Array(16)))), 'peer-newer');
  });

  it('an established side treats further messages as unexpected, an abort as the peer aborting', () => {
    const established = () => runHandshake(party('expert', password(secret)), party('agent', password(secret)));
    const { agent } = established();
    expectHandshakeError(caught(() => agent.receive(established().messages[0]!)), 'unexpected-message');
    const { expert } = established();
    expectHandshakeError(caught(() => expert.receive(abort)), 'peer-aborted');
  });

  it('an abort is a failed confirmation to an expert awaiting confirm, a plain abort otherwise', () => {
    const started = party('agent', password(secret));
    started.start();
    expectHandshakeError(caught(() => started.receive(abort)), 'peer-aborted');
    const expert = party('expert', password(secret));
    const agent = party('agent', password(secret));
    agent.receive(opened(expert, agent));
    expectHandshakeError(caught(() => agent.receive(abort)), 'peer-aborted');
    const waiting = party('expert', password(secret));
    const peer = party('agent', password(secret));
    const share = peer.receive(opened(waiting, peer)).reply!;
    waiting.receive(share);
    expect(waiting.state).toBe('awaiting-confirm');
    expectHandshakeError(caught(() => waiting.receive(abort)), 'confirmation-failed');
  });

  it('rejects empty inputs at construction', () => {
    expect(() => party('agent', new Uint8Array(0))).toThrow(RangeError);
    expect(() => party('agent', password(secret), { sessionId: '' })).toThrow(RangeError);
  });

  it('throws nothing but HandshakeError for arbitrary bytes in any state (fast-check)', () => {
    const fieldLengths = Object.values(HANDSHAKE_MESSAGE_BYTES);
    const wellFramed = fc
      .tuple(fc.integer({ min: 0, max: 7 }), fc.constantFrom(...fieldLengths))
      .chain(([type, length]) =>
        fc.uint8Array({ minLength: length - 2, maxLength: length - 2 }).map((body) => Uint8Array.of(HANDSHAKE_VERSION, type, ...body)),
      );
    const input = fc.oneof(fc.uint8Array({ maxLength: 200 }), wellFramed);
    const inState: [string, () => ReturnType<typeof party>][] = [
      ['awaiting-hello', () => {
        const expert = party('expert', password(secret));
        expert.start();
        return expert;
      }],
      ['awaiting-hello', () => {
        const agent = party('agent', password(secret));
        agent.start();
        return agent;
      }],
      ['awaiting-commit', () => {
        const agent = party('agent', password(secret));
        agent.start();
        agent.receive(party('expert', password(secret)).start());
        return agent;
      }],
      ['awaiting-share', () => {
        const expert = party('expert', password(secret));
        opened(expert, party('agent', password(secret)));
        return expert;
      }],
      ['awaiting-reveal', () => {
        const agent = party('agent', password(secret));
        agent.receive(opened(party('expert', password(secret)), agent));
        return agent;
      }],
      ['awaiting-confirm', () => {
        const expert = party('expert', password(secret));
        const agent = party('agent', password(secret));
        expert.receive(agent.receive(opened(expert, agent)).reply!);
        return expert;
      }],
    ];
    for (const [state, make] of inState) {
      fc.assert(
        fc.property(input, (bytes) => {
          const handshake = make();
          expect(handshake.state).toBe(state);
          const error = caught(() => handshake.receive(bytes));
          if (error !== undefined) expect(error).toBeInstanceOf(HandshakeError);
        }),
        { numRuns: 60 },
      );
    }
  });
});

describe('verification code', () => {
  it('reduces 64 bits modulo 10^6 and pads to six digits', () => {
    const fromBigInt = (value: bigint) => {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigUint64(0, value);
      return verificationCodeFrom(bytes);
    };
    expect(fromBigInt(0n)).toBe('000000');
    expect(fromBigInt(42n)).toBe('000042');
    expect(fromBigInt(999_999n)).toBe('999999');
    expect(fromBigInt(1_000_000n)).toBe('000000');
    expect(fromBigInt(2n ** 64n - 1n)).toBe('551615');
  });
});
