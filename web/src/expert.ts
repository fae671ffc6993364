import { parseRelayJoinUrl } from '../../shared/core/relay-url.js';
import { joinHelp, offerHelp, type HelpOffer, type JoinHelpOptions } from '../../sdk/assist.js';
import { shareStoppedSentence, type VideoSource } from '../../sdk/assist-messages.js';
import type { AssistEnd, ExpertSession } from '../../sdk/assist-session.js';
import { isVersionMismatch } from '../../sdk/secure-session.js';
import { ChatPane } from './chat.js';
import { ClipboardPanel } from './clipboard-panel.js';
import { DesktopView } from './desktop-view.js';
import { button, clockTime, field, form, h, messageArea, showScreen, type Field } from './dom.js';
import { codeAttributes, filledIn, nameField, relay, validName } from './forms.js';
import { dropFragment, keepInTab, leaveInvitationAddress, TerminalReplay } from './resume.js';
import { connectionNotice, countdown, guardAgainstClosing, idleNotice, showEnded } from './session-ui.js';
import { TerminalView } from './terminal.js';
import { errorText, spacedCode } from './text.js';
import { endText } from '../../shared/core/end-texts.js';

// The technician's side: join an invitation (relay URL + password, or an Easy Connect password
// typed in), or offer help with a helper code; then the verification code, the wait for approval,
// and the session: the person's terminal or shared screen or desktop, chat, control requests, leaving.

const START_AGAIN = { label: 'Back to the start', href: '/' };

const TECHNICIAN_NAME_HINT = 'The person sees it before letting you in.';

/** After a wrong password: the form again, with the name kept and the problem on the password field. */
export interface Retry {
  name: string;
  /** What was typed or pasted: a code, or a link whose password was wrong. */
  invitation: string;
  error: string;
}

/**
 * `/join/<nameplate>#<secret>`, the link of a file invitation: the technician gives a name and the
 * password told separately. The relay serves this page alike for every nameplate, so the link is
 * checked here, before the password is asked; whether the invitation is still open shows on joining.
 */
export function showJoinLink(href: string, retry?: Retry): void {
  let link: ReturnType<typeof parseRelayJoinUrl>;
  try {
    link = parseRelayJoinUrl(href);
  } catch (error) {
    return showDamagedLink(errorText(error));
  }
  // The secret is read; it leaves the address bar and this page's history entry (it is kept nowhere).
  dropFragment();
  if (link.secret === undefined) return showDamagedLink('The link must end with # and a 26-character code. If you reloaded this page: the code is not kept, open the link you were sent again.');
  const invitation = `${link.httpUrl}/join/${link.nameplate}#${link.secret}`;
  const name = nameField(TECHNICIAN_NAME_HINT);
  const password = field('Password', { name: 'password', ...codeAttributes }, 'The person tells it to you separately, for example on the phone: 8 characters like XXXX-XXXX. It is not in the link.');
  const problem = messageArea('alert');
  problem.say(undefined);
  showScreen(
    'Someone asked you for help',
    h('p', {}, 'Only continue if you know who sent you this link and expected it.'),
    form(
      'Join',
      async () => {
        problem.say(undefined);
        if (!validName(name) || !filledIn(password, 'Type the password the person gave you.')) return;
        await join({ relay: relay(), name: name.input.value.trim(), invitation, password: password.input.value }, problem, (again) => showJoinLink(href, again));
      },
      name.element,
      password.element,
      problem,
      h('button', { type: 'submit' }, 'Connect'),
    ),
  );
  if (retry) retryWith(retry, name, password);
}

function showDamagedLink(why: string): void {
  showScreen(
    'This link is incomplete or damaged',
    h('p', {}, why),
    h('p', {}, 'Ask the person who invited you to send the whole link again, and copy all of it.'),
    h('p', {}, h('a', { href: START_AGAIN.href }, START_AGAIN.label)),
  );
}

const isLink = (text: string) => /^<?https?:/i.test(text.trim());

