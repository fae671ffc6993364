// What a session costs on AWS per hour, from the messages the relay actually carries: real sessions
// (requestHelp / joinHelp: the end-to-end handshake, encrypted reliable stream, acks and heartbeats as
// the SDK sends them) on the local runtime, every message the relay handles counted by a tap, then
// priced with docs/cost-and-limits.md. Workloads run side by side in one window:
//   - idle: approved, nothing happens (heartbeats only);
//   - terminal typing: the technician types a key every 200 ms and the person's shell echoes it;
//   - chat: a 60-character line every 5 s, the two sides taking turns;
//   - desktop share: 15 video chunks a second of a typing workload's size (synthetic chunks through the
//     SDK's video path; what the relay carries does not depend on their pixels, only their count and size).
import { startLocalRuntime } from '../infra/local/runtime.js';
import type { AgentSession, ExpertSession, StreamTuning } from '../sdk/index.js';
import { joinHelp, requestHelp } from '../sdk/node.js';
import { ThroughputMeter } from '../sdk/video-pacing.js';
import { dollarsPerSessionHour, METERING_UNIT_BYTES, readAwsPrices, type RelayedTraffic } from './aws-prices.js';
import { formatTable, percentile } from './report.js';

/** Long enough for an idle stream's heartbeat (one per side after 60 s without traffic). */
const WINDOW_MS = 65_000;
const KEY_INTERVAL_MS = 200;
const CHAT_INTERVAL_MS = 5_000;
const CHAT_LINE = 'Could you open the settings and read me what the version says?';
const VIDEO_FRAMES_PER_SECOND = 15;
/** The desktop benchmark's typing workload: about 25 kbit/s at 10 frames/s, ~320 bytes a chunk. */
const VIDEO_CHUNK_BYTES = 320;

const targets: Record<string, number> = { idle: 0.001, 'terminal typing': 0.02, 'desktop share, 15 frames/s': 0.1 };

interface Pair {
  agent: AgentSession;
  expert: ExpertSession;
  sessionId: string;
}

interface Workload {
  name: string;
  /** Stream settings of both sides, where they differ from the SDK's defaults (a "before" row). */
  tuning?: Partial<StreamTuning>;
  /** Starts the workload; returns what stops it and a note for the table. */
  start(pair: Pair): () => string;
}

/** Acks as before they waited for answers: a lone packet's ack goes alone after ackDelayMs. */
const ACKS_WITHOUT_WAITING_FOR_ANSWERS: Partial<StreamTuning> = { answerAckDelayMs: 0 };

const terminalTyping: Workload['start'] = ({ agent, expert }) => {
  // The person's shell echoes each key; the technician measures key to echo.
  agent.on('input', (bytes) => void agent.sendOutput(bytes));
  const sentAt: number[] = [];
  const echoMs: number[] = [];
  expert.on('output', () => {
    const started = sentAt.shift();
    if (started !== undefined) echoMs.push(performance.now() - started);
  });
  const timer = setInterval(() => {
    sentAt.push(performance.now());
    void expert.sendInput(new Uint8Array([0x61]));
  }, KEY_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    echoMs.sort((a, b) => a - b);
    return `key to echo p50 ${percentile(echoMs, 0.5).toFixed(1)} ms, p95 ${percentile(echoMs, 0.95).toFixed(1)} ms, p99 ${percentile(echoMs, 0.99).toFixed(1)} ms (${echoMs.length} keys)`;
  };
};

/**
 * Chunks of a typing workload's size at 15 frames/s, paced as both video senders pace (sdk/video-pacing.ts):
 * a frame is skipped while more waits unacknowledged than the link carries in 250 ms.
 */
