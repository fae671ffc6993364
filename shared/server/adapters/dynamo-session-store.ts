import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateQuery,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { ApprovalMode, Role } from '../../core/messages.js';
import { conditionally, TableAdapter, type TableItem } from './dynamo-documents.js';
import { tableSchema } from './table.js';
import type { ConnectionRecord, ParticipantSeat, SessionRecord, SessionStore, TokenRotation } from '../ports/session-store.js';

// Single-table layout: every item has `pk` and the TTL attribute `expiresAt` (epoch seconds).
const sessionKey = (sessionId: string) => ({ pk: `SESSION#${sessionId}` });
const connectionKey = (connectionId: string) => ({ pk: `CONN#${connectionId}` });
const nameplateKey = (nameplate: string) => ({ pk: `NAMEPLATE#${nameplate}` });
const { openSessionsIndex } = tableSchema;

/** The session a conditional update returned (ALL_OLD or ALL_NEW), or undefined when its condition lost. */
function sessionFrom(result: { Attributes?: TableItem } | undefined): SessionRecord | undefined {
  return result?.Attributes && withoutKeys<SessionRecord>(result.Attributes);
}

function withoutKeys<T>(item: TableItem): T {
  const { pk: _pk, expiresAt: _expiresAt, [openSessionsIndex.partitionKey]: _open, ...rest } = item;
  return rest as T;
}

export class DynamoSessionStore extends TableAdapter implements SessionStore {
  /** A conditional UpdateItem on this table: the result, or undefined when the condition lost. */
  private conditionalUpdate(input: Omit<UpdateCommandInput, 'TableName'>) {
    return conditionally(() => this.documents.send(new UpdateCommand({ TableName: this.tableName, ...input })));
  }

