// Building the page from script only (the policy allows no inline script or markup from strings):
// every text goes in as text, never as HTML.

type Child = Node | string | false | null | undefined;
type Attributes = Record<string, string | boolean | undefined>;

/** An element with attributes (true: present, false/undefined: absent) and children (strings become text). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) element.setAttribute(name, '');
    else if (typeof value === 'string') element.setAttribute(name, value);
  }
  element.append(...children.filter((child): child is Node | string => child !== false && child !== null && child !== undefined));
  return element;
}

let nextId = 0;
/** A document-unique id, for labels and descriptions. */
export const uniqueId = (prefix: string) => `${prefix}-${++nextId}`;

const app = () => document.getElementById('app')!;

/**
 * Shows a screen: replaces the page's content, names the tab after it and moves keyboard focus to
 * its heading, so screen readers announce where the user now is.
 */
export function showScreen(title: string, ...content: Child[]): HTMLHeadingElement {
  const heading = h('h1', { tabindex: '-1' }, title);
  app().replaceChildren(heading, ...content.filter((child): child is Node | string => Boolean(child)));
  document.title = `${title} – Assist Relay`;
  heading.focus();
  return heading;
}

/** A button that runs `action` on click, disabled while it runs (a second click would repeat it). */
export function button(label: string, action: () => unknown, attributes: Attributes = {}): HTMLButtonElement {
  const element = h('button', { type: 'button', ...attributes }, label);
  element.addEventListener('click', async () => {
    element.disabled = true;
    try {
      await action();
    } finally {
      element.disabled = false;
    }
  });
  return element;
}

export interface Field {
  /** The label, input, hint and error, to put in a form. */
  element: HTMLElement;
  input: HTMLInputElement;
  /** Shows a problem with this field (or clears it with undefined). */
  setError(message: string | undefined): void;
}

/** A labelled input with an optional hint; its error is announced and tied to it. */
export function field(label: string, attributes: Attributes & { name: string }, hint?: string): Field {
  const id = uniqueId(attributes.name);
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const input = h('input', { type: 'text', id, 'aria-describedby': [hintId, errorId].filter(Boolean).join(' '), ...attributes });
  const error = h('p', { id: errorId, class: 'field-error', hidden: true });
  const element = h('div', { class: 'field' }, h('label', { for: id }, label), hint && h('p', { id: hintId!, class: 'hint' }, hint), input, error);
  return {
    element,
    input,
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = message === undefined;
      if (message === undefined) input.removeAttribute('aria-invalid');
      else input.setAttribute('aria-invalid', 'true');
    },
  };
}

/** A region for messages about a form or the session: errors interrupt (alert), the rest waits its turn (status). */
export function messageArea(kind: 'alert' | 'status'): HTMLElement & { say(text: string | undefined): void } {
  const element = h('div', { role: kind, class: kind === 'alert' ? 'message error' : 'message' });
  return Object.assign(element, {
    say(text: string | undefined) {
      element.textContent = text ?? '';
      element.hidden = !text;
    },
  });
}

/** A form whose submit runs `onSubmit` (no page load: the policy forbids form actions anyway). */
export function form(label: string, onSubmit: () => unknown, ...children: Child[]): HTMLFormElement {
  const element = h('form', { 'aria-label': label, novalidate: true }, ...children);
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submit = element.querySelector<HTMLButtonElement>('button[type="submit"]');
    if (submit) submit.disabled = true;
    try {
      await onSubmit();
    } finally {
      if (submit) submit.disabled = false;
    }
  });
  return element;
}

/** `14:05`, in the reader's own time zone. */
export const clockTime = (date: Date) => date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
