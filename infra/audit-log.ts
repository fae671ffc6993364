// The operator's view of the audit log: `npm run audit-log -- --table NAME [--session ID] [--device …]
// [--technician …] [--since …] [--csv]`.
// Reads the table directly with the operator's AWS credentials (or the local runtime's dynalite).
import { parseArgs } from 'node:util';
import { DynamoAuditTrail } from '../shared/server/adapters/dynamo-audit-trail.js';
import { auditEventNames, type AuditEvent } from '../shared/core/messages.js';
import { parseDurationSeconds } from '../shared/core/durations.js';
import { csvRows, CSV_COLUMNS, parseSince, selectLogs, type AuditFilter, type AuditLog } from './audit-export.js';
import { operatorTable, tableErrorSentence, tableOptions, tableOptionsUsage } from './operator-table.js';

const usage = `Usage: npm run audit-log -- (--table NAME | --local URL) [options]

Lists the lifecycle of retained sessions, newest first, each with its invitation's nameplate
(created, emailed, joined, confirmation-failed, approved, control granted/revoked, paused,
resumed, ended and why), with time, role and source address; help-desk offers with the
technician as the relay verified their sign-in, the device, the reason, and the device's
answer; device enrolments and device sign-ins (one log per device and day), refused ones
with why. Never secrets or session contents: the relay does not keep them.

Options:
${tableOptionsUsage}
  --session ID       only this session
  --device ID|NAME   only sessions offered to this device, its enrolment and its sign-ins
                     (refused ones too: a removed device's, or a wrong key's)
  --technician WHO   only offers by this technician: subject, e-mail or name
  --since WHEN       only logs with an event since WHEN: a duration back (90m, 12h, 7d)
                     or an ISO 8601 time (2026-12-01T09:00Z)
  --json             one JSON object per session per line
  --csv              CSV with a header, one row per event (for a spreadsheet)
  -h, --help         show this help

Examples:
  npm run audit-log -- --table RelayStack-Table1234 --region eu-west-1
  npm run audit-log -- --local http://127.0.0.1:53412
  npm run audit-log -- --local http://127.0.0.1:53412 --session 3q2l...
  npm run audit-log -- --local http://127.0.0.1:53412 --device "Reception PC" --since 7d --csv > offers.csv
`;

function fail(message: string): never {
  console.error(`error: ${message}\n\n${usage}`);
  process.exit(2);
}

function parseOptions() {
  return parseArgs({
    options: {
      ...tableOptions,
      session: { type: 'string' },
      device: { type: 'string' },
      technician: { type: 'string' },
      since: { type: 'string' },
      json: { type: 'boolean', default: false },
      csv: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
}

let values: ReturnType<typeof parseOptions>;
try {
  values = parseOptions();
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (values.json && values.csv) fail('say one format: --json or --csv');
const nowSeconds = Math.floor(Date.now() / 1000);
const since = values.since === undefined ? undefined : parseSince(values.since, nowSeconds, parseDurationSeconds);
if (values.since !== undefined && since === undefined) fail(`--since takes a duration such as 12h or 7d, or an ISO 8601 time, not "${values.since}"`);
const filter: AuditFilter = { ...(values.device && { device: values.device }), ...(values.technician && { technician: values.technician }), ...(since !== undefined && { since }) };
const target = operatorTable(values);
if (typeof target === 'string') fail(target);
const { client, table } = target;
const audit = new DynamoAuditTrail(client, table, () => Math.floor(Date.now() / 1000));

/** An extension's detail is the new hard limit in epoch seconds: shown as a time (the JSON keeps it as recorded). */
function detailText(entry: AuditEvent): string {
  if (entry.event === 'extended' && entry.detail && /^\d+$/.test(entry.detail)) return `until ${new Date(Number(entry.detail) * 1000).toISOString()}`;
  return entry.detail ?? '';
}

/** Who and what a help-desk entry names, for the text listing. */
function helpDeskText(entry: AuditEvent): string {
  const technician = entry.technician && `by ${entry.technician.name}${entry.technician.email ? ` <${entry.technician.email}>` : ''} (${entry.technician.subject} at ${entry.technician.issuer})`;
  const device = entry.deviceName !== undefined ? `device ${entry.deviceName} (${entry.deviceId})` : entry.deviceId && `device ${entry.deviceId}`;
  return [technician, device, entry.reason && `reason "${entry.reason}"`].filter(Boolean).join(' ');
}

/** The events' column is as wide as the longest event name. */
const EVENT_WIDTH = Math.max(...auditEventNames.map((name) => name.length));

function print(sessionId: string, events: AuditEvent[]): void {
  const nameplate = events.find((entry) => entry.nameplate !== undefined)?.nameplate;
  if (values.csv) {
    csvRows({ sessionId, events }).forEach((row) => console.log(row));
    return;
  }
  if (values.json) {
    console.log(JSON.stringify({ sessionId, ...(nameplate && { nameplate }), events }));
    return;
  }
  console.log(`session ${sessionId}${nameplate ? `  nameplate ${nameplate}` : ''}`);
  for (const entry of events) {
    const when = new Date(entry.at * 1000).toISOString();
    console.log(`  ${when}  ${entry.event.padEnd(EVENT_WIDTH)} ${(entry.role ?? '').padEnd(7)} ${entry.sourceIp ?? ''} ${detailText(entry)} ${helpDeskText(entry)}`.trimEnd());
  }
}

try {
  if (values.csv) console.log(CSV_COLUMNS.join(','));
  if (values.session) {
    const events = await audit.list(values.session);
    if (events.length === 0) fail(`no retained audit log for session ${values.session}`);
    print(values.session, events);
  } else {
    const retained: AuditLog[] = [];
    for await (const log of audit.listAll()) retained.push(log);
    const logs = selectLogs(retained, filter);
    // A scan returns them in no useful order: newest session first, by when it was created.
    const startedAt = (events: AuditEvent[]) => events[0]?.at ?? 0;
    logs.sort((a, b) => startedAt(b.events) - startedAt(a.events));
    for (const { sessionId, events } of logs) print(sessionId, events);
    if (logs.length === 0 && !values.json && !values.csv) console.log(Object.keys(filter).length > 0 ? 'No retained audit log matches.' : 'No retained audit logs.');
  }
} catch (error) {
  console.error(`error: ${tableErrorSentence(error, values)}`);
  process.exit(1);
}
