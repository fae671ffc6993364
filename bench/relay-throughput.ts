import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { WebSocket, WebSocketServer } from 'ws';
import { localAwsConfig } from '../infra/local/dynamo.js';
import { startLocalRuntime, type LocalRuntime } from '../infra/local/runtime.js';
import { MAX_FRAME_BYTES } from '../shared/core/messages.js';
import { formatTable, percentile } from './report.js';

/** One direction of a two-socket path: what the agent sends, the expert receives. */
interface Pipe {
  send(text: string): void;
  onMessage(listener: () => void): void;
  close(): void;
}

/** The agent's socket sends, the expert's receives. */
const pipeOf = (sender: WebSocket, receiver: WebSocket, close: () => void): Pipe => ({
  send: (text) => sender.send(text),
  onMessage: (listener) => receiver.on('message', listener),
  close,
});

const open = (url: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });

const nextMessage = (socket: WebSocket) =>
  new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())));

async function listeningServer(): Promise<{ server: WebSocketServer; url: string }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `ws://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** Baseline 1: the same JSON messages from one socket straight into another, nothing in between. */
async function directPipe(): Promise<Pipe> {
  const { server, url } = await listeningServer();
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const sender = await open(url);
  const receiver = await accepted;
  return pipeOf(sender, receiver, () => {
    sender.close();
    server.close();
  });
}

/** Baseline 2: the relay's topology (two clients, a server between) with a bare forwarding server. */
async function pipeServer(): Promise<Pipe> {
  const { server, url } = await listeningServer();
  const joined: WebSocket[] = [];
  server.on('connection', (socket) => {
    joined.push(socket);
    socket.on('message', (data, isBinary) => joined.find((other) => other !== socket)?.send(data, { binary: isBinary }));
  });
  const sender = await open(url);
  const receiver = await open(url);
  return pipeOf(sender, receiver, () => {
    sender.close();
    receiver.close();
    server.close();
  });
}

/** Agent and expert sockets in one session on the local runtime. */
async function relayPipe(runtime: LocalRuntime): Promise<Pipe> {
  const agent = await open(runtime.wsUrl);
  agent.send(JSON.stringify({ action: 'createSession' }));
  const { nameplate } = JSON.parse(await nextMessage(agent)) as { nameplate: string };
  const expert = await open(runtime.wsUrl);
  const peerNotice = nextMessage(agent);
  expert.send(JSON.stringify({ action: 'joinSession', nameplate }));
  await Promise.all([nextMessage(expert), peerNotice]);
  // Approval lifts the relay's pre-approval frame limit; both sides hear of it.
  const expertNotice = nextMessage(expert);
  agent.send(JSON.stringify({ action: 'approveSession', mode: 'control' }));
  await Promise.all([nextMessage(agent), expertNotice]);
  return pipeOf(agent, expert, () => {
    agent.close();
    expert.close();
  });
}

const frameMessage = (payloadBytes: number) =>
  JSON.stringify({ action: 'frame', data: Buffer.alloc(payloadBytes, 7).toString('base64') });

/** A frame not seen this long after the one before is lost: the benchmark goes on and says so. */
const LOST_AFTER_MS = 3_000;

/** Sends `count` frames keeping at most `window` in flight; returns frames per second and how many never arrived. */
async function throughput(pipe: Pipe, message: string, count: number, window: number): Promise<{ framesPerSecond: number; lost: number }> {
  let received = 0;
  let sent = 0;
  const started = performance.now();
  let finished = started;
  await new Promise<void>((resolve) => {
    let stall = setTimeout(resolve, LOST_AFTER_MS);
    const pump = () => {
      while (sent < count && sent - received < window) {
        pipe.send(message);
        sent++;
      }
    };
    pipe.onMessage(() => {
      received++;
      finished = performance.now();
      clearTimeout(stall);
      if (received === count) return resolve();
      stall = setTimeout(resolve, LOST_AFTER_MS);
      pump();
    });
    pump();
  });
  return { framesPerSecond: received / ((finished - started) / 1000), lost: count - received };
}

/** One frame in flight at a time: the unloaded one-way latency (sender and receiver share a clock); lost frames are counted, not timed. */
async function latencies(pipe: Pipe, message: string, samples: number): Promise<{ samples: number[]; lost: number }> {
  const results: number[] = [];
  let lost = 0;
  let resolveArrival: (arrived: boolean) => void = () => {};
  pipe.onMessage(() => resolveArrival(true));
  for (let i = 0; i < samples; i++) {
    const arrived = new Promise<boolean>((resolve) => {
      resolveArrival = resolve;
      setTimeout(() => resolve(false), LOST_AFTER_MS);
    });
    const started = performance.now();
    pipe.send(message);
    if (await arrived) results.push(performance.now() - started);
    else lost++;
  }
  return { samples: results, lost };
}

interface PathFigures {
  framesPerSecond: number;
  megabytesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Frames sent that never arrived (none, on a path that works). */
  lost: number;
}

async function measure(makePipe: () => Promise<Pipe>, payloadBytes: number, count: number): Promise<PathFigures> {
  const message = frameMessage(payloadBytes);
  const forThroughput = await makePipe();
  const { framesPerSecond, lost } = await throughput(forThroughput, message, count, 64);
  forThroughput.close();
  const forLatency = await makePipe();
  const timed = await latencies(forLatency, message, Math.min(count, 1000));
  forLatency.close();
  const samples = timed.samples.sort((a, b) => a - b);
  return {
    framesPerSecond,
    megabytesPerSecond: (framesPerSecond * payloadBytes) / 1e6,
    p50Ms: percentile(samples, 0.5),
    p99Ms: percentile(samples, 0.99),
    lost: lost + timed.lost,
  };
}

/** The AWS SDK's own cost per PostToConnection (serialize, sign, parse) with the network taken out. */
async function sdkPostOverheadMs(samples: number): Promise<number> {
  const noNetwork = { handle: async () => ({ response: { statusCode: 200, headers: {} } }) };
  const client = new ApiGatewayManagementApiClient({
    ...localAwsConfig,
    endpoint: 'http://127.0.0.1:9/local',
    maxAttempts: 1,
    requestHandler: noNetwork as never,
  });
  const command = () => new PostToConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=', Data: new Uint8Array(64) });
  for (let i = 0; i < 500; i++) await client.send(command());
  const started = performance.now();
  for (let i = 0; i < samples; i++) await client.send(command());
  return (performance.now() - started) / samples;
}

/** The relay's two ways for the handlers to reach @connections, measured side by side. */
const relayPaths = [
  { path: 'relay', connectionsPath: 'in-process' },
  { path: 'relay, @connections over HTTP', connectionsPath: 'http' },
] as const;
type RelayPath = (typeof relayPaths)[number]['path'];

export async function benchmarkRelay(): Promise<string> {
  const runtimes = await Promise.all(
    relayPaths.map(({ connectionsPath }) => startLocalRuntime({ port: 0, connectionsPath, limits: { messagesPerSecond: 1e6, messageBurst: 1e6 } })),
  );
  const cases = [
    { label: '64 B', payloadBytes: 64, count: 20_000 },
    { label: '32 KB', payloadBytes: MAX_FRAME_BYTES, count: 4_000 },
  ];
  const rows: string[][] = [];
  type CaseFigures = { direct: PathFigures; piped: PathFigures } & Partial<Record<RelayPath, PathFigures>>;
  const figures: Record<string, CaseFigures> = {};
  let relayedFrames = 0;
  let dynamoRequests = 0;
  let managementRequests = 0;
  try {
    for (const { label, payloadBytes, count } of cases) {
      const direct = await measure(directPipe, payloadBytes, count);
      const piped = await measure(pipeServer, payloadBytes, count);
      const measured: CaseFigures = { direct, piped };
      figures[label] = measured;
      const paths: Array<[string, PathFigures]> = [
        ['direct ws', direct],
        ['ws pipe server', piped],
      ];
      for (const [index, { path }] of relayPaths.entries()) {
        const runtime = runtimes[index]!;
        const before = runtime.counters();
        const relay = await measure(() => relayPipe(runtime), payloadBytes, count);
        await runtime.gateway.settle();
        const after = runtime.counters();
        relayedFrames += count + Math.min(count, 1000);
        // Session setup costs a handful of calls per pipe; they are included, so the figure is an upper bound.
        dynamoRequests += after.dynamoRequests - before.dynamoRequests;
        managementRequests += after.managementRequests - before.managementRequests;
        measured[path] = relay;
        paths.push([path, relay]);
      }
      for (const [path, { framesPerSecond, megabytesPerSecond, p50Ms, p99Ms, lost }] of paths) {
        rows.push([label, path, framesPerSecond.toFixed(0), megabytesPerSecond.toFixed(2), p50Ms.toFixed(3), p99Ms.toFixed(3), String(lost)]);
      }
    }
  } finally {
    await Promise.all(runtimes.map((runtime) => runtime.close()));
  }
  const large = figures['32 KB']!;
  const small = figures['64 B']!;
  const percent = (fraction: number) => `${(fraction * 100).toFixed(0)}%`;
  const share = (path: RelayPath, baseline: 'direct' | 'piped') => large[path]!.megabytesPerSecond / large[baseline].megabytesPerSecond;
  const latencyRatio = (path: RelayPath, baseline: 'direct' | 'piped') => small[path]!.p50Ms / small[baseline].p50Ms;
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const sdkMs = await sdkPostOverheadMs(3000);
  const [inProcess, overHttp] = relayPaths.map(({ path }) => path) as [RelayPath, RelayPath];
  return [
    'Relay: local runtime (the handlers reach @connections in process, and over loopback HTTP as before) vs direct ws (socket to socket) and a bare ws pipe server (two clients, a forwarding server), same run',
    formatTable(['frame', 'path', 'frames/s', 'MB/s', 'p50 ms', 'p99 ms', 'lost'], rows),
    `DynamoDB calls per relayed frame: ${(dynamoRequests / relayedFrames).toFixed(4)} (target ≤ 0.05; includes session setup)`,
    `management-API calls per relayed frame: ${(managementRequests / relayedFrames).toFixed(3)}`,
    `AWS SDK PostToConnection cost without network: ${sdkMs.toFixed(3)} ms per call (${(sdkMs / small.direct.p50Ms).toFixed(1)}× the direct p50 on its own)`,
    `32 KB relay MB/s: ${percent(share(inProcess, 'direct'))} of direct ws, ${percent(share(inProcess, 'piped'))} of the pipe server; over HTTP ${percent(share(overHttp, 'direct'))} (target ≥ 50% of direct: ${verdict(share(inProcess, 'direct') >= 0.5)})`,
    `64 B relay p50: ${latencyRatio(inProcess, 'direct').toFixed(1)}× direct ws, ${latencyRatio(inProcess, 'piped').toFixed(1)}× the pipe server; over HTTP ${latencyRatio(overHttp, 'direct').toFixed(1)}× direct ws`,
  ].join('\n');
}
