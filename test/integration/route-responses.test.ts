// What API Gateway sends back for a route's result (its route response), emulated by the local gateway, and
// what the SDK and the relay's handlers make of it. On AWS only a route with a route response (two-way)
// answers the caller: the result's body as it is (JSON or not, whatever the status code), and a result
// without a body as an empty message. A one-way route sends nothing back; an integration that fails gets
// API Gateway's own `Internal server error` either way.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGatewayLimits, LocalGateway, type RouteHandler } from '../../infra/local/gateway.js';
import { isOneWay, webSocketRoutes, type WebSocketRouteKey } from '../../functions/lib/routes.js';
import { systemClock } from '../../sdk/clock.js';
import { RelayConnection, type WebSocketConstructor } from '../../sdk/connection.js';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useLocalRuntime } from '../support/runtime.js';
import { frameOf, TestSocket } from '../support/ws-client.js';

const auditLog = { type: 'auditLog', sessionId: 's-1', events: [] };

/** Handlers returning each kind of result, on routes the gateway treats as two-way or one-way. */
const routes: Record<string, RouteHandler> = {
  $connect: async () => ({ statusCode: 200 }),
  // two-way
  createSession: async () => ({ statusCode: 200 }),
  joinSession: async () => ({ statusCode: 200, body: 'not json' }),
  approveSession: async () => ({ statusCode: 500, body: JSON.stringify({ type: 'error', code: 'internal', message: 'x', requestAction: 'approveSession' }) }),
  recordEvent: async () => {
    throw new Error('the integration failed');
  },
  listAudit: async () => ({ statusCode: 200, body: JSON.stringify(auditLog) }),
  // one-way
  frame: async () => ({ statusCode: 200, body: JSON.stringify({ type: 'peer', state: 'disconnected' }) }),
  endSession: async () => {
    throw new Error('the integration failed');
  },
};

describe('the local gateway’s route responses', () => {
  let gateway: LocalGateway;
  let url: string;
  /** Client messages the gateway has read so far. */
  let read = 0;

  beforeAll(async () => {
    gateway = new LocalGateway({
      host: '127.0.0.1',
      port: 0,
      stage: 'local',
      limits: apiGatewayLimits,
      routes,
      twoWayRoutes: new Set(['createSession', 'joinSession', 'approveSession', 'recordEvent', 'listAudit']),
      tap: {
        fromClient: (_connectionId, body) => {
          read++;
          return body;
        },
      },
    });
    const { port } = await gateway.listen();
    url = `ws://127.0.0.1:${port}/local`;
  });
  afterAll(() => gateway.close());

  /** Sends one message and returns every text message the client got for it. */
  async function answersTo(socket: WebSocket, received: string[], action: string): Promise<string[]> {
    const before = received.length;
    const readBefore = read;
    socket.send(JSON.stringify({ action }));
    await expect.poll(() => read).toBe(readBefore + 1);
    await gateway.settle();
    // Whatever the gateway sent for it has reached this socket once a ping sent after it comes back.
    await new Promise<void>((resolve) => {
      socket.once('pong', () => resolve());
      socket.ping();
    });
    return received.slice(before);
  }

  it('two-way: the body as it is, an empty message for none, the body whatever the status; one-way: nothing; a failure: Internal server error', async () => {
    const socket = new WebSocket(url);
    const received: string[] = [];
    socket.on('message', (data) => received.push(data.toString()));
    await new Promise((resolve) => socket.once('open', resolve));

    expect(await answersTo(socket, received, 'createSession')).toEqual(['']);
    expect(await answersTo(socket, received, 'joinSession')).toEqual(['not json']);
    expect((await answersTo(socket, received, 'approveSession')).map((text) => JSON.parse(text))).toEqual([expect.objectContaining({ type: 'error' })]);
    expect(await answersTo(socket, received, 'frame')).toEqual([]);
    for (const action of ['recordEvent', 'endSession']) {
      expect((await answersTo(socket, received, action)).map((text) => JSON.parse(text)), action).toEqual([
        { message: 'Internal server error', connectionId: expect.any(String), requestId: expect.any(String) },
      ]);
    }
    socket.close();
  });

  it('the SDK reads an empty message as nothing, reports a non-JSON one, and the connection goes on answering', async () => {
    const malformed: Error[] = [];
    const connection = await RelayConnection.open(
      WebSocket as unknown as WebSocketConstructor,
      url,
      { notice() {}, malformed: (error) => malformed.push(error), closed() {} },
      { clock: systemClock, requestTimeoutMs: 10_000 },
    );
    connection.send({ action: 'createSession' });
    connection.send({ action: 'joinSession', nameplate: 'K7QM' });
    expect(await connection.request({ action: 'listAudit' })).toEqual(auditLog);
    expect(malformed.map((error) => error.message)).toEqual(['the relay sent something that is not a relay message']);
    expect(connection.open).toBe(true);
    connection.close();
  });
});

