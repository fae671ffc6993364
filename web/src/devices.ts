// The signed-in technician's Devices view (docs/help-desk.md): the enrolled devices the operator's policies let
// this technician help, by device group, with a search; and "Offer help": a reason, then the device asks the
// person (a countdown of the time they have), then the same session screens as an accepted invitation.
// The list is read on a connection of its own (listTechnicianDevices); each offer is a helper code of its own,
// signed in with a fresh ticket, sealed to the device's enrolled key and signed with the tab's key (offerToDevice).
// Each device's record must carry the approval of the operator key this browser pinned (from the address's
// fragment, #operator-key=FINGERPRINT, or confirmed once by the technician), and device keys are pinned in this
// browser (localStorage) as a second check: a device the relay lists with another key is refused.

import { offerHelp, type HelpOffer } from '../../sdk/assist.js';
import { MAX_NAME_CHARACTERS } from '../../sdk/assist-messages.js';
import type { AssistEnd } from '../../sdk/assist-session.js';
import { RelayError } from '../../sdk/connection.js';
import { DEFAULT_CONSENT_TIMEOUT_SECONDS, offerToDevice } from '../../sdk/device-offer.js';
import { DeviceKeyPinError, type DeviceKeyPins, type PinnedDeviceKey } from '../../sdk/device-key-pins.js';
import { DeviceApprovalError, deviceKeyFingerprint } from '../../shared/core/device-approval.js';
import { OPERATOR_KEY_FINGERPRINT_CHARS } from '../../shared/core/operator-key.js';
import { listTechnicianDevices, requestTechnicianTicket, TechnicianSignInError } from '../../sdk/technician.js';
import { MAX_OFFER_REASON_CHARS, type OfferableDevice } from '../../shared/core/messages.js';
import { button, field, form, h, messageArea, showScreen, uniqueId } from './dom.js';
import { runExpert } from './expert.js';
import { filledIn, relay } from './forms.js';
import { showEnded } from './session-ui.js';
import type { TechnicianTab } from './technician-sign-in.js';
import { allowedText, errorText, lastSeenText, minutesAndSeconds, spacedCode } from './text.js';
import { endText } from '../../shared/core/end-texts.js';
import { offerTurnedDownText } from '../../shared/core/offer-outcome.js';
import { osName } from '../../shared/core/os-names.js';

/** What the Devices view needs besides the tab's sign-in. */
export interface DevicesContext {
  tab: TechnicianTab;
  /** Starts a new sign-in (an expired or refused ID token). */
  signInAgain(): Promise<void>;
  signOut(): void;
}

/** The devices whose name or group contains `query` (any case); all of them for an empty query. */
function filterDevices(devices: readonly OfferableDevice[], query: string): OfferableDevice[] {
  const wanted = query.trim().toLocaleLowerCase();
  return devices.filter((device) => `${device.name}\n${device.group}`.toLocaleLowerCase().includes(wanted));
}

/** Problems that only a new sign-in solves: an expired or refused ID token, or a connection the relay does not know as a technician's. */
function needsSignIn(error: unknown): boolean {
  return (error instanceof TechnicianSignInError && error.code === 'token-refused') || (error instanceof RelayError && error.code === 'technician-not-signed-in');
}

function signInProblem(error: unknown): string {
  if (error instanceof TechnicianSignInError && error.tokenCode === 'token-expired') return 'Your sign-in has expired. Sign in again to see your devices and offer help.';
  return `The relay no longer accepts your sign-in (${errorText(error).replace(/\.$/, '')}). Sign in again.`;
}

