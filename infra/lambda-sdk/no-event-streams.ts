// Bundled in place of @smithy/core/event-streams (see infra/constructs/bundling.ts). The SDK imports it
// lazily, only for an operation with an event-stream member; the calls the relay makes (DynamoDB items,
// @connections, SES SendEmail) have none. The lazy import still made esbuild bundle it, and wrap every
// module it reaches in a lazy initialiser that tree shaking cannot see through: about 19 KB per function.

function notBundled(): never {
  throw new Error('event streams are not bundled into the relay’s Lambda functions (infra/lambda-sdk/no-event-streams.ts)');
}

export const eventStreamSerdeProvider = notBundled;

export class EventStreamSerde {
  constructor() {
    notBundled();
  }
}
