// What `npm run audit-log` selects and how it exports it (docs/help-desk.md): sessions (and enrolments) whose
// log names a device or a technician, or has an event since a time; as JSON lines or as CSV, one row per event.
import type { AuditEvent } from '../shared/core/messages.js';

export interface AuditLog {
  sessionId: string;
  events: AuditEvent[];
}

export interface AuditFilter {
  /** A device id or name, as an offer or an enrolment recorded it. */
  device?: string;
  /** A technician's subject, e-mail or name (case-insensitive), as the relay verified it. */
  technician?: string;
  /** Epoch seconds: only logs with an event at or after it. */
  since?: number;
}

const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * The logs the filter selects. A device given by its name is found by every id that name had in any log too:
 * a removed device's refused sign-ins, and a sign-in under an unknown id, carry the id alone.
 */
export function selectLogs(logs: readonly AuditLog[], filter: AuditFilter): AuditLog[] {
  const { device } = filter;
  const deviceIds = new Set<string>();
  if (device !== undefined) {
    deviceIds.add(device);
    for (const { events } of logs) for (const event of events) if (event.deviceName === device && event.deviceId !== undefined) deviceIds.add(event.deviceId);
  }
  return logs.filter((log) => matchesFilter(log, filter, deviceIds));
}

function matchesFilter(log: AuditLog, filter: AuditFilter, deviceIds: ReadonlySet<string>): boolean {
  const { device, technician, since } = filter;
  if (device !== undefined && !log.events.some((event) => (event.deviceId !== undefined && deviceIds.has(event.deviceId)) || event.deviceName === device)) return false;
  if (technician !== undefined && !log.events.some((event) => same(event.technician?.subject, technician) || same(event.technician?.email, technician) || same(event.technician?.name, technician))) {
    return false;
  }
  if (since !== undefined && !log.events.some((event) => event.at >= since)) return false;
  return true;
}

/** `--since`: a duration back from now (90m, 12h, 7d) or an ISO 8601 time; undefined if it is neither. */
export function parseSince(text: string, nowSeconds: number, parseDuration: (text: string) => number | undefined): number | undefined {
  const back = parseDuration(text);
  if (back !== undefined) return nowSeconds - back;
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : Math.floor(time / 1000);
}

export const CSV_COLUMNS = [
  'sessionId',
  'at',
  'event',
  'role',
  'sourceIp',
  'detail',
  'nameplate',
  'technicianIssuer',
  'technicianSubject',
  'technicianName',
  'technicianEmail',
  'deviceId',
  'deviceName',
  'reason',
] as const;

/** RFC 4180: quoted when it holds a comma, quote or line break; a leading = + - @ is defused for spreadsheets. */
function csvField(value: string | number | undefined): string {
  let text = value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRows(log: AuditLog): string[] {
  return log.events.map((event) =>
    [
      log.sessionId,
      new Date(event.at * 1000).toISOString(),
      event.event,
      event.role,
      event.sourceIp,
      event.detail,
      event.nameplate,
      event.technician?.issuer,
      event.technician?.subject,
      event.technician?.name,
      event.technician?.email,
      event.deviceId,
      event.deviceName,
      event.reason,
    ]
      .map(csvField)
      .join(','),
  );
}
