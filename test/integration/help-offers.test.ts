// Help-desk offers end to end (docs/help-desk.md) against the local runtime and its real OpenID provider: two
// technicians of different groups sign in; the permitted one offers help to an enrolled device whose agent
// checks the signed policy, joins, and asks on its local page, answered in headless Chromium; the session runs.
// The other is refused by the relay; a policy flipped in the relay's table is refused by the device; a removed
// device cannot be offered help; a denial and a timeout end the technician's session; the relay audits it all.
// A relay that alters an offer (identity, reason) or replays one is refused by the device, one that swaps a
// device's key by the technician, and one that rolls a policy back by the device even after its agent restarted.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offersSeenFile, readDeviceState } from '../../cli/device-state.js';
import { knownDeviceKeys } from '../../cli/known-devices.js';
import { CSV_COLUMNS } from '../../infra/audit-export.js';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.js';
import { LOCAL_TABLE } from '../../infra/operator-table.js';
import { generateDeviceKeyPair, type AssistEnd, type HelpOffer, type PinnedDeviceKey } from '../../sdk/node.js';
import { DynamoAuditTrail } from '../../shared/server/adapters/dynamo-audit-trail.js';
import { DynamoDeviceRegistry } from '../../shared/server/adapters/dynamo-device-registry.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { signGroupPolicy } from '../../shared/core/group-policy.js';
import type { GatewayTap } from '../../infra/local/gateway.js';
import type { AuditEvent } from '../../shared/core/messages.js';
import { chromiumPath } from '../support/chromium.js';
import { useCleanups } from '../support/harness.js';
import { onlineDevice as startDevice, startAgent, type OnlineDevice } from '../support/enrolled-device.js';
import { offerTo as offerAs, signInTechnician, technicianOffer as signedInOffer, type LocalTechnician, type SignedInTechnician } from '../support/help-desk.js';
import { approveDevice, auditLog, operator, operatorKey, issuerOptions } from '../support/operator.js';
import { deviceKeyFingerprint, signDeviceApproval, verifyDeviceApproval } from '../../shared/core/device-approval.js';
import { helpOfferBytes } from '../../shared/core/help-offer.js';
import { operatorKeyFingerprint } from '../../shared/core/operator-key.js';
import { sealCode } from '../../shared/crypto/sealed-code.js';
import { signTechnicianBinding } from '../../shared/technician/proof.js';
import { ManualClock } from '../unit/sdk/support/manual-clock.js';

const GROUP = 'Finance laptops';
let provider: LocalOidcProvider;
let runtime: LocalRuntime;
let browser: Browser;
let table: DynamoDBClient;
let stateRoot: string;
/** Plays a relay that rewrites what it sends its clients (a `helpOffered`, here); undefined: an honest relay. */
let rewriteToClient: ((message: Record<string, unknown>) => Record<string, unknown>) | undefined;
const tap: GatewayTap = {
  toClient: (_connectionId, body) => {
    if (!rewriteToClient) return body;
    const message = JSON.parse(body) as Record<string, unknown>;
    return message.type === 'helpOffered' ? JSON.stringify(rewriteToClient(message)) : body;
  },
};
beforeAll(async () => {
  stateRoot = mkdtempSync(join(tmpdir(), 'help-offers-'));
  provider = await startLocalOidcProvider();
  runtime = await startLocalRuntime({ port: 0, technicianIssuer: provider.issuer, tap });
  browser = await chromium.launch({ executablePath: chromiumPath });
  table = new DynamoDBClient({ ...localAwsConfig, endpoint: runtime.dynamoEndpoint });
  // Ada is in "Help desk", Grace in "Tier 2" (infra/local/technicians.json): only Ada's group may offer.
  const policy = await operator(runtime.dynamoEndpoint, 'policy', 'set', '--group', GROUP, '--allow', 'Help desk:control', ...issuerOptions(provider.issuer));
  if (policy.status !== 0) throw new Error(policy.stderr);
});
afterAll(async () => {
  if (stateRoot) rmSync(stateRoot, { recursive: true, force: true });
  table?.destroy();
  await browser?.close();
  await runtime?.close();
  await provider?.close();
});
const defer = useCleanups();

