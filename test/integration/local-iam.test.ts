import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { AccessDeniedException, enforceGrants } from '../../infra/local/iam.js';
import { OUTBOX_SES_PATH } from '../../infra/local/mail-outbox.js';
import { otherFunctions, webSocketRoutes, type FunctionSpec } from '../../functions/lib/routes.js';
import { tableSchema } from '../../shared/server/adapters/table.js';
import { useLocalRuntime } from '../support/runtime.js';

// The local runtime gives each function only what its route-table entry grants, as its IAM role would:
// here the enforcement itself, against the runtime's real database and @connections endpoint.

const runtime = useLocalRuntime();

const listAudit: FunctionSpec = webSocketRoutes.listAudit;
const connect: FunctionSpec = webSocketRoutes.$connect;

describe('IAM in the local runtime', () => {
  it('lets a function perform its granted DynamoDB actions and refuses the others with AccessDeniedException naming the action', async () => {
    const client = new DynamoDBClient({ ...localAwsConfig, endpoint: runtime().dynamoEndpoint });
    enforceGrants('list-audit', listAudit, 'dynamodb', client);
    const key = { pk: { S: 'AUDIT#nothing' } };
    await expect(client.send(new GetItemCommand({ TableName: runtime().tableName, Key: key }))).resolves.toBeDefined();
    const refused = await client.send(new PutItemCommand({ TableName: runtime().tableName, Item: key })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AccessDeniedException);
    expect(refused).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('list-audit function is not authorized to perform: dynamodb:PutItem') });
    client.destroy();
  });

  it('lets a function Query its own index only, as its role grants Query on that index and not on the table or another index', async () => {
    const client = new DynamoDBClient({ ...localAwsConfig, endpoint: runtime().dynamoEndpoint });
    enforceGrants('sweep', otherFunctions.sweep, 'dynamodb', client);
    const { openSessionsIndex, collectionsIndex } = tableSchema;
    const open = {
      KeyConditionExpression: '#open = :open',
      ExpressionAttributeNames: { '#open': openSessionsIndex.partitionKey },
      ExpressionAttributeValues: { ':open': { S: openSessionsIndex.value } },
    };
    await expect(client.send(new QueryCommand({ TableName: runtime().tableName, IndexName: openSessionsIndex.name, ...open }))).resolves.toMatchObject({ Count: 0 });
    const onTable = { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'SESSION#nothing' } } };
    const devices = {
      IndexName: collectionsIndex.name,
      KeyConditionExpression: '#collection = :devices',
      ExpressionAttributeNames: { '#collection': collectionsIndex.partitionKey },
      ExpressionAttributeValues: { ':devices': { S: 'DEVICES' } },
    };
    for (const elsewhere of [onTable, devices]) {
      await expect(client.send(new QueryCommand({ TableName: runtime().tableName, ...elsewhere }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining(`sweep function is not authorized to perform: dynamodb:Query other than on its ${openSessionsIndex.name} index`),
      });
    }
    client.destroy();
  });

  it('lets only functions granted @connections methods post or disconnect, each method separately', async () => {
    const endpoint = `${runtime().internalUrl}/local`;
    const denied = new ApiGatewayManagementApiClient({ ...localAwsConfig, endpoint });
    enforceGrants('connect', connect, 'apigatewaymanagementapi', denied);
    await expect(denied.send(new PostToConnectionCommand({ ConnectionId: 'nobody=', Data: new Uint8Array() }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('execute-api:ManageConnections POST'),
    });
    const postOnly = new ApiGatewayManagementApiClient({ ...localAwsConfig, endpoint });
    enforceGrants('connect', { ...connect, connections: ['POST'], clients: ['apigatewaymanagementapi'] }, 'apigatewaymanagementapi', postOnly);
    // Granted: it reaches the gateway, which answers that the connection is gone.
    await expect(postOnly.send(new PostToConnectionCommand({ ConnectionId: 'nobody=', Data: new Uint8Array() }))).rejects.toBeInstanceOf(GoneException);
    await expect(postOnly.send(new DeleteConnectionCommand({ ConnectionId: 'nobody=' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('lets only the function with the SES client send email', async () => {
    const sesClient = (name: string, spec: FunctionSpec) => {
      const client = new SESv2Client({ ...localAwsConfig, endpoint: `${runtime().internalUrl}${OUTBOX_SES_PATH}` });
      enforceGrants(name, spec, 'sesv2', client);
      return client;
    };
    const send = new SendEmailCommand({ FromEmailAddress: 'relay@localhost', Content: { Raw: { Data: new TextEncoder().encode('Subject: s\r\n\r\nt') } } });
    await expect(sesClient('frame', webSocketRoutes.frame).send(send)).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('frame function is not authorized to perform: ses:SendEmail'),
    });
    await expect(sesClient('email-invitation', webSocketRoutes.emailInvitation).send(send)).resolves.toMatchObject({ MessageId: expect.any(String) });
  });
});
