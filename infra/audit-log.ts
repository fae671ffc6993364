// The operator's view of the audit log: `npm run audit-log -- --table NAME [--session ID]`.
// Reads the table directly with the operator's AWS credentials (or the local runtime's dynalite).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { DynamoAuditTrail } from '../shared/adapters/dynamo-audit-trail.js';
import type { AuditEvent } from '../shared/protocol/messages.js';
import { localAwsConfig } from './local/dynamo.js';

const usage = `Usage: npm run audit-log -- (--table NAME | --local URL) [options]

Lists the lifecycle of retained sessions, newest first, each with its invitation's nameplate
(created, emailed, joined, confirmation-failed, approved, control granted/revoked, paused,
resumed, ended and why), with time, role and source address. Never secrets or session
contents: the relay does not keep them.

Options:
  --table NAME       the relay's table (the stack's TableName output; with --local the
                     default is "assist-relay", the local runtime's)
  --session ID       only this session
  --local URL        read the local runtime's database (the URL \`npm start\` prints as "Database")
  --region REGION    AWS region (default: your AWS configuration)
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
      table: { type: 'string' },
      session: { type: 'string' },
      local: { type: 'string' },
      region: { type: 'string' },
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
const LOCAL_TABLE = 'assist-relay';
const table = values.table ?? (values.local ? LOCAL_TABLE : undefined);
if (!table) fail('say which table: --table NAME (the stack\'s TableName output), or --local URL for npm start\'s database');

// The pinned SDK supports Node 20 (the local minimum); its notice about future releases is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const client = new DynamoDBClient(
  values.local ? { ...localAwsConfig, endpoint: values.local } : { ...(values.region && { region: values.region }) },
);
const audit = new DynamoAuditTrail(client, table, () => Math.floor(Date.now() / 1000));

function print(sessionId: string, events: AuditEvent[]): void {
  const nameplate = events.find((entry) => entry.nameplate !== undefined)?.nameplate;
  if (values.json) {
    console.log(JSON.stringify({ sessionId, ...(nameplate && { nameplate }), events }));
    return;
  }
  console.log(`session ${sessionId}${nameplate ? `  nameplate ${nameplate}` : ''}`);
  for (const entry of events) {
    const when = new Date(entry.at * 1000).toISOString();
    console.log(`  ${when}  ${entry.event.padEnd(20)} ${(entry.role ?? '').padEnd(7)} ${entry.sourceIp ?? ''} ${entry.detail ?? ''}`.trimEnd());
  }
}

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
