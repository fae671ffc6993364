// Help-desk offers end to end (docs/help-desk.md) against the local runtime and its real OpenID provider: two
// technicians of different groups sign in; the permitted one offers help to an enrolled device whose agent
// checks the signed policy, joins, and asks on its local page, answered in headless Chromium; the session runs.
// The other is refused by the relay; a policy flipped in the relay's table is refused by the device; a removed
// device cannot be offered help; a denial and a timeout end the technician's session; the relay audits it all.
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../infra/audit-export.js';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.js';
import { LOCAL_TABLE } from '../../infra/operator-table.js';
import { offerToDevice, type AssistEnd, type HelpOffer } from '../../sdk/node.js';
import { DynamoAuditTrail } from '../../shared/server/adapters/dynamo-audit-trail.js';
import type { AuditEvent } from '../../shared/core/messages.js';
import { chromiumPath } from '../support/chromium.js';
import { useCleanups } from '../support/harness.js';
import { onlineDevice as startDevice, type OnlineDevice } from '../support/enrolled-device.js';
import { technicianOffer as signedInOffer, type LocalTechnician } from '../support/help-desk.js';
import { auditLog, operator } from '../support/operator.js';
import { ManualClock } from '../unit/sdk/support/manual-clock.js';

const GROUP = 'Finance laptops';
let provider: LocalOidcProvider;
let runtime: LocalRuntime;
let browser: Browser;
let table: DynamoDBClient;
beforeAll(async () => {
  provider = await startLocalOidcProvider();
  runtime = await startLocalRuntime({ port: 0, technicianIssuer: provider.issuer });
  browser = await chromium.launch({ executablePath: chromiumPath });
  table = new DynamoDBClient({ ...localAwsConfig, endpoint: runtime.dynamoEndpoint });
  // Ada is in "Help desk", Grace in "Tier 2" (infra/local/technicians.json): only Ada's group may offer.
  const policy = await operator(runtime.dynamoEndpoint, 'policy', 'set', '--group', GROUP, '--allow', 'Help desk:control');
  if (policy.status !== 0) throw new Error(policy.stderr);
});
afterAll(async () => {
  table?.destroy();
  await browser?.close();
  await runtime?.close();
  await provider?.close();
});
const defer = useCleanups();

/** A helper code on a connection the technician signed in. */
const technicianOffer = (username: LocalTechnician) => signedInOffer(provider, runtime, username, defer);

const onlineDevice = (name: string) => startDevice(runtime, GROUP, name, defer);

const devices = async (offer: HelpOffer) => offer.client.listOfferableDevices();

async function until<T>(find: () => T | undefined, what: string): Promise<T> {
  await expect.poll(find, { timeout: 20_000, message: what }).toBeDefined();
  return find()!;
}
const said = (device: OnlineDevice, event: string) => () => device.said.find((entry) => entry.event === event);
const endOf = (offer: HelpOffer) => new Promise<AssistEnd>((resolve) => offer.on('ended', resolve));

async function auditOf(sessionId: string) {
  return new DynamoAuditTrail(table, LOCAL_TABLE, () => Math.floor(Date.now() / 1000)).list(sessionId);
}

