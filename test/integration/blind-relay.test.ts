// Proof that the relay is blind: a full end-to-end encrypted session on the local runtime, with
// everything the relay had captured — every DynamoDB item (scanned during and after the session),
// every log line, every message in and out (the gateway tap) — and searched for every secret.
//
// So that the test can fail: the same capture finds markers the relay does see (session id,
// nameplate); the same detector finds a plaintext sent over an unencrypted session through the same
// relay; and the key needles are shown to be the real keys by decrypting a captured frame with them.
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { expand } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { lvCat } from '../../shared/crypto/cpace.js';
import { createFrameCipher } from '../../shared/crypto/frame-cipher.js';
import { FRAME_FORMAT_AES_256_GCM, FRAME_HEADER_BYTES } from '../../shared/crypto/frame-codec.js';
import type { HandshakeResult } from '../../shared/crypto/handshake.js';
import { createJsonLog } from '../../shared/server/ports/log.js';
import { decodeBase64 } from '../../shared/core/base64.js';
import { createRelayClient } from '../../sdk/node.js';
import { useLocalRuntime } from '../support/runtime.js';
import { nextEvent } from '../support/harness.js';
import { approvePair, openPair, RecordingTap, securePair } from '../support/secure-pair.js';

const logLines: string[] = [];
const tap = new RecordingTap();
const runtime = useLocalRuntime({ tap, log: createJsonLog((line) => logLines.push(line)) });

const utf8 = (text: string) => new TextEncoder().encode(text);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function scanTable(): Promise<string> {
  const client = new DynamoDBClient({ endpoint: runtime().dynamoEndpoint, ...localAwsConfig });
  const items: unknown[] = [];
  try {
    for await (const page of paginateScan({ client }, { TableName: runtime().tableName })) items.push(...(page.Items ?? []));
  } finally {
    client.destroy();
  }
  return JSON.stringify(items);
}

/** Everything the relay had, as text (messages, logs, items) and as bytes (every frame payload it carried). */
interface Capture {
  texts: { source: string; text: string }[];
  frames: Uint8Array[];
}

function capture(tableSnapshots: string[]): Capture {
  const frames: Uint8Array[] = [];
  for (const { body } of tap.messages) {
    const message = JSON.parse(body) as { data?: unknown };
    if (typeof message.data === 'string') frames.push(decodeBase64(message.data));
  }
  return {
    texts: [
      ...tap.messages.map(({ direction, body }) => ({ source: `tap ${direction}`, text: body })),
      ...logLines.map((text) => ({ source: 'log', text })),
      ...tableSnapshots.map((text) => ({ source: 'dynamodb', text })),
    ],
    frames,
  };
}

/**
 * The textual forms a byte string could take: hex (both cases) and base64 / base64url at each of the
 * three alignments it could have inside a longer encoding (the characters that depend only on it),
 * skipping forms under 8 characters, which random text would contain by chance.
 */