/** Fills the name in again and puts the problem on the field to correct, with the focus. */
function retryWith(retry: Retry, name: Field, wrong: Field): void {
  name.input.value = retry.name;
  wrong.setError(retry.error);
  wrong.input.focus();
}

/** Joins, then runs the session; a refusal is shown in `problem`, a wrong password goes back to the form (`retry`). */
async function join(options: JoinHelpOptions, problem: { say(text: string): void }, retry: (retry: Retry) => void): Promise<void> {
  let session: ExpertSession;
  try {
    session = await joinHelp(options);
  } catch (error) {
    return problem.say(errorText(error));
  }
  runExpert(session, { onWrongPassword: (error) => retry({ name: options.name, invitation: options.invitation, error }) });
}

/** The start page: someone who needs help goes to /help; a technician types what they were given, or offers a helper code. */
export function showStart(retry?: Retry): void {
  const name = nameField(TECHNICIAN_NAME_HINT);
  const invitation = field(
    'Easy Connect password or invitation link',
    { name: 'invitation', ...codeAttributes, autocapitalize: 'off' },
    'The 12-character password the person read to you, or the link they sent you.',
  );
  const password = field('Password for a link', { name: 'password', ...codeAttributes, required: false }, 'Only for a link: the 8 characters the person told you separately.');
  const problem = messageArea('alert');
  problem.say(undefined);
  showScreen(
    'Assist Relay',
    h('section', { 'aria-labelledby': 'need-help' }, h('h2', { id: 'need-help' }, 'Do you need help?'), h('p', {}, h('a', { href: '/help' }, 'Ask a technician for help'))),
    h(
      'section',
      { 'aria-labelledby': 'helping' },
      h('h2', { id: 'helping' }, 'Are you helping someone?'),
      form(
        'Help someone',
        async () => {
          problem.say(undefined);
          if (!validName(name) || !filledIn(invitation, 'Type the password or paste the link.')) return;
          const text = invitation.input.value.trim();
          if (isLink(text) && !text.replace(/^</, '').startsWith(`${relay()}/join/`)) {
            invitation.setError('This link is for another relay: open it directly in your browser.');
            return invitation.input.focus();
          }
          await join({ relay: relay(), invitation: text, password: password.input.value.trim() || undefined, name: name.input.value.trim() }, problem, showStart);
        },
        name.element,
        invitation.element,
        password.element,
        problem,
        h('button', { type: 'submit' }, 'Connect'),
      ),
    ),
    h('section', { 'aria-labelledby': 'offer' }, h('h2', { id: 'offer' }, 'Or give the person a code'), h('p', {}, 'Create a helper code, read it to the person, and they type it on this relay’s help page.'), offerForm()),
  );
  if (retry) {
    invitation.input.value = retry.invitation;
    retryWith(retry, name, isLink(retry.invitation) ? password : invitation);
  }
}

/** Helper code (the Quick Assist direction): the technician creates a code and reads it to the person. */
function offerForm(): HTMLElement {
  const name = nameField(TECHNICIAN_NAME_HINT);
  const problem = messageArea('alert');
  problem.say(undefined);
  return form(
    'Create a helper code',
    async () => {
      problem.say(undefined);
      if (!validName(name)) return;
      let offer: HelpOffer;
      try {
        offer = await offerHelp({ relay: relay(), name: name.input.value.trim() });
      } catch (error) {
        return problem.say(errorText(error));
      }
      runExpert(offer, { waiting: (note) => showHelperCode(offer, note) });
    },
    name.element,
    problem,
    h('button', { type: 'submit' }, 'Create a helper code'),
  );
}

function showHelperCode(offer: HelpOffer, note?: string): void {
  const status = messageArea('status');
  status.say(note);
  showScreen(
    'Read this code to the person',
    h('p', { class: 'big-code' }, offer.code),
    h('p', {}, `They open ${relay()}/help, choose “A technician gave me a code” and type it. It is valid until ${clockTime(offer.expiresAt)}.`),
    status,
    button('Withdraw the code', () => offer.revoke()),
  );
}

