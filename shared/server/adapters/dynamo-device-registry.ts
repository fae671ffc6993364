import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { DeviceRecord, DeviceRegistry, EnrolmentTokenRecord, OfferRecord } from '../ports/device-registry.js';
import type { SignedGroupPolicy } from '../../core/group-policy.js';
import { conditionally, documentClient } from './dynamo-documents.js';

// `ENROLMENT#<token hash>` items expire with the token (the TTL attribute is the token's own expiresAt);
// `DEVICE#<device id>` items have no expiresAt: a device stays enrolled until the operator removes it.
const ENROLMENT_PREFIX = 'ENROLMENT#';
const DEVICE_PREFIX = 'DEVICE#';
const tokenKey = (tokenHash: string) => ({ pk: `${ENROLMENT_PREFIX}${tokenHash}` });
/** `CHALLENGE#<connection id>`: a sign-in challenge, for a minute (TTL). */
const challengeKey = (connectionId: string) => ({ pk: `CHALLENGE#${connectionId}` });
const deviceKey = (deviceId: string) => ({ pk: `${DEVICE_PREFIX}${deviceId}` });
/** `POLICY#<group>`: the operator's signed policy for a device group (no expiresAt: it stays until replaced). */
const POLICY_PREFIX = 'POLICY#';
const policyKey = (group: string) => ({ pk: `${POLICY_PREFIX}${group}` });
/** `OFFER#<session id>`: an open help-desk offer, until the session's invitation closes (TTL). */
const offerKey = (sessionId: string) => ({ pk: `OFFER#${sessionId}` });

type Item = Record<string, unknown>;

function withoutKey<T>(item: Item): T {
  const { pk: _pk, ...rest } = item;
  return rest as T;
}

export class DynamoDeviceRegistry implements DeviceRegistry {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    /** Epoch seconds; a token past its `expiresAt` is absent even before TTL deletes it. */
    private readonly nowSeconds: () => number,
  ) {
    this.documents = documentClient(client);
  }

  private async *scan<T>(prefix: string, live: boolean): AsyncIterable<T> {
    const pages = paginateScan(
      { client: this.documents },
      {
        TableName: this.tableName,
        FilterExpression: live ? 'begins_with(pk, :prefix) AND expiresAt > :now' : 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': prefix, ...(live && { ':now': this.nowSeconds() }) },
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) yield withoutKey<T>(item);
  }

  async putOffer(offer: OfferRecord): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...offerKey(offer.sessionId), ...offer } }));
  }

  async getOffer(sessionId: string, now: number): Promise<OfferRecord | undefined> {
    const { Item: item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: offerKey(sessionId), ConsistentRead: true }));
    return item && (item.expiresAt as number) > now ? withoutKey<OfferRecord>(item) : undefined;
  }

  async putGroupPolicy(signed: SignedGroupPolicy): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...policyKey(signed.policy.group), ...signed } }));
  }

  async getGroupPolicy(group: string): Promise<SignedGroupPolicy | undefined> {
    const { Item: item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: policyKey(group), ConsistentRead: true }));
    return item && withoutKey<SignedGroupPolicy>(item);
  }

  listGroupPolicies(): AsyncIterable<SignedGroupPolicy> {
    return this.scan<SignedGroupPolicy>(POLICY_PREFIX, false);
  }

  async putEnrolmentToken(token: EnrolmentTokenRecord): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...tokenKey(token.tokenHash), ...token }, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  async spendEnrolmentToken(tokenHash: string, now: number): Promise<EnrolmentTokenRecord | undefined> {
    const result = await conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tokenKey(tokenHash),
          UpdateExpression: 'SET usesLeft = usesLeft - :one',
          ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now AND usesLeft > :zero',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':now': now },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return result?.Attributes && withoutKey<EnrolmentTokenRecord>(result.Attributes);
  }

  async refundEnrolmentToken(tokenHash: string): Promise<void> {
    await conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tokenKey(tokenHash),
          UpdateExpression: 'SET usesLeft = usesLeft + :one',
          // Not if the operator deleted it meanwhile: an update would make a token of the remains.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
    );
  }

  listEnrolmentTokens(): AsyncIterable<EnrolmentTokenRecord> {
    return this.scan<EnrolmentTokenRecord>(ENROLMENT_PREFIX, true);
  }

  async deleteEnrolmentToken(tokenHash: string): Promise<EnrolmentTokenRecord | undefined> {
    const { Attributes: old } = await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: tokenKey(tokenHash), ReturnValues: 'ALL_OLD' }));
    if (!old || (old.expiresAt as number) <= this.nowSeconds()) return undefined;
    return withoutKey<EnrolmentTokenRecord>(old);
  }

  async addDevice(device: DeviceRecord): Promise<boolean> {
    const added = await conditionally(() =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...deviceKey(device.deviceId), ...device }, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
    return added !== undefined;
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const { Item: item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: deviceKey(deviceId), ConsistentRead: true }));
    return item && withoutKey<DeviceRecord>(item);
  }

  listDevices(): AsyncIterable<DeviceRecord> {
    return this.scan<DeviceRecord>(DEVICE_PREFIX, false);
  }

  async removeDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const { Attributes: old } = await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: deviceKey(deviceId), ReturnValues: 'ALL_OLD' }));
    return old && withoutKey<DeviceRecord>(old);
  }

  async putChallenge(connectionId: string, challenge: string, expiresAt: number): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...challengeKey(connectionId), challenge, expiresAt } }));
  }

  async takeChallenge(connectionId: string, now: number): Promise<string | undefined> {
    const { Attributes: old } = await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: challengeKey(connectionId), ReturnValues: 'ALL_OLD' }));
    return old && (old.expiresAt as number) > now ? (old.challenge as string) : undefined;
  }

  async attachDevice(deviceId: string, connectionId: string, now: number, sourceIp: string): Promise<DeviceRecord | undefined> {
    const result = await conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deviceKey(deviceId),
          UpdateExpression: 'SET connectionId = :connectionId, lastSeenAt = :now, sourceIp = :sourceIp',
          // Not for a device removed meanwhile: an update would make a device of the remains.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':connectionId': connectionId, ':now': now, ':sourceIp': sourceIp },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return result?.Attributes && withoutKey<DeviceRecord>(result.Attributes);
  }

  async touchDevice(deviceId: string, connectionId: string, now: number): Promise<boolean> {
    const result = await conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deviceKey(deviceId),
          UpdateExpression: 'SET lastSeenAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND connectionId = :connectionId',
          ExpressionAttributeValues: { ':connectionId': connectionId, ':now': now },
        }),
      ),
    );
    return result !== undefined;
  }
}
