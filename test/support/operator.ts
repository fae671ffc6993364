// `npm run operator -- …` (infra/operator.ts) against a local runtime's database, as the operator runs it.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { ensureOperatorKey } from '../../infra/operator-key.js';
import { LOCAL_TABLE } from '../../infra/operator-table.js';
import { DynamoDeviceRegistry } from '../../shared/server/adapters/dynamo-device-registry.js';
import { approveDevice as approveDeviceRecord } from '../../shared/server/use-cases/device-approval.js';
import type { TechnicianIssuer } from '../../shared/core/technician.js';

/** This test process's operator key (made on first use), as $ASSIST_OPERATOR_KEY names it to the command. */
export const operatorKeyPath = join(mkdtempSync(join(tmpdir(), 'assist-operator-')), 'operator-key.json');
export const operatorKey = () => ensureOperatorKey(operatorKeyPath);

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the operator's scripts in infra/; not spawnSync: the database may be served by this process. */
export const operatorScript = (file: 'operator.ts' | 'audit-log.ts', args: readonly string[], env: NodeJS.ProcessEnv = process.env) =>
  new Promise<CommandResult>((resolve) => {
    const script = [fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url)), fileURLToPath(new URL(`../../infra/${file}`, import.meta.url))];
    execFile(process.execPath, [...script, ...args], { encoding: 'utf8', env }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

/** `npm run operator -- … --local database`, with this process's operator key (made first). */
export const operator = (database: string, ...args: string[]) => {
  operatorKey();
  return operatorScript('operator.ts', [...args, '--local', database], { ...process.env, ASSIST_OPERATOR_KEY: operatorKeyPath });
};

/** `policy set`'s options naming the issuer technicians sign in with (the operator's deployment configuration). */
export const issuerOptions = ({ issuer, clientId, groupClaim }: TechnicianIssuer) => ['--issuer', issuer, '--client-id', clientId, '--group-claim', groupClaim];

/** `npm run audit-log -- …` as given. */
export const auditLog = (...args: string[]) => operatorScript('audit-log.ts', args);

/** A fresh enrolment token for `group` (7 days), as the operator's --json output gives it. */
export async function newEnrolmentToken(database: string, group: string, ...options: string[]): Promise<{ token: string; tokenId: string }> {
  const made = await operator(database, 'enrolment-token', '--group', group, '--expires', '7d', '--json', ...options);
  if (made.status !== 0) throw new Error(`the operator command failed: ${made.stderr}`);
  return JSON.parse(made.stdout) as { token: string; tokenId: string };
}

/**
 * What `device approve ID --fingerprint F` does (the operator approves a device after comparing the key fingerprint
 * it showed), in this process: the command itself is tested in enrolment.test.ts and enrol.test.ts.
 */
export async function approveDevice(database: string, deviceId: string, fingerprint: string): Promise<void> {
  const client = new DynamoDBClient({ ...localAwsConfig, endpoint: database });
  try {
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    await approveDeviceRecord(new DynamoDeviceRegistry(client, LOCAL_TABLE, nowSeconds), operatorKey().secretKey, deviceId, nowSeconds(), fingerprint);
  } finally {
    client.destroy();
  }
}

/** JSON lines as objects. */
export const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
