// `npm run operator -- …` (infra/operator.ts) against a local runtime's database, as the operator runs it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the command with `--local database`; not spawnSync: the database may be served by this process. */
export const operator = (database: string, ...args: string[]) =>
  new Promise<CommandResult>((resolve) => {
    const script = [fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url)), fileURLToPath(new URL('../../infra/operator.ts', import.meta.url))];
    execFile(process.execPath, [...script, ...args, '--local', database], { encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

/** A fresh enrolment token for `group` (7 days), as the operator's --json output gives it. */
export async function newEnrolmentToken(database: string, group: string, ...options: string[]): Promise<{ token: string; tokenId: string }> {
  const made = await operator(database, 'enrolment-token', '--group', group, '--expires', '7d', '--json', ...options);
  if (made.status !== 0) throw new Error(`the operator command failed: ${made.stderr}`);
  return JSON.parse(made.stdout) as { token: string; tokenId: string };
}

/** JSON lines as objects. */
export const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
