import * as v from 'valibot';
import { RelayError } from './relay-error.js';
import { MAX_FRAME_DATA_CHARS, type ClientMessage } from './messages.js';
import { clientActions, clientMessageSchemas, problemOf, type ClientAction } from './schemas.js';

// The relay's parser of what clients send, with the schemas of schemas.ts; a failure is a RelayError, which the
// relay answers with. What the relay sends, the SDK parses with server-messages.ts.

type JsonObject = Record<string, unknown>;

/** The body parsed last, and its JSON value (parseJson). */
let lastParsed: { body: string; value: unknown } | undefined;

/**
 * JSON.parse that remembers the last body: the local gateway parses a message to choose its route (with
 * parseEnvelope, as API Gateway reads `$request.body.action`) and the route's handler then parses the very same
 * string; so a message is parsed once, not twice (a 32 KB frame costs its parse). On Lambda it never hits. The
 * value is only read (validation builds a new object), so handing it out twice is safe; a body that fails to
 * parse is not remembered, so it fails again the same way.
 */
function parseJson(body: string): unknown {
  if (lastParsed?.body === body) return lastParsed.value;
  const value: unknown = JSON.parse(body);
  lastParsed = { body, value };
  return value;
}

/** Parses the JSON envelope and returns its action, so a route can be chosen before full validation. */
export function parseEnvelope(body: string | undefined | null): { action: string | undefined; fields: JsonObject } {
  let parsed: unknown;
  try {
    parsed = parseJson(body ?? '');
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
    throw new RelayError('unknown-action', `unknown action ${JSON.stringify(action ?? null)}; expected one of ${clientActions.join(', ')}`);
  }
  // Its own code, before the content is looked at: the client splits larger payloads.
  if (action === 'frame' && typeof fields.data === 'string' && fields.data.length > MAX_FRAME_DATA_CHARS) {
    throw new RelayError('frame-too-large', `frame data is ${fields.data.length} characters; the limit is ${MAX_FRAME_DATA_CHARS} (split larger payloads into frames)`);
  }
  const result = v.safeParse(clientMessageSchemas[action], fields);
  if (!result.success) throw new RelayError('invalid-request', problemOf(result.issues));
  return result.output as ClientMessage;
}
