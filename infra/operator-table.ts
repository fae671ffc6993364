// How the operator's commands (audit-log, operator) reach the relay's table: with the operator's own
// AWS credentials, or the local runtime's dynalite (`--local URL`, the "Database" line `npm start` prints).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localAwsConfig } from './local/dynamo.js';

/** The local runtime's table name (infra/local/runtime.ts). */
export const LOCAL_TABLE = 'assist-relay';

export const tableOptionsUsage = `  --table NAME       the relay's table (the stack's TableName output; with --local the
                     default is "assist-relay", the local runtime's)
  --local URL        the local runtime's database (the URL \`npm start\` prints as "Database")
  --region REGION    AWS region (default: your AWS configuration)`;

export const tableOptions = {
  table: { type: 'string' },
  local: { type: 'string' },
  region: { type: 'string' },
} as const;

/** The table and a client for it, or the sentence saying what is missing. */
export function operatorTable(values: { table?: string; local?: string; region?: string }): { client: DynamoDBClient; table: string } | string {
  const table = values.table ?? (values.local ? LOCAL_TABLE : undefined);
  if (!table) return "say which table: --table NAME (the stack's TableName output), or --local URL for npm start's database";
  // The pinned SDK supports Node 20 (the local minimum); its notice about future releases is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new DynamoDBClient(values.local ? { ...localAwsConfig, endpoint: values.local } : { ...(values.region && { region: values.region }) });
  return { client, table };
}

/** One sentence for a failure to read the table: what happened and what to do. */
export function tableErrorSentence(error: unknown, values: { table?: string; local?: string }): string {
  const failure = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; cause?: { code?: string } };
  const code = failure.code ?? failure.cause?.code;
  const where = values.local ?? 'AWS';
  if (values.local && (code === 'ECONNREFUSED' || code === 'ENOTFOUND')) {
    return `nothing answers at ${values.local}: is npm start running? --local takes the URL it prints as "Database"`;
  }
  if (values.local && failure.$metadata?.httpStatusCode !== undefined && failure.name === 'Unknown') {
    return `${values.local} answered, but not as a database (HTTP ${failure.$metadata.httpStatusCode}): --local takes the URL npm start prints as "Database", not the relay's own address`;
  }
  if (failure.name === 'ResourceNotFoundException') return `there is no table ${values.table ?? LOCAL_TABLE} at ${where}: check --table (the stack's TableName output)`;
  return `could not read the relay's table at ${where}: ${failure.message ?? String(error)}`;
}
