// The interface for people: plain lines while waiting and deciding (with time left, the
// verification code set apart, single-key choices), then the terminal itself. During the session
// every key goes to the shared terminal except Ctrl-], which opens a one-key menu: control, pause,
// message, end, help. On the person's side the terminal is their own shell; on the technician's
// side it is the person's terminal as it arrives.

import { StringDecoder } from 'node:string_decoder';
import type { ReadStream, WriteStream } from 'node:tty';
import type { Readable, Writable } from 'node:stream';
import { shareStoppedSentence } from '../sdk/assist-messages.js';
import { DEFAULT_EXTENSION_SECONDS } from '../sdk/time-limit.js';
import type { EndReason, LocalEndReason, Role } from '../shared/core/messages.js';
import { endText, readerOf } from '../shared/core/end-texts.js';
import { DEFAULT_CONSENT_TIMEOUT_SECONDS } from '../sdk/device-offer.js';
import type { Command, SessionEvent } from './events.js';
import type { Frontend } from './frontend.js';
import { offerTurnedDownText, type OfferRefusalAnswer } from '../shared/core/offer-outcome.js';

/** What Ctrl-] then x adds (the SDK's default extension), in words. */
const EXTENSION = duration(DEFAULT_EXTENSION_SECONDS * 1000);

/** Ctrl-]: the escape key, as in telnet; seldom needed by programs in a terminal. */
const MENU_KEY = 0x1d;
const CTRL_C = 0x03;
const ESCAPE = 0x1b;
const ENTER = new Set([0x0d, 0x0a]);
const BACKSPACE = new Set([0x7f, 0x08]);
/** Sets the interface's lines apart from the shared terminal's output (in reverse video on a terminal). */
const NOTICE_MARK = '[assist]';

type Phase =
  /** Before anyone is through the handshake (an invitation is open, or the connection is being set up). */
  | 'waiting'
  /** Agent: choose approve view / control / deny. Expert: wait for that choice. */
  | 'deciding'
  /** Agent: the choice is on its way; keys wait for the terminal (a stray q must not end the session). */
  | 'decided'
  | 'live'
  /** Ctrl-] was pressed: the next key is a menu choice. */
  | 'menu'
  /** Typing a chat message. */
  | 'message'
  | 'ended'
  /** Agent, after the end: the program still runs here, no longer shared; keys go to it. */
  | 'unshared'
  /** Agent, in 'unshared': Ctrl-] was pressed. */
  | 'unshared-menu';

export interface HumanFrontendOptions {
  role: Role;
  input: Readable;
  output: Writable;
  /** Where errors go (stderr). */
  errors: Writable;
  /** Agent: the desktop is shared (--desktop), so the prompts say so. */
  desktop?: boolean;
  /** Agent: a terminal is shared (default true; --desktop alone shares none). */
  terminal?: boolean;
  /** The other side's name, when the session starts already decided (`assist agent`: the person answered on its page). */
  peer?: string;
  /** Agent: control may be given (default true; an offer whose group policy allows view only: false). */
  controlAllowed?: boolean;
  /**
   * Expert: how long after the approval, with nothing shared yet, the technician is told so (default 2 s:
   * a person's assist command shares its terminal at once; a person in the browser may share nothing).
   */
  nothingSharedAfterMs?: number;
}

export class HumanFrontend implements Frontend {
  readonly #role: Role;
  readonly #input: Readable;
  readonly #output: Writable;
  readonly #errors: Writable;
  #phase: Phase = 'waiting';
  #onCommand: ((command: Command) => void) | undefined;
  /** The other side's name, once it connected. */
  #peerName: string | undefined;
  #expiresAt: number | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #statusShown = false;
  #approved = false;
  #control = false;
  #paused = false;
  /**
   * What Ctrl-] p last asked for, or the state last reported: `paused` follows only once the relay has recorded
   * the pause, so a quick second press must read this to resume rather than pause again.
   */
  #pauseWanted = false;
  /** Agent: the expert asked for control and has no answer yet. */
  #controlRequested = false;
  /** An idle warning is out: the menu offers "still here". */
  #idleWarned = false;
  readonly #nothingSharedAfterMs: number;
  /** Expert, after the approval: says the person shares nothing yet, unless a share comes first. */
  #nothingSharedTimer: NodeJS.Timeout | undefined;
  #message = '';
  #messageDecoder = new StringDecoder('utf8');
  /** Resolves when the message line is closed: the screen holds terminal output meanwhile. */
  #messageDone: Promise<void> | undefined;
  #finishMessage: (() => void) | undefined;
  #viewOnlyHintShown = false;
  readonly #sharesDesktop: boolean;
  readonly #controlAllowed: boolean;
  readonly #sharesTerminal: boolean;
  #nothingTypedHintShown = false;
  /** The time limit, when it came before the approval's lines. */
  #pendingLimit: Extract<SessionEvent, { event: 'time-limit' }> | undefined;
  /** Agent: the desktop share runs now (its state is kept in the window title). */
  #desktopLive = false;
  #titleSet = false;
  /** Expert: the person's desktop share was announced. */
  #desktopAnnounced = false;
  /** Agent: reasons for dropped input already explained (the count is in the JSON events). */
  readonly #droppedReasonsShown = new Set<string>();
  /** Clipboard text follows both ways (the person allowed it). */
  #clipboardAllowed = false;
  /** Technician: the session is an offer to this enrolled device (`assist offer --device`). */
  #offer: Extract<SessionEvent, { event: 'offered' }> | undefined;
  /** Technician of an offer: the device's agent joined, so its person was asked. */
  #offerAsked = false;
  /** Technician of an offer: how long the person has, as the device said (until it does, its default). */
  #consentSeconds: number | undefined;
  /** Technician of an offer: when the person's time to answer is up (epoch ms). */
  #answerBy = 0;
  readonly #onData = (chunk: Buffer) => this.#keys(chunk);
  /** The person's window changed size: so does the shared terminal. */
  readonly #onResize = () => {
    const { columns, rows } = this.#output as WriteStream;
    if (this.#role === 'agent') this.#command({ cmd: 'resize', cols: columns, rows });
  };

