// Addresses that work (issue 13): on loopback the relay's pages may connect from localhost,
// 127.0.0.1 and [::1] alike; --public-url (ASSIST_PUBLIC_URL) is what relay.json, links and emails
// say; binding every network without it is refused with that advice, by the runtime and `npm start`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { LocalAddressError } from '../../infra/local/addresses.js';
import { readOutboxMessage } from '../../infra/local/mail-outbox.js';
import { startLocalRuntime } from '../../infra/local/runtime.js';
import { parseStartOptions } from '../../infra/local/start-options.js';
import { newFileSecret } from '../../shared/core/codes.js';
import { createInvitationFile } from '../../shared/core/invitation-file.js';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useCleanups } from '../support/harness.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';

const runtime = useLocalRuntime();
const defer = useCleanups();

/** Opens a WebSocket as a browser page at `origin` would; 'open' or the refusal's status. */
function connectAs(url: string, origin: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { origin });
    socket.on('open', () => (socket.close(), resolve('open')));
    socket.on('unexpected-response', (_request, response) => resolve(`refused ${response.statusCode}`));
    socket.on('error', (error) => resolve(`error ${error.message}`));
  });
}

const WILDCARD_ADVICE = /^--host 0\.0\.0\.0 listens on every network of this machine, .* also pass --public-url .*, or set ASSIST_PUBLIC_URL$/;

describe('on loopback (the default)', () => {
  it('is served at 127.0.0.1 and [::1], and its pages may connect from localhost, 127.0.0.1 and [::1] at its port only', async () => {
    const { port } = new URL(runtime().httpUrl);
    expect(runtime().endpoints).toEqual({
      httpUrl: `http://127.0.0.1:${port}`,
      webSocketUrl: `ws://127.0.0.1:${port}/local`,
      pageOrigins: [`http://127.0.0.1:${port}`, `http://[::1]:${port}`, `http://localhost:${port}`],
    });
    for (const page of ['127.0.0.1', '[::1]', 'localhost']) {
      for (const socketHost of ['127.0.0.1', '[::1]']) expect(await connectAs(`ws://${socketHost}:${port}/local`, `http://${page}:${port}`)).toBe('open');
    }
    expect((await fetch(`http://[::1]:${port}/relay.json`)).status).toBe(200);
    for (const stranger of [`http://localhost:${Number(port) + 1}`, `https://localhost:${port}`, 'https://elsewhere.example', `http://192.0.2.1:${port}`]) {
      expect(await connectAs(runtime().wsUrl, stranger)).toBe('refused 403');
    }
  });
});

describe('--public-url', () => {
  it('is what relay.json, links and emails say, and the origin its pages have', async () => {
    const relay = await startLocalRuntime({ port: 0, publicUrl: 'https://relay.example.org/' });
    defer(() => relay.close());
    expect(await (await fetch(`${relay.httpUrl}/relay.json`)).json()).toEqual({ version: 1, webSocketUrl: 'wss://relay.example.org/local', httpUrl: 'https://relay.example.org' });

    const creator = await TestSocket.open(relay.wsUrl);
    defer(() => creator.close());
    const created = (await creator.request({ action: 'createSession', kind: 'file' })) as Extract<ServerMessage, { type: 'sessionCreated' }>;
    const secret = newFileSecret();
    const invitation = createInvitationFile({
      relay: { webSocketUrl: 'wss://relay.example.org/local', httpUrl: 'https://relay.example.org' },
      nameplate: created.nameplate,
      secret,
      requester: 'Ada Lovelace',
      createdAt: new Date(),
      expiresAt: new Date(created.invitationExpiresAt * 1000),
    });
    expect(await creator.request({ action: 'emailInvitation', to: 'grace@example.org', requesterName: 'Ada Lovelace', invitation })).toMatchObject({ type: 'invitationEmailed' });
    const [entry] = await relay.outbox.messages();
    const email = await readOutboxMessage(relay.outbox.dir, entry!.file);
    expect(email.text).toContain(`open this link in a web browser:\nhttps://relay.example.org/join/${created.nameplate}#${secret}\n`);
    expect(email.text).not.toContain('npx');
    expect(email.text).not.toContain('127.0.0.1');

    expect(await connectAs(relay.wsUrl, 'https://relay.example.org')).toBe('open');
    expect(await connectAs(relay.wsUrl, relay.httpUrl)).toBe('refused 403');
  });

  it('lets the relay listen on every network, which it refuses without one', async () => {
    await expect(startLocalRuntime({ port: 0, host: '0.0.0.0' })).rejects.toThrow(LocalAddressError);
    await expect(startLocalRuntime({ port: 0, host: '0.0.0.0' })).rejects.toThrow(WILDCARD_ADVICE);
    const relay = await startLocalRuntime({ port: 0, host: '0.0.0.0', publicUrl: 'http://my-laptop.example.org:8787' });
    defer(() => relay.close());
    expect(relay.endpoints).toEqual({ httpUrl: 'http://my-laptop.example.org:8787', webSocketUrl: 'ws://my-laptop.example.org:8787/local' });
    expect(await (await fetch(`${relay.httpUrl}/healthz`)).json()).toMatchObject({ status: 'ok' });
  });
});

describe('npm start’s options', () => {
  it('takes --public-url or $ASSIST_PUBLIC_URL (the flag wins), and refuses a path, another scheme or 0.0.0.0 without one', () => {
    expect(parseStartOptions(['--public-url', 'https://relay.example.org'], {})).toMatchObject({ host: '127.0.0.1', publicUrl: 'https://relay.example.org' });
    expect(parseStartOptions(['--host', '0.0.0.0'], { ASSIST_PUBLIC_URL: 'https://env.example.org' })).toMatchObject({ host: '0.0.0.0', publicUrl: 'https://env.example.org' });
    expect(parseStartOptions(['--public-url', 'https://flag.example.org'], { ASSIST_PUBLIC_URL: 'https://env.example.org' })).toMatchObject({ publicUrl: 'https://flag.example.org' });
    expect(() => parseStartOptions(['--host', '0.0.0.0'], {})).toThrow(WILDCARD_ADVICE);
    expect(() => parseStartOptions(['--host', '::'], {})).toThrow(/^--host :: listens on every network/);
    expect(() => parseStartOptions(['--public-url', 'https://relay.example.org/assist'], {})).toThrow('--public-url must be an address alone, like https://relay.example.org, without a path');
    expect(() => parseStartOptions([], { ASSIST_PUBLIC_URL: 'ftp://relay.example.org' })).toThrow(/^ASSIST_PUBLIC_URL must start with https:\/\/ or http:\/\//);
  });

  it('`npm start -- --host 0.0.0.0` stops at once with the advice, before building anything', () => {
    const main = fileURLToPath(new URL('../../infra/local/main.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const result = spawnSync(process.execPath, [tsx, main, '--host', '0.0.0.0', '--port', '0'], { encoding: 'utf8', env: { ...process.env, ASSIST_PUBLIC_URL: '' } });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toMatch(/^error: --host 0\.0\.0\.0 listens on every network of this machine, .* --public-url /);
  });
});