/** `/technician` once signed in: the devices, with `notice` (how the last offer ended) above them. */
export function showDevices(context: DevicesContext, notice?: string): void {
  const { technician } = context.tab;
  const search = field('Search devices', { name: 'search', type: 'search', autocomplete: 'off', spellcheck: 'false' }, 'By device name or group.');
  const problem = messageArea('alert');
  problem.say(notice);
  const signInAgain = button('Sign in again', () => context.signInAgain());
  signInAgain.hidden = true;
  const shown = h('p', { role: 'status', class: 'device-count' });
  const list = h('div', { class: 'device-groups' });
  let devices: OfferableDevice[] | undefined;

  const render = () => {
    if (!devices) return;
    const query = search.input.value;
    const matching = filterDevices(devices, query);
    if (devices.length === 0) {
      shown.textContent = '';
      const groups = technician.groups.length > 0 ? technician.groups.join(', ') : 'none';
      return list.replaceChildren(
        h('p', { class: 'empty' }, `There are no devices you may help yet. The operator’s policies let technician groups offer help to device groups (yours: ${groups}); no enrolled device is in a group they let yours help.`),
      );
    }
    shown.textContent = query.trim() === '' ? `${devices.length} ${devices.length === 1 ? 'device' : 'devices'}.` : `${matching.length} of ${devices.length} devices match “${query.trim()}”.`;
    if (matching.length === 0) return list.replaceChildren(h('p', { class: 'empty' }, 'No device name or group contains this. Check the spelling, or clear the search.'));
    // The relay sends them sorted by group, then name.
    const groups = new Map<string, OfferableDevice[]>();
    for (const device of matching) groups.set(device.group, [...(groups.get(device.group) ?? []), device]);
    list.replaceChildren(...[...groups].map(([group, members]) => groupSection(context, group, members)));
  };

  // A Refresh while the first list is on its way: only the latest load's answer is shown, whichever comes last.
  let latestLoad = 0;
  const load = async () => {
    const thisLoad = ++latestLoad;
    signInAgain.hidden = true;
    try {
      const listed = await listTechnicianDevices({ relay: relay(), idToken: context.tab.idToken });
      if (thisLoad !== latestLoad) return;
      devices = listed;
    } catch (error) {
      if (thisLoad !== latestLoad) return;
      devices = undefined;
      list.replaceChildren();
      shown.textContent = '';
      if (!needsSignIn(error)) return problem.say(`The devices could not be listed. ${errorText(error)}`);
      problem.say(signInProblem(error));
      signInAgain.hidden = false;
      return;
    }
    render();
  };
  search.input.addEventListener('input', render);

  showScreen(
    'Devices',
    h('p', { class: 'signed-in' }, `Signed in as ${technician.name}${technician.email ? ` (${technician.email})` : ''} · groups: ${technician.groups.join(', ') || 'none'}`),
    problem,
    h('div', { class: 'actions' }, signInAgain, button('Refresh', () => {
      problem.say(undefined);
      return load();
    }), button('Sign out', () => context.signOut())),
    h('div', { role: 'search' }, search.element),
    shown,
    list,
  );
  void load();
}

function groupSection(context: DevicesContext, group: string, devices: readonly OfferableDevice[]): HTMLElement {
  const id = uniqueId('group');
  const nowMs = Date.now();
  return h(
    'section',
    { class: 'device-group', 'aria-labelledby': id },
    h('h2', { id }, group),
    h(
      'table',
      { 'aria-labelledby': id },
      h('thead', {}, h('tr', {}, ...['Device', 'State', 'Last seen', 'System', 'You may', ''].map((title) => h('th', { scope: 'col' }, title)))),
      h(
        'tbody',
        {},
        ...devices.map((device) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, device.name),
            device.approval
              ? h('td', { class: device.online ? 'online' : 'offline' }, device.online ? 'Online' : 'Offline')
              : h('td', { class: 'offline' }, 'Awaiting approval'),
            h('td', {}, device.lastSeenAt === undefined ? 'never' : h('time', { datetime: new Date(device.lastSeenAt * 1000).toISOString() }, lastSeenText(device.lastSeenAt, nowMs))),
            h('td', {}, osName(device.os)),
            h('td', {}, allowedText(device.level, device.consent)),
            h(
              'td',
              {},
              !device.approval
                ? h('span', { class: 'hint' }, 'The operator has not approved it yet')
                : device.online
                  ? button('Offer help', () => showOfferForm(context, device), { 'aria-label': `Offer help to ${device.name}` })
                  : h('span', { class: 'hint' }, 'Its agent is not running'),
            ),
          ),
        ),
      ),
    ),
  );
}

