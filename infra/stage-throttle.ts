/**
 * API Gateway's stage throttle for the WebSocket API, by default: what the stack deploys (context
 * messageRateLimit, messageBurstLimit) and what the local gateway enforces.
 */
export const DEFAULT_STAGE_THROTTLE = { messagesPerSecond: 1000, messageBurst: 500 } as const;
