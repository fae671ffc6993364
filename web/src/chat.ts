import { chatProblem } from '../../sdk/assist-messages.js';
import { form, h, messageArea, uniqueId } from './dom.js';
import { errorText, sentence } from './text.js';

// Chat between the two sides, once the person has let the technician in (also while paused).

export class ChatPane {
  readonly element: HTMLElement;
  readonly #log: HTMLOListElement;
  readonly #input: HTMLInputElement;
  readonly #send: HTMLButtonElement;

  constructor(
    private readonly peerName: string,
    send: (text: string) => Promise<void>,
  ) {
    const headingId = uniqueId('chat-heading');
    const inputId = uniqueId('chat-input');
    this.#log = h('ol', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-labelledby': headingId });
    this.#input = h('input', { type: 'text', id: inputId, name: 'message', autocomplete: 'off', maxlength: '4000' });
    this.#send = h('button', { type: 'submit' }, 'Send');
    const problem = messageArea('alert');
    problem.say(undefined);
    this.element = h(
      'section',
      { class: 'chat', 'aria-labelledby': headingId },
      h('h2', { id: headingId }, 'Chat'),
      this.#log,
      form(
        'Send a chat message',
        async () => {
          const text = this.#input.value.trim();
          const invalid = chatProblem(text);
          if (invalid) return problem.say(sentence(invalid));
          try {
            await send(text);
            problem.say(undefined);
            this.#input.value = '';
            this.add('You', text);
          } catch (error) {
            problem.say(errorText(error));
          }
          this.#input.focus();
        },
        h('label', { for: inputId }, `Message to ${peerName}`),
        h('div', { class: 'inline' }, this.#input, this.#send),
        problem,
      ),
    );
  }

  /** A message from the other side. */
  received(text: string): void {
    this.add(this.peerName, text);
  }

  /** A line from the console itself (e.g. control granted), so the log tells the whole story. */
  note(text: string): void {
    this.#log.append(h('li', { class: 'chat-note' }, text));
  }

  disable(): void {
    this.#input.disabled = true;
    this.#send.disabled = true;
  }

  private add(author: string, text: string): void {
    this.#log.append(h('li', {}, h('span', { class: 'chat-author' }, `${author}: `), text));
    this.#log.scrollTop = this.#log.scrollHeight;
  }
}
