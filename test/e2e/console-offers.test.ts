// The console's Devices view and "Offer help" in headless Chromium, against the local runtime, its real OpenID
// provider and devices whose agents answer offers as `assist agent` does (their consent page answered in the same
// browser, as the person would): a technician signs in, sees the devices by group, searches, offers help with a
// reason; the person allows and the console shows the same verification code and then the session; a denial
// comes back to the list with a sentence; an expired sign-in says to sign in again.
import type { Page } from 'playwright-core';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { startLocalOidcProvider } from '../../infra/local/oidc-provider.js';
import { LOCAL_TABLE } from '../../infra/operator-table.js';
import { digits, useConsoleInBrowser } from '../support/browser.js';
import { signInOnConsole } from '../support/console-technician.js';
import { operatorKeyFingerprint } from '../../shared/core/operator-key.js';
import { onlineDevice, type OnlineDevice } from '../support/enrolled-device.js';
import { useCleanups } from '../support/harness.js';
import { newEnrolmentToken, operator, operatorKey, issuerOptions } from '../support/operator.js';
import { enrolDevice, generateDeviceKeyPair } from '../../sdk/node.js';
import { ManualClock } from '../unit/sdk/support/manual-clock.js';

const FINANCE = 'Finance laptops';
const LAB = 'Lab machines';
const KIOSKS = 'Kiosks';
const provider = await startLocalOidcProvider();
afterAll(() => provider.close());
/** The relay's clock runs this far ahead of real time (the provider keeps real time): an expired sign-in. */
let aheadMs = 0;
const browser = useConsoleInBrowser({ technicianIssuer: provider.issuer, clock: () => Date.now() + aheadMs });
const defer = useCleanups();

const ada = provider.accounts.find((account) => account.username === 'ada')!;
let reception: OnlineDevice;
let lab: OnlineDevice;
let lab4: OnlineDevice;
beforeAll(async () => {
  const { runtime } = browser;
  // Ada is in "Help desk" (infra/local/technicians.json): control of the finance laptops, view of the lab's machines,
  // and view of the kiosks without asking anyone (a notice stays on their screens).
  for (const [group, allow] of [
    [FINANCE, 'Help desk:control'],
    [LAB, 'Help desk:view'],
    [KIOSKS, 'Help desk:view:notice'],
  ]) {
    const policy = await operator(runtime.dynamoEndpoint, 'policy', 'set', '--group', group!, '--allow', allow!, ...issuerOptions(provider.issuer));
    if (policy.status !== 0) throw new Error(policy.stderr);
  }
  const agents: Array<() => unknown> = [];
  reception = await onlineDevice(runtime, FINANCE, 'Reception PC', (stop) => agents.push(stop));
  lab = await onlineDevice(runtime, LAB, 'Lab 3', (stop) => agents.push(stop));
  lab4 = await onlineDevice(runtime, LAB, 'Lab 4', (stop) => agents.push(stop));
  await onlineDevice(runtime, KIOSKS, 'Kiosk 1', (stop) => agents.push(stop));
  // Enrolled, its agent never started: listed as offline.
  const { token } = await newEnrolmentToken(runtime.dynamoEndpoint, FINANCE);
  await enrolDevice({ relay: runtime.httpUrl, token, publicKey: (await generateDeviceKeyPair()).publicKey, name: 'Spare laptop', os: 'windows' });
  return async () => {
    for (const stop of agents) await stop();
  };
});

const row = (page: Page, name: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });

/** What the device's agent said about the offer it is asking about: its consent page's address. */
async function consentPageOf(device: OnlineDevice): Promise<string> {
  await expect.poll(() => device.said.find((entry) => entry.event === 'offer'), { timeout: 20_000, message: `${device.identity.name} asks` }).toBeDefined();
  return device.said.find((entry) => entry.event === 'offer')!.page as string;
}

async function offerHelpTo(page: Page, name: string, reason: string): Promise<void> {
  await page.getByRole('button', { name: `Offer help to ${name}` }).click();
  await browser.heading(`Offer help to ${name}`, page).waitFor();
  await page.getByLabel('Reason or ticket number').fill(reason);
  await page.getByRole('button', { name: 'Offer help', exact: true }).click();
  await browser.heading(`Offering help to ${name}`, page).waitFor();
}

/** The person's answer, on the device's consent page in a browser of its own. */
async function answer(device: OnlineDevice, choice: 'Allow control' | 'Deny'): Promise<Page> {
  const page = await browser.newPage(await browser.openContext(), device.identity.name);
  await page.goto(await consentPageOf(device));
  await page.getByRole('button', { name: choice }).click();
  return page;
}

