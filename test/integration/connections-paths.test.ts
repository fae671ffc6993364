// The handlers' @connections client reaches the local gateway either in process (the default: the SDK's
// request handler interface answered by LocalGateway.manageConnection) or over the loopback HTTP endpoint.
// Both run the real ApiGatewayManagementApiClient (signing, serialization, error parsing) and must behave
// the same: delivery, description, closing, and the typed errors the relay depends on (410 Gone, 413).
import {
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { InProcessConnections } from '../../infra/local/in-process-connections.js';
import { ApiGatewayNotifier, createManagementClient } from '../../shared/server/adapters/api-gateway-notifier.js';
import { silentLog } from '../../shared/server/ports/log.js';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useLocalRuntime } from '../support/runtime.js';
import { frameOf, TestSocket } from '../support/ws-client.js';

const paths = ['in-process', 'http'] as const;
const decode = (message: ServerMessage) => (message.type === 'frame' ? Buffer.from(message.data, 'base64').toString() : message);

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(paths)('@connections %s', (path) => {
  const runtime = useLocalRuntime({ connectionsPath: path });

  /** A management client as the handlers build theirs for this path. */
  const client = () =>
    createManagementClient(`${runtime().internalUrl}/local`, {
      ...localAwsConfig,
      ...(path === 'in-process' && { requestHandler: new InProcessConnections((method, target, body) => runtime().gateway.manageConnection(method, target, body)) }),
    });

  async function openSocket() {
    const socket = await TestSocket.open(runtime().wsUrl);
    await runtime().gateway.settle();
    const connectionId = runtime().gateway.connectionIds().at(-1)!;
    return { socket, connectionId };
  }

  it('the relay forwards frames both ways, and the handlers post by this path only', async () => {
    const inProcess = vi.spyOn(InProcessConnections.prototype, 'handle');
    const agent = await TestSocket.open(runtime().wsUrl);
    const created = (await agent.request({ action: 'createSession' })) as Extract<ServerMessage, { type: 'sessionCreated' }>;
    const expert = await TestSocket.open(runtime().wsUrl);
    expect(await expert.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ type: 'sessionJoined' });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
    const before = runtime().counters().managementRequests;
    agent.send(frameOf('to the expert'));
    expect(decode(await expert.next())).toBe('to the expert');
    expert.send(frameOf('to the agent'));
    expect(decode(await agent.next())).toBe('to the agent');
    expect(runtime().counters().managementRequests - before).toBe(2);
    expect(inProcess.mock.calls.length > 0).toBe(path === 'in-process');
    agent.close();
    expert.close();
  });

  it('a post to a connection that is gone is GoneException (410); a frame after the peer left says so', async () => {
    const agent = await TestSocket.open(runtime().wsUrl);
    const created = (await agent.request({ action: 'createSession' })) as Extract<ServerMessage, { type: 'sessionCreated' }>;
    const expert = await TestSocket.open(runtime().wsUrl);
    await expert.request({ action: 'joinSession', nameplate: created.nameplate });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
    expert.close();
    await expert.closed;
    // Before approval a joiner's seat goes with its connection, and its creator is told.
    expect(await agent.next()).toEqual({ type: 'peer', state: 'left' });
    agent.send(frameOf('anyone there?'));
    expect(await agent.next()).toEqual({ type: 'peer', state: 'disconnected' });
    await expect(client().send(new PostToConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=', Data: new Uint8Array(1) }))).rejects.toBeInstanceOf(GoneException);
    agent.close();
  });

  it('GET describes, POST delivers, DELETE closes, with the real SDK client', async () => {
    const { socket, connectionId } = await openSocket();
    const management = client();
    const described = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(described.Identity?.SourceIp).toBe('127.0.0.1');
    expect(described.ConnectedAt).toBeInstanceOf(Date);
    await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('{"type":"peer","state":"connected"}') }));
    expect(await socket.next()).toEqual({ type: 'peer', state: 'connected' });
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await socket.closed).code).toBe(1000);
    await expect(management.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toBeInstanceOf(GoneException);
  });

  it('a post goes out as a text message: UTF-8 as it came, other bytes with replacement characters, the connection kept', async () => {
    const { socket, connectionId } = await openSocket();
    const management = client();
    const post = (bytes: number[]) => management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new Uint8Array(bytes) }));
    const text = (quoted: string) => [...Buffer.from(`"${quoted}"`)];
    await post(text('Zoë 🙂'));
    expect(await socket.next()).toBe('Zoë 🙂');
    // 0xff never occurs in UTF-8: sent as it is, the client would close the connection (1007).
    await post([0x22, 0x61, 0xff, 0x22]); // "a<0xff>"
    expect(await socket.next()).toBe('a\uFFFD');
    await post(text('still open'));
    expect(await socket.next()).toBe('still open');
    socket.close();
  });

  it('a message over 128 KB is PayloadTooLargeException (413), which the notifier turns into message-too-large', async () => {
    const { socket, connectionId } = await openSocket();
    const management = client();
    const tooLarge = new Uint8Array(128 * 1024 + 1).fill(0x61);
    const refusal = await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: tooLarge })).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PayloadTooLargeException);
    expect((refusal as PayloadTooLargeException).$metadata.httpStatusCode).toBe(413);
    const notifier = new ApiGatewayNotifier(management, silentLog);
    await expect(notifier.postRaw(connectionId, 'a'.repeat(128 * 1024 + 1))).rejects.toMatchObject({ code: 'message-too-large' });
    // Exactly 128 KB is delivered, and nothing of the refused ones was.
    expect(await notifier.postRaw(connectionId, `"${'a'.repeat(128 * 1024 - 2)}"`)).toBe('delivered');
    expect(await socket.next()).toHaveLength(128 * 1024 - 2);
    socket.close();
  });
});
