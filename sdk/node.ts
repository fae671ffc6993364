// Node entry point: Node 20 has no global WebSocket, so this wires the `ws` package into the client.
import WebSocket from 'ws';
import { RelayClient, type RelayClientOptions } from './client.js';

export * from './index.js';

export function createRelayClient(options: Omit<RelayClientOptions, 'WebSocket'>): RelayClient {
  return new RelayClient({ ...options, WebSocket });
}