interface RunOptions {
  /** Helper code: what to show while the person has not got through (with a note about the last attempt). */
  waiting?: (note?: string) => void;
  /** Joining: a wrong password returns to the form with this message. */
  onWrongPassword?: (message: string) => void;
  /** Help offered to an enrolled device (devices.ts): its own screens until the person answers, and its end. */
  offer?: OfferScreens;
}

/** What an offer to a device shows instead of an invitation's screens. */
export interface OfferScreens {
  /** At once: the device is asking the person. */
  asking(): void;
  /** The device joined: the code its consent page shows too. */
  verification(code: string): void;
  ended(end: AssistEnd): void;
}

/** Drives the screens of one session, from the handshake to its end. */
export function runExpert(session: ExpertSession, options: RunOptions): void {
  const stopGuarding = guardAgainstClosing();
  let agentName = 'the person';
  const { waiting, offer } = options;
  if (offer) offer.asking();
  else if (waiting) waiting();
  else showScreen('Connecting', h('p', { role: 'status' }, 'Checking the password with the person’s computer…'), button('Cancel', () => session.leave()));

  if (waiting) {
    session.on('attempt-failed', ({ failedAttempts, maxFailedAttempts }) =>
      waiting(`Someone typed a wrong code (${failedAttempts} of ${maxFailedAttempts} tries). Check that the person types exactly what you read.`),
    );
    session.on('agent-left', () => waiting('The person left before letting you in. The code still works.'));
    session.on('error', (error) => {
      if (isVersionMismatch(error)) waiting(`${errorText(error)} Your code still works.`);
    });
  }
  session.on('verification', ({ code }) => {
    if (offer) return offer.verification(code);
    showScreen(
      'Read this code to the person',
      h('p', { class: 'big-code' }, spacedCode(code)),
      h('p', {}, 'They see the same code on their screen, and should let you in only if the two match.'),
      h('p', { role: 'status', class: 'waiting' }, 'Waiting for the person to let you in…'),
      button('Cancel', () => session.leave()),
    );
  });
  session.on('agent', ({ name }) => {
    agentName = name;
    const status = document.querySelector('.waiting');
    if (status) status.textContent = `Waiting for ${name} to let you in…`;
  });
  session.on('approved', ({ mode }) => {
    // From now on a reload comes back into this session (at `/`: the invitation's address is done with).
    keepInTab(session);
    leaveInvitationAddress();
    showActive(session, agentName, new TerminalReplay(), mode);
  });
  session.on('ended', (end) => {
    stopGuarding();
    if (offer) offer.ended(end);
    else if (end.reason === 'confirmation-failed' && options.onWrongPassword) options.onWrongPassword(endText(end.reason, 'technician'));
    else showEnded(end, 'technician', START_AGAIN);
  });
}

/** After a reload: the session restored from this tab, its terminal's last output shown again. */
export function continueAsTechnician(session: ExpertSession): void {
  const stopGuarding = guardAgainstClosing();
  session.on('ended', (end) => {
    stopGuarding();
    showEnded(end, 'technician', START_AGAIN);
  });
  showActive(session, session.agentName || 'the person', TerminalReplay.fromTab());
}

