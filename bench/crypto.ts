// End-to-end encryption costs: the CPace handshake (both sides in one process), and the encrypted
// stream's throughput against the plain stream's over the same in-memory path (two ReliableStreams
// wired back to back, no relay), measured side by side in the same run.
import { createFrameCipher, TRAFFIC_SECRET_BYTES } from '../shared/crypto/frame-cipher.js';
import { createPlainCodec, type FrameCodec } from '../shared/crypto/frame-codec.js';
import { Handshake, passwordRelatedString } from '../shared/crypto/handshake.js';
import { startLocalRuntime, type LocalRuntime } from '../infra/local/runtime.js';
import { createRelayClient, FRAME_FORMAT_AES_256_GCM, MAX_BODY_BYTES, PLAIN_FRAME_FORMAT, type RelayClient, type StreamBinding } from '../sdk/node.js';
import { ReliableStream } from '../sdk/stream.js';
import { formatTable, percentile } from './report.js';

const HANDSHAKE_RUNS = 200;
const HANDSHAKE_WARMUP = 20;
const MESSAGE_BYTES = 24 * 1024;
/** Per throughput run: 1,280 messages of 24 KB = 30 MiB. */
const MESSAGES_PER_RUN = 1_280;
/** Runs per codec, alternated so both see the same machine state; the median is reported. */
const THROUGHPUT_RUNS = 5;
/** Through the local relay (a DynamoDB read and an @connections POST per frame) fewer, and fewer runs. */
const RELAY_MESSAGES_PER_RUN = 400;
const RELAY_RUNS = 3;
/** "Encryption costs at most 20% of stream throughput." */
const MAX_ENCRYPTION_COST = 0.2;

const context = { relayOrigin: 'https://relay.example.com', nameplate: 'K7QM', sessionId: 'bench-session' };

/** One complete handshake, both parties in this process: two hellos, commit, share, reveal, confirm. */
function handshakeOnce(password: Uint8Array): string {
  const expert = new Handshake({ ...context, role: 'expert', password });
  const agent = new Handshake({ ...context, role: 'agent', password });
  const [expertHello, agentHello] = [expert.start(), agent.start()];
  agent.receive(expertHello);
  const share = agent.receive(expert.receive(agentHello).reply!).reply!;
  const reveal = expert.receive(share).reply!;
  const agentStep = agent.receive(reveal);
  const expertStep = expert.receive(agentStep.reply!);
  const code = expertStep.established!.verificationCode;
  if (code !== agentStep.established!.verificationCode) throw new Error('the two sides derived different codes');
  return code;
}

function handshakeTimings(): number[] {
  const password = passwordRelatedString(new TextEncoder().encode('VK4Q9T2M'), new TextEncoder().encode('correct horse'));
  for (let i = 0; i < HANDSHAKE_WARMUP; i++) handshakeOnce(password);
  const timings: number[] = [];
  for (let i = 0; i < HANDSHAKE_RUNS; i++) {
    const started = performance.now();
    handshakeOnce(password);
    timings.push(performance.now() - started);
  }
  return timings.sort((a, b) => a - b);
}

interface CodecPair {
  expert: FrameCodec;
  agent: FrameCodec;
}

const plainPair = (): CodecPair => ({ expert: createPlainCodec(), agent: createPlainCodec() });

function cipherPair(): CodecPair {
  const expertToAgent = crypto.getRandomValues(new Uint8Array(TRAFFIC_SECRET_BYTES));
  const agentToExpert = crypto.getRandomValues(new Uint8Array(TRAFFIC_SECRET_BYTES));
  return {
    expert: createFrameCipher({ role: 'expert', sendSecret: expertToAgent, receiveSecret: agentToExpert }),
    agent: createFrameCipher({ role: 'agent', sendSecret: agentToExpert, receiveSecret: expertToAgent }),
  };
}