function textForms(bytes: Uint8Array): string[] {
  const forms = [hex(bytes), hex(bytes).toUpperCase()];
  for (let shift = 0; shift < 3; shift++) {
    const shifted = new Uint8Array(shift + bytes.length);
    shifted.set(bytes, shift);
    const base64 = Buffer.from(shifted).toString('base64');
    const core = base64.slice(shift === 0 ? 0 : 4, Math.floor(shifted.length / 3) * 4);
    if (core.length >= 8) forms.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

interface Needle {
  name: string;
  bytes: Uint8Array;
  /** For short secrets (the 6-digit code): match the text only as a whole token, not inside a longer number. */
  token?: RegExp;
}

/** Where each needle occurs in the capture, in any form. */
function findLeaks(captured: Capture, needles: Needle[]): string[] {
  const found: string[] = [];
  for (const needle of needles) {
    const raw = new TextDecoder().decode(needle.bytes);
    for (const { source, text } of captured.texts) {
      if (needle.token ? needle.token.test(text) : text.includes(raw)) found.push(`${needle.name} (raw) in ${source}`);
      for (const form of textForms(needle.bytes)) if (text.includes(form)) found.push(`${needle.name} (${form.slice(0, 12)}…) in ${source}`);
    }
    for (const frame of captured.frames) if (Buffer.from(frame).includes(Buffer.from(needle.bytes))) found.push(`${needle.name} (bytes) in a frame`);
  }
  return found;
}

/** The frame key and iv for epoch 0 of one direction, by the key schedule of docs/protocol.md §3. */
function epochZeroKeys(trafficSecret: Uint8Array, direction: 0 | 1) {
  const context = [Uint8Array.of(direction), Uint8Array.of(0, 0)];
  return {
    key: expand(sha512, trafficSecret, lvCat(utf8('assist-relay v1 frame key'), ...context), 32),
    iv: expand(sha512, trafficSecret, lvCat(utf8('assist-relay v1 frame iv'), ...context), 12),
  };
}

/** Opens a captured AES-256-GCM data frame with a key and iv found by the test, independently of the SDK. */
async function decryptWith(frame: Uint8Array, key: Uint8Array, iv: Uint8Array): Promise<Uint8Array> {
  const nonce = iv.slice();
  const seq = new DataView(frame.buffer, frame.byteOffset).getUint32(4);
  nonce[7]! ^= frame[1]! & 0b10 ? 1 : 0;
  for (let i = 0; i < 4; i++) nonce[8 + i]! ^= (seq >>> (24 - 8 * i)) & 0xff;
  const cryptoKey = await crypto.subtle.importKey('raw', new Uint8Array(key), 'AES-GCM', false, ['decrypt']);
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: frame.slice(0, FRAME_HEADER_BYTES) },
    cryptoKey,
    frame.slice(FRAME_HEADER_BYTES),
  );
  return new Uint8Array(plain);
}

