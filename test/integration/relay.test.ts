import { ApiGatewayManagementApiClient, GetConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { describe, expect, it, vi } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useLocalRuntime } from '../support/runtime.js';
import { frameOf, TestSocket } from '../support/ws-client.js';

const runtime = useLocalRuntime();

type Created = Extract<ServerMessage, { type: 'sessionCreated' }>;
type Joined = Extract<ServerMessage, { type: 'sessionJoined' }>;

async function pair() {
  const agent = await TestSocket.open(runtime().wsUrl);
  const created = (await agent.request({ action: 'createSession' })) as Created;
  expect(created.type).toBe('sessionCreated');
  const expert = await TestSocket.open(runtime().wsUrl);
  const joined = (await expert.request({ action: 'joinSession', nameplate: created.nameplate })) as Joined;
  expect(joined.type).toBe('sessionJoined');
  expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
  return { agent, expert, created, joined };
}

const decode = (message: ServerMessage) => (message.type === 'frame' ? Buffer.from(message.data, 'base64').toString() : message);

describe('relay over real WebSockets', () => {
  it('serves health as JSON', async () => {
    const response = await fetch(`${runtime().httpUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('relays frames both ways between agent and expert, binary-safe', async () => {
    const { agent, expert } = await pair();
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    agent.send({ action: 'frame', data: bytes.toString('base64') });
    const received = await expert.next();
    expect(received.type === 'frame' && Buffer.from(received.data, 'base64')).toEqual(bytes);
    expert.send(frameOf('hello agent'));
    expect(decode(await agent.next())).toBe('hello agent');
    agent.close();
    expert.close();
  });

  it('parses a relayed frame once: the handler reuses the parse the gateway chose its route with', async () => {
    const { agent, expert } = await pair();
    const message = JSON.stringify(frameOf('parsed once'));
    const parse = vi.spyOn(JSON, 'parse');
    agent.send(message);
    expect(decode(await expert.next())).toBe('parsed once');
    // The test socket parses what it receives (another string); the relay's process is this one.
    expect(parse.mock.calls.filter(([text]) => text === message)).toHaveLength(1);
    parse.mockRestore();
    agent.close();
    expert.close();
  });

  it('a third connection can neither join, read nor inject', async () => {
    const { agent, expert, created } = await pair();
    const intruder = await TestSocket.open(runtime().wsUrl);
    expect(await intruder.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ code: 'role-taken' });
    expect(await intruder.request(frameOf('injected'))).toMatchObject({ code: 'not-in-session' });
    expect(await intruder.request({ action: 'resumeSession', sessionId: created.sessionId, resumeToken: 'x'.repeat(43) })).toMatchObject({
      code: 'invalid-resume-token',
    });
    agent.send(frameOf('private'));
    expect(decode(await expert.next())).toBe('private');
    await runtime().gateway.settle();
    expect(intruder.pending()).toEqual([]);
    expect(expert.pending()).toEqual([]);
    [agent, expert, intruder].forEach((socket) => socket.close());
  });

  it('a second expert racing for the same invitation is refused', async () => {
    const agent = await TestSocket.open(runtime().wsUrl);
    const created = (await agent.request({ action: 'createSession' })) as Created;
    const experts = await Promise.all([TestSocket.open(runtime().wsUrl), TestSocket.open(runtime().wsUrl)]);
    const replies = await Promise.all(experts.map((expert) => expert.request({ action: 'joinSession', nameplate: created.nameplate })));
    expect(replies.map((reply) => reply.type).sort()).toEqual(['error', 'sessionJoined']);
    expect(replies.find((reply) => reply.type === 'error')).toMatchObject({ code: expect.stringMatching(/role-taken|session-not-found/) });
    [agent, ...experts].forEach((socket) => socket.close());
  });

  it('answers malformed and oversize input with clear errors and keeps the connection usable', async () => {
    const socket = await TestSocket.open(runtime().wsUrl);
    expect(await socket.request('{"action":')).toMatchObject({ type: 'error', code: 'malformed-json' });
    expect(await socket.request({ action: 'teleport' })).toMatchObject({ type: 'error', code: 'unknown-action' });
    // Over the frame's data limit, yet a message within API Gateway's 32 KB frame: a typed reply.
    expect(await socket.request({ action: 'frame', data: 'A'.repeat(32_000) })).toMatchObject({ code: 'frame-too-large' });
    expect(await socket.request({ action: 'createSession', sessionTtlSeconds: 'soon' })).toMatchObject({ code: 'invalid-request' });
    expect((await socket.request({ action: 'createSession' })).type).toBe('sessionCreated');
    socket.close();
  });

  it('closes a connection that sends a message over 128 KB with 1009, as API Gateway does', async () => {
    const socket = await TestSocket.open(runtime().wsUrl);
    const message = JSON.stringify({ action: 'frame', data: 'A'.repeat(140_000) });
    // In frames of at most 32 KB: the message, not a frame, is over its limit.
    for (let offset = 0; offset < message.length; offset += 30_000) {
      socket.socket.send(message.slice(offset, offset + 30_000), { fin: offset + 30_000 >= message.length });
    }
    expect((await socket.closed).code).toBe(1009);
  });

  it('closes a connection that sends a WebSocket frame over 32 KB with 1009, as API Gateway does, and nothing reaches a handler', async () => {
    const { agent, expert } = await pair();
    agent.send({ action: 'frame', data: 'A'.repeat(40_000) });
    expect((await agent.closed).code).toBe(1009);
    await runtime().gateway.settle();
    // The oversize frame was never relayed: the expert hears only that its peer went away.
    expect(expert.pending().filter((message) => message.type === 'frame')).toEqual([]);
    expert.close();
  });

  it('accepts a message of up to 128 KB sent in frames of at most 32 KB, as API Gateway does', async () => {
    const socket = await TestSocket.open(runtime().wsUrl);
    const message = JSON.stringify({ action: 'frame', data: 'A'.repeat(60_000) });
    socket.socket.send(message.slice(0, 30_000), { fin: false });
    socket.socket.send(message.slice(30_000), { fin: true });
    // It reaches the frame route, which refuses it by its data limit; the connection stays open.
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'frame-too-large' });
    expect((await socket.request({ action: 'createSession' })).type).toBe('sessionCreated');
    socket.close();
  });

  it('upgrades only at the stage path, /local, as API Gateway upgrades only at /<stage>: any other path is a 403', async () => {
    const { wsUrl } = runtime();
    expect(new URL(wsUrl).pathname).toBe('/local');
    for (const path of ['/', '/live', '/local/x', '/locals']) {
      const refused = await TestSocket.open(new URL(path, wsUrl).href).then(
        () => 'opened',
        (error: Error) => error.message,
      );
      expect(refused, path).toMatch(/Unexpected server response: 403/);
    }
    (await TestSocket.open(`${wsUrl}?ticket=x`)).close();
  });

  it('resumes an approved session on a new connection with the resume token; the peer is told', async () => {
    const { agent, expert, joined } = await pair();
    // Before approval a dropped joiner gives its seat up (test/integration/seats.test.ts); after, it may resume.
    expect(await agent.request({ action: 'approveSession', mode: 'control' })).toMatchObject({ type: 'sessionActive' });
    expect(await expert.next()).toMatchObject({ type: 'sessionActive' });
    expert.socket.terminate();
    expect(await agent.next()).toEqual({ type: 'peer', state: 'disconnected' });
    expect(await agent.request(frameOf('while away'))).toEqual({ type: 'peer', state: 'disconnected' });

    const back = await TestSocket.open(runtime().wsUrl);
    const resumed = await back.request({ action: 'resumeSession', sessionId: joined.sessionId, resumeToken: joined.resumeToken });
    expect(resumed).toMatchObject({ type: 'sessionResumed', role: 'expert', peerConnected: true });
    expect(await agent.next()).toEqual({ type: 'peer', state: 'connected' });
    agent.send(frameOf('welcome back'));
    expect(decode(await back.next())).toBe('welcome back');
    agent.close();
    back.close();
  });

  it('rotates the resume token on every resume; the one before stays good only until its successor is used', async () => {
    const { agent, joined } = await pair();
    expect(await agent.request({ action: 'approveSession', mode: 'view' })).toMatchObject({ type: 'sessionActive' });
    const resume = async (resumeToken: string) => {
      const socket = await TestSocket.open(runtime().wsUrl);
      return { socket, reply: await socket.request({ action: 'resumeSession', sessionId: joined.sessionId, resumeToken }) };
    };
    const tokenOf = (reply: unknown) => (reply as { resumeToken: string }).resumeToken;

    const first = await resume(joined.resumeToken);
    const t1 = tokenOf(first.reply);
    expect(t1).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(t1).not.toBe(joined.resumeToken);
    // The reply carrying t1 may be lost: the token presented is still good, and gives yet another one.
    const retried = await resume(joined.resumeToken);
    expect(retried.reply).toMatchObject({ type: 'sessionResumed', role: 'expert' });
    const t2 = tokenOf(retried.reply);
    expect(t2).not.toBe(t1);
    expect((await first.socket.closed).code).toBe(1000); // replaced by the connection that proved the token
    // t1 was never used and has been replaced: refused. Once t2 is used, the first token is refused too.
    expect((await resume(t1)).reply).toMatchObject({ code: 'invalid-resume-token' });
    const third = await resume(t2);
    expect(third.reply).toMatchObject({ type: 'sessionResumed' });
    const replay = await resume(joined.resumeToken);
    expect(replay.reply).toMatchObject({ code: 'invalid-resume-token' });
    // The one just used stays good until its successor is used: the holder of t2 can still come back with it.
    expect((await resume(t2)).reply).toMatchObject({ type: 'sessionResumed' });
    agent.close();
  });

  it('ending a session tells both sides, closes their connections, and nothing more is relayed', async () => {
    const { agent, expert, created } = await pair();
    agent.send({ action: 'endSession' });
    expect(await agent.next()).toEqual({ type: 'ended', reason: 'ended-by-agent' });
    expect(await expert.next()).toEqual({ type: 'ended', reason: 'ended-by-agent' });
    await Promise.all([agent.closed, expert.closed]);
    const late = await TestSocket.open(runtime().wsUrl);
    expect(await late.request({ action: 'resumeSession', sessionId: created.sessionId, resumeToken: created.resumeToken })).toMatchObject({
      code: 'session-ended',
      endReason: 'ended-by-agent',
    });
    late.close();
  });



  it('serves the @connections API to the real AWS SDK client: GET describes, POST delivers, Gone is typed', async () => {
    const socket = await TestSocket.open(runtime().wsUrl);
    await runtime().gateway.settle();
    const [connectionId] = runtime().gateway.connectionIds().slice(-1);
    const client = new ApiGatewayManagementApiClient({ endpoint: `${runtime().internalUrl}/local`, ...localAwsConfig });
    const described = await client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(described.Identity?.SourceIp).toBe('127.0.0.1');
    await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('{"type":"peer","state":"connected"}') }));
    expect(await socket.next()).toEqual({ type: 'peer', state: 'connected' });
    await expect(client.send(new PostToConnectionCommand({ ConnectionId: 'nope', Data: new Uint8Array(1) }))).rejects.toBeInstanceOf(GoneException);
    client.destroy();
    socket.close();
  });
});

describe('gateway idle timeout', () => {
  // Its own runtime: a short idle timeout would otherwise close the other tests' sockets while they wait.
  const idleRuntime = useLocalRuntime({ limits: { idleTimeoutMs: 300 } });

  it('closes connections idle longer than the idle timeout with 1001, as API Gateway does', async () => {
    const socket = await TestSocket.open(idleRuntime().wsUrl);
    expect((await socket.closed).code).toBe(1001);
  });

  it('a client message resets the idle timer', async () => {
    const socket = await TestSocket.open(idleRuntime().wsUrl);
    const keepAlive = setInterval(() => socket.send('{"action":"ping"}'), 100);
    await new Promise((resolve) => setTimeout(resolve, 600));
    clearInterval(keepAlive);
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    expect((await socket.closed).code).toBe(1001);
  });
});
