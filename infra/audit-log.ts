// The operator's view of the audit log: `npm run audit-log -- --table NAME [--session ID]`.
// Reads the table directly with the operator's AWS credentials (or the local runtime's dynalite).
import { parseArgs } from 'node:util';
import { DynamoAuditTrail } from '../shared/server/adapters/dynamo-audit-trail.js';
import type { AuditEvent } from '../shared/core/messages.js';
import { operatorTable, tableErrorSentence, tableOptions, tableOptionsUsage } from './operator-table.js';

const usage = `Usage: npm run audit-log -- (--table NAME | --local URL) [options]

Lists the lifecycle of retained sessions, newest first, each with its invitation's nameplate
(created, emailed, joined, confirmation-failed, approved, control granted/revoked, paused,
resumed, ended and why), with time, role and source address. Never secrets or session
contents: the relay does not keep them.

Options:
${tableOptionsUsage}
  --session ID       only this session
  --json             one JSON object per session per line
  -h, --help         show this help

Examples:
  npm run audit-log -- --table RelayStack-Table1234 --region eu-west-1
  npm run audit-log -- --local http://127.0.0.1:53412
  npm run audit-log -- --local http://127.0.0.1:53412 --session 3q2l...
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
      json: { type: 'boolean', default: false },
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
const target = operatorTable(values);
if (typeof target === 'string') fail(target);
const { client, table } = target;
const audit = new DynamoAuditTrail(client, table, () => Math.floor(Date.now() / 1000));

/** An extension's detail is the new hard limit in epoch seconds: shown as a time (the JSON keeps it as recorded). */
function detailText(entry: AuditEvent): string {
  if (entry.event === 'extended' && entry.detail && /^\d+$/.test(entry.detail)) return `until ${new Date(Number(entry.detail) * 1000).toISOString()}`;
  return entry.detail ?? '';
}

function print(sessionId: string, events: AuditEvent[]): void {
  const nameplate = events.find((entry) => entry.nameplate !== undefined)?.nameplate;
  if (values.json) {
    console.log(JSON.stringify({ sessionId, ...(nameplate && { nameplate }), events }));
    return;
  }
  console.log(`session ${sessionId}${nameplate ? `  nameplate ${nameplate}` : ''}`);
  for (const entry of events) {
    const when = new Date(entry.at * 1000).toISOString();
    console.log(`  ${when}  ${entry.event.padEnd(20)} ${(entry.role ?? '').padEnd(7)} ${entry.sourceIp ?? ''} ${detailText(entry)}`.trimEnd());
  }
}

try {
  if (values.session) {
    const events = await audit.list(values.session);
    if (events.length === 0) fail(`no retained audit log for session ${values.session}`);
    print(values.session, events);
  } else {
    const logs: Array<{ sessionId: string; events: AuditEvent[] }> = [];
    for await (const log of audit.listAll()) logs.push(log);
    // A scan returns them in no useful order: newest session first, by when it was created.
    const startedAt = (events: AuditEvent[]) => events[0]?.at ?? 0;
    logs.sort((a, b) => startedAt(b.events) - startedAt(a.events));
    for (const { sessionId, events } of logs) print(sessionId, events);
    if (logs.length === 0 && !values.json) console.log('No retained audit logs.');
  }
} catch (error) {
  console.error(`error: ${tableErrorSentence(error, values)}`);
  process.exit(1);
}
