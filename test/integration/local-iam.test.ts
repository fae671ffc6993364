import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { AccessDeniedException, enforceGrants, grantedMailer } from '../../infra/local/iam.js';
import { webSocketRoutes, type FunctionSpec } from '../../functions/lib/routes.js';
import { useLocalRuntime } from '../support/runtime.js';

// The local runtime gives each function only what its route-table entry grants, as its IAM role would:
// here the enforcement itself, against the runtime's real database and @connections endpoint.

const runtime = useLocalRuntime();

const listAudit: FunctionSpec = webSocketRoutes.listAudit;
const connect: FunctionSpec = webSocketRoutes.$connect;

describe('IAM in the local runtime', () => {
  it('lets a function perform its granted DynamoDB actions and refuses the others with AccessDeniedException naming the action', async () => {
    const client = new DynamoDBClient({ ...localAwsConfig, endpoint: runtime().dynamoEndpoint });
    enforceGrants(listAudit, 'dynamodb', client);
    const key = { pk: { S: 'AUDIT#nothing' } };
    await expect(client.send(new GetItemCommand({ TableName: runtime().tableName, Key: key }))).resolves.toBeDefined();
    const refused = await client.send(new PutItemCommand({ TableName: runtime().tableName, Item: key })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AccessDeniedException);
    expect(refused).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('list-audit function is not authorized to perform: dynamodb:PutItem') });
    client.destroy();
  });

  it('lets only functions granted @connections methods post or disconnect, each method separately', async () => {
    const endpoint = `${runtime().internalUrl}/local`;
    const denied = new ApiGatewayManagementApiClient({ ...localAwsConfig, endpoint });
    enforceGrants(connect, 'apigatewaymanagementapi', denied);
    await expect(denied.send(new PostToConnectionCommand({ ConnectionId: 'nobody=', Data: new Uint8Array() }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('execute-api:ManageConnections POST'),
    });
    const postOnly = new ApiGatewayManagementApiClient({ ...localAwsConfig, endpoint });
    enforceGrants({ ...connect, connections: ['POST'], clients: ['apigatewaymanagementapi'] }, 'apigatewaymanagementapi', postOnly);
    // Granted: it reaches the gateway, which answers that the connection is gone.
    await expect(postOnly.send(new PostToConnectionCommand({ ConnectionId: 'nobody=', Data: new Uint8Array() }))).rejects.toBeInstanceOf(GoneException);
    await expect(postOnly.send(new DeleteConnectionCommand({ ConnectionId: 'nobody=' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('gives the SES mailer only to a function with the SES client', async () => {
    const mailer = { send: async () => ({ messageId: 'sent' }) };
    const email = { to: 'tech@example.org', subject: 's', text: 't', html: 'h', attachments: [] };
    await expect(grantedMailer(webSocketRoutes.emailInvitation, mailer).send(email)).resolves.toEqual({ messageId: 'sent' });
    await expect(grantedMailer(webSocketRoutes.frame, mailer).send(email)).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('ses:SendEmail') });
  });
});