/** "Offer help": the reason or ticket number the person and the audit log see, then the offer. */
function showOfferForm(context: DevicesContext, device: OfferableDevice): void {
  const reason = field(
    'Reason or ticket number',
    { name: 'reason', autocomplete: 'off', required: true, maxlength: String(MAX_OFFER_REASON_CHARS) },
    `The person at ${device.name} sees it with your name before answering; the relay’s audit log keeps it.`,
  );
  const problem = messageArea('alert');
  problem.say(undefined);
  showScreen(
    `Offer help to ${device.name}`,
    h('p', {}, `${device.group} · ${osName(device.os)} · you may: ${allowedText(device.level, device.consent).toLocaleLowerCase()}`),
    form(
      'Offer help',
      async () => {
        problem.say(undefined);
        if (!filledIn(reason, 'Type why you offer help, or the ticket number: the person sees it.')) return;
        await offer(context, device, reason.input.value.trim(), problem);
      },
      reason.element,
      problem,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Offer help'), button('Back to the devices', () => showDevices(context))),
    ),
  );
}

const DEVICE_KEYS = 'assist-device-keys';
const OPERATOR_KEY = 'assist-operator-key';
const FINGERPRINT = new RegExp(`^[A-Za-z0-9_-]{${OPERATOR_KEY_FINGERPRINT_CHARS}}$`);

/**
 * `/technician#operator-key=FINGERPRINT` (a link the operator hands out): pins that operator key in this browser.
 * The fragment never reaches the relay; it is taken out of the address before the sign-in leaves the page.
 */
export function rememberOperatorKeyFromAddress(): void {
  const given = new URLSearchParams(location.hash.slice(1)).get('operator-key');
  if (given === null) return;
  if (FINGERPRINT.test(given)) localStorage.setItem(OPERATOR_KEY, given);
  history.replaceState(null, '', location.pathname + location.search);
}

/**
 * The operator key fingerprint this browser trusts for the relay's devices. None yet: the technician confirms
 * once the fingerprint the relay presents (`presented`, from the device's approval), having checked it with the
 * operator; declined, nothing is offered.
 */
function browserOperatorKey(presented: string | undefined): string {
  const pinned = localStorage.getItem(OPERATOR_KEY);
  if (pinned !== null) return pinned;
  const ask = `Devices on this relay are approved by the operator key ${presented ?? '(none given)'}, the relay says. Check this fingerprint with your operator over another channel (they see it with: npm run operator -- operator-key): a relay could name a key of its own. Trust it in this browser from now on?`;
  if (presented === undefined || !window.confirm(ask)) {
    throw new DeviceApprovalError('operator-key-not-pinned', 'No operator key is trusted in this browser yet, so no device can be offered help. Open the link your operator gave you (…/technician#operator-key=FINGERPRINT), or confirm the fingerprint when asked.');
  }
  localStorage.setItem(OPERATOR_KEY, presented);
  return presented;
}

/** The device keys this browser pinned: kept across tabs and sign-ins, as the technician's own record. */
function browserDeviceKeyPins(): DeviceKeyPins {
  const read = (): PinnedDeviceKey[] => {
    try {
      const pinned: unknown = JSON.parse(localStorage.getItem(DEVICE_KEYS) ?? '[]');
      if (Array.isArray(pinned)) return pinned as PinnedDeviceKey[];
    } catch {
      // Said below: a damaged list must not be taken for an empty one, which would trust any key.
    }
    throw new Error('The device keys this browser remembers are damaged. Clear this site’s stored data to trust each device’s key again when you next offer help.');
  };
  return {
    pinned: (deviceId) => read().find((device) => device.deviceId === deviceId),
    pin: (device) => localStorage.setItem(DEVICE_KEYS, JSON.stringify([...read(), device])),
  };
}

/** Refusals of the offer itself: the key checks say their own sentences, the relay's refusals are in the one table. */
function offerRefusal(device: OfferableDevice, error: unknown): string {
  if (error instanceof DeviceKeyPinError || error instanceof DeviceApprovalError) return error.message;
  if (error instanceof RelayError && (error.code === 'offer-not-permitted' || error.code === 'device-unavailable')) return errorText(error, { device: device.name });
  return `The offer to ${device.name} could not be made. ${errorText(error)}`;
}