describe('the relay’s routes', () => {
  const sentToClients: string[] = [];
  const runtime = useLocalRuntime({
    tap: {
      toClient: (_connectionId, body) => {
        sentToClients.push(body);
        return body;
      },
    },
  });

  it('are two-way exactly where the route table says, and one-way for the lifecycle, frames, ending and the failed-attempt verdict', () => {
    const oneWay = (Object.keys(webSocketRoutes) as WebSocketRouteKey[]).filter(isOneWay).sort();
    expect(oneWay).toEqual(['$connect', '$disconnect', 'endSession', 'frame', 'reportFailedAttempt']);
  });

  it('never answer with an empty or non-relay message; a forwarded frame costs its sender no message back', async () => {
    type Created = Extract<ServerMessage, { type: 'sessionCreated' }>;
    type Joined = Extract<ServerMessage, { type: 'sessionJoined' }>;
    const agent = await TestSocket.open(runtime().wsUrl);
    const created = (await agent.request({ action: 'createSession' })) as Created;
    const expert = await TestSocket.open(runtime().wsUrl);
    const joined = (await expert.request({ action: 'joinSession', nameplate: created.nameplate })) as Joined;
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });

    // One-way refusals and notices still reach the caller, posted.
    expect(await agent.request({ action: 'endSession', reason: 'idle-timeout' })).toMatchObject({ type: 'error', requestAction: 'endSession' });
    expect(await expert.request({ action: 'reportFailedAttempt' })).toMatchObject({ type: 'error', code: 'wrong-role' });
    expect(await agent.request({ action: 'approveSession', mode: 'control' })).toMatchObject({ type: 'sessionActive' });
    expect(await expert.next()).toMatchObject({ type: 'sessionActive' });

    agent.send(frameOf('hello'));
    const frame = await expert.next();
    expect(frame.type === 'frame' && Buffer.from(frame.data, 'base64').toString()).toBe('hello');
    expect(await agent.request({ action: 'recordEvent', event: 'paused' })).toMatchObject({ type: 'eventRecorded' });
    expect(await agent.request({ action: 'extendSession', seconds: 600 })).toMatchObject({ type: 'sessionExtended' });
    expect(await expert.next()).toMatchObject({ type: 'sessionExtended' });
    expect(await agent.request({ action: 'listAudit' })).toMatchObject({ type: 'auditLog' });
    expect(await agent.request({ action: 'teleport' })).toMatchObject({ type: 'error', code: 'unknown-action' });
    // Nothing came back for the frame: the answers above are all the agent got, in order.
    expect(agent.pending()).toEqual([]);

    expert.socket.terminate();
    expect(await agent.next()).toEqual({ type: 'peer', state: 'disconnected' });
    const back = await TestSocket.open(runtime().wsUrl);
    expect(await back.request({ action: 'resumeSession', sessionId: joined.sessionId, resumeToken: joined.resumeToken })).toMatchObject({ type: 'sessionResumed' });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
    agent.send({ action: 'endSession' });
    expect(await back.next()).toMatchObject({ type: 'ended' });
    expect(await agent.next()).toMatchObject({ type: 'ended' });
    await runtime().gateway.settle();

    expect(sentToClients.length).toBeGreaterThan(15);
    for (const body of sentToClients) expect(JSON.parse(body), body).toEqual(expect.objectContaining({ type: expect.any(String) }));
  });
});
