/** Structured log fields. Never put passwords, secrets, tokens, keys or frame contents here. */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Log {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** One JSON object per line, as CloudWatch Logs and local terminals both read well. */
export function createJsonLog(write: (line: string) => void = (line) => console.log(line)): Log {
  const emit = (level: string) => (event: string, fields: LogFields = {}) =>
    write(JSON.stringify({ level, event, ...fields, time: new Date().toISOString() }));
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const silentLog: Log = { info() {}, warn() {}, error() {} };