async function offer(context: DevicesContext, device: OfferableDevice, reason: string, problem: { say(text: string): void }): Promise<void> {
  let helpOffer: HelpOffer;
  try {
    helpOffer = await offerHelp({ relay: relay(), name: context.tab.technician.name.slice(0, MAX_NAME_CHARACTERS) });
  } catch (error) {
    return problem.say(errorText(error));
  }
  try {
    const { ticket } = await requestTechnicianTicket(relay(), context.tab.idToken);
    await helpOffer.client.signInTechnician(ticket);
    const operatorKey = browserOperatorKey(device.approval && deviceKeyFingerprint(device.approval.operatorKey));
    await offerToDevice(helpOffer, device, reason, context.tab, { operatorKey, pins: browserDeviceKeyPins() });
  } catch (error) {
    await helpOffer.leave().catch(() => {});
    if (needsSignIn(error)) return problem.say(signInProblem(error));
    return showDevices(context, offerRefusal(device, error));
  }
  runOffer(context, device, reason, helpOffer);
}

/** From the offer to the person's answer, then the session; a denial or no answer goes back to the list. */
function runOffer(context: DevicesContext, device: OfferableDevice, reason: string, session: HelpOffer): void {
  // Where the policy says "notice", nobody is asked: the device lets the technician in and shows a notice.
  const asks = device.consent === 'ask';
  const answerTime = answerCountdown();
  const countdown = asks
    ? answerTime.element
    : h('p', {}, `Nobody is asked on ${device.name} (the operator’s policy): it lets you in and shows a notice on its screen for the whole session.`);
  let approved = false;
  let consentSeconds: number | undefined;
  session.on('approved', () => (approved = true));
  session.on('asked', ({ seconds }) => {
    consentSeconds = seconds;
    answerTime.askedFor(seconds);
  });
  const withdraw = () => button('Withdraw the offer', () => session.leave());
  const about = h('p', {}, `Your reason: ${reason}`);
  runExpert(session, {
    offer: {
      asking: () =>
        showScreen(`Offering help to ${device.name}`, h('p', { role: 'status', class: 'waiting' }, `Waiting for ${device.name} to connect to you…`), countdown, about, withdraw()),
      verification: (code) =>
        showScreen(
          `Offering help to ${device.name}`,
          h('p', {}, 'Verification code'),
          h('p', { class: 'big-code' }, spacedCode(code)),
          h(
            'p',
            {},
            asks
              ? `The person at ${device.name} sees the same code, with your name and reason, and lets you in or not. If they call you, check that the codes match.`
              : `${device.name} shows the same code, with your name and reason, in its notice.`,
          ),
          h('p', { role: 'status', class: 'waiting' }, asks ? 'Waiting for the person to answer…' : `Waiting for ${device.name} to let you in…`),
          countdown,
          about,
          withdraw(),
        ),
      ended: (end: AssistEnd) => {
        if (approved) return showEnded(end, 'technician', { label: 'Back to the devices', href: '/technician' });
        if (end.reason === 'denied') {
          // The device's answer, as the relay passed it on; a relay that does not say gets the old sentence.
          return showDevices(
            context,
            end.offerAnswer
              ? offerTurnedDownText(end.offerAnswer, device.name, consentSeconds)
              : `The person at ${device.name} did not let you in: they said no or did not answer in time (or the device refused the offer).`,
          );
        }
        if (end.reason === 'ended-by-expert') return showDevices(context, `You withdrew the offer to ${device.name}.`);
        showDevices(context, `The offer to ${device.name} ended: ${endText(end.reason, 'technician')}`);
      },
    },
  });
}

/**
 * The time the person has left to answer: from the devices' default until the device says its own (the
 * `asked` message, end to end). Not announced every second: a timer.
 */
function answerCountdown(): { element: HTMLElement; askedFor(seconds: number): void } {
  let answerBy = Date.now() + DEFAULT_CONSENT_TIMEOUT_SECONDS * 1000;
  let deviceSaid = false;
  const left = h('span', {});
  const element = h('p', { role: 'timer', class: 'answer-countdown' }, left);
  const update = () => {
    const seconds = Math.max(0, Math.ceil((answerBy - Date.now()) / 1000));
    const guess = deviceSaid ? '' : ' (devices give a minute unless their operator set another time)';
    left.textContent = seconds > 0 ? `The person has ${minutesAndSeconds(seconds)} left to answer${guess}.` : 'The time to answer is up: waiting for the device to confirm.';
  };
  update();
  const timer = setInterval(() => {
    update();
    if (!element.isConnected || answerBy <= Date.now()) clearInterval(timer);
  }, 1000);
  return {
    element,
    askedFor(seconds) {
      answerBy = Date.now() + seconds * 1000;
      deviceSaid = true;
      update();
    },
  };
}