describe('help-desk offers', () => {
  it('a permitted technician offers help; the person allows control on the agent’s page; the session runs and is audited', async () => {
    const device = await onlineDevice('Reception PC');
    const offer = await technicianOffer('ada');
    const listed = (await devices(offer)).find((candidate) => candidate.deviceId === device.identity.deviceId);
    expect(listed).toMatchObject({ name: 'Reception PC', group: GROUP, online: true, publicKey: device.identity.publicKey, level: 'control', consent: 'ask' });
    const approved = new Promise<{ mode: string }>((resolve) => offer.on('approved', resolve));
    const told = new Promise<string>((resolve) => offer.on('chat', resolve));
    const verification = new Promise<string>((resolve) => offer.on('verification', ({ code }) => resolve(code)));
    expect(await offerToDevice(offer, listed!, 'INC-42: the printer')).toEqual({ deviceId: device.identity.deviceId, name: 'Reception PC' });

    const asked = await until(said(device, 'offer'), 'the device asks');
    expect(asked).toMatchObject({ technician: 'Ada Lovelace', email: 'ada@example.org', reason: 'INC-42: the printer', consent: 'ask', shares: 'nothing' });
    const page = await browser.newPage();
    defer(() => page.close());
    await page.goto(asked.page as string);
    // The person sees the code the technician's side derived: the same keys, end to end.
    expect(await page.locator('#verification').textContent()).toBe(await verification);
    expect(await page.locator('#technician').textContent()).toContain(`Ada Lovelace <ada@example.org> of ${new URL(provider.issuer.issuer).host}`);
    expect(await page.locator('#shares').textContent()).toContain('no desktop to share here (the agent runs outside a graphical session: no display)');
    await page.getByRole('button', { name: 'Allow control' }).click();
    expect(await approved).toMatchObject({ mode: 'control' });
    // No display and no terminal a person sees: nothing is shared, and both sides are told.
    expect(await told).toBe('Reception PC has no desktop to share (the agent runs outside a graphical session: no display): its agent runs as a service and shares no shell, so only chat is possible.');
    expect(await page.locator('#status').textContent()).toContain('Nothing is shared');
    expect(await page.locator('#doing').textContent()).toBe('Ada Lovelace is controlling this device');

    const events = await auditOf(offer.client.session!.sessionId);
    expect(events.find((event) => event.event === 'offered')).toMatchObject({
      technician: { issuer: provider.issuer.issuer, subject: 'ada', name: 'Ada Lovelace', email: 'ada@example.org' },
      deviceId: device.identity.deviceId,
      deviceName: 'Reception PC',
      reason: 'INC-42: the printer',
      sourceIp: expect.any(String),
    });
    expect(events.find((event) => event.event === 'offer-answered')).toMatchObject({ detail: 'control', deviceId: device.identity.deviceId, sourceIp: expect.any(String) });
    expect(events.find((event) => event.event === 'approved')).toMatchObject({ detail: 'control' });
    await offer.leave();
    await until(said(device, 'offer-session-ended'), 'the device sees the end');

    // The operator finds it by device and by technician, as CSV for a spreadsheet.
    const byDevice = await auditLog('--local', runtime.dynamoEndpoint, '--device', 'Reception PC', '--json');
    const logs = byDevice.stdout.trim().split('\n').map((line) => JSON.parse(line) as { sessionId: string; events: AuditEvent[] });
    // The offer's session, the enrolment (kept under the device's id) and the day's sign-ins of its agent.
    const signIns = logs.filter((log) => log.sessionId.startsWith(`${device.identity.deviceId}/sign-ins/`));
    expect(logs.map((log) => log.sessionId).filter((id) => !signIns.some((log) => log.sessionId === id)).sort()).toEqual([device.identity.deviceId, offer.client.session!.sessionId].sort());
    expect(signIns.flatMap((log) => log.events)).toContainEqual(expect.objectContaining({ event: 'device-signed-in', deviceId: device.identity.deviceId, deviceName: 'Reception PC' }));
    const csv = await auditLog('--local', runtime.dynamoEndpoint, '--technician', 'ada@example.org', '--since', '1h', '--csv');
    const [header, ...rows] = csv.stdout.trim().split('\n');
    expect(header).toBe(CSV_COLUMNS.join(','));
    expect(rows.find((row) => row.includes(',offered,'))).toContain(`,ada,Ada Lovelace,ada@example.org,${device.identity.deviceId},Reception PC,INC-42: the printer`);
    expect(rows.some((row) => row.includes(',offer-answered,agent,') && row.includes(',control,'))).toBe(true);
  });

  it('a technician whose groups the policy does not name is refused by the relay, and sees no devices', async () => {
    const device = await onlineDevice('Kiosk 1');
    const offer = await technicianOffer('grace');
    expect(await devices(offer)).toEqual([]);
    await expect(offerToDevice(offer, device.identity, 'curious')).rejects.toMatchObject({ code: 'offer-not-permitted' });
    expect(device.said).toEqual([]);
    const events = await auditOf(offer.client.session!.sessionId);
    expect(events.find((event) => event.event === 'offered')).toMatchObject({ detail: 'not-permitted', technician: { subject: 'grace' } });
  });

  it('a relay that flips the policy to "notice" is refused by the device; the technician’s session ends', async () => {
    const device = await onlineDevice('Reception PC 2');
    const flip = (consent: string) =>
      table.send(
        new UpdateItemCommand({
          TableName: LOCAL_TABLE,
          Key: { pk: { S: `POLICY#${GROUP}` } },
          UpdateExpression: 'SET #policy.#rules[0].#consent = :consent',
          ExpressionAttributeNames: { '#policy': 'policy', '#rules': 'rules', '#consent': 'consent' },
          ExpressionAttributeValues: { ':consent': { S: consent } },
        }),
      );
    await flip('notice');
    defer(() => flip('ask'));
    const offer = await technicianOffer('ada');
    const ended = endOf(offer);
    await offerToDevice(offer, device.identity, 'INC-43');
    expect(await until(said(device, 'offer-refused'), 'the device refuses')).toMatchObject({ code: 'bad-policy-signature' });
    expect(await ended).toMatchObject({ reason: 'denied' });
    expect((await auditOf(offer.client.session!.sessionId)).find((event) => event.event === 'offer-answered')).toMatchObject({ detail: 'bad-policy-signature' });
  });

  it('a denial and a timeout both end the technician’s session and are audited', async () => {
    const device = await onlineDevice('Reception PC 3');
    const clock = new ManualClock();
    device.handling.clock = clock;
    for (const [answer, expected] of [
      ['deny', 'deny'],
      ['timeout', 'no-answer'],
    ] as const) {
      device.said.length = 0;
      const offer = await technicianOffer('ada');
      const ended = endOf(offer);
      await offerToDevice(offer, device.identity, `INC-${answer}`);
      const asked = await until(said(device, 'offer'), 'the device asks');
      if (answer === 'deny') {
        const page = await browser.newPage();
        defer(() => page.close());
        await page.goto(asked.page as string);
        await page.getByRole('button', { name: 'Deny' }).click();
      } else {
        await clock.advance(60_000);
      }
      expect(await ended).toMatchObject({ reason: 'denied' });
      expect((await auditOf(offer.client.session!.sessionId)).filter((event) => event.event === 'offer-answered' || event.event === 'ended')).toEqual([
        expect.objectContaining({ event: 'offer-answered', detail: expected }),
        expect.objectContaining({ event: 'ended', detail: 'denied' }),
      ]);
    }
  });

  it('a removed device cannot be offered help', async () => {
    const device = await onlineDevice('Old PC');
    const removed = await operator(runtime.dynamoEndpoint, 'device', 'remove', device.identity.deviceId);
    expect(removed.status).toBe(0);
    const offer = await technicianOffer('ada');
    expect((await devices(offer)).map((listed) => listed.deviceId)).not.toContain(device.identity.deviceId);
    await expect(offerToDevice(offer, device.identity, 'INC-44')).rejects.toMatchObject({ code: 'offer-not-permitted' });
  });

  it('an agent that stops (Ctrl-C, SIGTERM) denies the question it has open, and ends a session under way for the technician', async () => {
    const device = await onlineDevice('Reception PC 4');
    for (const when of ['asking', 'helping'] as const) {
      device.said.length = 0;
      const stopping = new AbortController();
      device.handling.stopping = stopping.signal;
      const offer = await technicianOffer('ada');
      const ended = endOf(offer);
      await offerToDevice(offer, device.identity, `INC-stop-${when}`);
      const asked = await until(said(device, 'offer'), 'the device asks');
      if (when === 'helping') {
        const approved = new Promise((resolve) => offer.on('approved', resolve));
        const page = await browser.newPage();
        defer(() => page.close());
        await page.goto(asked.page as string);
        await page.getByRole('button', { name: 'Allow view' }).click();
        await approved;
      }
      stopping.abort();
      expect(await ended).toMatchObject({ reason: when === 'asking' ? 'denied' : 'ended-by-agent' });
      expect(await until(said(device, 'offer-session-ended'), 'the device sees the end')).toMatchObject({ reason: when === 'asking' ? 'denied' : 'ended-by-agent' });
    }
  });
});
