// The Lambda bundles, SDK stand-ins and all, against the local runtime's services: its DynamoDB (dynalite),
// its @connections endpoint and its SES-compatible outbox. The integration tests run the handlers
// unbundled; this shows that what deploys still signs, serialises and reaches every service it calls.
// The SDK's own variables (AWS_ENDPOINT_URL_<SERVICE>) point the bundled clients at the local services.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../shared/core/messages.js';
import { newFileSecret } from '../../shared/core/codes.js';
import { createInvitationFile } from '../../shared/core/invitation-file.js';
import { webSocketEvent } from '../support/events.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';
import { lambdaEnvironment, LambdaBundles } from './lambda-bundles.js';

type Created = Extract<ServerMessage, { type: 'sessionCreated' }>;

/** How far behind real time the runtime's (unbundled) handlers' clock runs; the bundles keep real time. */
let handlersBehindMs = 0;
// The runtime's own sweeper stays out of the way: the bundled one does the sweeping here.
const runtime = useLocalRuntime({ sweepIntervalMs: 60 * 60 * 1000, clock: () => Date.now() - handlersBehindMs });

describe('Lambda bundles against the local runtime', () => {
  let built: LambdaBundles;
  let environment: NodeJS.ProcessEnv;
  const invoke = async (name: string, event: unknown) => (await built.invoke(name, environment, event)).result;
  const replyOf = (result: { body?: string } | undefined) => JSON.parse(result?.body ?? 'null') as ServerMessage;

  beforeAll(async () => {
    const { tableName, dynamoEndpoint, wsUrl, httpUrl, internalUrl } = runtime();
    environment = {
      ...lambdaEnvironment,
      TABLE_NAME: tableName,
      ASSIST_WEBSOCKET_URL: wsUrl,
      ASSIST_HTTP_URL: httpUrl,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_ENDPOINT_URL_SESV2: `${internalUrl}/ses`,
      ASSIST_EMAIL_FROM: 'Assist Relay <relay@example.org>',
      CALLBACK_URL: `${internalUrl}/local`,
    };
    built = await LambdaBundles.build(['connect', 'create-session', 'email-invitation', 'sweep']);
  });

  afterAll(() => built.remove());

  it('connect, create-session and email-invitation: DynamoDB reads and writes, and an email through SES v2', async () => {
    const connectionId = 'bundled-connection-1';
    expect(await invoke('connect', webSocketEvent('$connect', connectionId))).toEqual({ statusCode: 200 });

    const created = replyOf(await invoke('create-session', webSocketEvent('createSession', connectionId, { action: 'createSession', kind: 'file' }))) as Created;
    expect(created).toMatchObject({ type: 'sessionCreated', kind: 'file', role: 'agent' });
    // The unbundled relay reads what the bundle wrote: the join page knows the new invitation.
    expect((await fetch(`${runtime().httpUrl}/join/${created.nameplate}`)).status).toBe(200);

    const invitation = createInvitationFile({
      relay: { webSocketUrl: runtime().wsUrl, httpUrl: runtime().httpUrl },
      nameplate: created.nameplate,
      secret: newFileSecret(),
      requester: 'Ada Lovelace',
      createdAt: new Date(),
      expiresAt: new Date(created.invitationExpiresAt * 1000),
    });
    const request = { action: 'emailInvitation', to: 'tech@example.org', requesterName: 'Ada Lovelace', invitation };
    expect(replyOf(await invoke('email-invitation', webSocketEvent('emailInvitation', connectionId, request)))).toEqual({
      type: 'invitationEmailed',
      to: 'tech@example.org',
    });
    expect(await runtime().outbox.messages()).toEqual([expect.objectContaining({ to: 'tech@example.org' })]);
  });

  it('sweep: queries the open sessions, ends an overdue invitation, tells its creator over @connections and closes the connection', async () => {
    const creator = await TestSocket.open(runtime().wsUrl);
    // Created 5 s in the past with a 1 s lifetime: overdue for the bundled sweep at once, with no waiting in real time.
    handlersBehindMs = 5_000;
    const created = (await creator.request({ action: 'createSession', kind: 'helper-code', invitationTtlSeconds: 1 })) as Created;
    handlersBehindMs = 0;
    expect(created.invitationExpiresAt).toBeLessThan(Date.now() / 1000);
    const managementRequests = runtime().counters().managementRequests;

    expect(await invoke('sweep', { source: 'aws.events', 'detail-type': 'Scheduled Event' })).toEqual({ ended: 1 });

    expect(await creator.next()).toEqual({ type: 'ended', reason: 'expired' });
    await creator.closed;
    expect(runtime().counters().managementRequests).toBeGreaterThanOrEqual(managementRequests + 2); // POST "ended", DELETE
  });
});
