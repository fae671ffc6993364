import { acceptHelp, requestHelp, type HelpRequest } from '../../sdk/assist.js';
import type { AgentSession } from '../../sdk/assist-session.js';
import { isVersionMismatch } from '../../sdk/secure-session.js';
import { DEFAULT_EXTENSION_SECONDS } from '../../sdk/time-limit.js';
import { ChatPane } from './chat.js';
import { button, clockTime, field, form, h, messageArea, showScreen, uniqueId } from './dom.js';
import { codeAttributes, filledIn, nameField, relay, validName } from './forms.js';
import { ScreenShare } from './screen-share.js';
import { keepInTab, leaveInvitationAddress } from './resume.js';
import { connectionNotice, countdown, guardAgainstClosing, idleNotice, showEnded } from './session-ui.js';
import { errorText, spacedCode } from './text.js';
import { endText } from '../../shared/core/end-texts.js';

/** What "Add time" adds (the SDK's default extension). */
const EXTENSION_MINUTES = DEFAULT_EXTENSION_SECONDS / 60;

// The side of the person who needs help: ask for help (an Easy Connect password to read out, or a
// link and password to send, optionally emailed by the relay), or type a technician's helper code;
// then see who connects and their verification code, let them in or refuse, chat, end, and if
// they choose, share their screen with the technician (view only), pause it and stop it.
// Nothing of this computer is shared unless the person shares their screen.

const ASK_AGAIN = { label: 'Ask for help again', href: '/help' };
const PERSON_NAME_HINT = 'The technician sees it.';

/** After a wrong helper code: the page again, the name and code kept, the problem on the code field. */
interface CodeRetry {
  name: string;
  code: string;
  error: string;
}

/** `/help`. */
export function showHelp(retry?: CodeRetry): void {
  showScreen(
    'Get help from a technician',
    h('p', {}, 'A technician you trust can connect to this page to chat with you. You see who it is and decide whether to let them in.'),
    h('section', { 'aria-labelledby': 'ask' }, h('h2', { id: 'ask' }, 'Ask for help'), askForm()),
    h('section', { 'aria-labelledby': 'have-code' }, h('h2', { id: 'have-code' }, 'A technician gave me a code'), acceptForm(retry)),
  );
}

function askForm(): HTMLElement {
  const name = nameField(PERSON_NAME_HINT);
  const legendId = uniqueId('kind');
  const choice = (value: 'easy-connect' | 'file', label: string, checked: boolean) => {
    const id = uniqueId(value);
    return h('div', { class: 'field inline' }, h('input', { type: 'radio', name: 'kind', id, value, checked }), h('label', { for: id }, label));
  };
  const problem = messageArea('alert');
  problem.say(undefined);
  const element: HTMLFormElement = form(
    'Ask for help',
    async () => {
      problem.say(undefined);
      if (!validName(name)) return;
      const kind = (element.querySelector<HTMLInputElement>('input[name="kind"]:checked')?.value ?? 'easy-connect') as 'easy-connect' | 'file';
      let request: HelpRequest;
      try {
        request = await requestHelp({ relay: relay(), kind, name: name.input.value.trim() });
      } catch (error) {
        return problem.say(errorText(error));
      }
      runPerson(request, (note) => showInvitation(request, note));
    },
    name.element,
    h(
      'fieldset',
      { 'aria-labelledby': legendId },
      h('legend', { id: legendId }, 'How will the technician get the invitation?'),
      choice('easy-connect', 'I will read a password to them, for example on the phone', true),
      choice('file', 'I will send them a link, by email or message', false),
    ),
    problem,
    h('button', { type: 'submit' }, 'Create the invitation'),
  );
  return element;
}

function acceptForm(retry?: CodeRetry): HTMLElement {
  const name = nameField(PERSON_NAME_HINT);
  const code = field('Code', { name: 'code', ...codeAttributes }, '12 characters like XXXX-XXXX-XXXX, read to you by the technician.');
  const problem = messageArea('alert');
  problem.say(undefined);
  if (retry) {
    name.input.value = retry.name;
    code.input.value = retry.code;
    code.setError(retry.error);
    // Focused once the form is on the page.
    queueMicrotask(() => code.input.focus());
  }
  return form(
    'Use a technician’s code',
    async () => {
      problem.say(undefined);
      if (!validName(name) || !filledIn(code, 'Type the code the technician read to you.')) return;
      let session: AgentSession;
      try {
        session = await acceptHelp({ relay: relay(), code: code.input.value, name: name.input.value.trim() });
      } catch (error) {
        return problem.say(errorText(error));
      }
      const typed = { name: name.input.value.trim(), code: code.input.value };
      runPerson(session, () => showScreen('Connecting', h('p', { role: 'status' }, 'Checking the code with the technician’s computer…')), {
        onWrongCode: (error) => showHelp({ ...typed, error }),
      });
    },
    name.element,
    code.element,
    problem,
    h('button', { type: 'submit' }, 'Connect'),
  );
}