describe('the console’s Devices view and offers', () => {
  it('lists the devices by group, searches them, and offers help with a reason; the person allows control and the session runs', async () => {
    const { page } = browser;
    await signInOnConsole(page, browser.runtime.httpUrl, ada);
    await browser.heading('Devices').waitFor();
    await page.getByText(`Signed in as ${ada.name} (${ada.email}) · groups: Help desk`).waitFor();
    // By group, with state, last seen, system and what the policy allows; an offline device has no offer button.
    await page.getByRole('heading', { level: 2, name: FINANCE }).waitFor();
    await page.getByRole('heading', { level: 2, name: LAB }).waitFor();
    expect(await page.getByRole('heading', { level: 2 }).allTextContents()).toEqual([FINANCE, KIOSKS, LAB]);
    expect(await page.getByRole('status').filter({ hasText: 'devices' }).textContent()).toBe('5 devices.');
    const cells = async (name: string) => (await row(page, name).getByRole('cell').allTextContents()).slice(0, 4);
    // Seen at its agent's sign-in, moments ago (heartbeats come every 5 minutes).
    const recently = expect.stringMatching(/^(just now|1 minute ago)$/);
    expect(await cells('Reception PC')).toEqual(['Online', recently, 'Linux', 'View and control, if the person allows it']);
    expect(await cells('Lab 3')).toEqual(['Online', recently, 'Linux', 'View only, if the person allows it']);
    // Not approved by the operator: no offers, whatever its state.
    expect(await cells('Spare laptop')).toEqual(['Awaiting approval', 'never', 'windows', 'View and control, if the person allows it']);
    expect(await row(page, 'Spare laptop').getByText('The operator has not approved it yet').count()).toBe(1);
    expect(await cells('Kiosk 1')).toEqual(['Online', recently, 'Linux', 'View only, with a notice on the screen (no question)']);
    expect(await row(page, 'Spare laptop').getByRole('button').count()).toBe(0);
    await browser.shoot('console-devices');

    const search = page.getByRole('searchbox', { name: 'Search devices' });
    await search.fill('LAB');
    await page.getByText('2 of 5 devices match “LAB”.').waitFor();
    expect(await page.getByRole('heading', { level: 2 }).allTextContents()).toEqual([LAB]);
    expect(await page.getByRole('rowheader').allTextContents()).toEqual(['Lab 3', 'Lab 4']);
    await search.fill('reception');
    expect(await page.getByRole('rowheader').allTextContents()).toEqual(['Reception PC']);
    await search.fill('nothing like it');
    await page.getByText('No device name or group contains this.').waitFor();
    await search.fill('');
    expect(await page.getByRole('rowheader').count()).toBe(5);

    // The reason is required: said on the field, with the focus there.
    await page.getByRole('button', { name: 'Offer help to Reception PC' }).click();
    await browser.heading('Offer help to Reception PC').waitFor();
    await page.getByRole('button', { name: 'Offer help', exact: true }).click();
    await page.getByText('Type why you offer help, or the ticket number').waitFor();
    expect(await page.getByLabel('Reason or ticket number').evaluate((input) => input === document.activeElement && input.getAttribute('aria-invalid'))).toBe('true');
    await page.getByRole('button', { name: 'Back to the devices' }).click();
    await browser.heading('Devices').waitFor();

    await offerHelpTo(page, 'Reception PC', 'INC-42: the printer');
    await page.getByRole('timer').filter({ hasText: 'left to answer' }).waitFor();
    const consent = await browser.newPage(await browser.openContext(), 'Reception PC');
    await consent.goto(await consentPageOf(reception));
    expect(reception.said.find((entry) => entry.event === 'offer')).toMatchObject({ technician: ada.name, reason: 'INC-42: the printer' });
    // The same code on both sides: the device joined the technician's session end to end.
    const shown = page.locator('.big-code');
    await shown.waitFor();
    expect(digits(await shown.textContent())).toBe(digits(await consent.locator('#verification').textContent()));
    await browser.shoot('console-offer-waiting');
    await consent.getByRole('button', { name: 'Allow control' }).click();

    await browser.heading('Helping Reception PC').waitFor();
    await page.getByText('You are helping Reception PC and have control.').waitFor();
    await page.getByRole('button', { name: 'Leave the session' }).click();
    await browser.heading('The session has ended').waitFor();
    await page.getByRole('link', { name: 'Back to the devices' }).click();
    await browser.heading('Devices').waitFor();
    browser.expectCleanPage();
  });

  it('counts down from the device’s own time to answer, and comes back to the list saying whether the person said no or nobody answered', async () => {
    const { page } = browser;
    await signInOnConsole(page, browser.runtime.httpUrl, ada);
    await browser.heading('Devices').waitFor();
    // Not the default minute: the device tells the console its own time (--consent-timeout 150s).
    lab.handling.consentTimeoutMs = 150_000;
    const clock = new ManualClock();
    lab.handling.clock = clock;
    defer(() => {
      lab.handling.consentTimeoutMs = 60_000;
      delete lab.handling.clock;
    });
    lab.said.length = 0;
    await offerHelpTo(page, 'Lab 3', 'INC-43');
    await page.getByRole('timer').filter({ hasText: /^The person has 2:\d\d left to answer\.$/ }).waitFor();
    await answer(lab, 'Deny');
    await browser.heading('Devices').waitFor();
    expect(await page.getByRole('alert').filter({ hasText: 'Lab 3' }).textContent()).toBe('The person at Lab 3 said no: they did not let you in.');

    lab.said.length = 0;
    await offerHelpTo(page, 'Lab 3', 'INC-44');
    await consentPageOf(lab);
    await page.getByRole('timer').filter({ hasText: /^The person has 2:\d\d left to answer\.$/ }).waitFor();
    await clock.advance(150_000);
    await browser.heading('Devices').waitFor();
    expect(await page.getByRole('alert').filter({ hasText: 'Lab 3' }).textContent()).toBe(
      'Nobody at Lab 3 answered within 150 s, so the offer was turned down. Try again when the person is at the computer.',
    );
    await page.getByRole('button', { name: 'Offer help to Lab 3' }).waitFor();
    browser.expectCleanPage();
  });

  it('refuses, before anything is sent, a device the relay lists with another key than the operator approved', async () => {
    const { page } = browser;
    await signInOnConsole(page, browser.runtime.httpUrl, ada);
    await browser.heading('Devices').waitFor();
    // The operator key pinned from the address's fragment, which is gone from the address.
    expect(page.url()).not.toContain('operator-key');
    // A relay that swaps a device's key (to read the sealed code itself): the operator's signature no longer holds,
    // whether or not this browser offered help to it before.
    const table = new DynamoDBClient({ ...localAwsConfig, endpoint: browser.runtime.dynamoEndpoint });
    defer(() => table.destroy());
    const setKey = (publicKey: string) =>
      table.send(
        new UpdateItemCommand({
          TableName: LOCAL_TABLE,
          Key: { pk: { S: `DEVICE#${lab.identity.deviceId}` } },
          UpdateExpression: 'SET publicKey = :key',
          ExpressionAttributeValues: { ':key': { S: publicKey } },
        }),
      );
    await setKey((await generateDeviceKeyPair()).publicKey);
    defer(() => setKey(lab.identity.publicKey));
    lab.said.length = 0;
    await page.getByRole('button', { name: 'Refresh' }).click();
    // Refresh is disabled until the new list is drawn; an Offer button of the old list would offer to the pinned key.
    await page.getByRole('button', { name: 'Refresh', disabled: false }).waitFor();
    await page.getByRole('button', { name: 'Offer help to Lab 3' }).click();
    await page.getByLabel('Reason or ticket number').fill('INC-47');
    await page.getByRole('button', { name: 'Offer help', exact: true }).click();
    await browser.heading('Devices').waitFor();
    expect(await page.getByRole('alert').filter({ hasText: 'Lab 3' }).textContent()).toMatch(/THE RECORD OF DEVICE "Lab 3" .* IS NOT THE ONE THE OPERATOR APPROVED/);
    expect(lab.said).toEqual([]);
    browser.expectCleanPage();
  });

  it('without the operator key in the address, asks once to trust the fingerprint the relay presents; declined, nothing is sent', async () => {
    const { page } = browser;
    await signInOnConsole(page, browser.runtime.httpUrl, ada, { operatorKeyInAddress: false });
    await browser.heading('Devices').waitFor();
    const fingerprint = operatorKeyFingerprint(operatorKey().publicKey);
    const asked: string[] = [];
    page.once('dialog', (dialog) => void (asked.push(dialog.message()), dialog.dismiss()));
    lab4.said.length = 0;
    await page.getByRole('button', { name: 'Offer help to Lab 4' }).click();
    await page.getByLabel('Reason or ticket number').fill('INC-60');
    await page.getByRole('button', { name: 'Offer help', exact: true }).click();
    await browser.heading('Devices').waitFor();
    expect(asked[0]).toContain(`approved by the operator key ${fingerprint}, the relay says. Check this fingerprint with your operator`);
    expect(await page.getByRole('alert').textContent()).toContain('No operator key is trusted in this browser yet');
    expect(lab4.said).toEqual([]);
    // Accepted: kept for this browser, and the offer goes out.
    page.once('dialog', (dialog) => void dialog.accept());
    await offerHelpTo(page, 'Lab 4', 'INC-61');
    expect(await page.evaluate(() => localStorage.getItem('assist-operator-key'))).toBe(fingerprint);
    await consentPageOf(lab4);
    await page.getByRole('button', { name: 'Withdraw the offer' }).click();
    await browser.heading('Devices').waitFor();
    browser.expectCleanPage();
  });

  it('says why a technician whose groups no policy names sees no devices', async () => {
    const { page } = browser;
    const grace = provider.accounts.find((account) => account.username === 'grace')!;
    await signInOnConsole(page, browser.runtime.httpUrl, grace);
    await browser.heading('Devices').waitFor();
    await page.getByText('There are no devices you may help yet.').waitFor();
    expect(await page.locator('.empty').textContent()).toContain('(yours: Tier 2)');
    expect(await page.getByRole('table').count()).toBe(0);
    browser.expectCleanPage();
  });

  it('takes an offer back before the person answers, by keyboard alone', async () => {
    const { page } = browser;
    await signInOnConsole(page, browser.runtime.httpUrl, ada);
    await browser.heading('Devices').waitFor();
    await page.getByRole('button', { name: 'Offer help to Lab 4' }).focus();
    await page.keyboard.press('Enter');
    await browser.heading('Offer help to Lab 4').waitFor();
    await page.getByLabel('Reason or ticket number').focus();
    await page.keyboard.type('INC-44');
    await page.keyboard.press('Enter');
    await browser.heading('Offering help to Lab 4').waitFor();
    await consentPageOf(lab4);
    await page.getByRole('button', { name: 'Withdraw the offer' }).focus();
    await page.keyboard.press('Enter');
    await browser.heading('Devices').waitFor();
    expect(await page.getByRole('alert').filter({ hasText: 'Lab 4' }).textContent()).toBe('You withdrew the offer to Lab 4.');
    browser.expectCleanPage();
  });

  it('connects at once where the policy says "notice": nobody is asked, the device shows a notice', async () => {
    const { page } = browser;
    await signInOnConsole(page, browser.runtime.httpUrl, ada);
    await browser.heading('Devices').waitFor();
    await page.getByRole('button', { name: 'Offer help to Kiosk 1' }).click();
    await page.getByLabel('Reason or ticket number').fill('INC-45: the kiosk froze');
    await page.getByRole('button', { name: 'Offer help', exact: true }).click();
    await browser.heading('Helping Kiosk 1').waitFor();
    await page.getByText('You are helping Kiosk 1 (view only).').waitFor();
    await page.getByRole('button', { name: 'Leave the session' }).click();
    await browser.heading('The session has ended').waitFor();
    browser.expectCleanPage();
  });

  it('says to sign in again when the sign-in has expired, and lists the devices after it', async () => {
    const { page } = browser;
    await signInOnConsole(page, browser.runtime.httpUrl, ada);
    await browser.heading('Devices').waitFor();
    aheadMs = 2 * 3600_000;
    defer(() => (aheadMs = 0));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText('Your sign-in has expired. Sign in again to see your devices and offer help.').waitFor();
    expect(await page.getByRole('rowheader').count()).toBe(0);
    aheadMs = 0;
    await page.getByRole('button', { name: 'Sign in again' }).click();
    // The issuer may remember the browser's sign-in and come straight back.
    const form = page.getByLabel('User name');
    await form.or(browser.heading('Devices')).first().waitFor();
    if (await form.isVisible()) await signInOnConsole(page, browser.runtime.httpUrl, ada, { formOnly: true });
    await page.getByRole('rowheader', { name: 'Reception PC' }).waitFor();
    // The relay's refusal of the expired token (POST /technician/ticket), as the browser reports it.
    browser.expectCleanPage([/status of 401/]);
  });
});
