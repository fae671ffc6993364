import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { TechnicianIdentity } from '../../core/technician.js';
import type { TechnicianRegistry } from '../ports/technician-registry.js';
import { TableAdapter } from './dynamo-documents.js';

/** `TICKET#<ticket hash>`: a technician's sign-in ticket, for a minute (TTL); the ticket itself is never stored. */
const ticketKey = (ticketHash: string) => ({ pk: `TICKET#${ticketHash}` });
/** `TECHNICIAN#<connection id>`: who is signed in on a connection, for the connection's longest life (TTL). */
const connectionKey = (connectionId: string) => ({ pk: `TECHNICIAN#${connectionId}` });

const live = (item: Record<string, unknown> | undefined, now: number) =>
  item && (item.expiresAt as number) > now ? (item.technician as TechnicianIdentity) : undefined;

export class DynamoTechnicianRegistry extends TableAdapter implements TechnicianRegistry {
  async putTicket(ticketHash: string, technician: TechnicianIdentity, expiresAt: number): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...ticketKey(ticketHash), technician, expiresAt } }));
  }

  async takeTicket(ticketHash: string, now: number): Promise<TechnicianIdentity | undefined> {
    // One DeleteItem: of two connections presenting the same ticket, only one gets the item back.
    const { Attributes: old } = await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: ticketKey(ticketHash), ReturnValues: 'ALL_OLD' }));
    return live(old, now);
  }

  async attachTechnician(connectionId: string, technician: TechnicianIdentity, expiresAt: number): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...connectionKey(connectionId), technician, expiresAt } }));
  }

  async signedInTechnician(connectionId: string, now: number): Promise<TechnicianIdentity | undefined> {
    const { Item: item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: connectionKey(connectionId), ConsistentRead: true }));
    return live(item, now);
  }
}
