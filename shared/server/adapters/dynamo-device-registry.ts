import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { DeviceRecord, DeviceRegistry, EnrolmentTokenRecord, OfferRecord } from '../ports/device-registry.js';
import type { SignedGroupPolicy } from '../../core/group-policy.js';
import type { DeviceApproval } from '../../core/device-approval.js';
import { conditionally, TableAdapter, type TableItem } from './dynamo-documents.js';
import { tableSchema } from './table.js';

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

// Devices, policies and tokens are listed from item collections of the Collections index (table.ts), each
// item carrying its collection and its member (sort key) from the moment it is written.
const { collectionsIndex } = tableSchema;
const COLLECTIONS = { devices: 'DEVICES', policies: 'POLICIES', enrolmentTokens: 'ENROLMENTS' } as const;
type Collection = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];
const inCollection = (collection: Collection, member: string) => ({ [collectionsIndex.partitionKey]: collection, [collectionsIndex.sortKey]: member });
/** A device's member sorts it by group: `<group>#<device id>` (device ids are base64url, never holding a `#`). */
const deviceMember = (group: string, deviceId: string) => `${group}#${deviceId}`;
const groupOfDeviceMember = (member: string) => member.slice(0, member.lastIndexOf('#'));
/** Keys per Query page: the items of a page are read all at once. */
const KEYS_PER_PAGE = 100;

function withoutKey<T>(item: TableItem): T {
  const { pk: _pk, [collectionsIndex.partitionKey]: _collection, [collectionsIndex.sortKey]: _member, ...rest } = item;
  return rest as T;
}

/** Key prefixes of the items listed from collections (for infra/upgrade-table.ts). */
export const COLLECTED_PREFIXES = [DEVICE_PREFIX, POLICY_PREFIX, ENROLMENT_PREFIX] as const;

/** The collection attributes an item of this registry belongs with, from its key and group; undefined for the others. */
export function membershipOf(item: TableItem): TableItem | undefined {
  const pk = String(item.pk);
  if (pk.startsWith(DEVICE_PREFIX)) return inCollection(COLLECTIONS.devices, deviceMember(String(item.group), pk.slice(DEVICE_PREFIX.length)));
  if (pk.startsWith(POLICY_PREFIX)) return inCollection(COLLECTIONS.policies, pk.slice(POLICY_PREFIX.length));
  if (pk.startsWith(ENROLMENT_PREFIX)) return inCollection(COLLECTIONS.enrolmentTokens, pk.slice(ENROLMENT_PREFIX.length));
  return undefined;
}

/** The item as written: with its collection attributes when it is one of the listed kinds. */
const filed = (item: TableItem): TableItem => ({ ...item, ...membershipOf(item) });

export class DynamoDeviceRegistry extends TableAdapter implements DeviceRegistry {
  /** The items of one collection (those whose member starts with `memberPrefix`, and passes `keep`), a page at a time. */
  private async *collection<T>(collection: Collection, memberPrefix = '', keep: (member: string) => boolean = () => true): AsyncIterable<T> {
    const pages = paginateQuery(
      { client: this.documents, pageSize: KEYS_PER_PAGE },
      {
        TableName: this.tableName,
        IndexName: collectionsIndex.name,
        KeyConditionExpression: '#collection = :collection AND begins_with(#member, :prefix)',
        ExpressionAttributeNames: { '#collection': collectionsIndex.partitionKey, '#member': collectionsIndex.sortKey },
        ExpressionAttributeValues: { ':collection': collection, ':prefix': memberPrefix },
      },
    );
    for await (const page of pages) {
      const keys = (page.Items ?? []).filter((item) => keep(String(item[collectionsIndex.sortKey]))).map((item) => ({ pk: item.pk }));
      for (const item of await this.readAll(keys)) yield withoutKey<T>(item);
    }
  }

  /**
   * The items the keys name, in their order (one deleted meanwhile left out): a GetItem each, all at once,
   * eventually consistent as the index is (half a consistent read's cost). GetItem rather than BatchGetItem,
   * which reads at the same price but would add ~1.4 KB of SDK code to every function’s bundle.
   */
  private async readAll(keys: TableItem[]): Promise<TableItem[]> {
    const items = await Promise.all(keys.map(async (Key) => (await this.documents.send(new GetCommand({ TableName: this.tableName, Key }))).Item));
    return items.filter((item) => item !== undefined);
  }