function showActive(session: ExpertSession, agentName: string, replay: TerminalReplay, mode?: 'view' | 'control'): void {
  const state = h('p', { role: 'status', class: 'session-state' });
  const terminal = new TerminalView(agentName, (bytes) => void session.sendInput(bytes));
  replay.keepUntilPageHides();
  const desktop = new DesktopView(session, agentName);
  /** Until the person shares a terminal or a screen (a person in the browser may never share either). */
  const sharesNothing = h('p', { class: 'shares-nothing' }, `${agentName} shares nothing yet. You can chat; what they share (a terminal, a screen) appears here.`);
  const chat = new ChatPane(agentName, (text) => session.chat(text));
  const clipboard = new ClipboardPanel(session, agentName, (text) => chat.note(text));
  /** Asked for control and not yet answered: the button waits for the person, so it is asked once. */
  let controlRequested = false;
  const askForControl = button('Ask for control', async () => {
    // Marked before sending, so an answer that comes back at once finds the request pending.
    controlRequested = true;
    update();
    try {
      await session.requestControl();
    } catch (error) {
      controlRequested = false;
      update();
      throw error;
    }
    chat.note(`You asked ${agentName} for control.`);
  });
  const update = () => {
    terminal.element.hidden = !session.terminalShared;
    sharesNothing.hidden = session.terminalShared || desktop.shown;
    terminal.setInteractive(session.hasControl && !session.paused);
    // Control is asked for only where there is something to control: a terminal, or a desktop (not a browser's screen).
    askForControl.hidden = session.hasControl || controlRequested || !session.somethingToControl;
    state.textContent = session.paused
      ? `${agentName} paused the session: nothing is shown or typed until they resume. Chat still works.`
      : `You are helping ${agentName}${session.hasControl ? ' and have control' : ' (view only)'}.${controlRequested ? ` You asked for control: waiting for ${agentName}’s answer.` : ''}`;
  };
  showScreen(
    `Helping ${agentName}`,
    state,
    connectionNotice(session.client, agentName),
    countdown(session.client, 'The person can add time.'),
    idleNotice(session),
    h('div', { class: 'actions' }, askForControl, button('Leave the session', () => session.leave())),
    h('div', { class: 'workspace' }, h('div', {}, sharesNothing, desktop.element, terminal.element), h('div', {}, chat.element, clipboard.element)),
  );
  if (replay.size) terminal.resize(replay.size.cols, replay.size.rows);
  const replayed = replay.output;
  if (replayed.length > 0) terminal.write(replayed);
  update();
  if (mode === 'control') chat.note(`${agentName} let you in with control.`);
  if (!mode) chat.note(`You are back in the session with ${agentName}.`);
  session.on('terminal-share', ({ state: share }) => {
    if (share === 'stopped') chat.note(`${agentName} stopped sharing their terminal.`);
    update();
  });
  session.on('output', (bytes) => {
    replay.add(bytes);
    terminal.write(bytes);
  });
  /** What the person shares (their desktop, or a screen from the browser), once its first configuration came. */
  let shared: VideoSource | undefined;
  session.on('video-config', ({ source }) => {
    if (shared === undefined) chat.note(`${agentName} started sharing their ${source}.`);
    shared = source;
    update();
  });
  session.on('screen-share', (share) => {
    if (share.state === 'stopped' && shared) chat.note(shareStoppedSentence(agentName, shared, share.reason));
    shared = undefined;
    update();
  });
  session.on('resize', ({ cols, rows }) => {
    replay.size = { cols, rows };
    terminal.resize(cols, rows);
  });
  session.on('chat', (text) => chat.received(text));
  session.client.on('extended', ({ expiresAt }) => chat.note(`${agentName} added time: the session can now last until ${clockTime(new Date(expiresAt * 1000))}.`));
  const controlNotes = {
    granted: `${agentName} gave you control.`,
    refused: `${agentName} said no to control: you can still watch, and ask again.`,
    revoked: `${agentName} took control back.`,
    'nothing-to-control': `${agentName} shares nothing you could control (no terminal, no desktop): you can still watch and chat.`,
    unanswered: `${agentName} has not answered your request for control for a minute. Ask again, or send a message.`,
  };
  session.on('control', ({ state: control }) => {
    controlRequested = false;
    chat.note(controlNotes[control]);
    update();
  });
  session.on('paused', () => {
    chat.note(`${agentName} paused the session.`);
    update();
  });
  session.on('resumed', () => {
    chat.note(`${agentName} resumed the session.`);
    update();
  });
  session.on('ended', () => terminal.dispose());
}
