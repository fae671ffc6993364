import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../ports/rate-limiter.js';
import { conditionally, TableAdapter } from './dynamo-documents.js';

/** One `RATE#<key>#<window start>` item per key and window, counted with a conditional ADD; TTL removes it after the window. */
export class DynamoRateLimiter extends TableAdapter implements RateLimiter {
  async consume(key: string, limit: number, windowSeconds: number, now: number): Promise<boolean> {
    const windowStart = now - (now % windowSeconds);
    const counted = await conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `RATE#${key}#${windowStart}` },
          UpdateExpression: 'ADD hits :one SET expiresAt = :windowEnd',
          ConditionExpression: 'attribute_not_exists(hits) OR hits < :limit',
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':windowEnd': windowStart + windowSeconds },
        }),
      ),
    );
    return counted !== undefined;
  }
}