  async putOffer(offer: OfferRecord): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...offerKey(offer.sessionId), ...offer } }));
  }

  async getOffer(sessionId: string, now: number): Promise<OfferRecord | undefined> {
    const { Item: item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: offerKey(sessionId), ConsistentRead: true }));
    return item && (item.expiresAt as number) > now ? withoutKey<OfferRecord>(item) : undefined;
  }

  async putGroupPolicy(signed: SignedGroupPolicy): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: filed({ ...policyKey(signed.policy.group), ...signed }) }));
  }

  async getGroupPolicy(group: string): Promise<SignedGroupPolicy | undefined> {
    const { Item: item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: policyKey(group), ConsistentRead: true }));
    return item && withoutKey<SignedGroupPolicy>(item);
  }

  listGroupPolicies(): AsyncIterable<SignedGroupPolicy> {
    return this.collection<SignedGroupPolicy>(COLLECTIONS.policies);
  }

  async putEnrolmentToken(token: EnrolmentTokenRecord): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: filed({ ...tokenKey(token.tokenHash), ...token }), ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  async spendEnrolmentToken(tokenHash: string, now: number): Promise<EnrolmentTokenRecord | undefined> {
    const result = await this.#updateIf(
      tokenKey(tokenHash),
      'SET usesLeft = usesLeft - :one',
      'attribute_exists(pk) AND expiresAt > :now AND usesLeft > :zero',
      { ':one': 1, ':zero': 0, ':now': now },
      'ALL_OLD',
    );
    return result?.Attributes && withoutKey<EnrolmentTokenRecord>(result.Attributes);
  }

  async refundEnrolmentToken(tokenHash: string): Promise<void> {
    // Not if the operator deleted it meanwhile: an update would make a token of the remains.
    await this.#updateIf(tokenKey(tokenHash), 'SET usesLeft = usesLeft + :one', 'attribute_exists(pk)', { ':one': 1 });
  }

  async *listEnrolmentTokens(): AsyncIterable<EnrolmentTokenRecord> {
    const now = this.nowSeconds();
    for await (const token of this.collection<EnrolmentTokenRecord>(COLLECTIONS.enrolmentTokens)) if (token.expiresAt > now) yield token;
  }

  async deleteEnrolmentToken(tokenHash: string): Promise<EnrolmentTokenRecord | undefined> {
    const { Attributes: old } = await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: tokenKey(tokenHash), ReturnValues: 'ALL_OLD' }));
    if (!old || (old.expiresAt as number) <= this.nowSeconds()) return undefined;
    return withoutKey<EnrolmentTokenRecord>(old);
  }

  async addDevice(device: DeviceRecord): Promise<boolean> {
    const added = await conditionally(() =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: filed({ ...deviceKey(device.deviceId), ...device }), ConditionExpression: 'attribute_not_exists(pk)' })),
    );
    return added !== undefined;
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const { Item: item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: deviceKey(deviceId), ConsistentRead: true }));
    return item && withoutKey<DeviceRecord>(item);
  }

  listDevices(): AsyncIterable<DeviceRecord> {
    return this.collection<DeviceRecord>(COLLECTIONS.devices);
  }

  listDevicesInGroup(group: string): AsyncIterable<DeviceRecord> {
    // The prefix `<group>#` also finds the group `<group>#x`'s devices: the member says whose each is.
    return this.collection<DeviceRecord>(COLLECTIONS.devices, deviceMember(group, ''), (member) => groupOfDeviceMember(member) === group);
  }

  async approveDevice(deviceId: string, publicKey: string, approval: DeviceApproval): Promise<boolean> {
    // Not for a device removed meanwhile, nor one whose key changed since the operator looked.
    const result = await this.#updateIf(deviceKey(deviceId), 'SET approval = :approval', 'attribute_exists(pk) AND publicKey = :publicKey', { ':approval': approval, ':publicKey': publicKey });
    return result !== undefined;
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
    // Not for a device removed meanwhile: an update would make a device of the remains.
    const result = await this.#updateIf(
      deviceKey(deviceId),
      'SET connectionId = :connectionId, lastSeenAt = :now, sourceIp = :sourceIp',
      'attribute_exists(pk)',
      { ':connectionId': connectionId, ':now': now, ':sourceIp': sourceIp },
      'ALL_OLD',
    );
    return result?.Attributes && withoutKey<DeviceRecord>(result.Attributes);
  }

  async touchDevice(deviceId: string, connectionId: string, now: number): Promise<boolean> {
    const result = await this.#updateIf(deviceKey(deviceId), 'SET lastSeenAt = :now', 'attribute_exists(pk) AND connectionId = :connectionId', { ':connectionId': connectionId, ':now': now });
    return result !== undefined;
  }

  /** A conditional update of one item: undefined when the condition failed. */
  #updateIf(key: Record<string, string>, update: string, condition: string, values: Record<string, unknown>, returnValues?: 'ALL_OLD') {
    return conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ...(returnValues ? { ReturnValues: returnValues } : {}),
        }),
      ),
    );
  }
}
