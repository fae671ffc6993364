// The ConnectionNotifier contract, run against the recording notifier the use-case tests use and against
// the API Gateway adapter talking to the local gateway's @connections endpoint (the real SDK client) with
// a real WebSocket client on the other end: the memory notifier answers as @connections does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiGatewayNotifier, createManagementClient } from '../../shared/server/adapters/api-gateway-notifier.js';
import { RecordingNotifier } from '../../shared/server/adapters/memory-notifier.js';
import type { ConnectionNotifier } from '../../shared/server/ports/connection-notifier.js';
import { silentLog } from '../../shared/server/ports/log.js';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { apiGatewayLimits, LocalGateway } from '../../infra/local/gateway.js';
import { Watch } from '../support/harness.js';

/** Woken by each $connect, message and close the local gateway's clients see: the waits check again then. */
const heard = new Watch();

/** A client connection as the contract sees it: its id, what reached it, and whether it was closed. */
interface Client {
  connectionId: string;
  received: string[];
  closed: () => boolean;
}

interface NotifierUnderTest {
  notifier: ConnectionNotifier;
  connect(): Promise<Client>;
  close(): Promise<void>;
}

const kinds: { name: string; start: () => Promise<NotifierUnderTest> }[] = [
  {
    name: 'recording notifier (memory)',
    async start() {
      const notifier = new RecordingNotifier();
      let next = 0;
      return {
        notifier,
        async connect() {
          const connectionId = `c${++next}`;
          notifier.connect(connectionId);
          return {
            connectionId,
            get received() {
              return notifier.messagesTo(connectionId).map((message) => JSON.stringify(message));
            },
            closed: () => notifier.disconnected.includes(connectionId),
          };
        },
        close: async () => {},
      };
    },
  },
  {
    name: 'API Gateway @connections (local gateway)',
    async start() {
      const connected: string[] = [];
      const gateway = new LocalGateway({
        host: '127.0.0.1',
        port: 0,
        stage: 'local',
        limits: apiGatewayLimits,
        twoWayRoutes: new Set(),
        routes: {
          $connect: async (event) => {
            connected.push(event.requestContext.connectionId);
            heard.changed();
            return { statusCode: 200 };
          },
        },
      });
      const { port } = await gateway.listen();
      const notifier = new ApiGatewayNotifier(createManagementClient(`${gateway.internalUrl}/local`, localAwsConfig), silentLog);
      const sockets: WebSocket[] = [];
      return {
        notifier,
        async connect() {
          const socket = new WebSocket(`ws://127.0.0.1:${port}/local`);
          sockets.push(socket);
          const received: string[] = [];
          let closed = false;
          socket.on('message', (data) => {
            received.push(data.toString());
            heard.changed();
          });
          socket.on('close', () => {
            closed = true;
            heard.changed();
          });
          await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
          await heard.until(() => connected.length === sockets.length, 'the $connect');
          return { connectionId: connected.at(-1)!, received, closed: () => closed };
        },
        async close() {
          for (const socket of sockets) socket.terminate();
          await gateway.close();
        },
      };
    },
  },
];

describe.each(kinds)('ConnectionNotifier contract: $name', ({ start }) => {
  let target: NotifierUnderTest;
  beforeAll(async () => {
    target = await start();
  });
  afterAll(() => target.close());

  it('delivers a message, or a body as it is, to an open connection', async () => {
    const client = await target.connect();
    expect(await target.notifier.post(client.connectionId, { type: 'peer', state: 'connected' })).toBe('delivered');
    expect(await target.notifier.postRaw(client.connectionId, '{"type":"frame","data":"AAEC"}')).toBe('delivered');
    await heard.until(() => client.received.length === 2, 'both messages');
    expect(client.received.map((body) => JSON.parse(body))).toEqual([{ type: 'peer', state: 'connected' }, { type: 'frame', data: 'AAEC' }]);
  });

  it('answers gone for a connection that never was, and after closing one', async () => {
    expect(await target.notifier.post('bm9uZXhpc3RlbnQ=', { type: 'peer', state: 'left' })).toBe('gone');
    await expect(target.notifier.disconnect('bm9uZXhpc3RlbnQ=')).resolves.toBeUndefined();
    const client = await target.connect();
    await target.notifier.disconnect(client.connectionId);
    await heard.until(client.closed, 'the connection to close');
    expect(await target.notifier.post(client.connectionId, { type: 'peer', state: 'left' })).toBe('gone');
    await expect(target.notifier.disconnect(client.connectionId)).resolves.toBeUndefined();
  });

  it('tells whether a connection still exists (the sweeper asks: $disconnect is best effort)', async () => {
    const client = await target.connect();
    expect(await target.notifier.isConnected(client.connectionId)).toBe(true);
    expect(await target.notifier.isConnected('bm9uZXhpc3RlbnQ=')).toBe(false);
    await target.notifier.disconnect(client.connectionId);
    await heard.until(client.closed, 'the connection to close');
    expect(await target.notifier.isConnected(client.connectionId)).toBe(false);
  });
});
