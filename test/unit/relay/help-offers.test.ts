// Help-offer use cases on the in-memory adapters with a fake clock: a signed-in technician lists only the devices
// the operator's policy lets its groups help (online by the last sign-in or heartbeat), offers help from its waiting
// helper code to an approved, connected device (forwarded with the signed policy, audited; refused otherwise,
// alike for an unknown device and one beyond its reach), and only the device's own connection answers the offer.
import { ed25519 } from '@noble/curves/ed25519.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../../shared/core/base64.js';
import type { Caller } from '../../../shared/server/use-cases/deps.js';
import { approveDevice } from '../../../shared/server/use-cases/device-approval.js';
import { createEnrolmentToken, enrolDevice } from '../../../shared/server/use-cases/enrolment.js';
import { setGroupPolicy } from '../../../shared/server/use-cases/group-policies.js';
import { answerOffer, listOfferableDevices, offerDevice } from '../../../shared/server/use-cases/help-offers.js';
import { createSession } from '../../../shared/server/use-cases/sessions.js';
import { signInTechnician } from '../../../shared/server/use-cases/technician-sign-in.js';
import { mintTechnicianTicket } from '../../../shared/server/use-cases/technician-tickets.js';
import { MemoryRelay } from '../../support/memory-relay.js';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../support/test-issuer.js';
import { as, refusal } from './support/sessions.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const operatorSecret = ed25519.utils.randomSecretKey();
const operatorKey = encodeBase64Url(ed25519.getPublicKey(operatorSecret));
const HELP_DESK_MAY_CONTROL = [{ technicianGroup: 'Help desk', level: 'control', consent: 'ask' }] as const;
const proof = { idToken: 'header.payload.signature', publicKey: 'K'.repeat(43), signature: 'S'.repeat(86) };

