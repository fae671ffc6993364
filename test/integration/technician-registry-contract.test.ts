// The technician registry's contract, held by both adapters: the in-memory one the unit tests use and the
// DynamoDB one (against dynalite): tickets are taken once and expire; a connection's technician expires.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig, startLocalDynamo, type LocalDynamo } from '../../infra/local/dynamo.js';
import { DynamoTechnicianRegistry } from '../../shared/server/adapters/dynamo-technician-registry.js';
import { MemoryTechnicianRegistry } from '../../shared/server/adapters/memory-technician-registry.js';
import type { TechnicianIdentity } from '../../shared/core/technician.js';
import type { TechnicianRegistry } from '../../shared/server/ports/technician-registry.js';

const NOW = 1_800_000_000;
let dynamo: LocalDynamo;
let client: DynamoDBClient;
beforeAll(async () => {
  dynamo = await startLocalDynamo('technician-contract');
  client = new DynamoDBClient({ ...localAwsConfig, endpoint: dynamo.endpoint });
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

const adapters: Array<[string, () => TechnicianRegistry]> = [
  ['memory', () => new MemoryTechnicianRegistry()],
  ['dynamodb', () => new DynamoTechnicianRegistry(client, 'technician-contract')],
];
const ada: TechnicianIdentity = { issuer: 'https://login.example.org', subject: 'ada', name: 'Ada', email: 'ada@example.org', groups: ['Help desk', 'Tier 2'] };
const unique = () => `key-${Math.random().toString(36).slice(2)}`;

describe.each(adapters)('technician registry (%s)', (_name, make) => {
  it('gives a ticket’s technician back once, and nothing after it expired', async () => {
    const registry = make();
    const [live, expired] = [unique(), unique()];
    await registry.putTicket(live, ada, NOW + 60);
    await registry.putTicket(expired, ada, NOW + 60);
    expect(await registry.takeTicket(live, NOW)).toEqual(ada);
    expect(await registry.takeTicket(live, NOW)).toBeUndefined();
    expect(await registry.takeTicket(expired, NOW + 60)).toBeUndefined();
    expect(await registry.takeTicket(expired, NOW)).toBeUndefined();
  });

  it('keeps who signed in on a connection until it expires, groups and all (none too)', async () => {
    const registry = make();
    const [connection, other] = [unique(), unique()];
    await registry.attachTechnician(connection, ada, NOW + 100);
    await registry.attachTechnician(other, { ...ada, subject: 'grace', groups: [] }, NOW + 100);
    expect(await registry.signedInTechnician(connection, NOW + 99)).toEqual(ada);
    expect(await registry.signedInTechnician(other, NOW)).toMatchObject({ subject: 'grace', groups: [] });
    expect(await registry.signedInTechnician(connection, NOW + 100)).toBeUndefined();
    expect(await registry.signedInTechnician(unique(), NOW)).toBeUndefined();
  });
});