/**
 * Two streams back to back: every frame one seals is handed to the other on the next microtask,
 * nothing dropped or delayed. Sends MESSAGES_PER_RUN messages one way; returns MB/s of message bytes
 * from the first send until the last message is delivered.
 */
async function streamThroughput(codecs: CodecPair, message: Uint8Array): Promise<number> {
  let sender: ReliableStream | undefined;
  let receiver: ReliableStream | undefined;
  sender = new ReliableStream({ codec: codecs.expert, sendFrame: (frame) => queueMicrotask(() => void receiver?.receiveFrame(frame)) });
  receiver = new ReliableStream({ codec: codecs.agent, sendFrame: (frame) => queueMicrotask(() => void sender?.receiveFrame(frame)) });
  let delivered = 0;
  let failure: Error | undefined;
  for (const stream of [sender, receiver]) stream.on('error', (error) => (failure = error));
  const allDelivered = new Promise<void>((resolve) =>
    receiver.on('message', (received) => {
      if (received.length !== message.length) failure = new Error('a message arrived with the wrong length');
      if (++delivered === MESSAGES_PER_RUN) resolve();
    }),
  );
  const started = performance.now();
  for (let i = 0; i < MESSAGES_PER_RUN; i++) await sender.send(message);
  await allDelivered;
  const seconds = (performance.now() - started) / 1000;
  sender.dispose();
  receiver.dispose();
  if (failure) throw failure;
  return (MESSAGES_PER_RUN * message.length) / 1e6 / seconds;
}

/**
 * The same measurement through the local runtime: agent and expert RelayClients in one session, the
 * session stream bound to `codecs` (the handshake is measured above; here both take random secrets).
 */
async function relayThroughput(runtime: LocalRuntime, codecs: CodecPair, frameFormat: number, message: Uint8Array): Promise<number> {
  const client = (codec: FrameCodec): [RelayClient, StreamBinding] => [
    createRelayClient({ url: runtime.wsUrl, sessionStream: 'manual' }),
    { codec, frameFormat },
  ];
  const [agent, agentBinding] = client(codecs.agent);
  const [expert, expertBinding] = client(codecs.expert);
  try {
    const { nameplate } = await agent.createSession();
    await expert.joinSession(nameplate);
    await agent.approveSession('control');
    agent.startStream(agentBinding);
    expert.startStream(expertBinding);
    let delivered = 0;
    const allDelivered = new Promise<void>((resolve, reject) => {
      agent.on('message', () => ++delivered === RELAY_MESSAGES_PER_RUN && resolve());
      agent.on('ended', (end) => reject(new Error(`session ended: ${end.reason}`)));
    });
    const started = performance.now();
    for (let i = 0; i < RELAY_MESSAGES_PER_RUN; i++) await expert.send(message);
    await allDelivered;
    return (RELAY_MESSAGES_PER_RUN * message.length) / 1e6 / ((performance.now() - started) / 1000);
  } finally {
    agent.close();
    expert.close();
  }
}

/** The frame cipher alone: seal then open one full-size body at a time, as the stream calls it. */
async function cipherAloneMBps(): Promise<number> {
  const { expert, agent } = cipherPair();
  const body = crypto.getRandomValues(new Uint8Array(MAX_BODY_BYTES));
  const frames = 1_000;
  for (let seq = 0; seq < 100; seq++) await agent.open(await expert.seal('data', seq, body));
  const started = performance.now();
  for (let seq = 100; seq < 100 + frames; seq++) await agent.open(await expert.seal('data', seq, body));
  return (frames * body.length) / 1e6 / ((performance.now() - started) / 1000);
}

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 0.5);

