// Allowed browser origins (policy.allowedOrigins, ASSIST_ALLOWED_ORIGINS on AWS, --allowed-origin for
// npm start), over real WebSocket upgrades against the local runtime: the Origin header decides.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../infra/local/runtime.js';
import { useLocalRuntime } from '../support/runtime.js';

const runtime = useLocalRuntime({ policy: { allowedOrigins: ['HTTPS://Help.Example.org:443'] } });

/** Opens a WebSocket with the given Origin header (none when undefined): "open", or the refusal's status. */
const upgrade = (origin?: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = new WebSocket(runtime().wsUrl, origin === undefined ? {} : { origin });
    socket.on('open', () => {
      socket.close();
      resolve('open');
    });
    socket.on('unexpected-response', (_request, response) => resolve(`refused ${response.statusCode}`));
    socket.on('error', reject);
  });

describe('allowed browser origins', () => {
  it('lets pages from an allowed origin connect, as well as the relay’s own pages and clients that send no Origin', async () => {
    expect(await upgrade('https://help.example.org')).toBe('open');
    expect(await upgrade(new URL(runtime().httpUrl).origin)).toBe('open');
    expect(await upgrade()).toBe('open');
  });

  it('refuses pages from any other origin, including the allowed host on another scheme or port', async () => {
    expect(await upgrade('https://elsewhere.example')).toBe('refused 403');
    expect(await upgrade('http://help.example.org')).toBe('refused 403');
    expect(await upgrade('https://help.example.org:8443')).toBe('refused 403');
    expect(await upgrade('null')).toBe('refused 403');
  });

  it('the local runtime refuses a wildcard before starting anything', async () => {
    await expect(startLocalRuntime({ port: 0, policy: { allowedOrigins: ['*'] } })).rejects.toThrow(
      /allowedOrigins: "\*": wildcards are not supported/,
    );
  });

  /** Runs `npm start`'s entry point with these arguments and extra environment; resolves with its failure. */
  const failedStart = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'infra/local/main.ts', '--port', '0', ...args], { env: { ...process.env, ...env } }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

  it('npm start refuses a malformed --allowed-origin with the reason and its usage', async () => {
    const failure = await failedStart(['--allowed-origin', 'https://help.example.org/desk']);
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/--allowed-origin: "https:\/\/help.example.org\/desk" must be an origin alone/);
    expect(failure?.stderr).toContain('Usage: npm start');
  });

  it('npm start reads the same ASSIST_* policy variables as the functions, and refuses malformed ones', async () => {
    const origins = await failedStart([], { ASSIST_ALLOWED_ORIGINS: 'https://help.example.org,*' });
    expect(origins?.code).toBe(2);
    expect(origins?.stderr).toContain('ASSIST_ALLOWED_ORIGINS: "*": wildcards are not supported');
    const attempts = await failedStart([], { ASSIST_MAX_FAILED_ATTEMPTS: 'three' });
    expect(attempts?.code).toBe(2);
    expect(attempts?.stderr).toContain('ASSIST_MAX_FAILED_ATTEMPTS must be a positive whole number, got "three"');
  });
});