const desktopShare: Workload['start'] = ({ agent }) => {
  let chunks = 0;
  let skipped = 0;
  const meter = new ThroughputMeter();
  const data = new Uint8Array(VIDEO_CHUNK_BYTES).fill(0x5a);
  const started = performance.now();
  const share = agent.startVideoShare({ source: 'desktop', codec: 'vp8', width: 1920, height: 1080, controllable: true });
  const timer = setInterval(() => {
    void share.then(async () => {
      meter.observe(agent.unacknowledgedBytes, performance.now());
      if (!meter.mayEncode(agent.unacknowledgedBytes)) {
        skipped++;
        return;
      }
      meter.given(data.length);
      if (await agent.sendVideoChunk({ key: chunks === 0 || agent.keyFrameNeeded, timestamp: Math.round((performance.now() - started) * 1000), data })) chunks++;
    });
  }, 1000 / VIDEO_FRAMES_PER_SECOND);
  return () => {
    clearInterval(timer);
    return `${chunks} chunks of ${VIDEO_CHUNK_BYTES} B, ${skipped} frames skipped by pacing`;
  };
};

const workloads: Workload[] = [
  { name: 'idle', start: () => () => '' },
  { name: 'terminal typing', start: terminalTyping },
  { name: 'terminal typing, acks not waiting for answers (before)', tuning: ACKS_WITHOUT_WAITING_FOR_ANSWERS, start: terminalTyping },
  {
    name: 'chat',
    start({ agent, expert }) {
      let turn = 0;
      const timer = setInterval(() => void (turn++ % 2 === 0 ? expert.chat(CHAT_LINE) : agent.chat(CHAT_LINE)), CHAT_INTERVAL_MS);
      return () => {
        clearInterval(timer);
        return `${turn} lines`;
      };
    },
  },
  // The viewer sends no data, so its acks go alone after ackDelayMs (100 ms: about one per two chunks at
  // 66 ms between frames); pacing allows for that delay (sdk/video-pacing.ts). The rows below compare.
  { name: 'desktop share, 15 frames/s', start: desktopShare },
  { name: 'desktop share, 15 frames/s, acks after 25 ms (before)', tuning: { ackDelayMs: 25 }, start: desktopShare },
  { name: 'desktop share, 15 frames/s, acks after 250 ms', tuning: { ackDelayMs: 250 }, start: desktopShare },
];

/** Counts what the relay receives and sends, per session (learned from its sessionCreated / sessionJoined replies). */
class TrafficCounter {
  readonly #sessionOf = new Map<string, string>();
  readonly #traffic = new Map<string, RelayedTraffic>();
  counting = false;

  fromClient = (connectionId: string, body: string): string => {
    const traffic = this.#count(connectionId);
    if (traffic) {
      traffic.messagesIn++;
      traffic.unitsIn += units(body);
    }
    return body;
  };

  toClient = (connectionId: string, body: string): string => {
    // Frames carry only base64, so this finds the replies that name a session cheaply.
    if (body.includes('"sessionId"')) {
      const { type, sessionId } = JSON.parse(body) as { type: string; sessionId?: string };
      if ((type === 'sessionCreated' || type === 'sessionJoined') && sessionId) this.#sessionOf.set(connectionId, sessionId);
    }
    const traffic = this.#count(connectionId);
    if (traffic) traffic.unitsOut += units(body);
    return body;
  };

  of(sessionId: string): RelayedTraffic {
    return this.#traffic.get(sessionId) ?? { messagesIn: 0, unitsIn: 0, unitsOut: 0 };
  }

  #count(connectionId: string): RelayedTraffic | undefined {
    const sessionId = this.#sessionOf.get(connectionId);
    if (!this.counting || !sessionId) return undefined;
    let traffic = this.#traffic.get(sessionId);
    if (!traffic) this.#traffic.set(sessionId, (traffic = { messagesIn: 0, unitsIn: 0, unitsOut: 0 }));
    return traffic;
  }
}

/** What the two sides' streams sent, by kind: where a workload's relayed messages come from. */
class FrameCounts {
  constructor(
    readonly data: number,
    readonly acksAlone: number,
    readonly heartbeats: number,
    readonly resent: number,
  ) {}

