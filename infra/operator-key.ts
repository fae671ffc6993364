// The operator's signing key (docs/help-desk.md): an Ed25519 key pair on the operator's machine, never in the
// relay's table. Devices pin its public half at enrolment (the enrolment token ends with its fingerprint) and
// accept only group policies it signed. Whoever holds the file can change every group's consent rules.
import { ed25519 } from '@noble/curves/ed25519.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeBase64Url, encodeBase64Url } from '../shared/core/base64.js';
import { OperatorError } from '../shared/server/use-cases/enrolment.js';

export interface OperatorKey {
  /** Raw 32 bytes, base64url. */
  publicKey: string;
  secretKey: Uint8Array;
}

/** `--operator-key FILE`, else $ASSIST_OPERATOR_KEY, else the user's configuration folder. */
export function operatorKeyFile(option: string | undefined): string {
  if (option) return option;
  if (process.env.ASSIST_OPERATOR_KEY) return process.env.ASSIST_OPERATOR_KEY;
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'assist-relay', 'operator-key.json');
}

export function readOperatorKey(file: string): OperatorKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OperatorError('no-operator-key', `there is no operator key at ${file}; make one first: npm run operator -- operator-key (or name yours with --operator-key FILE)`);
    }
    throw new OperatorError('unreadable-operator-key', `${file} cannot be read (${(error as Error).message}); check its owner and permissions`);
  }
  try {
    const stored = JSON.parse(text) as { publicKey?: unknown; secretKey?: unknown };
    if (typeof stored.secretKey !== 'string') throw new Error('no secretKey');
    const secretKey = decodeBase64Url(stored.secretKey);
    const publicKey = encodeBase64Url(ed25519.getPublicKey(secretKey));
    if (publicKey !== stored.publicKey) throw new Error('its halves do not match');
    return { publicKey, secretKey };
  } catch (error) {
    throw new OperatorError('unreadable-operator-key', `${file} is not an operator key (${(error as Error).message}); restore it from your backup`);
  }
}

/** The key in `file`, made there first (folder 0700, file 0600) if there is none; `made` says which. */
export function ensureOperatorKey(file: string): OperatorKey & { made: boolean } {
  try {
    return { ...readOperatorKey(file), made: false };
  } catch (error) {
    if (!(error instanceof OperatorError && error.code === 'no-operator-key')) throw error;
  }
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = encodeBase64Url(ed25519.getPublicKey(secretKey));
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': never over a key another command made meanwhile.
  writeFileSync(file, `${JSON.stringify({ publicKey, secretKey: encodeBase64Url(secretKey) }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { publicKey, secretKey, made: true };
}