/** What to hand over, and the ways to hand it over. */
function showInvitation(request: HelpRequest, note?: string): void {
  const { invitation } = request;
  const status = messageArea('status');
  status.say(note);
  const until = h(
    'p',
    {},
    `It works once, until ${clockTime(invitation.expiresAt)}, and stops working after ${request.maxFailedAttempts} wrong passwords. Nobody can see anything until you let them in.`,
  );
  const withdraw = button('Withdraw the invitation', () => request.revoke());
  if (invitation.kind === 'easy-connect') {
    showScreen(
      'Read this password to the technician',
      h('p', { class: 'big-code' }, invitation.password),
      h('p', {}, `They type it at ${relay()}, or in the command line.`),
      until,
      status,
      withdraw,
    );
    return;
  }
  const linkId = uniqueId('link');
  const link = h('input', { type: 'text', id: linkId, readonly: true, value: invitation.relayUrl, spellcheck: 'false' });
  const download = h('a', { href: URL.createObjectURL(new Blob([invitation.file], { type: 'application/octet-stream' })), download: invitation.fileName }, 'Download the invitation file');
  showScreen(
    'Send this invitation to the technician',
    h('div', { class: 'field' }, h('label', { for: linkId }, 'Link'), h('div', { class: 'inline' }, link, button('Copy the link', () => navigator.clipboard.writeText(invitation.relayUrl)))),
    h('p', {}, 'Then tell them this password separately, for example on the phone (it is not in the link or the email):'),
    h('p', { class: 'big-code' }, invitation.password),
    until,
    emailForm(request),
    h('p', {}, download, ' (the link’s alternative, for the command line)'),
    status,
    withdraw,
  );
}

function emailForm(request: HelpRequest): HTMLElement {
  const address = field('Technician’s email address', { name: 'email', type: 'email', autocomplete: 'off', required: true }, 'The relay emails them the link (never the password).');
  const result = messageArea('status');
  result.say(undefined);
  return form(
    'Email the invitation',
    async () => {
      result.say(undefined);
      if (!filledIn(address, 'Type the technician’s email address.')) return;
      try {
        const { to } = await request.emailInvitation(address.input.value.trim());
        address.setError(undefined);
        result.say(`Sent to ${to}. Now tell them the password.`);
      } catch (error) {
        address.setError(errorText(error));
        address.input.focus();
      }
    },
    address.element,
    h('button', { type: 'submit' }, 'Email the invitation'),
    result,
  );
}

/** Drives the screens of one session: waiting, the decision, the session, its end. */
function runPerson(session: AgentSession, waiting: (note?: string) => void, options: { onWrongCode?: (message: string) => void } = {}): void {
  const stopGuarding = guardAgainstClosing();
  waiting();
  session.on('attempt-failed', ({ failedAttempts, maxFailedAttempts }) =>
    waiting(`Someone tried a wrong password (${failedAttempts} of ${maxFailedAttempts} tries). If it was not your technician, withdraw the invitation.`),
  );
  session.on('expert-left', () => waiting('The technician left before you let them in. The invitation still works.'));
  // A technician whose assist cannot talk to this one: the invitation stays open for when they have updated.
  session.on('error', (error) => {
    if (isVersionMismatch(error)) waiting(`${errorText(error)} Your invitation still works.`);
  });
  session.on('expert', ({ name, verificationCode }) => {
    showScreen(
      `${name} wants to help you`,
      h('p', {}, 'Ask them to read their code to you. Let them in only if it is exactly this one:'),
      h('p', { class: 'big-code' }, spacedCode(verificationCode)),
      h('p', {}, 'Once in, they can chat with you. You can end the session at any time.'),
      h('div', { class: 'actions' }, button('Let them in', () => approve(session, name)), button('Refuse', () => session.deny())),
    );
  });
  session.on('ended', (end) => {
    stopGuarding();
    // A helper code typed wrong: back to the form, as a technician's wrong password goes back to theirs.
    if (end.reason === 'confirmation-failed' && options.onWrongCode) options.onWrongCode(endText(end.reason, 'person'));
    else showEnded(end, 'person', ASK_AGAIN);
  });
}

