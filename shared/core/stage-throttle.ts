/**
 * API Gateway's stage throttle for the WebSocket API, by default: what the stack deploys (context
 * messageRateLimit, messageBurstLimit; docs/cost-and-limits.md), what the local gateway enforces, and what
 * the SDK paces its own sends under.
 */
export const DEFAULT_STAGE_THROTTLE = { messagesPerSecond: 1000, messageBurst: 500 } as const;