  constructor(options: HumanFrontendOptions) {
    this.#role = options.role;
    this.#input = options.input;
    this.#output = options.output;
    this.#errors = options.errors;
    this.#sharesDesktop = options.desktop === true;
    this.#sharesTerminal = options.terminal !== false || !this.#sharesDesktop;
    this.#nothingSharedAfterMs = options.nothingSharedAfterMs ?? 2000;
    this.#peerName = options.peer;
    this.#controlAllowed = options.controlAllowed !== false;
  }

  /** The other side, as sentences name it: its name once it connected. */
  get #peer(): string {
    return this.#peerName ?? 'the other side';
  }

  /** What the person shares, in their prompts. */
  get #shared(): string {
    if (!this.#sharesDesktop) return 'your terminal';
    return this.#sharesTerminal ? 'your terminal and desktop' : 'your desktop';
  }

  /** What control lets the technician do, in the person's words. */
  get #controlled(): string {
    if (!this.#sharesDesktop) return 'type in your terminal';
    return this.#sharesTerminal ? 'type in your terminal and use your mouse and keyboard' : 'use your mouse and keyboard';
  }

  get #interactive(): boolean {
    return Boolean((this.#output as WriteStream).isTTY);
  }

  get #mark(): string {
    return this.#interactive ? `\x1b[7m${NOTICE_MARK}\x1b[0m` : NOTICE_MARK;
  }

  show(event: SessionEvent): void | Promise<void> {
    if (event.event === 'terminal-share' || event.event === 'screen-share' || event.event === 'ended') this.#somethingShared();
    switch (event.event) {
      case 'invitation':
        return this.#invitation(event);
      case 'offered':
        return this.#offered(event);
      case 'connected':
        return this.#connected(event.peer, event.verification);
      case 'peer-left':
        this.#phase = 'waiting';
        this.#lines(
          this.#role === 'agent'
            ? `${this.#peer} left before you decided. ${this.#expiresAt ? 'Your invitation is open again.' : ''}`
            : `${this.#peer} left before letting you in. ${this.#expiresAt ? 'Your code is open again.' : ''}`,
        );
        return this.#startStatus();
      case 'attempt-failed':
        return this.#lines(
          `Someone tried to connect with a wrong ${this.#role === 'agent' ? 'password' : 'code'} (${event.failedAttempts} of ${event.maxFailedAttempts} attempts used; at ${event.maxFailedAttempts} it stops working).`,
        );
      case 'approved':
        return this.#approvedAs(event.mode);
      case 'denied':
        return; // the end that follows says it
      case 'asked':
        return this.#asked(event.seconds);
      case 'control':
        this.#controlRequested = false;
        if (event.state === 'refused') {
          return this.#notice(this.#role === 'agent' ? `You said no to ${this.#peer}'s request for control: they can still watch.` : `${this.#peer} said no to control: you can still watch.`);
        }
        if (event.state === 'nothing-to-control') {
          return this.#notice(`${this.#peer} shares nothing you could control (no terminal, no desktop): you can still chat with Ctrl-] then m.`);
        }
        if (event.state === 'unanswered') {
          return this.#notice(`${this.#peer} has not answered your request for control for a minute. Ask again with Ctrl-] then r, or send a message.`);
        }
        // Approving with control grants it: told together with the approval.
        if (this.#control === (event.state === 'granted')) return;
        this.#control = event.state === 'granted';
        if (this.#role === 'agent') {
          this.#title();
          return this.#notice(this.#control ? `${this.#peer} can now ${this.#controlled}.` : `${this.#peer} can no longer ${this.#controlled}.`);
        }
        return this.#notice(this.#control ? 'You have control: your keys go to their terminal.' : `${this.#peer} took control back: you can only watch.`);
      case 'control-requested':
        this.#controlRequested = true;
        return this.#notice(
          this.#controlAllowed
            ? `${this.#peer} asks for control of ${this.#shared}. To allow it: Ctrl-] then c. To say no: Ctrl-] then n.`
            : `${this.#peer} asks for control of ${this.#shared}; your organisation's policy lets them only watch. To say no: Ctrl-] then n.`,
        );
      case 'paused':
        this.#paused = this.#pauseWanted = true;
        this.#title();
        return this.#notice(this.#role === 'agent' ? `Paused: ${this.#peer} sees nothing and cannot type. Resume with Ctrl-] then p.` : `${this.#peer} paused the session: nothing is shown until they resume.`);
      case 'resumed':
        this.#paused = this.#pauseWanted = false;
        this.#title();
        return this.#notice(this.#role === 'agent' ? `Resumed: ${this.#peer} sees ${this.#shared} again.` : `${this.#peer} resumed the session.`);
      case 'terminal-share':
        return event.state === 'started' ? this.#lines(`--- ${this.#peer}'s terminal ---`) : this.#notice(`${this.#peer} stopped sharing their terminal.`);
      case 'output':
        return this.#terminalOutput(event.bytes);
      case 'resize':
        return this.#resize(event.cols, event.rows);
      case 'chat':
        return this.#notice(`${this.#peer}: ${event.text}`);
      case 'screen-share':
        return this.#notice(
          event.state === 'started'
            ? `${this.#peer} is sharing their screen, which this terminal cannot show: to see it, help from the relay's web console in a browser, ${this.#offer ? `offering help to ${this.#offer.device} again from its Devices view` : `with a new invitation from ${this.#peer}`}.`
            : shareStoppedSentence(this.#peer, this.#desktopAnnounced ? 'desktop' : 'screen', event.reason),
        );
      case 'desktop-share':
        return this.#desktopShare(event);
      case 'desktop-error':
        return this.#error(event.message, event.code);
      case 'input-dropped':
        if (this.#droppedReasonsShown.has(event.why)) return;
        this.#droppedReasonsShown.add(event.why);
        return this.#notice(`Mouse or key input from ${this.#peer} was not applied: ${event.why} (${event.count} so far; this is said once).`);
      case 'clipboard-allowed':
        this.#clipboardAllowed = event.allowed;
        if (this.#role === 'expert') {
          return this.#notice(
            event.allowed
              ? `${this.#peer} shares their clipboard: Ctrl-] then v puts the text on your clipboard on theirs. What they copy is only counted here.`
              : `${this.#peer} stopped sharing their clipboard.`,
          );
        }
        return this.#notice(
          event.allowed
            ? `Clipboard shared: text you copy goes to ${this.#peer}, text they send goes on your clipboard. Ctrl-] then b stops it.`
            : 'Clipboard no longer shared. Ctrl-] then b shares it again.',
        );
      case 'clipboard':
        if (this.#role === 'expert') {
          return this.#notice(
            event.direction === 'sent'
              ? `Put the ${event.characters} characters on your clipboard on ${this.#peer}'s clipboard.`
              : `${this.#peer} copied ${event.characters} characters (this terminal only counts them: a technician in the web console or with --json gets the text).`,
          );
        }
        return this.#notice(event.direction === 'sent' ? `Sent what you copied to ${this.#peer} (${event.characters} characters).` : `${this.#peer} put ${event.characters} characters on your clipboard.`);
      case 'clipboard-refused':
        if (this.#droppedReasonsShown.has(`clipboard: ${event.why}`)) return;
        this.#droppedReasonsShown.add(`clipboard: ${event.why}`);
        return this.#notice(`Clipboard text from ${this.#peer} was not put on your clipboard: ${event.why} (${event.count} so far; this is said once).`);
      case 'time-limit':
        // The relay's approval comes a moment before the approval's own lines: said after them.
        if (!this.#approved) {
          this.#pendingLimit = event;
          return;
        }
        return this.#timeLimit(event);
      case 'expiry-warning': {
        const at = Date.parse(event.expiresAt);
        return this.#notice(
          `${duration(event.secondsLeft * 1000)} left: the session ends at ${clockTime(at)}.` +
            (this.#role === 'agent' ? ` Ctrl-] then x adds ${EXTENSION}.` : ` Ask ${this.#peer} to add time if you need it.`),
        );
      }
      case 'idle-warning':
        this.#idleWarned = true;
        return this.#notice(
          `Nothing has happened for a while: the session ends at ${clockTime(Date.parse(event.endsAt))} (in ${duration(event.secondsLeft * 1000)}) unless someone does something. Ctrl-] then i says you are still here.`,
        );
      case 'idle-cleared':
        this.#idleWarned = false;
        return this.#notice('Someone is active again: the session goes on.');
      case 'peer':
        return this.#notice(
          event.state === 'disconnected'
            ? `${this.#peer}'s connection dropped: waiting for it to come back (the relay keeps the session for 5 minutes)…`
            : `${this.#peer} is back.`,
        );
      case 'connection':
        if (event.state === 'connected') return this.#notice('Reconnected to the relay.');
        // Said once per outage, not for every attempt.
        return event.attempt === 1 ? this.#notice('The connection to the relay dropped: reconnecting…') : undefined;
      case 'session-restored':
        return this.#restored(event);
      case 'ended':
        return this.#ended(event.reason, event.offerAnswer);
      case 'still-running':
        this.#phase = 'unshared';
        return this.#lines(
          'What you shared still runs here, and nobody else sees it any more.',
          'Carry on, and leave it as usual (for a shell: exit), or press Ctrl-] then e to hang it up.',
          '',
        );
      case 'program-exited':
        this.#phase = 'ended';
        return this.#lines('', event.code === null ? 'Your program was ended.' : `Your program exited${event.code === 0 ? '' : ` (exit status ${event.code})`}.`);
      case 'error':
        return this.#error(event.message, event.code);
    }
  }

  listen(onCommand: (command: Command) => void): void {
    this.#onCommand = onCommand;
    const input = this.#input as ReadStream;
    if (input.isTTY) input.setRawMode(true);
    this.#input.on('data', this.#onData);
    this.#input.resume();
    if (this.#interactive) this.#output.on('resize', this.#onResize);
  }

  close(): void {
    this.#stopStatus();
    this.#somethingShared();
    this.#input.off('data', this.#onData);
    this.#output.off('resize', this.#onResize);
    const input = this.#input as ReadStream;
    if (input.isTTY) input.setRawMode(false);
    this.#input.pause();
  }

  // ---- events ----

  #invitation(event: Extract<SessionEvent, { event: 'invitation' }>): void {
    this.#expiresAt = Date.parse(event.expiresAt);
    const capped =
      event.cappedFromSeconds === undefined ? '' : `You asked for ${duration(event.cappedFromSeconds * 1000)}, more than this relay allows, so it was shortened. `;
    const until =
      `${capped}It stays open until ${clockTime(this.#expiresAt)} (${duration(this.#expiresAt - Date.now())}); ` +
      `after ${event.maxFailedAttempts} wrong ${event.kind === 'helper-code' ? 'codes' : 'passwords'} it stops working.`;
    switch (event.kind) {
      case 'easy-connect':
        this.#lines(
          'Your Easy Connect password is:',
          '',
          `    ${event.password}`,
          '',
          'Read it out to the person who will help you (by phone, for example).',
          this.#sharesDesktop
            ? `They enter it in the relay's web console in a browser to see your desktop (or type: assist join ${event.password}).`
            : `They type: assist join ${event.password}`,
          until,
        );
        break;
      case 'file':
      case 'email':
        this.#lines(
          event.kind === 'file'
            ? `Invitation file written: ${event.file}\nSend this file to the person who will help you (email, chat, USB stick: any way works).`
            : `The relay emailed the invitation to ${event.to}.`,
          `Then tell them this password separately, by phone or in person (it is not in the ${event.kind}):`,
          '',
          `    ${event.password}`,
          '',
          ...(event.url ? [`Instead of the file they can also use this link (they still need the password):`, `    ${event.url}`] : []),
          until,
        );
        break;
      case 'helper-code':
        this.#lines(
          'Your helper code is:',
          '',
          `    ${event.password}`,
          '',
          'Read it out to the person you are helping.',
          `They type: assist accept ${event.password}`,
          until,
        );
        break;
    }
    this.#startStatus();
  }

  #offered(offer: Extract<SessionEvent, { event: 'offered' }>): void {
    this.#offer = offer;
    this.#lines(
      `Offered help to ${offer.device} (${offer.group}): ${offer.reason}`,
      offer.consent === 'ask'
        ? `Its person is asked first; the policy lets you have ${offer.level === 'control' ? 'control' : 'view only'}.`
        : `The policy lets you connect without asking (${offer.level === 'control' ? 'control' : 'view only'}); the person sees a notice all along.`,
    );
    this.#startStatus(() => `Waiting for ${offer.device}'s agent to take the offer… Press q to withdraw it.`);
  }

  /** Technician of an offer: the device's agent joined and asks its person, who has a minute (by default) to answer. */
  #offerConnected(offer: Extract<SessionEvent, { event: 'offered' }>, code: string): void {
    this.#offerAsked = true;
    if (offer.consent === 'notice') {
      this.#lines('', `${offer.device} connected.`, '', `    Verification code:  ${code}`, '', 'It lets you in without asking (the policy); the same code is on its notice.');
      return;
    }
    this.#lines('', `The person at ${offer.device} is asked now.`, '', `    Verification code:  ${code}`, '', 'The same code is on their screen; read it out if you are on the phone with them.');
    this.#answerBy = Date.now() + DEFAULT_CONSENT_TIMEOUT_SECONDS * 1000;
    this.#startStatus(() => {
      const left = Math.ceil((this.#answerBy - Date.now()) / 1000);
      return `Waiting for the person at ${offer.device} to answer${left > 0 ? ` (${left} s)` : ''}… Press q to withdraw the offer.`;
    });
  }

  /** Technician of an offer: the device said how long its person has; the countdown follows it from now. */
  #asked(seconds: number): void {
    if (!this.#offer || this.#phase !== 'deciding') return;
    this.#consentSeconds = seconds;
    this.#answerBy = Date.now() + seconds * 1000;
  }

  #connected(peer: string, verification: string): void {
    this.#stopStatus();
    this.#peerName = peer;
    this.#phase = 'deciding';
    const code = `${verification.slice(0, 3)} ${verification.slice(3)}`;
    if (this.#offer) return this.#offerConnected(this.#offer, code);
    if (this.#role === 'agent') {
      this.#lines(
        '',
        `${peer} is connecting to help you.`,
        '',
        `    Verification code:  ${code}`,
        '',
        `Ask ${peer} to read out the code on their screen. Let them in only if it is the same.`,
        ...(!this.#sharesDesktop
          ? ['  v  let them see your terminal (they cannot type)', '  c  let them see and type in your terminal']
          : this.#sharesTerminal
            ? ['  v  let them see your terminal and desktop (they cannot type or click)', '  c  let them see both and use them: type, and use your mouse and keyboard']
            : ['  v  let them see your desktop (they cannot click or type)', '  c  let them see your desktop and use your mouse and keyboard']),
        '  d  deny: turn them away and end',
      );
      this.#write('Press v, c or d: ');
    } else {
      this.#lines(
        '',
        `Connected to ${peer}.`,
        '',
        `    Verification code:  ${code}`,
        '',
        `Read this code out to ${peer}. They let you in once it matches the code on their screen.`,
        `Waiting for ${peer} to decide… (press q to leave)`,
      );
    }
  }

  #timeLimit(event: Extract<SessionEvent, { event: 'time-limit' }>): void {
    const at = Date.parse(event.expiresAt);
    const atCap = event.maxExpiresAt !== undefined && Date.parse(event.maxExpiresAt) === at;
    this.#notice(
      `This session can last until ${clockTime(at)} (${duration(at - Date.now())} from now)${atCap ? ', the most the relay allows' : ''}.` +
        (this.#role === 'agent' ? (atCap ? '' : ` Ctrl-] then x adds ${EXTENSION}.`) : ` ${this.#peer} can add time.`),
    );
  }

  /** `assist resume`: straight back into the live session, as it was. */
  #restored(event: Extract<SessionEvent, { event: 'session-restored' }>): void {
    this.#stopStatus();
    this.#peerName = event.peer;
    this.#approved = true;
    this.#control = event.control;
    this.#paused = this.#pauseWanted = event.paused;
    this.#phase = 'live';
    this.#title();
    if (this.#role === 'agent') {
      this.#lines(
        '',
        `Back in your session with ${this.#peer}, as it was (${this.#control ? 'they have control' : 'they can only watch'}${this.#paused ? ', paused' : ''}).`,
        'The program you shared ended with the assist process that stopped; a new one starts now, shared as before.',
        'Keys: Ctrl-] then c (control), p (pause), m (message), e (end), ? (help).',
        '',
      );
    } else {
      this.#lines(
        '',
        `Back in the session with ${this.#peer} (${this.#control ? 'you have control' : 'view only'}${this.#paused ? ', paused' : ''}).`,
        'Keys: Ctrl-] then r (ask for control), m (message), e (leave), ? (help).',
        `--- ${this.#peer}'s terminal ---`,
      );
    }
  }

  #approvedAs(mode: 'view' | 'control'): void {
    // An offer's countdown runs until the person answers (an invitation's waiting line stops on connecting).
    this.#stopStatus();
    this.#approved = true;
    this.#control = mode === 'control';
    this.#phase = 'live';
    if (this.#role === 'agent') {
      this.#lines(
        '',
        !this.#sharesDesktop
          ? `${this.#peer} can now see your terminal${mode === 'control' ? ' and type in it' : ' (but not type in it)'}. Sharing starts now: ${this.#peer} sees everything below.`
          : this.#sharesTerminal
            ? `${this.#peer} can now see your terminal and desktop${mode === 'control' ? ', type, and use your mouse and keyboard' : ' (but not type or click)'}. Sharing starts now: ${this.#peer} sees everything below and your screen.`
            : `${this.#peer} can now see your desktop${mode === 'control' ? ' and use your mouse and keyboard' : ' (but not click or type)'}. Sharing starts now. Nothing typed here is shared.`,
        `Keys: Ctrl-] then ${this.#mayGiveControl ? `c (${mode === 'control' ? 'take back control' : 'give control'}), ` : ''}p (pause),${this.#sharesDesktop ? ' s (stop sharing the desktop), b (clipboard),' : ''} m (message), e (end), ? (help).`,
        '',
      );
    } else {
      this.#lines(
        '',
        `${this.#peer} let you in: you can ${mode === 'control' ? 'watch and type' : 'watch (ask for control to type)'}.`,
        'Keys: Ctrl-] then r (ask for control), m (message), e (leave), ? (help).',
      );
    }
    if (this.#pendingLimit) this.#timeLimit(this.#pendingLimit);
    this.#pendingLimit = undefined;
    this.#expectShares();
  }

  async #terminalOutput(bytes: Uint8Array): Promise<void> {
    // While a message is being typed the screen holds output back; the terminal waits (backpressure).
    if (this.#messageDone) await this.#messageDone;
    // The person's program may outlive the session: its output goes on being theirs to see.
    if (this.#phase === 'ended' && this.#role === 'expert') return;
    if (!this.#output.write(bytes)) await new Promise((resolve) => this.#output.once('drain', resolve));
  }

  #resize(cols: number, rows: number): void {
    const mine = this.#output as WriteStream;
    if (mine.isTTY && (mine.columns < cols || mine.rows < rows)) {
      this.#notice(`${this.#peer}'s terminal is ${cols}×${rows}, yours is ${mine.columns}×${mine.rows}: enlarge your window to see all of it.`);
    }
  }

  #desktopShare(event: Extract<SessionEvent, { event: 'desktop-share' }>): void {
    if (this.#role === 'agent') {
      const started = event.state === 'started';
      const wasLive = this.#desktopLive;
      this.#desktopLive = started;
      this.#title();
      if (started && wasLive) return; // a new size or codec: nothing for the person to know
      return this.#notice(
        started
          ? `Your desktop (monitor ${event.monitor}) is shared: ${this.#peer} sees it${this.#control ? ' and can use your mouse and keyboard' : ''}. Ctrl-] then p pauses, c ${this.#control ? 'takes back' : 'gives'} control, e ends.`
          : 'Your desktop is no longer shared.',
      );
    }
    // The technician: screen-share already said a share started or stopped; this says where to see a desktop.
    if (event.state === 'stopped' || this.#desktopAnnounced) {
      this.#desktopAnnounced = event.state === 'started';
      return;
    }
    this.#desktopAnnounced = true;
    const where = event.webConsole ? `the web console (${event.webConsole})` : "the relay's web console";
    // The line before said the screen cannot be seen here and how to see it: this adds only what a desktop brings.
    this.#notice(`It is ${this.#peer}'s whole desktop: in ${where} you can also use its mouse and keyboard once ${this.#peer} gives you control.`);
  }

  /** Agent with a desktop shared: the window title says, all the time, who watches or controls it. */
  #title(): void {
    if (this.#role !== 'agent' || !this.#interactive || (!this.#desktopLive && !this.#titleSet)) return;
    const title = !this.#desktopLive ? '' : this.#paused ? `assist: paused (${this.#peer} sees nothing)` : `assist: ${this.#peer} ${this.#control ? 'controls' : 'watches'} your desktop`;
    this.#write(`\x1b]2;${title}\x07`);
    this.#titleSet = title !== '';
  }

  /** Expert: nothing came yet to show (no terminal, no screen): said once, so an empty screen is not taken for a hang. */
  #expectShares(): void {
    if (this.#role !== 'expert') return;
    this.#nothingSharedTimer = setTimeout(() => {
      this.#nothingSharedTimer = undefined;
      this.#notice(`${this.#peer} shares nothing yet (no terminal, no screen). You can chat with Ctrl-] then m; a terminal they share appears here.`);
    }, this.#nothingSharedAfterMs);
  }

  #somethingShared(): void {
    clearTimeout(this.#nothingSharedTimer);
    this.#nothingSharedTimer = undefined;
  }

  #ended(reason: EndReason | LocalEndReason, offerAnswer?: OfferRefusalAnswer): void {
    this.#stopStatus();
    const wasLive = this.#approved;
    this.#phase = 'ended';
    this.#finishMessage?.();
    // Whatever the shared program left behind (colours, a hidden cursor) is not the user's problem.
    if (wasLive && this.#interactive) this.#write('\x1b[0m\x1b[?25h');
    this.#lines('', (this.#offer && !wasLive && offerEndSentence(reason, this.#offer.device, this.#offerAsked, offerAnswer, this.#consentSeconds)) || endText(reason, readerOf(this.#role), { peerName: this.#peerName, wasLive }));
  }

  #error(message: string, code: string): void {
    const hint = ERROR_HINTS[code];
    const line = `assist: ${message}${hint ? `\n${hint}` : ''}`;
    if (this.#phase === 'live' || this.#phase === 'menu' || this.#phase === 'message') this.#errors.write(`\r\n${line}\r\n`);
    else {
      this.#clearStatus(); // the waiting line is redrawn below it
      this.#errors.write(`${line}\n`);
    }
  }

  // ---- keys ----

  #keys(chunk: Buffer): void {
    let rest: Uint8Array = new Uint8Array(chunk);
    while (rest.length > 0) rest = this.#key(rest);
  }

  /** Handles the start of the input; returns what is left for the next phase. */
  #key(bytes: Uint8Array): Uint8Array {
    switch (this.#phase) {
      case 'waiting':
      case 'ended':
        if (bytes[0] === CTRL_C || bytes[0] === 0x71 /* q */) this.#command({ cmd: 'end' });
        return bytes.subarray(1);
      case 'deciding':
        this.#decide(bytes[0]!);
        return bytes.subarray(1);
      case 'decided':
        return new Uint8Array();
      case 'live': {
        const menuAt = bytes.indexOf(MENU_KEY);
        const typed = menuAt < 0 ? bytes : bytes.subarray(0, menuAt);
        if (typed.length > 0) this.#typed(typed);
        if (menuAt < 0) return new Uint8Array();
        this.#openMenu();
        return bytes.subarray(menuAt + 1);
      }
      case 'menu':
        this.#menuChoice(bytes[0]!);
        return bytes.subarray(1);
      case 'unshared': {
        const menuAt = bytes.indexOf(MENU_KEY);
        const typed = menuAt < 0 ? bytes : bytes.subarray(0, menuAt);
        if (typed.length > 0) this.#command({ cmd: 'input', bytes: typed.slice() });
        if (menuAt < 0) return new Uint8Array();
        this.#phase = 'unshared-menu';
        this.#write(`\r\n${this.#mark} e hang up your program · Esc back `);
        return bytes.subarray(menuAt + 1);
      }
      case 'unshared-menu':
        this.#unsharedMenuChoice(bytes[0]!);
        return bytes.subarray(1);
      case 'message':
        return this.#messageKeys(bytes);
    }
  }

  #decide(key: number): void {
    if (this.#role === 'expert') {
      if (key === CTRL_C || key === 0x71 /* q */) this.#command({ cmd: 'end' });
      return;
    }
    const choice = String.fromCharCode(key).toLowerCase();
    if (choice === 'v' || choice === 'c') {
      this.#write(`${choice}\n`);
      this.#phase = 'decided';
      this.#command({ cmd: 'approve', mode: choice === 'v' ? 'view' : 'control' });
    } else if (choice === 'd' || key === CTRL_C) {
      this.#write('d\n');
      this.#phase = 'decided';
      this.#command({ cmd: 'deny' });
    }
  }

  #typed(bytes: Uint8Array): void {
    if (this.#role === 'agent' && !this.#sharesTerminal) {
      if (!this.#nothingTypedHintShown) {
        this.#nothingTypedHintShown = true;
        this.#notice('You share only your desktop: nothing typed here goes anywhere. Ctrl-] opens the menu (e ends, ? helps).');
      }
      return;
    }
    if (this.#role === 'agent' || (this.#control && !this.#paused)) return this.#command({ cmd: 'input', bytes: bytes.slice() });
    if (!this.#viewOnlyHintShown) {
      this.#viewOnlyHintShown = true;
      this.#notice(this.#paused ? 'The session is paused: your keys are not sent.' : 'You can only watch: your keys are not sent. To ask for control: Ctrl-] then r. To leave: Ctrl-] then e.');
    }
  }

  #openMenu(): void {
    this.#phase = 'menu';
    const choices =
      this.#role === 'agent'
        ? `${this.#stillHereChoice}${this.#mayGiveControl ? `c ${this.#control ? 'take back control' : 'give control'} · ` : ''}${this.#controlRequested ? 'n say no · ' : ''}p ${this.#pauseWanted ? 'resume' : 'pause'}${this.#desktopChoices} · x add 30 min · m message · e end`
        : `${this.#stillHereChoice}r ask for control${this.#clipboardAllowed ? ' · v send your clipboard' : ''} · m message · e leave`;
    // Left open on its own line: the choice erases it, so the terminal's output carries on below.
    this.#write(`\r\n${this.#mark} ${choices} · ? help · Esc back `);
  }

  /** Agent: c is a choice (control may be given, or is held and can be taken back). */
  get #mayGiveControl(): boolean {
    return this.#controlAllowed || this.#control;
  }

  /** First while an idle warning is out. */
  get #stillHereChoice(): string {
    return this.#idleWarned ? 'i I’m still here · ' : '';
  }

  /** Agent sharing a desktop: stop only its share, and share the clipboard or stop it. */
  get #desktopChoices(): string {
    if (!this.#sharesDesktop) return '';
    return `${this.#desktopLive ? ' · s stop sharing the desktop' : ''} · b ${this.#clipboardAllowed ? 'stop sharing' : 'share'} the clipboard`;
  }

  #menuChoice(key: number): void {
    this.#phase = 'live';
    this.#write(this.#interactive ? '\r\x1b[2K' : '\r\n');
    const choice = String.fromCharCode(key).toLowerCase();
    if (key === MENU_KEY) {
      // Ctrl-] twice: the program gets one.
      return this.#typed(new Uint8Array([MENU_KEY]));
    }
    if (choice === 'm') return this.#openMessage();
    if (choice === 'e') return this.#command({ cmd: 'end' });
    if (choice === '?' || choice === 'h') return this.#help();
    if (choice === 'i') {
      if (!this.#idleWarned) return this.#notice('The session is not about to end for inactivity: you will be warned before it would.');
      return this.#command({ cmd: 'still-here' });
    }
    if (this.#role === 'agent') {
      if (choice === 'c') return this.#command({ cmd: this.#control ? 'revoke-control' : 'grant-control' });
      if (choice === 'n' && this.#controlRequested) {
        this.#controlRequested = false;
        return this.#command({ cmd: 'refuse-control' });
      }
      if (choice === 'p') {
        this.#pauseWanted = !this.#pauseWanted;
        return this.#command({ cmd: this.#pauseWanted ? 'pause' : 'resume' });
      }
      if (choice === 'x') return this.#command({ cmd: 'extend' });
      if (choice === 's' && this.#sharesDesktop && this.#desktopLive) return this.#command({ cmd: 'stop-desktop' });
      if (choice === 'b' && this.#sharesDesktop) return this.#command({ cmd: 'clipboard', allowed: !this.#clipboardAllowed });
    } else if (choice === 'r') {
      if (this.#control) return this.#notice('You already have control.');
      this.#command({ cmd: 'request-control' });
      return this.#notice(`Asked ${this.#peer} for control.`);
    } else if (choice === 'v') {
      // Not shared: the command says so, with what to do.
      return this.#command({ cmd: 'send-clipboard' });
    }
  }

  #unsharedMenuChoice(key: number): void {
    this.#phase = 'unshared';
    this.#write(this.#interactive ? '\r\x1b[2K' : '\r\n');
    if (key === MENU_KEY) return this.#command({ cmd: 'input', bytes: new Uint8Array([MENU_KEY]) });
    if (String.fromCharCode(key).toLowerCase() === 'e') {
      this.#write(`${this.#mark} Hanging up your program…\r\n`);
      this.#command({ cmd: 'hang-up' });
    }
  }

  #help(): void {
    const lines =
      this.#role === 'agent'
        ? [
            this.#sharesTerminal ? 'Everything you type goes to your shell, as usual. Ctrl-] then:' : 'You share only your desktop; keys typed here go nowhere. Ctrl-] then:',
            '  c  give control to your technician, or take it back',
            '  n  say no when your technician asks for control',
            '  p  pause (your technician sees nothing and cannot type), or resume',
            `  x  add ${EXTENSION} to the session’s time limit`,
            ...(this.#sharesDesktop
              ? ['  s  stop sharing your desktop (the terminal and chat go on)', '  b  share your clipboard text both ways, or stop it']
              : []),
            '  m  send a message',
            '  i  say you are still here (the session ends after a while with nothing happening: you are warned first)',
            '  e  end the session (exiting your shell ends it too)',
            '  Ctrl-]  send Ctrl-] itself',
          ]
        : [
            'With control, everything you type goes to their terminal. Ctrl-] then:',
            '  r  ask for control',
            '  v  put the text on your clipboard on theirs (when they share their clipboard)',
            '  m  send a message',
            '  i  say you are still here (the session ends after a while with nothing happening: you are warned first)',
            '  e  leave the session',
            '  Ctrl-]  send Ctrl-] itself',
          ];
    this.#notice(lines.join('\r\n'));
  }

  #openMessage(): void {
    this.#phase = 'message';
    this.#message = '';
    this.#messageDecoder = new StringDecoder('utf8');
    this.#messageDone = new Promise((resolve) => (this.#finishMessage = resolve));
    this.#write(`${this.#mark} message (Enter sends, Esc cancels): `);
  }

  #messageKeys(bytes: Uint8Array): Uint8Array {
    const key = bytes[0]!;
    if (ENTER.has(key)) {
      const text = this.#message.trim();
      this.#closeMessage();
      if (text) this.#command({ cmd: 'chat', text });
      return bytes.subarray(1);
    }
    if (key === ESCAPE || key === CTRL_C) {
      this.#closeMessage('(not sent)');
      // An escape sequence (arrow keys and the like) is dropped whole.
      return new Uint8Array();
    }
    if (BACKSPACE.has(key)) {
      if (this.#message.length > 0) {
        this.#message = [...this.#message].slice(0, -1).join('');
        this.#write('\b \b');
      }
      return bytes.subarray(1);
    }
    if (key < 0x20) return bytes.subarray(1); // other control keys mean nothing here
    const next = bytes.findIndex((byte) => byte < 0x20 || byte === 0x7f);
    const text = bytes.subarray(0, next < 0 ? bytes.length : next);
    const decoded = this.#messageDecoder.write(Buffer.from(text));
    this.#message += decoded;
    this.#write(decoded);
    return next < 0 ? new Uint8Array() : bytes.subarray(next);
  }

  #closeMessage(note = ''): void {
    this.#write(`${note ? ` ${note}` : ''}\r\n`);
    this.#phase = 'live';
    this.#messageDone = undefined;
    this.#finishMessage?.();
  }

  #command(command: Command): void {
    this.#onCommand?.(command);
  }

  // ---- writing ----

  #write(text: string | Uint8Array): void {
    this.#output.write(text);
  }

  /** Lines outside the live terminal: the status line is cleared first and redrawn after. */
  #lines(...lines: string[]): void {
    this.#clearStatus();
    this.#write(`${lines.join('\n')}\n`);
  }

  /** A line for the user; during the session it is set apart from the terminal's own output. */
  #notice(text: string): void {
    if (this.#phase === 'live' || this.#phase === 'menu' || this.#phase === 'message') this.#write(`\r\n${this.#mark} ${text}\r\n`);
    else this.#lines(text);
  }

  /** The waiting line, redrawn every second on a terminal: by default the open invitation's time left. */
  #startStatus(line: (() => string) | undefined = this.#invitationStatus()): void {
    this.#stopStatus();
    if (line === undefined) return;
    const draw = () => {
      this.#clearStatus();
      this.#write(line());
      this.#statusShown = true;
    };
    draw();
    // Without a terminal to redraw on, the line is written once.
    if (this.#interactive) this.#statusTimer = setInterval(draw, 1000);
    else this.#write('\n');
  }

  /** Nothing to count for a technician who joined someone's invitation. */
  #invitationStatus(): (() => string) | undefined {
    if (this.#expiresAt === undefined && this.#role === 'expert') return undefined;
    return () => {
      const left = this.#expiresAt === undefined ? undefined : this.#expiresAt - Date.now();
      const who = this.#role === 'agent' ? 'your technician' : 'the person';
      // The relay ends an expired invitation on its next sweep (within a minute); nobody can join meanwhile.
      if (left !== undefined && left <= 0) return 'The invitation has expired: nobody can use it any more. Press q to quit.';
      return `Waiting for ${who} to connect…${left === undefined ? '' : ` ${countdown(left)} left.`} Press q to cancel.`;
    };
  }

  #clearStatus(): void {
    if (!this.#statusShown) return;
    this.#statusShown = false;
    if (this.#interactive) this.#write('\r\x1b[2K');
  }

  #stopStatus(): void {
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    this.#statusTimer = undefined;
    this.#clearStatus();
  }
}

