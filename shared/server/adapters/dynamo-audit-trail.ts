import { GetCommand, UpdateCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../../core/messages.js';
import type { AuditTrail } from '../ports/audit-trail.js';
import { conditionally, TableAdapter } from './dynamo-documents.js';

const AUDIT_PREFIX = 'AUDIT#';
/** Bounds the item (DynamoDB items are at most 400 KB) against a client spamming recordable events. */
export const MAX_AUDIT_EVENTS = 200;

/** One `AUDIT#<session id>` item per session holding its events in order; one read lists them. */
export class DynamoAuditTrail extends TableAdapter implements AuditTrail {
  async append(sessionId: string, event: AuditEvent, expiresAt: number): Promise<void> {
    await conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `${AUDIT_PREFIX}${sessionId}` },
          UpdateExpression: 'SET events = list_append(if_not_exists(events, :none), :event), expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(events) OR size(events) < :max',
          ExpressionAttributeValues: { ':none': [], ':event': [event], ':expiresAt': expiresAt, ':max': MAX_AUDIT_EVENTS },
        }),
      ),
    );
  }

  async list(sessionId: string): Promise<AuditEvent[]> {
    const { Item: item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `${AUDIT_PREFIX}${sessionId}` }, ConsistentRead: true }),
    );
    if (!item || (item.expiresAt as number) <= this.nowSeconds()) return [];
    return item.events as AuditEvent[];
  }

  async *listAll(): AsyncIterable<{ sessionId: string; events: AuditEvent[] }> {
    const pages = paginateScan(
      { client: this.documents },
      {
        TableName: this.tableName,
        FilterExpression: 'begins_with(pk, :prefix) AND expiresAt > :now',
        ExpressionAttributeValues: { ':prefix': AUDIT_PREFIX, ':now': this.nowSeconds() },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        yield { sessionId: (item.pk as string).slice(AUDIT_PREFIX.length), events: item.events as AuditEvent[] };
      }
    }
  }
}
