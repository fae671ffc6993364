/** Structured log fields. Never put passwords, secrets, tokens, keys or frame contents here. */
export type LogFields = Record<string, string | number | boolean | undefined>;

export type LogLevel = 'info' | 'warn' | 'error';

export interface Log {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/**
 * Each level through the console method of the same name: Lambda's JSON log format takes a line's
 * level from that method (console.error → ERROR), filters by the function's application log level,
 * and the stack's metric filter counts the ERROR lines.
 */
const consoleWriter = (level: LogLevel, line: string) => console[level](line);

/** One JSON object per line, as CloudWatch Logs and local terminals both read well. */
export function createJsonLog(write: (line: string, level: LogLevel) => void = (line, level) => consoleWriter(level, line)): Log {
  const emit = (level: LogLevel) => (event: string, fields: LogFields = {}) =>
    write(JSON.stringify({ level, event, ...fields, time: new Date().toISOString() }), level);
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const silentLog: Log = { info() {}, warn() {}, error() {} };
