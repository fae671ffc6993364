// The local runtime's own endpoints are not public (issue 14): @connections and the SES stand-in
// listen on a loopback-only port whatever --host is, and /outbox (emailed invitations, whose links
// carry secrets) answers only clients on this machine.
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isLoopbackClient } from '../../infra/local/gateway.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';

// Bound to every address, as `npm start -- --host 0.0.0.0 --public-url …` would be.
const runtime = useLocalRuntime({ host: '0.0.0.0', publicUrl: 'https://relay.example.org' });

/** This machine's addresses other than loopback (none on some CI machines: then only loopback is checked). */
const outsideAddresses = Object.values(networkInterfaces())
  .flat()
  .flatMap((info) => (info && !info.internal && info.family === 'IPv4' ? [info.address] : []));

const portOf = (url: string) => Number(new URL(url).port);

function refusesConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('internal endpoints of the local runtime', () => {
  it('the public port serves neither @connections nor the SES endpoint, even to this machine', async () => {
    const socket = await TestSocket.open(runtime().wsUrl.replace('0.0.0.0', '127.0.0.1'));
    await runtime().gateway.settle();
    const [connectionId] = runtime().gateway.connectionIds().slice(-1);
    const publicUrl = runtime().httpUrl.replace('0.0.0.0', '127.0.0.1');

    const post = await fetch(`${publicUrl}/local/@connections/${encodeURIComponent(connectionId!)}`, { method: 'POST', body: '{"type":"peer","state":"left"}' });
    expect([404, 405]).toContain(post.status); // the HTTP API's answer to anything but its own GET pages
    const describe = await fetch(`${publicUrl}/local/@connections/${encodeURIComponent(connectionId!)}`);
    expect(describe.status).toBe(404);
    const email = await fetch(`${publicUrl}/ses/v2/email/outbound-emails`, { method: 'POST', body: '{}' });
    expect([404, 405]).toContain(email.status);

    // The internal port does: the relay's handlers post there. The first message the client gets is this one.
    const internal = await fetch(`${runtime().internalUrl}/local/@connections/${encodeURIComponent(connectionId!)}`, { method: 'POST', body: '{"type":"peer","state":"connected"}' });
    expect(internal.status).toBe(200);
    expect(await socket.next()).toEqual({ type: 'peer', state: 'connected' });
    socket.close();
  });

  it('the internal port listens on loopback only', async () => {
    expect(new URL(runtime().internalUrl).hostname).toBe('127.0.0.1');
    for (const address of outsideAddresses) expect(await refusesConnections(address, portOf(runtime().internalUrl))).toBe(true);
    // The public side is reachable there, so the refusal is the internal port's, not the network's.
    for (const address of outsideAddresses) expect(await refusesConnections(address, portOf(runtime().httpUrl))).toBe(false);
  });

  it('/outbox answers clients on this machine only', async () => {
    const port = portOf(runtime().httpUrl);
    expect((await fetch(`http://127.0.0.1:${port}/outbox`)).status).toBe(200);
    for (const address of outsideAddresses) {
      for (const path of ['/outbox', '/outbox.json', '/outbox/2026-11-20T10-00-00.000Z-00000000-0000-4000-8000-000000000000.eml']) {
        expect((await fetch(`http://${address}:${port}${path}`)).status).toBe(404);
      }
    }
  });

  it.each([
    ['127.0.0.1', true],
    ['127.0.0.2', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['192.0.2.2', false],
    ['::ffff:192.0.2.2', false],
    ['fd00::2', false],
    ['1127.0.0.1', false],
    [undefined, false],
  ])('a client at %s is on this machine: %s', (remoteAddress, loopback) => {
    expect(isLoopbackClient({ socket: { remoteAddress } } as IncomingMessage)).toBe(loopback);
  });
});
