// The safe-display-name rule: what a name must be before it is shown to the other person (the approval
// prompt, the technician's screen, an invitation file, an email's subject). One rule for the SDK, the
// invitation file and the relay's email, so none of them is weaker than another.

/** Longest name, in characters (code points): enough for "Firstname Lastname (Company IT)". */
export const MAX_DISPLAY_NAME_CHARACTERS = 64;

/**
 * Characters that reorder or break up text around them (bidirectional embeddings, overrides, isolates and
 * marks; line and paragraph separators) and lone surrogates, which are not text at all: a name or message
 * holding them could display as something else.
 */
const REORDERING_OR_NOT_TEXT = String.raw`\p{Cs}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069`;

/** Refused in a name: C0 and C1 controls and DEL (terminal escape sequences), and the above. */
export const unsafeNameCharacter = new RegExp(String.raw`[\p{Cc}${REORDERING_OR_NOT_TEXT}]`, 'u');

/** Refused in text of several lines (chat): the same, except line feed and tab. */
export const unsafeTextCharacter = new RegExp(String.raw`[\u0000-\u0008\u000B-\u001F\u007F-\u009F${REORDERING_OR_NOT_TEXT}]`, 'u');

export type DisplayNameProblem = 'empty' | 'too-long' | 'unsafe-character';

/**
 * What is wrong with `name` as a display name, or undefined if nothing is. Blank is empty; whether
 * surrounding spaces are trimmed or refused is the caller's choice, made before asking.
 */
export function displayNameProblem(name: string): DisplayNameProblem | undefined {
  if (name.trim() === '') return 'empty';
  if ([...name].length > MAX_DISPLAY_NAME_CHARACTERS) return 'too-long';
  if (unsafeNameCharacter.test(name)) return 'unsafe-character';
  return undefined;
}

/** The rule in one sentence, for refusing a name something else chose (a device's name, a device group). */
export const DISPLAY_NAME_RULE = `1 to ${MAX_DISPLAY_NAME_CHARACTERS} characters, without surrounding spaces, control or text-direction characters`;

/** Whether `name` is a display name as stored: the rule, and no surrounding spaces. */
export const isStoredDisplayName = (name: unknown): name is string => typeof name === 'string' && name.trim() === name && displayNameProblem(name) === undefined;
