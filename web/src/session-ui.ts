import type { AssistEnd } from '../../sdk/assist-session.js';
import type { RelayClient } from '../../sdk/client.js';
import { watchTimeLimit } from '../../sdk/time-limit.js';
import { isVersionMismatch } from '../../sdk/secure-session.js';
import { button, clockTime, h, showScreen } from './dom.js';
import { errorText, timeLeft } from './text.js';
import { endText, type Reader } from '../../shared/core/end-texts.js';

// What both sides show around a session: how long it may still last, a guard against closing the
// tab by accident, and why it ended.

/**
 * `Time left: 1 h 59 min`, counted from the relay's hard expiry once the session is active, moved
 * when the person adds time, and a warning 5 minutes and 1 minute before the end (`warning` adds
 * what this reader can do about it).
 */
export function countdown(client: RelayClient, warning = ''): HTMLElement {
  const value = h('span', {}, '');
  const alert = h('span', { role: 'alert', class: 'time-warning' });
  const element = h('p', { class: 'time-left' }, 'Time left: ', value, alert);
  const update = () => {
    const expiresAt = client.activation?.expiresAt;
    element.hidden = expiresAt === undefined;
    if (expiresAt !== undefined) value.textContent = timeLeft(expiresAt - Date.now() / 1000);
  };
  update();
  const timer = setInterval(() => {
    if (!element.isConnected) clearInterval(timer);
    else update();
  }, 10_000);
  watchTimeLimit(client, {
    limit: () => {
      alert.textContent = '';
      update();
    },
    warning: ({ secondsLeft }) => {
      update();
      alert.textContent = ` The session ends in ${secondsLeft >= 120 ? `${Math.round(secondsLeft / 60)} minutes` : 'a minute'}.${warning ? ` ${warning}` : ''}`;
    },
  });
  return element;
}

/** What both sessions (AgentSession, ExpertSession) offer about the idle limit. */
interface IdleLimited {
  on(event: 'idle-warning', listener: (warning: { secondsLeft: number }) => void): unknown;
  on(event: 'idle-cleared', listener: () => void): unknown;
  on(event: 'ended', listener: () => void): unknown;
  stillHere(): void | Promise<void>;
}

/**
 * The idle limit's warning (docs/invitations.md, "The idle limit"): shown 5 minutes and 1 minute
 * before a session in which nothing happens ends, with "I’m still here", which puts the end off for
 * both sides; gone again once anyone does anything.
 */
export function idleNotice(session: IdleLimited): HTMLElement {
  const text = h('span', {});
  const element = h('p', { role: 'alert', class: 'idle-warning' }, text, ' ', button('I’m still here', () => session.stillHere()));
  element.hidden = true;
  session.on('idle-warning', ({ secondsLeft }) => {
    const endsAt = clockTime(new Date(Date.now() + secondsLeft * 1000));
    text.textContent = `Nothing has happened for a while: the session ends at ${endsAt} (in ${secondsLeft >= 120 ? `${Math.round(secondsLeft / 60)} minutes` : 'a minute'}) unless one of you does something.`;
    element.hidden = false;
  });
  const hide = () => (element.hidden = true);
  session.on('idle-cleared', hide);
  session.on('ended', hide);
  return element;
}

/** Says when this side's connection or the other side's drops, and clears when it is back (the SDK resumes by itself). */
export function connectionNotice(client: RelayClient, peer: string): HTMLElement {
  const element = h('p', { role: 'status', class: 'connection' });
  const say = (text: string) => (element.textContent = text);
  client.on('reconnecting', ({ attempt }) => say(`The connection to the relay dropped. Reconnecting (attempt ${attempt})…`));
  client.on('reconnected', () => say(''));
  client.on('peer', (state) => {
    if (state === 'disconnected') say(`${peer}’s connection dropped. Waiting for it to come back…`);
    if (state === 'connected') say('');
  });
  return element;
}

/** Asks before the tab is closed or reloaded while a session runs; returns the function that stops asking. */
export function guardAgainstClosing(): () => void {
  const ask = (event: BeforeUnloadEvent) => event.preventDefault();
  window.addEventListener('beforeunload', ask);
  return () => window.removeEventListener('beforeunload', ask);
}

/** The last screen: why the session ended and where to go next. */
export function showEnded(end: AssistEnd, reader: Reader, next: { label: string; href: string }): void {
  // Another version on the other side: say what to update, too.
  const why = isVersionMismatch(end.error) ? [h('p', { class: 'end-why' }, errorText(end.error))] : [];
  showScreen('The session has ended', h('p', { class: 'end-reason' }, endText(end.reason, reader)), ...why, h('p', {}, h('a', { href: next.href }, next.label)));
}