async function approve(session: AgentSession, expertName: string): Promise<void> {
  // Kept from the approval on: a reload comes back into this session (at `/`, the help page's work is done).
  keepInTab(session);
  await session.approve('view');
  leaveInvitationAddress();
  showActive(session, expertName);
}

/** After a reload: the session restored from this tab (a screen share is not restarted: the technician was told it stopped). */
export function continueAsPerson(session: AgentSession): void {
  const stopGuarding = guardAgainstClosing();
  session.on('ended', (end) => {
    stopGuarding();
    showEnded(end, 'person', ASK_AGAIN);
  });
  showActive(session, session.expert?.name ?? 'The technician');
}

function showActive(session: AgentSession, expertName: string): void {
  const chat = new ChatPane(expertName, (text) => session.chat(text));
  const state = h('p', { role: 'status', class: 'session-state' });
  const screen = screenPanel(session, expertName, (text) => (state.textContent = text));
  // The person decides how long the session lasts, up to the relay's cap.
  const addTime = button(`Add ${EXTENSION_MINUTES} minutes`, async () => {
    const before = session.client.activation?.expiresAt;
    const { expiresAt } = await session.extend();
    chat.note(expiresAt === before ? 'The session cannot be extended any further: this relay allows no more time.' : `You added time: the session can now last until ${clockTime(new Date(expiresAt * 1000))}.`);
  });
  showScreen(
    `${expertName} is helping you`,
    state,
    connectionNotice(session.client, expertName),
    countdown(session.client, `Add ${EXTENSION_MINUTES} minutes if you need more time.`),
    idleNotice(session),
    h('div', { class: 'actions' }, button('End the session', () => session.end()), addTime),
    // After the chat, so the keyboard reaches End and the chat first, as before sharing existed.
    h('div', { class: 'workspace' }, chat.element, screen),
  );
  session.on('chat', (text) => chat.received(text));
  // A request for control is answered by the SDK (nothing-to-control): a browser shares nothing controllable.
}

/**
 * Sharing the screen: start (the browser asks what to share) and stop, pause and resume (the
 * session's pause: nothing is sent meanwhile). Each is one button whose label says what it does
 * next, so the keyboard focus stays put. `say` gets the sentence that tells the person what the
 * technician can see now.
 */
function screenPanel(session: AgentSession, expertName: string, say: (text: string) => void): HTMLElement {
  const headingId = uniqueId('screen-heading');
  const problem = messageArea('alert');
  problem.say(undefined);
  let share: ScreenShare | undefined;
  const sharing = () => share !== undefined && !share.stopped;

  const startOrStop = button('', async () => {
    problem.say(undefined);
    if (sharing()) return share!.stop();
    try {
      share = await ScreenShare.start(session, (why) => {
        if (why) problem.say(why);
        update();
      });
    } catch (error) {
      // NotAllowedError: the person closed the browser's picker, or the browser refused without asking.
      problem.say(error instanceof DOMException && error.name === 'NotAllowedError' ? 'Nothing is shared: screen sharing was cancelled or not allowed.' : errorText(error));
    }
    update();
  });
  const pauseOrResume = button('', async () => {
    await (session.paused ? session.resume() : session.pause());
    update();
  });

  function update(): void {
    const on = sharing();
    startOrStop.textContent = on ? 'Stop sharing' : 'Share my screen (view only)';
    pauseOrResume.textContent = session.paused ? 'Resume sharing' : 'Pause sharing';
    // Resume stays reachable after the share stopped: the session itself is still paused.
    pauseOrResume.hidden = !on && !session.paused;
    say(
      session.paused
        ? `Paused: ${expertName} sees nothing new until you resume.`
        : on
          ? `You are sharing your screen. ${expertName} can see it but not control it.`
          : `You are chatting with ${expertName}. They cannot see or control this computer.`,
    );
  }
  update();
  session.on('ended', () => void share?.stop());

  return h(
    'section',
    { 'aria-labelledby': headingId },
    h('h2', { id: headingId }, 'Your screen'),
    ScreenShare.supported
      ? h('p', {}, `If it helps, let ${expertName} see a tab, a window or your whole screen: you choose which in the next step. They can only look, not click or type.`)
      : h('p', {}, 'This browser cannot share your screen. A current Chrome, Edge or Firefox on a computer can.'),
    ScreenShare.supported && h('div', { class: 'actions' }, startOrStop, pauseOrResume),
    problem,
  );
}
