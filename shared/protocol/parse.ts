import { RelayError } from '../relay/errors.js';
import {
  clientActions,
  MAX_FRAME_DATA_CHARS,
  type ClientAction,
  type ClientMessage,
} from './messages.js';

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;
const sessionIdPattern = /^[A-Za-z0-9_-]{16,64}$/;
const tokenPattern = /^[A-Za-z0-9_-]{32,128}$/;
const nameplatePattern = /^[A-Za-z0-9]{1,32}$/;

type JsonObject = Record<string, unknown>;

function invalid(message: string): never {
  throw new RelayError('invalid-request', message);
}

function requireString(body: JsonObject, field: string, pattern: RegExp, what: string): string {
  const value = body[field];
  if (typeof value !== 'string' || !pattern.test(value)) invalid(`"${field}" must be ${what}`);
  return value;
}

function parseFrameData(body: JsonObject): string {
  const data = body.data;
  if (typeof data !== 'string') invalid('"data" must be a base64 string');
  if (data.length > MAX_FRAME_DATA_CHARS) {
    throw new RelayError(
      'frame-too-large',
      `frame data is ${data.length} characters; the limit is ${MAX_FRAME_DATA_CHARS} (split larger payloads into frames)`,
    );
  }
  if (data.length % 4 !== 0 || !base64Pattern.test(data)) invalid('"data" must be a base64 string');
  return data;
}

function parseOptionalTtl(body: JsonObject): number | undefined {
  const ttl = body.ttlSeconds;
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl <= 0) {
    invalid('"ttlSeconds" must be a positive whole number');
  }
  return ttl;
}

/** Parses the JSON envelope and returns its action, so a route can be chosen before full validation. */
export function parseEnvelope(body: string | undefined | null): { action: string | undefined; fields: JsonObject } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    throw new RelayError('malformed-json', 'the message is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RelayError('malformed-json', 'the message must be a JSON object with an "action" field');
  }
  const fields = parsed as JsonObject;
  return { action: typeof fields.action === 'string' ? fields.action : undefined, fields };
}

function isClientAction(action: string | undefined): action is ClientAction {
  return (clientActions as readonly string[]).includes(action ?? '');
}

/** Validates one client message completely; every failure is a RelayError the caller is shown. */
export function parseClientMessage(body: string | undefined | null): ClientMessage {
  const { action, fields } = parseEnvelope(body);
  if (!isClientAction(action)) {
    throw new RelayError(
      'unknown-action',
      `unknown action ${JSON.stringify(action ?? null)}; expected one of ${clientActions.join(', ')}`,
    );
  }
  switch (action) {
    case 'createSession':
      return { action, ttlSeconds: parseOptionalTtl(fields) };
    case 'joinSession':
      return { action, nameplate: requireString(fields, 'nameplate', nameplatePattern, 'an invitation nameplate') };
    case 'resumeSession':
      return {
        action,
        sessionId: requireString(fields, 'sessionId', sessionIdPattern, 'a session id'),
        resumeToken: requireString(fields, 'resumeToken', tokenPattern, 'a resume token'),
      };
    case 'frame':
      return { action, data: parseFrameData(fields) };
    case 'endSession':
      return { action };
  }
}
