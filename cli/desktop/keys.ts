// The technician's physical keys (KeyboardEvent.code) as libnut key names. Only keys every PC
// keyboard layout has: on X11 a key whose symbol is missing from the keymap makes the X library
// end the whole process (BadValue from XTest), so F13–F24, "clear" and media keys are left out.

export type Platform = 'linux' | 'darwin' | 'win32';

const letters = Object.fromEntries([...'abcdefghijklmnopqrstuvwxyz'].map((letter) => [`Key${letter.toUpperCase()}`, letter]));
const digits = Object.fromEntries([...'0123456789'].map((digit) => [`Digit${digit}`, digit]));
const numpadDigits = Object.fromEntries([...'0123456789'].map((digit) => [`Numpad${digit}`, `numpad_${digit}`]));
const functionKeys = Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`F${index + 1}`, `f${index + 1}`]));

const commonKeys: Record<string, string> = {
  ...letters,
  ...digits,
  ...numpadDigits,
  ...functionKeys,
  Minus: '-',
  Equal: '=',
  BracketLeft: '[',
  BracketRight: ']',
  Backslash: '\\',
  Semicolon: ';',
  Quote: "'",
  Comma: ',',
  Period: '.',
  Slash: '/',
  Backquote: '`',
  Enter: 'enter',
  NumpadEnter: 'enter',
  Backspace: 'backspace',
  Tab: 'tab',
  Escape: 'escape',
  Space: 'space',
  Delete: 'delete',
  Insert: 'insert',
  Home: 'home',
  End: 'end',
  PageUp: 'pageup',
  PageDown: 'pagedown',
  ArrowUp: 'up',
  ArrowDown: 'down',
  ArrowLeft: 'left',
  ArrowRight: 'right',
  PrintScreen: 'printscreen',
  CapsLock: 'caps_lock',
  NumpadDecimal: 'numpad_decimal',
  NumpadAdd: 'add',
  NumpadSubtract: 'subtract',
  NumpadMultiply: 'multiply',
  NumpadDivide: 'divide',
  ShiftLeft: 'shift',
  ShiftRight: 'right_shift',
  ControlLeft: 'control',
  ControlRight: 'right_control',
  AltLeft: 'alt',
  AltRight: 'right_alt',
};

/**
 * Keys whose name differs per platform: libnut refuses "command" outside macOS, and on X11 its
 * "enter" is the keypad's Enter (KP_Enter) while "\n" is Return (checked with xev under Xvfb).
 */
const platformKeys: Record<Platform, Record<string, string>> = {
  linux: { MetaLeft: 'meta', MetaRight: 'right_meta', Enter: '\n' },
  darwin: { MetaLeft: 'command', MetaRight: 'right_cmd' },
  win32: { MetaLeft: 'win', MetaRight: 'right_win' },
};

/** The libnut key for a KeyboardEvent.code, or undefined for a key this side does not press. */
export function libnutKey(code: string, platform: Platform): string | undefined {
  const own = platformKeys[platform];
  if (Object.hasOwn(own, code)) return own[code];
  return Object.hasOwn(commonKeys, code) ? commonKeys[code] : undefined;
}

export const SHIFT_CODES: ReadonlySet<string> = new Set(['ShiftLeft', 'ShiftRight']);
/** Modifiers that make a key a shortcut rather than text (Ctrl+C is not "c"). */
export const SHORTCUT_MODIFIER_CODES: ReadonlySet<string> = new Set(['ControlLeft', 'ControlRight', 'AltLeft', 'AltRight', 'MetaLeft', 'MetaRight']);
