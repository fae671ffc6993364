import { MAX_NAME_CHARACTERS, nameProblem } from '../../sdk/assist-messages.js';
import { field, type Field } from './dom.js';
import { sentence } from './text.js';

// Form pieces both sides use, and where the relay is.

/** This relay: the page's own origin (its /relay.json names the WebSocket endpoint). */
export const relay = () => location.origin;

/** Codes and passwords: typed by people, so no autofill, spell check or lower-case keyboards. */
export const codeAttributes = { autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', required: true } as const;

export function nameField(hint: string): Field {
  return field('Your name', { name: 'name', autocomplete: 'name', required: true, maxlength: String(MAX_NAME_CHARACTERS) }, hint);
}

/** Checks a name before anything is sent: false, with the field's error shown and focused, if it cannot be used. */
export function validName(name: Field): boolean {
  const problem = nameProblem(name.input.value.trim());
  name.setError(problem && sentence(problem));
  if (problem) name.input.focus();
  return !problem;
}

/** Checks that a required field is filled in; false, with `message` shown and focused, if not. */
export function filledIn(input: Field, message: string): boolean {
  const empty = input.input.value.trim() === '';
  input.setError(empty ? message : undefined);
  if (empty) input.input.focus();
  return !empty;
}