/** What to do next, for errors people can fix. */
const ERROR_HINTS: Record<string, string> = {
  'relay-unreachable': 'Is the relay running? Start one on this machine with `npm start`, or name it with --relay URL.',
  'connection-lost': 'The connection kept dropping. Check your network, then try again.',
  'session-not-found': 'Check the password or code: it may be mistyped, already used, or expired. Ask for a new one if need be.',
  'session-ended': 'That invitation is over. Ask for a new one.',
  'session-expired': 'That invitation has expired. Ask for a new one.',
  'password-required': 'Add --password with the password the person tells you separately.',
  'file-not-found': 'Check the path, or join with the password instead.',
};

/** How an offer to a device ended before the session began, for the technician; undefined where shared/core/end-texts.ts says it. */
export function offerEndSentence(reason: string, device: string, asked: boolean, offerAnswer?: OfferRefusalAnswer, consentSeconds?: number): string | undefined {
  switch (reason) {
    case 'denied':
      if (offerAnswer) return offerTurnedDownText(offerAnswer, device, consentSeconds);
      // A relay that does not say how it was turned down.
      return asked
        ? `The person at ${device} declined your help, or did not answer in time. The session is over.`
        : `${device} refused the offer without asking anyone (the device checks the operator's signed policy itself). The operator's audit log says why: npm run audit-log -- --device "${device}".`;
    case 'revoked':
      return `You withdrew the offer to ${device}.`;
    case 'expired':
      return `${device} did not take the offer before it expired. Offer again, or check that its agent runs.`;
    default:
      return undefined;
  }
}

function clockTime(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** "30 minutes", "6 hours", "45 seconds". */
function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} minutes`;
  // Whole hours plus the rest, so an added half hour shows ("2 hours 30 minutes", not "3 hours").
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} hours ${rest} minutes` : `${hours} hours`;
}

/** "29:41", "5:59:12". */
function countdown(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}
