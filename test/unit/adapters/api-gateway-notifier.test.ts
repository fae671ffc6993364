import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  ForbiddenException,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayNotifier } from '../../../shared/server/adapters/api-gateway-notifier.js';
import { silentLog } from '../../../shared/server/ports/log.js';
import { RelayError } from '../../../shared/server/use-cases/errors.js';

const metadata = { $metadata: {} };
const gone = () => new GoneException({ message: 'gone', ...metadata });
const throttled = () => new LimitExceededException({ message: 'slow down', ...metadata });

describe('ApiGatewayNotifier', () => {
  const management = mockClient(ApiGatewayManagementApiClient);
  const notifier = new ApiGatewayNotifier(new ApiGatewayManagementApiClient({ region: 'eu-west-1' }), silentLog, {
    attempts: 3,
    baseDelayMs: 1,
  });

  beforeEach(() => management.reset());

  it('posts the exact bytes to the named connection', async () => {
    management.on(PostToConnectionCommand).resolves({});
    expect(await notifier.postRaw('peer-1', '{"type":"frame","data":"AA=="}')).toBe('delivered');
    const [call] = management.commandCalls(PostToConnectionCommand);
    expect(call?.args[0].input.ConnectionId).toBe('peer-1');
    expect(new TextDecoder().decode(call?.args[0].input.Data as Uint8Array)).toBe('{"type":"frame","data":"AA=="}');
  });

  it('reports GoneException as "gone" without retrying', async () => {
    management.on(PostToConnectionCommand).rejects(gone());
    expect(await notifier.post('peer-1', { type: 'peer', state: 'connected' })).toBe('gone');
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(1);
  });

  it('retries throttling with backoff and succeeds', async () => {
    management.on(PostToConnectionCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    expect(await notifier.postRaw('peer-1', '{}')).toBe('delivered');
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(3);
  });

  it('treats HTTP 429 without a typed error as throttling too', async () => {
    const tooMany = Object.assign(new Error('Too Many Requests'), { $metadata: { httpStatusCode: 429 } });
    management.on(PostToConnectionCommand).rejectsOnce(tooMany).resolves({});
    expect(await notifier.postRaw('peer-1', '{}')).toBe('delivered');
  });

  it('gives up after the configured attempts and reports "throttled"', async () => {
    management.on(PostToConnectionCommand).rejects(throttled());
    expect(await notifier.postRaw('peer-1', '{}')).toBe('throttled');
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(3);
  });

  it('maps PayloadTooLarge to a typed relay error', async () => {
    management.on(PostToConnectionCommand).rejects(new PayloadTooLargeException({ message: 'big', ...metadata }));
    await expect(notifier.postRaw('peer-1', '{}')).rejects.toMatchObject({ code: 'message-too-large' });
    await expect(notifier.postRaw('peer-1', '{}')).rejects.toBeInstanceOf(RelayError);
  });

  it('lets unexpected errors through', async () => {
    management.on(PostToConnectionCommand).rejects(new ForbiddenException({ message: 'no', ...metadata }));
    await expect(notifier.postRaw('peer-1', '{}')).rejects.toBeInstanceOf(ForbiddenException);
  });

  it('disconnects, and a connection that is already gone is not an error', async () => {
    management.on(DeleteConnectionCommand).rejectsOnce(gone()).resolves({});
    await expect(notifier.disconnect('old')).resolves.toBeUndefined();
    await notifier.disconnect('other');
    expect(management.commandCalls(DeleteConnectionCommand).map((call) => call.args[0].input.ConnectionId)).toEqual([
      'old',
      'other',
    ]);
  });

  it('asks @connections whether a connection exists: only GoneException means it does not', async () => {
    management.on(GetConnectionCommand, { ConnectionId: 'live-1' }).resolves({ ConnectedAt: new Date() });
    management.on(GetConnectionCommand, { ConnectionId: 'gone-1' }).rejects(gone());
    management.on(GetConnectionCommand, { ConnectionId: 'busy-1' }).rejects(throttled());
    expect(await notifier.isConnected('live-1')).toBe(true);
    expect(await notifier.isConnected('gone-1')).toBe(false);
    // Not known gone: the next sweep asks again rather than freeing a live participant's seat.
    expect(await notifier.isConnected('busy-1')).toBe(true);
  });
});