  private async getLive(key: TableItem): Promise<TableItem | undefined> {
    const { Item: item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    if (!item || (item.expiresAt as number) <= this.nowSeconds()) return undefined;
    return item;
  }

  async putConnection(connection: ConnectionRecord, expiresAt: number): Promise<void> {
    await this.documents.send(
      new PutCommand({ TableName: this.tableName, Item: { ...connectionKey(connection.connectionId), ...connection, expiresAt } }),
    );
  }

  async getConnection(connectionId: string): Promise<ConnectionRecord | undefined> {
    const item = await this.getLive(connectionKey(connectionId));
    return item && withoutKeys<ConnectionRecord>(item);
  }

  async bindConnection(connectionId: string, sessionId: string, role: Role): Promise<boolean> {
    const bound = await this.conditionalUpdate({
      Key: connectionKey(connectionId),
      UpdateExpression: 'SET sessionId = :sessionId, #role = :role',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(sessionId)',
      ExpressionAttributeNames: { '#role': 'role' },
      ExpressionAttributeValues: { ':sessionId': sessionId, ':role': role },
    });
    return bound !== undefined;
  }

  async unbindConnection(connectionId: string, sessionId: string): Promise<void> {
    await this.conditionalUpdate({
      Key: connectionKey(connectionId),
      UpdateExpression: 'REMOVE sessionId, #role',
      ConditionExpression: 'sessionId = :sessionId',
      ExpressionAttributeNames: { '#role': 'role' },
      ExpressionAttributeValues: { ':sessionId': sessionId },
    });
  }

  async deleteConnection(connectionId: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: connectionKey(connectionId) }));
  }

  async claimNameplate(nameplate: string, sessionId: string, expiresAt: number): Promise<boolean> {
    const claimed = await conditionally(() =>
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...nameplateKey(nameplate), sessionId, expiresAt },
          // An expired nameplate counts as free even before TTL removes it.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': this.nowSeconds() },
        }),
      ),
    );
    return claimed !== undefined;
  }

  async findSessionIdByNameplate(nameplate: string): Promise<string | undefined> {
    return (await this.getLive(nameplateKey(nameplate)))?.sessionId as string | undefined;
  }

  async releaseNameplate(nameplate: string, sessionId: string): Promise<void> {
    await conditionally(() =>
      this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: nameplateKey(nameplate),
          ConditionExpression: 'sessionId = :sessionId',
          ExpressionAttributeValues: { ':sessionId': sessionId },
        }),
      ),
    );
  }

  async createSession(session: SessionRecord, expiresAt: number): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        // Listed in the sparse OpenSessions index until it ends.
        Item: { ...sessionKey(session.sessionId), ...session, expiresAt, [openSessionsIndex.partitionKey]: openSessionsIndex.value },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getSession(sessionId: string): Promise<SessionRecord | undefined> {
    const item = await this.getLive(sessionKey(sessionId));
    return item && withoutKeys<SessionRecord>(item);
  }

  async claimJoinerSeat(sessionId: string, role: Role, seat: ParticipantSeat, now: number): Promise<boolean> {
    const claimed = await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      UpdateExpression: 'SET #seat = :seat, #state = :joined, lastActiveAt = :now',
      ConditionExpression: 'attribute_exists(pk) AND #state = :waiting AND attribute_not_exists(#seat) AND expiresAt > :now',
      ExpressionAttributeNames: { '#state': 'state', '#seat': role },
      ExpressionAttributeValues: { ':seat': seat, ':joined': 'joined', ':waiting': 'waiting', ':now': now },
    });
    return claimed !== undefined;
  }

  async releaseJoinerSeat(sessionId: string, role: Role, connectionId: string): Promise<SessionRecord | undefined> {
    const result = await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      UpdateExpression: 'SET #state = :waiting REMOVE #seat',
      ConditionExpression: '#state = :joined AND #seat.connectionId = :connectionId',
      ExpressionAttributeNames: { '#state': 'state', '#seat': role },
      ExpressionAttributeValues: { ':waiting': 'waiting', ':joined': 'joined', ':connectionId': connectionId },
      ReturnValues: 'ALL_NEW',
    });
    return sessionFrom(result);
  }

  async countFailedAttempt(sessionId: string): Promise<SessionRecord | undefined> {
    const result = await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      UpdateExpression: 'ADD failedAttempts :one',
      ConditionExpression: '#state IN (:waiting, :joined)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':one': 1, ':waiting': 'waiting', ':joined': 'joined' },
      ReturnValues: 'ALL_NEW',
    });
    return sessionFrom(result);
  }

  async countEmail(sessionId: string, limit: number): Promise<boolean> {
    const counted = await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      UpdateExpression: 'ADD emailsSent :one',
      ConditionExpression: '#state = :waiting AND (attribute_not_exists(emailsSent) OR emailsSent < :limit)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':one': 1, ':waiting': 'waiting', ':limit': limit },
    });
    return counted !== undefined;
  }

  async uncountEmail(sessionId: string): Promise<void> {
    await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      UpdateExpression: 'ADD emailsSent :minusOne',
      ConditionExpression: 'emailsSent > :zero',
      ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
    });
  }

  async activateSession(sessionId: string, mode: ApprovalMode, now: number, sessionExpiresAt: number): Promise<SessionRecord | undefined> {
    const result = await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      UpdateExpression: 'SET #state = :active, approvedMode = :mode, approvedAt = :now, sessionExpiresAt = :expiresAt, lastActiveAt = :now',
      ConditionExpression: '#state = :joined',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':active': 'active', ':joined': 'joined', ':mode': mode, ':expiresAt': sessionExpiresAt, ':now': now },
      ReturnValues: 'ALL_NEW',
    });
    return sessionFrom(result);
  }

  async extendSession(sessionId: string, sessionExpiresAt: number, recordExpiresAt: number): Promise<SessionRecord | undefined> {
    const result = await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      // The TTL attribute moves too: DynamoDB must not delete a session that still runs.
      UpdateExpression: 'SET sessionExpiresAt = :sessionExpiresAt, expiresAt = :recordExpiresAt',
      ConditionExpression: '#state = :active AND sessionExpiresAt < :sessionExpiresAt',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':active': 'active', ':sessionExpiresAt': sessionExpiresAt, ':recordExpiresAt': recordExpiresAt },
      ReturnValues: 'ALL_NEW',
    });
    return sessionFrom(result);
  }

  async attachConnection(sessionId: string, role: Role, connectionId: string, rotation: TokenRotation): Promise<SessionRecord | undefined> {
    const result = await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      UpdateExpression:
        'SET #seat.connectionId = :connectionId, #seat.tokenHash = :next, #seat.previousTokenHash = :presented, #seat.previousTokenUntil = :until REMOVE #seat.disconnectedAt',
      ConditionExpression:
        'attribute_exists(#seat) AND #state <> :ended AND (#seat.tokenHash = :presented OR (#seat.previousTokenHash = :presented AND #seat.previousTokenUntil > :now))',
      ExpressionAttributeNames: { '#seat': role, '#state': 'state' },
      ExpressionAttributeValues: {
        ':connectionId': connectionId,
        ':ended': 'ended',
        ':presented': rotation.presented,
        ':next': rotation.next,
        ':now': rotation.now,
        ':until': rotation.previousUntil,
      },
      ReturnValues: 'ALL_OLD',
    });
    return sessionFrom(result);
  }

  async detachConnection(sessionId: string, role: Role, connectionId: string, now: number): Promise<SessionRecord | undefined> {
    const result = await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      UpdateExpression: 'SET #seat.disconnectedAt = :now REMOVE #seat.connectionId',
      ConditionExpression: '#seat.connectionId = :connectionId',
      ExpressionAttributeNames: { '#seat': role },
      ExpressionAttributeValues: { ':connectionId': connectionId, ':now': now },
      ReturnValues: 'ALL_NEW',
    });
    return sessionFrom(result);
  }

  async touchSession(sessionId: string, now: number): Promise<void> {
    await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      UpdateExpression: 'SET lastActiveAt = :now',
      ConditionExpression: 'attribute_exists(pk) AND #state <> :ended AND lastActiveAt < :now',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':now': now, ':ended': 'ended' },
    });
  }

  async endSession(sessionId: string, reason: SessionRecord['endedReason'] & string, now: number): Promise<SessionRecord | undefined> {
    const result = await this.conditionalUpdate({
      Key: sessionKey(sessionId),
      // Out of the OpenSessions index: the sweeper never reads it again.
      UpdateExpression: 'SET #state = :ended, endedReason = :reason, endedAt = :now REMOVE #open',
      ConditionExpression: 'attribute_exists(pk) AND #state <> :ended',
      ExpressionAttributeNames: { '#state': 'state', '#open': openSessionsIndex.partitionKey },
      ExpressionAttributeValues: { ':ended': 'ended', ':reason': reason, ':now': now },
      ReturnValues: 'ALL_OLD',
    });
    return sessionFrom(result);
  }

  /**
   * The sessions in the OpenSessions index (keys only: a few bytes each), each then read from the table
   * with strong consistency, since the index lags writes and may still list one that just ended.
   */
  async *listOpenSessions(): AsyncIterable<SessionRecord> {
    const pages = paginateQuery(
      { client: this.documents },
      {
        TableName: this.tableName,
        IndexName: openSessionsIndex.name,
        KeyConditionExpression: '#open = :open',
        ExpressionAttributeNames: { '#open': openSessionsIndex.partitionKey },
        ExpressionAttributeValues: { ':open': openSessionsIndex.value },
      },
    );
    for await (const page of pages) {
      for (const key of page.Items ?? []) {
        const item = await this.getLive({ pk: key.pk });
        if (item && item.state !== 'ended') yield withoutKeys<SessionRecord>(item);
      }
    }
  }
}