export async function benchmarkCrypto(): Promise<string> {
  const handshakes = handshakeTimings();
  const mean = handshakes.reduce((sum, ms) => sum + ms, 0) / handshakes.length;

  const message = crypto.getRandomValues(new Uint8Array(MESSAGE_BYTES));
  // Warm both paths (JIT, WebCrypto key import), then alternate runs.
  await streamThroughput(plainPair(), message);
  await streamThroughput(cipherPair(), message);
  const plain: number[] = [];
  const encrypted: number[] = [];
  for (let run = 0; run < THROUGHPUT_RUNS; run++) {
    plain.push(await streamThroughput(plainPair(), message));
    encrypted.push(await streamThroughput(cipherPair(), message));
  }
  const cipherMBps = await cipherAloneMBps();
  const relayPlain: number[] = [];
  const relayEncrypted: number[] = [];
  const runtime = await startLocalRuntime({ port: 0 });
  try {
    await relayThroughput(runtime, plainPair(), PLAIN_FRAME_FORMAT, message);
    for (let run = 0; run < RELAY_RUNS; run++) {
      relayPlain.push(await relayThroughput(runtime, plainPair(), PLAIN_FRAME_FORMAT, message));
      relayEncrypted.push(await relayThroughput(runtime, cipherPair(), FRAME_FORMAT_AES_256_GCM, message));
    }
  } finally {
    await runtime.close();
  }

  const messagesPerSecond = (mbps: number) => ((mbps * 1e6) / MESSAGE_BYTES).toFixed(0);
  const range = (values: number[]) => `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`;
  const rows: string[][] = [];
  const costs: Record<string, number> = {};
  for (const [path, plainRuns, encryptedRuns] of [
    ['in memory', plain, encrypted],
    ['local relay', relayPlain, relayEncrypted],
  ] as const) {
    const plainMBps = median(plainRuns);
    const encryptedMBps = median(encryptedRuns);
    costs[path] = 1 - encryptedMBps / plainMBps;
    rows.push(
      [path, 'plain (0x00)', plainMBps.toFixed(1), messagesPerSecond(plainMBps), range(plainRuns), '100%'],
      [path, 'AES-256-GCM (0x01)', encryptedMBps.toFixed(1), messagesPerSecond(encryptedMBps), range(encryptedRuns), `${((encryptedMBps / plainMBps) * 100).toFixed(0)}%`],
    );
  }
  const verdict = (cost: number) => `${(cost * 100).toFixed(1)}% (${cost <= MAX_ENCRYPTION_COST ? 'met' : 'NOT met'})`;

  return [
    `CPace handshake, both sides in one process (commit, share, reveal, confirm; ${HANDSHAKE_RUNS} runs after ${HANDSHAKE_WARMUP} warm-up)`,
    formatTable(
      ['p50 ms', 'p99 ms', 'mean ms', 'handshakes/s'],
      [[percentile(handshakes, 0.5).toFixed(2), percentile(handshakes, 0.99).toFixed(2), mean.toFixed(2), (1000 / mean).toFixed(0)]],
    ),
    '',
    `Stream throughput, ${MESSAGE_BYTES / 1024} KB messages one way, plain vs encrypted over the same path, same run: two ReliableStreams back to back in memory`,
    `(median of ${THROUGHPUT_RUNS} alternating runs of ${MESSAGES_PER_RUN}), and two RelayClients through the local runtime (median of ${RELAY_RUNS} alternating runs of ${RELAY_MESSAGES_PER_RUN})`,
    formatTable(['path', 'codec', 'MB/s', 'messages/s', 'runs MB/s', 'vs plain'], rows),
    `encryption cost, target ≤ ${MAX_ENCRYPTION_COST * 100}% of stream throughput: in memory ${verdict(costs['in memory']!)}, through the local relay ${verdict(costs['local relay']!)}`,
    `AES-256-GCM frame cipher alone (seal then open, one ${MAX_BODY_BYTES}-byte body at a time, WebCrypto): ${cipherMBps.toFixed(0)} MB/s`,
    'In memory the plain stream runs at memory speed and both sides seal and open on one thread, so the figure is the raw cost of',
    'AES-GCM through WebCrypto (one awaited call per frame); through a relay, the path the stream actually runs on, it is the cost users see.',
  ].join('\n');
}
