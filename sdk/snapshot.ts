// A session snapshot (AssistSnapshot) as text, for storage that keeps strings: the console's session
// storage, the CLI's state file. Bytes travel as {"$bytes": "<base64>"}; reading checks the shape
// and answers anything else with a SnapshotFormatError, so a damaged or foreign file gets a sentence,
// not a crash deep inside the stream.

import type { AssistSnapshot } from './assist-session.js';
import { decodeBase64, encodeBase64 } from '../shared/core/base64.js';
import { CodedError } from '../shared/core/coded-error.js';

/** Bumped whenever the layout changes; an older or newer snapshot is refused rather than misread. */
export const SNAPSHOT_VERSION = 1;

export class SnapshotFormatError extends CodedError<'unreadable-snapshot'> {
  override readonly name = 'SnapshotFormatError';

  constructor(message: string, options?: ErrorOptions) {
    super('unreadable-snapshot', message, options);
  }
}

export function encodeAssistSnapshot(snapshot: AssistSnapshot): string {
  return JSON.stringify({ version: SNAPSHOT_VERSION, snapshot }, (_key, value: unknown) =>
    value instanceof Uint8Array ? { $bytes: encodeBase64(value) } : value,
  );
}

export function decodeAssistSnapshot(text: string): AssistSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (_key, value: unknown) => {
      if (value !== null && typeof value === 'object' && '$bytes' in value) {
        const { $bytes } = value as { $bytes: unknown };
        if (typeof $bytes !== 'string') throw new SnapshotFormatError('bytes that are not base64');
        return decodeBase64($bytes);
      }
      return value;
    });
  } catch (error) {
    throw new SnapshotFormatError('the saved session is not readable (damaged or not a session snapshot)', { cause: error });
  }
  const envelope = parsed as { version?: unknown; snapshot?: unknown } | null;
  if (envelope?.version !== SNAPSHOT_VERSION) throw new SnapshotFormatError(`the saved session is of another version (${String(envelope?.version)}), not ${SNAPSHOT_VERSION}`);
  const snapshot = envelope.snapshot as AssistSnapshot;
  const problem = shapeProblem(snapshot);
  if (problem) throw new SnapshotFormatError(`the saved session is incomplete: ${problem}`);
  return snapshot;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';
const isCount = (value: unknown) => Number.isInteger(value) && (value as number) >= 0;

/** The fields whose absence or type would break a restore; the stream's arrays are checked item by item. */
function shapeProblem(snapshot: AssistSnapshot): string | undefined {
  if (!isObject(snapshot)) return 'no snapshot';
  if (snapshot.role !== 'agent' && snapshot.role !== 'expert') return 'role';
  for (const field of ['name', 'peerName', 'verificationCode'] as const) if (typeof snapshot[field] !== 'string') return field;
  if (snapshot.mode !== 'view' && snapshot.mode !== 'control') return 'mode';
  const relay = snapshot.relay as unknown;
  if (!isObject(relay) || typeof relay.url !== 'string') return 'relay url';
  const session = relay.session;
  if (!isObject(session) || typeof session.sessionId !== 'string' || typeof session.resumeToken !== 'string' || session.role !== snapshot.role) return 'session';
  const sessionStream = relay.sessionStream;
  if (sessionStream === undefined) return undefined;
  if (!isObject(sessionStream) || !isObject(sessionStream.keys) || !isObject(sessionStream.stream)) return 'session stream';
  const keys = sessionStream.keys;
  if (keys.format === 'aes-256-gcm') {
    if (!(keys.sendSecret instanceof Uint8Array) || !(keys.receiveSecret instanceof Uint8Array) || keys.role !== snapshot.role) return 'keys';
  } else if (keys.format !== 'plain') return 'keys';
  const stream = sessionStream.stream;
  for (const field of ['nextDataSeq', 'sendBase', 'nextControlSeq', 'nextExpected'] as const) if (!isCount(stream[field])) return field;
  if (!Array.isArray(stream.inFlight) || !stream.inFlight.every((packet) => isObject(packet) && isCount(packet.seq) && packet.frame instanceof Uint8Array)) return 'inFlight';
  if (!Array.isArray(stream.queued) || !stream.queued.every((message) => isObject(message) && message.bytes instanceof Uint8Array && isCount(message.offset))) return 'queued';
  if (!Array.isArray(stream.reorderBuffer) || !stream.reorderBuffer.every((packet) => isObject(packet) && isCount(packet.seq) && packet.body instanceof Uint8Array)) return 'reorderBuffer';
  if (!(stream.partialMessage instanceof Uint8Array)) return 'partialMessage';
  return undefined;
}