  minus(earlier: FrameCounts): FrameCounts {
    return new FrameCounts(this.data - earlier.data, this.acksAlone - earlier.acksAlone, this.heartbeats - earlier.heartbeats, this.resent - earlier.resent);
  }

  toString(): string {
    return `${this.data} data (${this.resent} resent), ${this.acksAlone} acks alone (${this.heartbeats} heartbeats)`;
  }
}

function framesSent({ agent, expert }: Pair): FrameCounts {
  const sides = [agent.client.stats.stream, expert.client.stats.stream];
  const sum = (count: (stats: NonNullable<(typeof sides)[number]>) => number) => sides.reduce((total, stats) => total + (stats ? count(stats) : 0), 0);
  return new FrameCounts(
    sum((stats) => stats.dataFramesSent),
    sum((stats) => stats.controlFramesSent),
    sum((stats) => stats.heartbeatsSent),
    sum((stats) => stats.retransmits),
  );
}

const units = (body: string) => Math.max(1, Math.ceil(Buffer.byteLength(body) / METERING_UNIT_BYTES));

async function approvedPair(relay: string, tuning: Partial<StreamTuning> = {}): Promise<Pair> {
  const clientOptions = { streamTuning: tuning };
  const agent = await requestHelp({ relay, kind: 'easy-connect', name: 'Person', clientOptions });
  if (agent.invitation.kind !== 'easy-connect') throw new Error('expected an Easy Connect invitation');
  const presented = new Promise<void>((resolve) => agent.on('expert', () => resolve()));
  const expert = await joinHelp({ relay, invitation: agent.invitation.password, name: 'Technician', clientOptions });
  await presented;
  const approved = new Promise<void>((resolve) => expert.on('approved', () => resolve()));
  await agent.approve('control');
  await approved;
  return { agent, expert, sessionId: agent.client.session!.sessionId };
}

export async function benchmarkSessionCost(): Promise<string> {
  const prices = await readAwsPrices();
  const counter = new TrafficCounter();
  const runtime = await startLocalRuntime({ port: 0, tap: counter, policy: { joinsPerSourceIp: 1000, invitationsPerSourceIp: 1000 } });
  try {
    const pairs = await Promise.all(workloads.map(({ tuning }) => approvedPair(runtime.httpUrl, tuning)));
    counter.counting = true;
    const framesBefore = pairs.map(framesSent);
    const stops = workloads.map((workload, index) => workload.start(pairs[index]!));
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const notes = stops.map((stop) => stop());
    counter.counting = false;
    const frames = pairs.map((pair, index) => framesSent(pair).minus(framesBefore[index]!));
    const seconds = WINDOW_MS / 1000;
    const rows = workloads.map(({ name }, index) => {
      const traffic = counter.of(pairs[index]!.sessionId);
      const dollars = dollarsPerSessionHour(prices, traffic, seconds);
      const target = targets[name];
      return [
        name,
        ((traffic.messagesIn * 3600) / seconds).toFixed(0),
        (((traffic.unitsIn + traffic.unitsOut) * 3600) / seconds).toFixed(0),
        `$${dollars.toFixed(4)}`,
        target === undefined ? '' : `≤ $${target} ${dollars <= target ? 'met' : 'NOT met'}`,
        frames[index]!.toString(),
        notes[index]!,
      ];
    });
    for (const { agent, expert } of pairs) {
      agent.client.close();
      expert.client.close();
    }
    return [
      `Session cost on AWS: messages the local relay carried per session in ${seconds} s, scaled to an hour and priced with docs/cost-and-limits.md`,
      `($${(prices.perMessage * 1e6).toFixed(2)} per million messages in and out, a ${prices.frameFunctionGb} GB frame function billing ${prices.frameFunctionSeconds * 1000} ms per message received, connection minutes), SDK default stream settings`,
      formatTable(['workload', 'client msgs/h', 'metered msgs/h', '$/session-h', 'target', 'stream frames sent (both sides)', ''], rows),
    ].join('\n');
  } finally {
    await runtime.close();
  }
}
