import { Terminal } from '@xterm/xterm';
import { h, uniqueId } from './dom.js';

// The person's terminal, as the technician sees it (xterm.js). Keys reach it only while the person
// has granted control; Shift+Tab always moves focus out, so the keyboard is never trapped.

const encoder = new TextEncoder();

export class TerminalView {
  readonly element: HTMLElement;
  readonly #terminal: Terminal;
  readonly #placeholder: HTMLElement;
  readonly #hint: HTMLElement;
  #interactive = false;

  constructor(personName: string, onInput: (bytes: Uint8Array) => void) {
    const headingId = uniqueId('terminal-heading');
    const screen = h('div', { class: 'terminal-screen' });
    this.#placeholder = h('p', { class: 'terminal-placeholder' }, 'Nothing from the person’s terminal yet.');
    this.#hint = h('p', { class: 'hint' });
    const screenReader = h('input', { type: 'checkbox', id: uniqueId('screen-reader') });
    this.element = h(
      'section',
      { class: 'terminal', 'aria-labelledby': headingId },
      h('h2', { id: headingId }, `${personName}’s terminal`),
      this.#hint,
      h('div', { class: 'field inline' }, screenReader, h('label', { for: screenReader.id }, 'Screen reader mode (reads new output aloud)')),
      this.#placeholder,
      screen,
    );
    this.#terminal = new Terminal({ cols: 80, rows: 24, disableStdin: true, cursorBlink: false, fontFamily: 'ui-monospace, monospace', scrollback: 5000 });
    this.#terminal.open(screen);
    this.#terminal.attachCustomKeyEventHandler((event) => {
      if (event.key !== 'Tab') return true;
      // Without control nothing is typed, so Tab moves on; with control Tab completes, Shift+Tab moves out.
      return this.#interactive && !event.shiftKey;
    });
    this.#terminal.onData((data) => {
      if (this.#interactive) onInput(encoder.encode(data));
    });
    this.#terminal.onBinary((data) => {
      if (this.#interactive) onInput(Uint8Array.from(data, (character) => character.charCodeAt(0)));
    });
    screenReader.addEventListener('change', () => (this.#terminal.options.screenReaderMode = screenReader.checked));
    this.setInteractive(false);
  }

  write(bytes: Uint8Array): void {
    this.#placeholder.hidden = true;
    this.#terminal.write(bytes);
  }

  resize(cols: number, rows: number): void {
    this.#terminal.resize(cols, rows);
  }

  /** Keys go to the person's terminal (control granted, not paused) or nowhere. */
  setInteractive(interactive: boolean): void {
    this.#interactive = interactive;
    this.#terminal.options.disableStdin = !interactive;
    this.#hint.textContent = interactive
      ? 'You have control: what you type in the terminal goes to the person’s computer. Shift+Tab moves out of the terminal.'
      : 'View only: you see the terminal, but cannot type in it.';
  }

  focus(): void {
    this.#terminal.focus();
  }

  dispose(): void {
    this.#terminal.dispose();
  }
}