describe('the relay is blind', () => {
  it('never holds the secret, the password, any key, the verification code or any plaintext, in its table, logs or traffic', async () => {
    const secret = crypto.getRandomValues(new Uint8Array(16)); // an invitation file's 128-bit secret
    const invitationPassword = 'Tr0ub4dor&3 horse battery';
    const plaintext = 'ZEBRA-QUARTZ-7741: the customer PIN is 4917 and the safe code is 38-12-77';
    const expertLines = ['hello from the expert', plaintext, 'opening the control panel'];
    const agentLines = ['hello, I can see you', `${plaintext} (agent copy)`, 'thanks, bye'];
    const bulk = utf8(`${plaintext}\n`.repeat(Math.ceil((24 * 1024) / (plaintext.length + 1)))).subarray(0, 24 * 1024);

    const results: HandshakeResult[] = [];
    const p = await openPair(runtime());
    const secured = await securePair(
      p,
      { agent: { secret: secret.slice(), invitationPassword }, expert: { secret: secret.slice(), invitationPassword } },
      {
        createCipher: (result) => {
          results.push({ ...result, sendSecret: result.sendSecret.slice(), receiveSecret: result.receiveSecret.slice() });
          return createFrameCipher(result);
        },
      },
    );
    if (!secured.agent.ok || !secured.expert.ok) throw new Error('the handshake failed');
    const verificationCode = secured.agent.session.verificationCode;
    expect(secured.expert.session.verificationCode).toBe(verificationCode);
    await approvePair(p); // the bulk message needs frames beyond the pre-approval limit
    const tables = [await scanTable()];

    for (const line of expertLines) await p.expert.client.sendText(line);
    for (const line of agentLines) await p.agent.client.sendText(line);
    await p.expert.client.send(bulk);
    await p.until(() => p.agent.seen.messages.length === expertLines.length + 1 && p.expert.seen.messages.length === agentLines.length, 'every message');
    expect(p.agent.seen.messages.slice(0, expertLines.length)).toEqual(expertLines);
    expect(p.agent.seen.messages.at(-1)).toBe(new TextDecoder().decode(bulk));
    expect(p.expert.seen.messages).toEqual(agentLines);
    tables.push(await scanTable());

    const end = await p.agent.client.end();
    await p.until(() => p.expert.seen.ended !== undefined, 'the expert to hear the end');
    expect(end).toMatchObject({ reason: 'ended-by-agent', delivered: true });
    expect(p.expert.seen.ended).toMatchObject({ reason: 'ended-by-agent', peerClosed: true });
    await runtime().gateway.settle();
    tables.push(await scanTable());
    const captured = capture(tables);

    // The needles: both directions' traffic secrets, and the frame keys and ivs derived from them.
    const expertResult = results.find((result) => result.role === 'expert')!;
    const expertToAgent = expertResult.sendSecret;
    const agentToExpert = expertResult.receiveSecret;
    const keysExpertToAgent = epochZeroKeys(expertToAgent, 0);
    const keysAgentToExpert = epochZeroKeys(agentToExpert, 1);
    const needles: Needle[] = [
      { name: 'secret', bytes: secret },
      { name: 'invitation password', bytes: utf8(invitationPassword) },
      { name: 'expert→agent traffic secret', bytes: expertToAgent },
      { name: 'agent→expert traffic secret', bytes: agentToExpert },
      { name: 'expert→agent frame key', bytes: keysExpertToAgent.key },
      { name: 'agent→expert frame key', bytes: keysAgentToExpert.key },
      { name: 'expert→agent frame iv', bytes: keysExpertToAgent.iv },
      { name: 'agent→expert frame iv', bytes: keysAgentToExpert.iv },
      { name: 'verification code', bytes: utf8(verificationCode), token: new RegExp(`(?<![0-9])${verificationCode}(?![0-9])`) },
      { name: 'plaintext', bytes: utf8(plaintext) },
      ...[...expertLines, ...agentLines].map((line) => ({ name: `message "${line.slice(0, 20)}"`, bytes: utf8(line) })),
    ];
    expect(findLeaks(captured, needles)).toEqual([]);

    // The capture is real: it holds what the relay may know ...
    const sources = (marker: string) => [...new Set(captured.texts.filter(({ text }) => text.includes(marker)).map(({ source }) => source))].sort();
    expect(sources(p.sessionId)).toEqual(['dynamodb', 'log', 'tap to-client']);
    expect(sources(`"${p.nameplate}"`)).toEqual(['dynamodb', 'tap from-client', 'tap to-client']);
    // ... and the ciphertext of the plaintext, which the needles' keys open (so they are the real keys).
    const encrypted = tap.framesFromClients({ connectionId: tap.connectionOf(p.sessionId, 'expert'), format: FRAME_FORMAT_AES_256_GCM });
    const opened = await Promise.all(
      encrypted
        .filter((frame) => !(frame[1]! & 0b10))
        .map((frame) => decryptWith(frame, keysExpertToAgent.key, keysExpertToAgent.iv).catch(() => new Uint8Array(0))),
    );
    expect(opened.some((body) => Buffer.from(body).includes(plaintext))).toBe(true);
  });

  it('the same detector finds a plaintext sent over an unencrypted session through the same relay (control)', async () => {
    const control = 'CONTROL-PLAINTEXT-51: visible to a relay without end-to-end encryption';
    const plain = () => createRelayClient({ url: runtime().wsUrl, streamTuning: { initialRtoMs: 100, minRtoMs: 20, ackDelayMs: 5, answerAckDelayMs: 5 } });
    const agent = plain();
    const expert = plain();
    const heard = nextEvent(expert, 'message');
    const { nameplate } = await agent.createSession();
    await expert.joinSession(nameplate);
    await agent.sendText(control);
    await heard;
    agent.close();
    expert.close();

    const leaks = findLeaks(capture([]), [{ name: 'control', bytes: utf8(control) }]);
    expect(leaks).toContain('control (bytes) in a frame');
    expect(leaks.some((leak) => leak.startsWith('control (') && leak.endsWith('in tap from-client') && !leak.includes('(raw)'))).toBe(true);
  });
});