async function setup() {
  const relay = new MemoryRelay();
  const now = relay.clock.nowSeconds;
  await setGroupPolicy(relay.devices, operatorSecret, now(), { group: 'Front desk', rules: [...HELP_DESK_MAY_CONTROL], technicianIssuer: TEST_ISSUER });
  await setGroupPolicy(relay.devices, operatorSecret, now(), { group: 'Finance', rules: [{ technicianGroup: 'Auditors', level: 'view', consent: 'notice' }], technicianIssuer: TEST_ISSUER });

  /** A device enrolled in `group`, approved by the operator unless told otherwise, on a connection of its own once `connect`ed. */
  const device = async (name: string, group: string, { approved = true } = {}) => {
    const { token } = await createEnrolmentToken(relay.devices, now(), { operatorKey, group, ttlSeconds: 3600 });
    const publicKey = encodeBase64Url(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    const { deviceId } = as('deviceEnrolled', await enrolDevice(relay.deps, await relay.connect(), { action: 'enrolDevice', token, publicKey, name, os: 'linux' }));
    if (approved) await approveDevice(relay.devices, operatorSecret, deviceId, now());
    const connect = async (): Promise<Caller> => {
      const caller = await relay.connect();
      await relay.devices.attachDevice(deviceId, caller.connectionId, now(), caller.sourceIp);
      return caller;
    };
    return { deviceId, name, connect };
  };

  /** A technician of `groups`, signed in on a connection that holds a waiting helper code. */
  const technician = async (groups: string[]) => {
    const caller = await relay.connect('203.0.113.9');
    const ticketDeps = { ...relay.deps, technicianIssuer: TEST_ISSUER, issuerKeys: async () => issuer.keys };
    const { ticket } = await mintTechnicianTicket(ticketDeps, await issuer.idToken(relay.clock.now(), { sub: 'grace', name: 'Grace Hopper', groups }));
    await signInTechnician(relay.deps, caller, { action: 'signInTechnician', ticket });
    const created = as('sessionCreated', await createSession(relay.deps, caller, { kind: 'helper-code' }));
    const offer = (deviceId: string) =>
      offerDevice(relay.deps, caller, { action: 'offerDevice', deviceId, reason: 'INC-7: the printer', sealedCode: 'sealed', offeredAt: now(), proof });
    return { caller, sessionId: created.sessionId, offer };
  };
  return { relay, device, technician };
}

/** Reception PC (Front desk, approved) on its connection, and a Help desk technician who offered it help. */
async function offeredToReception() {
  const { relay, device, technician } = await setup();
  const reception = await device('Reception PC', 'Front desk');
  const connection = await reception.connect();
  const offering = await technician(['Help desk']);
  const offered = await offering.offer(reception.deviceId);
  return { relay, reception, connection, ...offering, offered };
}

const auditOf = async (relay: MemoryRelay, sessionId: string) => (await relay.audit.list(sessionId)).map(({ event, detail }) => (detail ? `${event} ${detail}` : event));

describe('listing the devices a technician may help', () => {
  it('lists only the permitted groups’ devices with the rule; online while signed in lately, offline 10 minutes after', async () => {
    const { relay, device, technician } = await setup();
    const reception = await device('Reception PC', 'Front desk');
    await device('Lobby kiosk', 'Front desk');
    await device('Payroll laptop', 'Finance');
    await reception.connect();
    const { caller } = await technician(['Help desk']);

    const listed = as('offerableDevices', await listOfferableDevices(relay.deps, caller)).devices;
    expect(listed.map(({ name, group, online, level, consent }) => ({ name, group, online, level, consent }))).toEqual([
      { name: 'Lobby kiosk', group: 'Front desk', online: false, level: 'control', consent: 'ask' },
      { name: 'Reception PC', group: 'Front desk', online: true, level: 'control', consent: 'ask' },
    ]);

    relay.advanceSeconds(10 * 60);
    const later = as('offerableDevices', await listOfferableDevices(relay.deps, caller)).devices;
    expect(later.find((listedDevice) => listedDevice.name === 'Reception PC')?.online).toBe(false);
  });

  it('refuses a connection no technician signed in on', async () => {
    const { relay } = await setup();
    await expect(listOfferableDevices(relay.deps, await relay.connect())).rejects.toEqual(refusal('technician-not-signed-in'));
  });
});

describe('offering help to a device', () => {
  it('forwards the offer, the technician’s proof untouched and the signed policy, to the device’s connection, and audits it', async () => {
    const { relay, reception, connection, sessionId, offered } = await offeredToReception();
    expect(offered).toEqual({ type: 'deviceOffered', deviceId: reception.deviceId, name: 'Reception PC' });
    expect(relay.messagesTo(connection)).toEqual([
      expect.objectContaining({
        type: 'helpOffered',
        sessionId,
        technician: expect.objectContaining({ subject: 'grace', groups: ['Help desk'] }),
        reason: 'INC-7: the printer',
        sealedCode: 'sealed',
        proof,
        policy: expect.objectContaining({ policy: expect.objectContaining({ group: 'Front desk' }) }),
      }),
    ]);
    expect(await auditOf(relay, sessionId)).toContain('offered');
  });

  it('refuses a device beyond the technician’s groups as it refuses an unknown one, and audits the refusal; nothing reaches the device', async () => {
    const { relay, device, technician } = await setup();
    const payroll = await device('Payroll laptop', 'Finance');
    const connection = await payroll.connect();
    const { sessionId, offer } = await technician(['Help desk']);
    await expect(offer(payroll.deviceId)).rejects.toEqual(refusal('offer-not-permitted'));
    await expect(offer('X'.repeat(22))).rejects.toEqual(refusal('offer-not-permitted'));
    expect(relay.messagesTo(connection)).toEqual([]);
    expect(await auditOf(relay, sessionId)).toEqual(expect.arrayContaining(['offered not-permitted']));
  });

  it('refuses a device the operator has not approved, and one that is not connected', async () => {
    const { device, technician } = await setup();
    const pending = await device('New PC', 'Front desk', { approved: false });
    await pending.connect();
    const offline = await device('Reception PC', 'Front desk');
    const { offer } = await technician(['Help desk']);
    await expect(offer(pending.deviceId)).rejects.toEqual(refusal('device-not-approved'));
    await expect(offer(offline.deviceId)).rejects.toEqual(refusal('device-unavailable'));
  });
});

describe('answering an offer', () => {
  it('a denial from the device’s connection ends the technician’s session with it; audited', async () => {
    const { relay, reception, connection, caller, sessionId } = await offeredToReception();
    expect(await answerOffer(relay.deps, connection, { action: 'answerOffer', deviceId: reception.deviceId, sessionId, answer: 'deny' })).toEqual({ type: 'offerAnswered', answer: 'deny' });
    expect(relay.messagesTo(caller)).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'ended', reason: 'denied' })]));
    expect(await auditOf(relay, sessionId)).toContain('offer-answered deny');
  });

  it('only the device’s own connection answers, and only an offer still open', async () => {
    const { relay, reception, connection, sessionId } = await offeredToReception();
    const answer = { action: 'answerOffer', deviceId: reception.deviceId, sessionId, answer: 'control' } as const;

    await expect(answerOffer(relay.deps, await relay.connect(), answer)).rejects.toEqual(refusal('device-sign-in-failed'));
    await expect(answerOffer(relay.deps, connection, { ...answer, sessionId: 'no-such-session' })).rejects.toEqual(refusal('session-not-found'));
    // The offer lives as long as the helper code: once that has expired, there is nothing to answer.
    relay.advanceSeconds(24 * 3600);
    await expect(answerOffer(relay.deps, connection, answer)).rejects.toEqual(refusal('session-not-found'));
  });
});
