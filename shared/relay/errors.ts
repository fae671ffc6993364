import type { ErrorCode } from '../protocol/messages.js';

/** An error the caller is told about, with a stable code; the connection stays usable. */
export class RelayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}
