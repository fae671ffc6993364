import { clipboardProblem } from '../../sdk/assist-messages.js';
import type { ExpertSession } from '../../sdk/assist-session.js';
import { button, h, messageArea, uniqueId } from './dom.js';
import { sentence } from './text.js';

// Clipboard text between the technician and the person, shown only while the person allows it
// (`assist … --desktop --clipboard`, or their menu): text the technician puts in the first box goes on
// the person's clipboard; what the person copies appears in the second, with a button that copies
// it to this computer's clipboard.

export class ClipboardPanel {
  readonly element: HTMLElement;

  constructor(session: ExpertSession, personName: string, note: (text: string) => void) {
    const headingId = uniqueId('clipboard-heading');
    const outgoingId = uniqueId('clipboard-out');
    const incomingId = uniqueId('clipboard-in');
    const outgoing = h('textarea', { id: outgoingId, rows: '3', spellcheck: 'false' });
    const incoming = h('textarea', { id: incomingId, rows: '3', readonly: true, spellcheck: 'false' });
    const status = messageArea('status');
    status.say(undefined);
    const problem = messageArea('alert');
    problem.say(undefined);

    const paste = button(`Paste to ${personName}’s clipboard`, async () => {
      problem.say(undefined);
      const text = outgoing.value;
      const invalid = clipboardProblem(text);
      if (invalid) return problem.say(sentence(invalid));
      if (await session.sendClipboard(text).catch(() => false)) {
        status.say(`Put ${[...text].length} characters on ${personName}’s clipboard.`);
      } else {
        problem.say(session.paused ? `${personName} paused the session: nothing was sent.` : `${personName} does not share their clipboard now: nothing was sent.`);
      }
    });
    const copy = button('Copy', async () => {
      problem.say(undefined);
      try {
        await navigator.clipboard.writeText(incoming.value);
        status.say('Copied to this computer’s clipboard.');
      } catch {
        // Without the browser's permission: the text is selected for Ctrl+C.
        incoming.focus();
        incoming.select();
        problem.say('This browser did not let the page copy: the text is selected, press Ctrl+C (⌘C on a Mac).');
      }
    });
    copy.disabled = true;

    this.element = h(
      'section',
      // A restored session (a reload) may have it allowed already.
      { class: 'clipboard', 'aria-labelledby': headingId, hidden: !session.clipboardAllowed },
      h('h2', { id: headingId }, 'Clipboard'),
      h('div', { class: 'field' }, h('label', { for: outgoingId }, `Text for ${personName}’s clipboard`), outgoing),
      paste,
      h('div', { class: 'field' }, h('label', { for: incomingId }, `From ${personName}’s clipboard`), incoming),
      copy,
      status,
      problem,
    );

    session.on('clipboard-allowed', ({ allowed }) => {
      this.element.hidden = !allowed;
      note(allowed ? `${personName} shares their clipboard: text they copy shows in the Clipboard panel.` : `${personName} stopped sharing their clipboard.`);
    });
    session.on('clipboard', (text) => {
      incoming.value = text;
      copy.disabled = false;
      status.say(`${personName} copied ${[...text].length} characters.`);
    });
  }
}