/** Each technician signs in once, with their pinned device keys in a known-devices.json of their own (as `assist` keeps them). */
const technicians = new Map<LocalTechnician, Promise<SignedInTechnician>>();
function technician(username: LocalTechnician): Promise<SignedInTechnician> {
  let signedIn = technicians.get(username);
  if (!signedIn) {
    signedIn = signInTechnician(provider, username, knownDeviceKeys(join(stateRoot, username)));
    technicians.set(username, signedIn);
  }
  return signedIn;
}

/** A helper code on a connection the technician signed in. */
const technicianOffer = async (username: LocalTechnician) => signedInOffer(runtime, await technician(username), username, defer);

/** The offer as `assist offer --device` makes it: signed with the technician's key, to a device whose key they pinned. */
const offerTo = async (username: LocalTechnician, offer: HelpOffer, device: PinnedDeviceKey, reason: string) => offerAs(await technician(username), offer, device, reason);

const onlineDevice = (name: string) => startDevice(runtime, GROUP, name, defer);

const devices = async (offer: HelpOffer) => offer.client.listOfferableDevices();

/** Plays a relay that rewrites an item of its table. */
const rewriteItem = (pk: string, UpdateExpression: string, ExpressionAttributeValues: Record<string, AttributeValue>, ExpressionAttributeNames?: Record<string, string>) =>
  table.send(new UpdateItemCommand({ TableName: LOCAL_TABLE, Key: { pk: { S: pk } }, UpdateExpression, ExpressionAttributeValues, ...(ExpressionAttributeNames && { ExpressionAttributeNames }) }));

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
    expect(await offerTo('ada', offer, listed!, 'INC-42: the printer')).toEqual({ deviceId: device.identity.deviceId, name: 'Reception PC' });

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
    expect(await told).toBe('This device has no desktop to share (the agent runs outside a graphical session: no display): its agent runs as a service and shares no shell, so only chat is possible.');
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
    // Its approved record, as another technician's list shows it: Grace's client would offer; the relay refuses.
    const record = (await new DynamoDeviceRegistry(table, LOCAL_TABLE, () => Math.floor(Date.now() / 1000)).getDevice(device.identity.deviceId))!;
    await expect(offerTo('grace', offer, record, 'curious')).rejects.toMatchObject({ code: 'offer-not-permitted' });
    expect(device.said).toEqual([]);
    const events = await auditOf(offer.client.session!.sessionId);
    expect(events.find((event) => event.event === 'offered')).toMatchObject({ detail: 'not-permitted', technician: { subject: 'grace' } });
  });

  it('a relay that flips the policy to "notice" is refused by the device; the technician’s session ends', async () => {
    const device = await onlineDevice('Reception PC 2');
    const flip = (consent: string) =>
      rewriteItem(`POLICY#${GROUP}`, 'SET #policy.#rules[0].#consent = :consent', { ':consent': { S: consent } }, { '#policy': 'policy', '#rules': 'rules', '#consent': 'consent' });
    await flip('notice');
    defer(() => flip('ask'));
    const offer = await technicianOffer('ada');
    const ended = endOf(offer);
    await offerTo('ada', offer, device.identity, 'INC-43');
    expect(await until(said(device, 'offer-refused'), 'the device refuses')).toMatchObject({ code: 'bad-policy-signature' });
    // The technician learns how: the device's own answer, passed on with the end.
    expect(await ended).toMatchObject({ reason: 'denied', offerAnswer: 'bad-policy-signature' });
    expect((await auditOf(offer.client.session!.sessionId)).find((event) => event.event === 'offer-answered')).toMatchObject({ detail: 'bad-policy-signature' });
  });

  it('a denial and a timeout both end the technician’s session, which learns the device’s time to answer and which it was, and are audited', async () => {
    const device = await onlineDevice('Reception PC 3');
    const clock = new ManualClock();
    device.handling.clock = clock;
    // Not the default minute: the technician learns this device's own time to answer.
    device.handling.consentTimeoutMs = 45_000;
    for (const [answer, expected] of [
      ['deny', 'deny'],
      ['timeout', 'no-answer'],
    ] as const) {
      device.said.length = 0;
      const offer = await technicianOffer('ada');
      const ended = endOf(offer);
      const question = new Promise((resolve) => offer.on('asked', resolve));
      await offerTo('ada', offer, device.identity, `INC-${answer}`);
      const asked = await until(said(device, 'offer'), 'the device asks');
      expect(await question).toEqual({ seconds: 45 });
      if (answer === 'deny') {
        const page = await browser.newPage();
        defer(() => page.close());
        await page.goto(asked.page as string);
        await page.getByRole('button', { name: 'Deny' }).click();
      } else {
        await clock.advance(45_000);
      }
      expect(await ended).toMatchObject({ reason: 'denied', offerAnswer: expected });
      // The relay tells the technician the end before it writes 'ended' to the audit: wait for that row.
      const answerAndEnd = async () => (await auditOf(offer.client.session!.sessionId)).filter((event) => event.event === 'offer-answered' || event.event === 'ended');
      await expect.poll(answerAndEnd, { timeout: 20_000 }).toHaveLength(2);
      expect(await answerAndEnd()).toEqual([
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
    // Not listed: the technician's client has no approval for it and sends nothing.
    await expect(offerTo('ada', offer, device.identity, 'INC-44')).rejects.toMatchObject({ code: 'device-not-approved' });
  });

  it('a device the operator has not approved is listed without approval; the relay refuses an offer to it and audits that', async () => {
    const device = await startDevice(runtime, GROUP, 'New PC', defer, { approved: false });
    const { deviceId } = device.identity;
    const offer = await technicianOffer('ada');
    const listed = (await devices(offer)).find((candidate) => candidate.deviceId === deviceId);
    expect(listed).toMatchObject({ name: 'New PC', online: true });
    expect(listed!.approval).toBeUndefined();
    // Made as offerToDevice makes it, by a client that does not check the approval itself.
    const { credentials } = await technician('ada');
    const sessionId = offer.client.session!.sessionId;
    const sealedCode = await sealCode(device.identity.publicKey, deviceId, offer.code);
    const offeredAt = Math.floor(Date.now() / 1000);
    const signature = await signTechnicianBinding(credentials.privateKey, helpOfferBytes({ deviceId, sessionId, sealedCode, reason: 'INC-52', offeredAt }));
    await expect(
      offer.client.offerDevice({ deviceId, reason: 'INC-52', sealedCode, offeredAt, proof: { idToken: credentials.idToken, publicKey: credentials.publicKey, signature } }),
    ).rejects.toMatchObject({ code: 'device-not-approved', message: expect.stringContaining("New PC is awaiting the operator's approval") });
    expect((await auditOf(sessionId)).find((event) => event.event === 'offered')).toMatchObject({ deviceId, deviceName: 'New PC', reason: 'INC-52', detail: 'device-not-approved' });
    expect(device.said.find((entry) => entry.event === 'offer')).toBeUndefined();

    // Once approved, it is listed with the operator's signature over exactly its record.
    await approveDevice(runtime.dynamoEndpoint, deviceId, deviceKeyFingerprint(device.identity.publicKey));
    const approved = (await devices(offer)).find((candidate) => candidate.deviceId === deviceId)!;
    expect(() => verifyDeviceApproval(operatorKeyFingerprint(operatorKey().publicKey), approved)).not.toThrow();
  });

  it('a relay that alters the technician’s identity or the reason, or replays an offer (to the agent restarted, too), is refused by the device and audited', async () => {
    const device = await onlineDevice('Reception PC 4');
    const clock = new ManualClock();
    device.handling.clock = clock;
    const attacks: Array<[string, (message: Record<string, unknown>) => Record<string, unknown>, string]> = [
      ['reason', (message) => ({ ...message, reason: 'INC-45: and install this tool' }), 'token-key-mismatch'],
      ['identity', (message) => ({ ...message, technician: { ...(message.technician as object), subject: 'grace', name: 'Grace Hopper' } }), 'technician-mismatch'],
    ];
    for (const [what, alter, code] of attacks) {
      device.said.length = 0;
      const offer = await technicianOffer('ada');
      const ended = endOf(offer);
      rewriteToClient = alter;
      try {
        await offerTo('ada', offer, device.identity, 'INC-45');
        expect(await until(said(device, 'offer-refused'), `the device refuses the altered ${what}`)).toMatchObject({ code });
      } finally {
        rewriteToClient = undefined;
      }
      expect(await ended).toMatchObject({ reason: 'denied', offerAnswer: code });
      expect((await auditOf(offer.client.session!.sessionId)).find((event) => event.event === 'offer-answered')).toMatchObject({ detail: code });
    }

    // Replayed: the relay keeps an honest offer (answered: no answer in time) and sends it again in place of the next one.
    device.said.length = 0;
    let kept: Record<string, unknown> | undefined;
    rewriteToClient = (message) => (kept = message);
    const first = await technicianOffer('ada');
    await offerTo('ada', first, device.identity, 'INC-46');
    await until(said(device, 'offer'), 'the device asks');
    rewriteToClient = undefined;
    await clock.advance(60_000);
    await until(said(device, 'offer-answered'), 'no answer in time');
    /** The relay sends the kept offer in place of the next one: `agent` refuses it and asks nobody. */
    const replayTo = async (agent: OnlineDevice, reason: string) => {
      agent.said.length = 0;
      rewriteToClient = () => kept!;
      try {
        await offerTo('ada', await technicianOffer('ada'), device.identity, reason);
        expect(await until(said(agent, 'offer-refused'), `the replay of ${reason} is refused`)).toMatchObject({ code: 'replayed-offer' });
      } finally {
        rewriteToClient = undefined;
      }
      expect(agent.said.find((entry) => entry.event === 'offer')).toBeUndefined();
    };
    await replayTo(device, 'INC-47');

    // Replayed to the agent restarted within the offer's 5 minutes: it remembers the offers it took (offers-seen.json, 0600).
    expect(statSync(offersSeenFile(device.directory)).mode & 0o777).toBe(0o600);
    device.agent.stop();
    await replayTo(await startAgent(runtime, device.directory, defer), 'INC-47b');
  });

  it('a relay that swaps the key of a device no technician has offered help to is caught by the operator’s signature; nothing is sent', async () => {
    const device = await onlineDevice('Reception PC 5');
    const { deviceId } = device.identity;
    const relayKey = await generateDeviceKeyPair();
    await rewriteItem(`DEVICE#${deviceId}`, 'SET publicKey = :key', { ':key': { S: relayKey.publicKey } });
    const offer = await technicianOffer('ada');
    const swapped = (await devices(offer)).find((candidate) => candidate.deviceId === deviceId)!;
    expect(swapped.publicKey).toBe(relayKey.publicKey);
    expect((await technician('ada')).trust.pins.pinned(deviceId)).toBeUndefined();
    await expect(offerTo('ada', offer, swapped, 'INC-48')).rejects.toMatchObject({ name: 'DeviceApprovalError', code: 'device-signature-invalid' });

    // The relay signs the swapped record with a key of its own: not the operator key the technician pinned.
    const relaySigned = signDeviceApproval(ed25519.utils.randomSecretKey(), { ...swapped }, Math.floor(Date.now() / 1000));
    await rewriteItem(`DEVICE#${deviceId}`, 'SET approval = :approval', {
      ':approval': { M: { operatorKey: { S: relaySigned.operatorKey }, signature: { S: relaySigned.signature }, approvedAt: { N: String(relaySigned.approvedAt) } } },
    });
    const resigned = (await devices(offer)).find((candidate) => candidate.deviceId === deviceId)!;
    await expect(offerTo('ada', offer, resigned, 'INC-49')).rejects.toMatchObject({ name: 'DeviceApprovalError', code: 'operator-key-changed' });
    expect((await auditOf(offer.client.session!.sessionId)).map((event) => event.event)).not.toContain('offered');
    expect(device.said.find((entry) => entry.event === 'offer')).toBeUndefined();
  });

  it('the device key pinned at the first offer stays a second check: a key the operator approves later for the same device is refused', async () => {
    const device = await onlineDevice('Reception PC 7');
    const { deviceId } = device.identity;
    const clock = new ManualClock();
    device.handling.clock = clock;
    const first = await technicianOffer('ada');
    const ended = endOf(first);
    await offerTo('ada', first, device.identity, 'INC-53');
    await until(said(device, 'offer'), 'the device asks');
    await clock.advance(60_000);
    expect(await ended).toMatchObject({ reason: 'denied' });

    // The relay swaps the key, and the operator approves what the table holds without comparing fingerprints.
    const relayKey = await generateDeviceKeyPair();
    await rewriteItem(`DEVICE#${deviceId}`, 'SET publicKey = :key', { ':key': { S: relayKey.publicKey } });
    expect((await operator(runtime.dynamoEndpoint, 'device', 'approve', deviceId)).stdout).toContain('You gave no --fingerprint');
    const second = await technicianOffer('ada');
    await expect(offerTo('ada', second, device.identity, 'INC-54')).rejects.toMatchObject({ name: 'DeviceKeyPinError', code: 'device-key-changed' });
    expect((await auditOf(second.client.session!.sessionId)).map((event) => event.event)).not.toContain('offered');
  });

  it('a policy the relay rolls back stays refused after the device’s agent restarts (the newest date is in device.json)', async () => {
    const device = await onlineDevice('Reception PC 6');
    const policyKey = { pk: { S: `POLICY#${GROUP}` } };
    const older = (await table.send(new GetItemCommand({ TableName: LOCAL_TABLE, Key: policyKey }))).Item!;
    const renewed = await operator(runtime.dynamoEndpoint, 'policy', 'set', '--group', GROUP, '--allow', 'Help desk:control', ...issuerOptions(provider.issuer));
    expect(renewed.status).toBe(0);
    const newer = (await table.send(new GetItemCommand({ TableName: LOCAL_TABLE, Key: policyKey }))).Item!;
    const newerDate = Number(newer.policy!.M!.issuedAt!.N);
    expect(newerDate).toBeGreaterThan(Number(older.policy!.M!.issuedAt!.N));

    // The device takes an offer under the newer policy (no answer: denied), and keeps its date.
    const clock = new ManualClock();
    device.handling.clock = clock;
    const accepted = await technicianOffer('ada');
    const acceptedEnd = endOf(accepted);
    await offerTo('ada', accepted, device.identity, 'INC-50');
    await until(said(device, 'offer'), 'the device asks');
    await clock.advance(60_000);
    expect(await acceptedEnd).toMatchObject({ reason: 'denied' });
    expect(readDeviceState(device.directory).policyNotBefore).toBe(newerDate);

    device.agent.stop();
    const restarted = await startAgent(runtime, device.directory, defer);
    await table.send(new PutItemCommand({ TableName: LOCAL_TABLE, Item: older }));
    defer(() => table.send(new PutItemCommand({ TableName: LOCAL_TABLE, Item: newer })));
    const offer = await technicianOffer('ada');
    const ended = endOf(offer);
    await offerTo('ada', offer, restarted.identity, 'INC-51');
    expect(await until(said(restarted, 'offer-refused'), 'the restarted agent refuses')).toMatchObject({ code: 'policy-rolled-back' });
    expect(await ended).toMatchObject({ reason: 'denied' });
  });

  it('a relay that names its own issuer in /relay.json at enrolment and signs its technicians in is refused by the device: the operator’s policy names the issuer', async () => {
    // The hostile relay: its own OpenID provider, named in its /relay.json and trusted for its sign-ins; the
    // operator's policy in its table names the organisation's issuer, as the operator signed it.
    const relaysIssuer = await startLocalOidcProvider();
    defer(() => relaysIssuer.close());
    const hostile = await startLocalRuntime({ port: 0, technicianIssuer: relaysIssuer.issuer });
    defer(() => hostile.close());
    const signed = await operator(hostile.dynamoEndpoint, 'policy', 'set', '--group', GROUP, '--allow', 'Help desk:control', ...issuerOptions(provider.issuer));
    expect(signed.status).toBe(0);
    expect(await (await fetch(`${hostile.httpUrl}/relay.json`)).json()).toMatchObject({ technicianSignIn: { issuer: relaysIssuer.issuer.issuer } });
    const device = await startDevice(hostile, GROUP, 'Reception PC 9', defer);
    expect(JSON.stringify(readDeviceState(device.directory))).not.toContain(relaysIssuer.issuer.issuer);

    // Ada signed in at the relay's issuer (a token the relay could mint for anyone): the relay lets her offer; the device does not.
    const impostor = await signInTechnician(relaysIssuer, 'ada');
    const offer = await signedInOffer(hostile, impostor, 'ada', defer);
    const ended = endOf(offer);
    await offerAs(impostor, offer, device.identity, 'INC-60');
    expect(await until(said(device, 'offer-refused'), 'the device refuses the relay’s technician')).toMatchObject({ code: 'token-wrong-issuer' });
    expect(await ended).toMatchObject({ reason: 'denied' });
    expect(device.said.find((entry) => entry.event === 'offer')).toBeUndefined();

    // Nor can the relay name its issuer in a policy of its own making: another key signed it.
    const relayPolicy = signGroupPolicy(ed25519.utils.randomSecretKey(), { group: GROUP, issuedAt: Math.floor(Date.now() / 1000) + 60, rules: [{ technicianGroup: 'Help desk', level: 'control', consent: 'notice' }], technicianIssuer: relaysIssuer.issuer });
    const hostileTable = new DynamoDBClient({ ...localAwsConfig, endpoint: hostile.dynamoEndpoint });
    defer(() => hostileTable.destroy());
    await new DynamoDeviceRegistry(hostileTable, LOCAL_TABLE, () => Math.floor(Date.now() / 1000)).putGroupPolicy(relayPolicy);
    device.said.length = 0;
    const second = await signedInOffer(hostile, impostor, 'ada', defer);
    await offerAs(impostor, second, device.identity, 'INC-61');
    expect(await until(said(device, 'offer-refused'), 'the device refuses the relay’s policy')).toMatchObject({ code: 'bad-policy-signature' });
    expect(device.said.find((entry) => entry.event === 'offer')).toBeUndefined();
  });

  it('an agent that stops (Ctrl-C, SIGTERM) denies the question it has open, and ends a session under way for the technician', async () => {
    const device = await onlineDevice('Reception PC 4');
    for (const when of ['asking', 'helping'] as const) {
      device.said.length = 0;
      const stopping = new AbortController();
      device.handling.stopping = stopping.signal;
      const offer = await technicianOffer('ada');
      const ended = endOf(offer);
      await offerTo('ada', offer, device.identity, `INC-stop-${when}`);
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
