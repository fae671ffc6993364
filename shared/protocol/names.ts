// The one rule for names people are shown: participants' names (inside the encrypted session), device
// names and device groups (the relay stores them). They end up on other people's screens, so they may not
// carry control characters (terminal escape sequences) or bidirectional overrides (text that displays
// as something else).

/** Longest name, in characters: enough for "Firstname Lastname (Company IT)". */
export const MAX_NAME_CHARACTERS = 64;

/** C0 and C1 controls and DEL; line and paragraph separators; bidirectional embeddings, overrides, isolates and marks; lone surrogates (not UTF-8). */
export const forbiddenInName = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/** Why `name` cannot be a participant's name, or undefined if it can. */
export function nameProblem(name: string): string | undefined {
  const characters = [...name].length;
  if (characters === 0 || name.trim() !== name) return 'a name must not be empty or start or end with spaces';
  if (characters > MAX_NAME_CHARACTERS) return `a name has at most ${MAX_NAME_CHARACTERS} characters`;
  if (forbiddenInName.test(name)) return 'a name must not contain control or text-direction characters';
  return undefined;
}
