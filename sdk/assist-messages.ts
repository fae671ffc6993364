// The application messages of an assistance session (docs/invitations.md: consent and control).
// They travel inside the encrypted session stream, one message per stream message, so the relay
// never sees them. Binary, versioned and parsed strictly: `[version u8 = 1][type u8][body]`, every
// type with exactly one valid shape; anything else is a typed AssistMessageError.
//
// Names and chat text end up on the other side's screen (the agent's approval prompt, a terminal),
// so they may not carry control characters (terminal escape sequences) or bidirectional overrides
// (text that displays as something else).

import { displayNameProblem, MAX_DISPLAY_NAME_CHARACTERS, unsafeNameCharacter, unsafeTextCharacter, type DisplayNameProblem } from '../shared/core/display-name.js';
import type { ApprovalMode } from '../shared/core/messages.js';
import { CodedError } from '../shared/core/coded-error.js';

export const ASSIST_MESSAGE_VERSION = 1;

/** Longest name, in characters (the display-name rule's, shared/core/display-name.ts). */
export const MAX_NAME_CHARACTERS = MAX_DISPLAY_NAME_CHARACTERS;
export const MAX_CHAT_BYTES = 4096;
/** Largest output or input chunk per message; larger chunks are split by the sender. */
export const MAX_TERMINAL_BYTES = 64 * 1024;
/** Terminal sizes beyond this are not real terminals. */
export const MAX_TERMINAL_DIMENSION = 10_000;
/**
 * Largest screen image. A sender scales and compresses far below it (the web console aims at about
 * 200 KB); the cap keeps one image from holding the stream for long.
 */
export const MAX_SCREEN_IMAGE_BYTES = 512 * 1024;
/** Widest and tallest screen image, in pixels: an 8K screen. */
export const MAX_SCREEN_DIMENSION = 8192;

/** Largest encoded video chunk: a key frame of a detailed 4K screen stays well below it. */
export const MAX_VIDEO_CHUNK_BYTES = 1024 * 1024;
/** Longest WebCodecs codec string ("vp8", "vp09.00.10.08", "avc1.640028"), and most codecs one side lists. */
export const MAX_CODEC_CHARACTERS = 64;
export const MAX_VIDEO_CODECS = 8;
/** Longest KeyboardEvent.code ("NumpadMultiply", "AudioVolumeDown") and longest text one key produces. */
export const MAX_KEY_CODE_CHARACTERS = 32;
export const MAX_KEY_TEXT_BYTES = 32;

/**
 * Why a share stopped, when the person's side says (an older one does not): the person stopped it,
 * the shared monitor was disconnected, the screen could no longer be captured, or the video encoder
 * failed. The technician's side turns it into a sentence.
 */
export type ShareStopReason = 'by-person' | 'monitor-gone' | 'capture-failed' | 'encoder-failed' | 'restarted';

const shareStopClauses: Record<ShareStopReason, string | undefined> = {
  'by-person': undefined,
  'monitor-gone': 'the monitor it showed was disconnected. They can share another one',
  'capture-failed': 'their computer could no longer capture the screen (a permission, or the display went away). They can share again',
  'encoder-failed': 'their computer could not encode the video. They can share again, or share the terminal only',
  restarted: 'their side restarted (a page reload or a crash) and a share does not restart by itself. They can share again',
};

/** The sentence a technician reads when `name`'s share of their `what` (desktop, screen) stopped, for each reason. */
export function shareStoppedSentence(name: string, what: string, reason: ShareStopReason | undefined): string {
  const clause = reason && shareStopClauses[reason];
  return clause ? `${name}’s ${what} share stopped: ${clause}.` : `${name} stopped sharing their ${what}.`;
}

/** What the person shares as video: their desktop from the assist command (controllable), or a browser's screen share (view only). */
export type VideoSource = 'desktop' | 'screen';

/** How the video that follows is encoded; every chunk until the next configuration belongs to it. */
export interface VideoConfig {
  source: VideoSource;
  /** A WebCodecs codec string, as given to VideoDecoder.configure. */
  codec: string;
  /** The coded size, in pixels; cursor and input coordinates are in this space. */
  width: number;
  height: number;
  /** Whether the person's side can take the technician's mouse and keyboard (not a browser share). */
  controllable: boolean;
}

/** One EncodedVideoChunk: a key frame decodes alone, a delta frame needs everything since the last key frame. */
export interface VideoChunk {
  key: boolean;
  /** Microseconds, increasing. */
  timestamp: number;
  data: Uint8Array;
}

/** Where the person's pointer is, in video coordinates. */
export interface CursorState {
  x: number;
  y: number;
  visible: boolean;
}

/** Most clipboard text one message carries, in bytes of UTF-8. */
export const MAX_CLIPBOARD_BYTES = 64 * 1024;

/** Widest and tallest cursor image: larger cursors are scaled down by the sender. */
export const MAX_CURSOR_SIDE = 64;
/** Cursor shapes the expert's side keeps; defining one more forgets the one defined longest ago (sdk/cursor-shapes.ts). */
export const MAX_CURSOR_SHAPES = 32;

/** What the person's pointer looks like: an RGBA image (straight alpha, rows without padding) and the pixel that points. */
export interface CursorShape {
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  rgba: Uint8Array;
}

export type PointerButton = 'left' | 'middle' | 'right';

/** The technician's mouse, in video coordinates. Wheel deltas are in pixels, like WheelEvent's with deltaMode 0. */
export type PointerInput =
  | { action: 'move'; x: number; y: number }
  | { action: 'down' | 'up'; x: number; y: number; button: PointerButton }
  | { action: 'wheel'; x: number; y: number; deltaX: number; deltaY: number };

/**
 * One key of the technician's keyboard: the physical key (KeyboardEvent.code, layout-independent)
 * and the text it produced on the technician's side, if any, so that a person with another layout
 * gets the character the technician meant.
 */
export interface KeyInput {
  action: 'down' | 'up';
  code: string;
  text: string;
}

/** One still image of the screen the person shares, as a JPEG. */
export interface ScreenImage {
  /** The image's size in pixels, so the other side can lay it out before decoding it. */
  width: number;
  height: number;
  /** A complete JPEG file: from its start-of-image to its end-of-image marker. */
  jpeg: Uint8Array;
}

/**
 * Agent → expert, about control: granted, revoked, the expert's request refused, or answered with
 * nothing-to-control (the person shares no terminal and no desktop it could control).
 */
export type ControlState = 'granted' | 'revoked' | 'refused' | 'nothing-to-control';

export type AssistMessage =
  /** Both ways, right after the handshake: who is on the other side. */
  | { type: 'hello'; name: string }
  /** Agent → expert: the user approved, in this mode. */
  | { type: 'approve'; mode: ApprovalMode }
  /** Agent → expert: the user refused; the agent then ends the session. */
  | { type: 'deny' }
  /** Expert → agent, while viewing: asks the user for control. */
  | { type: 'request-control' }
  /** Agent → expert: control granted or revoked, or the expert's request for it refused. */
  | { type: 'control'; state: ControlState }
  /** Agent → expert: the user paused (nothing flows) or resumed the session. */
  | { type: 'pause' }
  | { type: 'resume' }
  /** Both ways, once approved. */
  | { type: 'chat'; text: string }
  /** Agent → expert: terminal output. */
  | { type: 'output'; bytes: Uint8Array }
  /** Expert → agent: keystrokes, applied only with control. */
  | { type: 'input'; bytes: Uint8Array }
  /** Agent → expert: the terminal's size. */
  | { type: 'resize'; cols: number; rows: number }
  /** Expert → agent: the expert is leaving (before approval: the invitation reopens). */
  | { type: 'leave' }
  /** Agent → expert, once approved: the person started or stopped sharing a terminal; output and its size come only in between. */
  | { type: 'terminal-share'; state: 'started' | 'stopped' }
  /** Agent → expert: the person started or stopped sharing their screen (view only). */
  | { type: 'screen-share'; state: 'started' }
  | { type: 'screen-share'; state: 'stopped'; reason?: ShareStopReason }
  /** Agent → expert: the shared screen, now; only between started and stopped, and not while paused. */
  | ({ type: 'screen' } & ScreenImage)
  /** Agent → expert, during a share: the video's configuration; the next chunk is a key frame. */
  | ({ type: 'video-config' } & VideoConfig)
  /** Agent → expert: one encoded frame; only after a video-config, during a share and not while paused. */
  | ({ type: 'video-chunk' } & VideoChunk)
  /** Expert → agent: the decoder needs a key frame (joined late, lost its state). */
  | { type: 'key-frame-request' }
  /** Agent → expert: the pointer moved, appeared or disappeared. */
  | ({ type: 'cursor' } & CursorState)
  /**
   * Agent → expert: the pointer's look changed. With `shape`, it defines `id` (the expert keeps the
   * last MAX_CURSOR_SHAPES defined); without, it is a shape defined before. Only during a video share.
   */
  | { type: 'cursor-shape'; id: number; shape?: CursorShape }
  /** Agent → expert: whether the person lets clipboard text follow both ways (off unless they said so). */
  | { type: 'clipboard-allowed'; allowed: boolean }
  /** Either way, only while allowed, approved and not paused: text for the other side's clipboard. */
  | { type: 'clipboard'; text: string }
  /** Expert → agent: codecs the expert can decode, most preferred first; the agent picks one it can encode. */
  | { type: 'video-codecs'; codecs: string[] }
  /** Expert → agent: mouse; injected only with control, not paused, in a controllable share. */
  | ({ type: 'pointer' } & PointerInput)
  /** Expert → agent: keyboard; the same rules as pointer. */
  | ({ type: 'key' } & KeyInput)
  /** Either way: measures the round trip through the relay; the other side answers pong with the same id. */
  | { type: 'ping'; id: number }
  | { type: 'pong'; id: number }
  /**
   * The idle limit (sdk/idle-limit.ts). Agent → expert: the session ends for inactivity in
   * `secondsLeft` unless someone acts ('warning'), or activity put that off ('cleared'). Expert →
   * agent: the technician says they are still there ('still-here'), which counts as activity.
   */
  | { type: 'idle-warning'; state: 'warning'; secondsLeft: number }
  | { type: 'idle-warning'; state: 'cleared' | 'still-here' }
  /**
   * Agent → expert, before approval: the person is asked now and has `seconds` to answer (a help-desk
   * device's consent timeout, `assist agent --consent-timeout`), after which the agent denies.
   */
  | { type: 'asked'; seconds: number };

export type AssistMessageType = AssistMessage['type'];

/** Wire type codes; the order is the protocol, never renumber. */
const typeCodes = {
  hello: 1,
  approve: 2,
  deny: 3,
  'request-control': 4,
  control: 5,
  pause: 6,
  resume: 7,
  chat: 8,
  output: 9,
  input: 10,
  resize: 11,
  leave: 12,
  'screen-share': 13,
  screen: 14,
  'video-config': 15,
  'video-chunk': 16,
  'key-frame-request': 17,
  cursor: 18,
  'video-codecs': 19,
  pointer: 20,
  key: 21,
  ping: 22,
  pong: 23,
  'cursor-shape': 24,
  'clipboard-allowed': 25,
  clipboard: 26,
  'terminal-share': 27,
  'idle-warning': 28,
  asked: 29,
} as const satisfies Record<AssistMessageType, number>;
const typeByCode = new Map<number, AssistMessageType>(Object.entries(typeCodes).map(([type, code]) => [code, type as AssistMessageType]));

/** Which side may send each message; anything else from a peer breaks the protocol. */
export const assistMessageSenders: Record<AssistMessageType, ReadonlySet<'agent' | 'expert'>> = {
  hello: new Set(['agent', 'expert']),
  approve: new Set(['agent']),
  deny: new Set(['agent']),
  'request-control': new Set(['expert']),
  control: new Set(['agent']),
  pause: new Set(['agent']),
  resume: new Set(['agent']),
  chat: new Set(['agent', 'expert']),
  output: new Set(['agent']),
  input: new Set(['expert']),
  resize: new Set(['agent']),
  leave: new Set(['expert']),
  'screen-share': new Set(['agent']),
  screen: new Set(['agent']),
  'video-config': new Set(['agent']),
  'video-chunk': new Set(['agent']),
  'key-frame-request': new Set(['expert']),
  cursor: new Set(['agent']),
  'video-codecs': new Set(['expert']),
  pointer: new Set(['expert']),
  key: new Set(['expert']),
  ping: new Set(['agent', 'expert']),
  pong: new Set(['agent', 'expert']),
  'cursor-shape': new Set(['agent']),
  'clipboard-allowed': new Set(['agent']),
  clipboard: new Set(['agent', 'expert']),
  'terminal-share': new Set(['agent']),
  // warning and cleared from the agent, still-here from the expert (the sessions check the state).
  'idle-warning': new Set(['agent', 'expert']),
  asked: new Set(['agent']),
};

/**
 * Messages that are someone doing something, and so put off the idle end (sdk/idle-limit.ts): what
 * the person shares and decides, and what the technician types, says or asks. Not the protocol's
 * own chatter: hello, codec lists, key-frame requests, pings, nor the idle messages themselves
 * (a still-here counts, but is handled where it arrives).
 */
export const idleActivityMessages: ReadonlySet<AssistMessageType> = new Set<AssistMessageType>([
  'approve',
  'request-control',
  'control',
  'pause',
  'resume',
  'chat',
  'output',
  'input',
  'resize',
  'terminal-share',
  'screen-share',
  'screen',
  'video-config',
  'video-chunk',
  'cursor',
  'cursor-shape',
  'pointer',
  'key',
  'clipboard-allowed',
  'clipboard',
]);

export type AssistMessageErrorCode =
  | 'empty'
  | 'unsupported-version'
  | 'unknown-type'
  /** The body does not have the type's length or shape. */
  | 'malformed'
  /** Text that is not UTF-8, is empty or too long, or carries control or bidirectional-override characters. */
  | 'invalid-text'
  /** A number or byte string outside its range. */
  | 'out-of-range';

export class AssistMessageError extends CodedError<AssistMessageErrorCode> {
  override readonly name = 'AssistMessageError';
}

const HEADER_BYTES = 2;
const modes: readonly ApprovalMode[] = ['view', 'control'];
const controlStates = ['revoked', 'granted', 'refused', 'nothing-to-control'] as const satisfies readonly ControlState[];
const shareStates = ['stopped', 'started'] as const;
const idleStates = ['warning', 'cleared', 'still-here'] as const;
/** An idle warning's seconds left: a u32 after its state. */
const IDLE_WARNING_BYTES = 5;
/** The optional second byte of a stopped screen-share; the order is the protocol. */
export const shareStopReasons: readonly ShareStopReason[] = ['by-person', 'monitor-gone', 'capture-failed', 'encoder-failed', 'restarted'];
/** Width and height, u16 each, before the JPEG. */
const SCREEN_HEADER_BYTES = 4;
/** A JPEG file starts with the start-of-image marker (FF D8) and ends with the end-of-image marker (FF D9). */
const JPEG_START_OF_IMAGE = 0xd8;
const JPEG_END_OF_IMAGE = 0xd9;
const videoSources: readonly VideoSource[] = ['desktop', 'screen'];
const pointerActions = ['move', 'down', 'up', 'wheel'] as const;
const pointerButtons: readonly PointerButton[] = ['left', 'middle', 'right'];
const keyActions = ['down', 'up'] as const;
/** source u8, controllable u8, width u16, height u16, then the codec. */
const VIDEO_CONFIG_HEADER_BYTES = 6;
/** key u8, timestamp f64, then the data. */
const VIDEO_CHUNK_HEADER_BYTES = 9;
/** id u16, then for a definition: width u8, height u8, hotX u8, hotY u8, then the pixels. */
const CURSOR_SHAPE_ID_BYTES = 2;
const CURSOR_SHAPE_HEADER_BYTES = 6;
/** action u8, button u8, x u16, y u16, deltaX i16, deltaY i16. */
const POINTER_BYTES = 10;
/** Codec strings and key codes: printable ASCII without spaces or commas (the codec list's separator). */
const asciiToken = /^[\x21-\x2b\x2d-\x7e]+$/;
/** Video dimensions and coordinates are u16 on the wire; an 8K screen fits. */
const MAX_VIDEO_DIMENSION = MAX_SCREEN_DIMENSION;
const MAX_WHEEL_DELTA = 32_767;

const nameProblems: Record<DisplayNameProblem, string> = {
  empty: 'a name must not be empty or start or end with spaces',
  'too-long': `a name has at most ${MAX_NAME_CHARACTERS} characters`,
  'unsafe-character': 'a name must not contain control or text-direction characters',
};

/** Why `name` cannot be a participant's name, or undefined if it can: the display-name rule, and no surrounding spaces. */
export function nameProblem(name: string): string | undefined {
  const problem = name.trim() === name ? displayNameProblem(name) : 'empty';
  return problem && nameProblems[problem];
}

/** Why `text` cannot be a chat message, or undefined if it can. */
export function chatProblem(text: string): string | undefined {
  if (text.length === 0) return 'a chat message must not be empty';
  if (new TextEncoder().encode(text).length > MAX_CHAT_BYTES) return `a chat message has at most ${MAX_CHAT_BYTES} bytes`;
  if (unsafeTextCharacter.test(text)) return 'a chat message must not contain control or text-direction characters';
  return undefined;
}

/** Why `text` cannot travel as clipboard text, or undefined if it can: any text but NUL, 1 byte to 64 KiB of UTF-8. */
export function clipboardProblem(text: string): string | undefined {
  if (text.length === 0) return 'clipboard text must not be empty';
  if (/\p{Cs}/u.test(text) || text.includes('\u0000')) return 'clipboard text must be text (no NUL, no lone surrogates)';
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_CLIPBOARD_BYTES) return `clipboard text has at most ${MAX_CLIPBOARD_BYTES / 1024} KiB, not ${Math.ceil(bytes / 1024)} KiB`;
  return undefined;
}

/** Why `image` cannot be sent as a screen image, or undefined if it can. */
export function screenImageProblem(image: ScreenImage): string | undefined {
  return screenImageError(image)?.message;
}

function screenImageError({ width, height, jpeg }: ScreenImage): AssistMessageError | undefined {
  for (const [what, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_SCREEN_DIMENSION) {
      return new AssistMessageError('out-of-range', `a screen image's ${what} is a whole number of pixels from 1 to ${MAX_SCREEN_DIMENSION}`);
    }
  }
  if (jpeg.length > MAX_SCREEN_IMAGE_BYTES) return new AssistMessageError('out-of-range', `a screen image has at most ${MAX_SCREEN_IMAGE_BYTES} bytes, not ${jpeg.length}`);
  const last = jpeg.length - 1;
  if (last < 3 || jpeg[0] !== 0xff || jpeg[1] !== JPEG_START_OF_IMAGE || jpeg[last - 1] !== 0xff || jpeg[last] !== JPEG_END_OF_IMAGE) {
    return new AssistMessageError('malformed', 'a screen image must be a whole JPEG file');
  }
  return undefined;
}

function checkTerminalBytes(bytes: Uint8Array, what: string): void {
  if (bytes.length < 1 || bytes.length > MAX_TERMINAL_BYTES) {
    throw new AssistMessageError('out-of-range', `${what} carries 1 to ${MAX_TERMINAL_BYTES} bytes, not ${bytes.length}`);
  }
}

function checkDimension(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1 || value > MAX_TERMINAL_DIMENSION) {
    throw new AssistMessageError('out-of-range', `${what} must be a whole number from 1 to ${MAX_TERMINAL_DIMENSION}`);
  }
}

/** Checks a message before it is sent or after it is decoded: one set of rules for both directions. */
function check(message: AssistMessage): void {
  switch (message.type) {
    case 'hello': {
      const problem = nameProblem(message.name);
      if (problem) throw new AssistMessageError('invalid-text', problem);
      return;
    }
    case 'chat': {
      const problem = chatProblem(message.text);
      if (problem) throw new AssistMessageError('invalid-text', problem);
      return;
    }
    case 'output':
      return checkTerminalBytes(message.bytes, 'output');
    case 'input':
      return checkTerminalBytes(message.bytes, 'input');
    case 'resize':
      checkDimension(message.cols, 'cols');
      checkDimension(message.rows, 'rows');
      return;
    case 'approve':
      if (!modes.includes(message.mode)) throw new AssistMessageError('out-of-range', 'the approval mode must be view or control');
      return;
    case 'control':
      if (!controlStates.includes(message.state)) throw new AssistMessageError('out-of-range', 'control is granted, revoked, refused or nothing-to-control');
      return;
    case 'terminal-share':
      if (!shareStates.includes(message.state)) throw new AssistMessageError('out-of-range', 'a terminal share is started or stopped');
      return;
    case 'screen-share':
      if (!shareStates.includes(message.state)) throw new AssistMessageError('out-of-range', 'a screen share is started or stopped');
      if (message.state === 'stopped' && message.reason !== undefined && !shareStopReasons.includes(message.reason)) {
        throw new AssistMessageError('out-of-range', `a share stops ${shareStopReasons.join(', ')}`);
      }
      return;
    case 'screen': {
      const error = screenImageError(message);
      if (error) throw error;
      return;
    }
    case 'video-config':
      if (!videoSources.includes(message.source)) throw new AssistMessageError('out-of-range', 'a video source is desktop or screen');
      checkToken(message.codec, MAX_CODEC_CHARACTERS, 'a codec');
      checkWhole(message.width, 1, MAX_VIDEO_DIMENSION, "the video's width");
      checkWhole(message.height, 1, MAX_VIDEO_DIMENSION, "the video's height");
      if (typeof message.controllable !== 'boolean') throw new AssistMessageError('out-of-range', 'controllable is true or false');
      return;
    case 'video-chunk':
      if (!Number.isSafeInteger(message.timestamp) || message.timestamp < 0) throw new AssistMessageError('out-of-range', "a chunk's timestamp is a whole number of microseconds from 0");
      if (message.data.length < 1 || message.data.length > MAX_VIDEO_CHUNK_BYTES) {
        throw new AssistMessageError('out-of-range', `a video chunk carries 1 to ${MAX_VIDEO_CHUNK_BYTES} bytes, not ${message.data.length}`);
      }
      return;
    case 'cursor':
      checkWhole(message.x, 0, MAX_VIDEO_DIMENSION - 1, "the cursor's x");
      checkWhole(message.y, 0, MAX_VIDEO_DIMENSION - 1, "the cursor's y");
      return;
    case 'cursor-shape': {
      checkWhole(message.id, 0, 0xffff, "a cursor shape's id");
      const shape = message.shape;
      if (!shape) return;
      checkWhole(shape.width, 1, MAX_CURSOR_SIDE, "a cursor's width");
      checkWhole(shape.height, 1, MAX_CURSOR_SIDE, "a cursor's height");
      checkWhole(shape.hotX, 0, shape.width - 1, "a cursor's hot spot x");
      checkWhole(shape.hotY, 0, shape.height - 1, "a cursor's hot spot y");
      if (shape.rgba.length !== shape.width * shape.height * 4) {
        throw new AssistMessageError('malformed', `a ${shape.width}×${shape.height} cursor has ${shape.width * shape.height * 4} bytes of RGBA, not ${shape.rgba.length}`);
      }
      return;
    }
    case 'clipboard-allowed':
      if (typeof message.allowed !== 'boolean') throw new AssistMessageError('out-of-range', 'allowed is true or false');
      return;
    case 'clipboard': {
      const problem = clipboardProblem(message.text);
      if (problem) throw new AssistMessageError('invalid-text', problem);
      return;
    }
    case 'video-codecs':
      if (message.codecs.length < 1 || message.codecs.length > MAX_VIDEO_CODECS) throw new AssistMessageError('out-of-range', `a codec list has 1 to ${MAX_VIDEO_CODECS} codecs`);
      for (const codec of message.codecs) checkToken(codec, MAX_CODEC_CHARACTERS, 'a codec');
      return;
    case 'pointer':
      if (!pointerActions.includes(message.action)) throw new AssistMessageError('out-of-range', 'a pointer action is move, down, up or wheel');
      checkWhole(message.x, 0, MAX_VIDEO_DIMENSION - 1, "the pointer's x");
      checkWhole(message.y, 0, MAX_VIDEO_DIMENSION - 1, "the pointer's y");
      if ((message.action === 'down' || message.action === 'up') && !pointerButtons.includes(message.button)) {
        throw new AssistMessageError('out-of-range', 'a pointer button is left, middle or right');
      }
      if (message.action === 'wheel') {
        checkWhole(message.deltaX, -MAX_WHEEL_DELTA, MAX_WHEEL_DELTA, 'a wheel delta');
        checkWhole(message.deltaY, -MAX_WHEEL_DELTA, MAX_WHEEL_DELTA, 'a wheel delta');
      }
      return;
    case 'key': {
      if (!keyActions.includes(message.action)) throw new AssistMessageError('out-of-range', 'a key goes down or up');
      checkToken(message.code, MAX_KEY_CODE_CHARACTERS, 'a key code');
      const problem = message.text === '' ? undefined : keyTextProblem(message.text);
      if (problem) throw new AssistMessageError('invalid-text', problem);
      return;
    }
    case 'ping':
    case 'pong':
      checkWhole(message.id, 0, 0xffff_ffff, 'a ping id');
      return;
    case 'idle-warning':
      if (!idleStates.includes(message.state)) throw new AssistMessageError('out-of-range', 'an idle message is warning, cleared or still-here');
      if (message.state === 'warning') checkWhole(message.secondsLeft, 1, 0xffff_ffff, "an idle warning's seconds left");
      return;
    case 'asked':
      checkWhole(message.seconds, 1, 0xffff_ffff, 'the time to answer, in seconds,');
      return;
    default:
      return;
  }
}

function checkWhole(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new AssistMessageError('out-of-range', `${what} must be a whole number from ${min} to ${max}`);
}

function checkToken(value: string, maxCharacters: number, what: string): void {
  if (value.length < 1 || value.length > maxCharacters || !asciiToken.test(value)) {
    throw new AssistMessageError('out-of-range', `${what} is 1 to ${maxCharacters} printable ASCII characters without spaces or commas`);
  }
}

/** The text of one key press: what a keyboard types, never a control character (those travel as key codes). */
function keyTextProblem(text: string): string | undefined {
  if (new TextEncoder().encode(text).length > MAX_KEY_TEXT_BYTES) return `a key's text has at most ${MAX_KEY_TEXT_BYTES} bytes`;
  if (unsafeNameCharacter.test(text)) return "a key's text must not contain control or text-direction characters";
  return undefined;
}

export function encodeAssistMessage(message: AssistMessage): Uint8Array {
  check(message);
  const body = encodeBody(message);
  const bytes = new Uint8Array(HEADER_BYTES + body.length);
  bytes[0] = ASSIST_MESSAGE_VERSION;
  bytes[1] = typeCodes[message.type];
  bytes.set(body, HEADER_BYTES);
  return bytes;
}

function encodeBody(message: AssistMessage): Uint8Array {
  switch (message.type) {
    case 'hello':
      return new TextEncoder().encode(message.name);
    case 'chat':
      return new TextEncoder().encode(message.text);
    case 'approve':
      return Uint8Array.of(modes.indexOf(message.mode));
    case 'control':
      return Uint8Array.of(controlStates.indexOf(message.state));
    case 'terminal-share':
      return Uint8Array.of(shareStates.indexOf(message.state));
    case 'screen-share':
      return message.state === 'stopped' && message.reason !== undefined
        ? Uint8Array.of(shareStates.indexOf(message.state), shareStopReasons.indexOf(message.reason))
        : Uint8Array.of(shareStates.indexOf(message.state));
    case 'screen': {
      const body = new Uint8Array(SCREEN_HEADER_BYTES + message.jpeg.length);
      const view = new DataView(body.buffer);
      view.setUint16(0, message.width);
      view.setUint16(2, message.height);
      body.set(message.jpeg, SCREEN_HEADER_BYTES);
      return body;
    }
    case 'output':
    case 'input':
      return message.bytes;
    case 'video-config': {
      const codec = new TextEncoder().encode(message.codec);
      const body = new Uint8Array(VIDEO_CONFIG_HEADER_BYTES + codec.length);
      const view = new DataView(body.buffer);
      view.setUint8(0, videoSources.indexOf(message.source));
      view.setUint8(1, message.controllable ? 1 : 0);
      view.setUint16(2, message.width);
      view.setUint16(4, message.height);
      body.set(codec, VIDEO_CONFIG_HEADER_BYTES);
      return body;
    }
    case 'video-chunk': {
      const body = new Uint8Array(VIDEO_CHUNK_HEADER_BYTES + message.data.length);
      const view = new DataView(body.buffer);
      view.setUint8(0, message.key ? 1 : 0);
      view.setFloat64(1, message.timestamp);
      body.set(message.data, VIDEO_CHUNK_HEADER_BYTES);
      return body;
    }
    case 'cursor': {
      const body = new Uint8Array(5);
      const view = new DataView(body.buffer);
      view.setUint8(0, message.visible ? 1 : 0);
      view.setUint16(1, message.x);
      view.setUint16(3, message.y);
      return body;
    }
    case 'cursor-shape': {
      const shape = message.shape;
      const body = new Uint8Array(CURSOR_SHAPE_ID_BYTES + (shape ? CURSOR_SHAPE_HEADER_BYTES - CURSOR_SHAPE_ID_BYTES + shape.rgba.length : 0));
      new DataView(body.buffer).setUint16(0, message.id);
      if (shape) {
        body.set([shape.width, shape.height, shape.hotX, shape.hotY], CURSOR_SHAPE_ID_BYTES);
        body.set(shape.rgba, CURSOR_SHAPE_HEADER_BYTES);
      }
      return body;
    }
    case 'clipboard-allowed':
      return Uint8Array.of(message.allowed ? 1 : 0);
    case 'clipboard':
      return new TextEncoder().encode(message.text);
    case 'video-codecs':
      return new TextEncoder().encode(message.codecs.join(','));
    case 'pointer': {
      const body = new Uint8Array(POINTER_BYTES);
      const view = new DataView(body.buffer);
      view.setUint8(0, pointerActions.indexOf(message.action));
      view.setUint8(1, message.action === 'down' || message.action === 'up' ? pointerButtons.indexOf(message.button) : 0);
      view.setUint16(2, message.x);
      view.setUint16(4, message.y);
      view.setInt16(6, message.action === 'wheel' ? message.deltaX : 0);
      view.setInt16(8, message.action === 'wheel' ? message.deltaY : 0);
      return body;
    }
    case 'key': {
      const code = new TextEncoder().encode(message.code);
      const text = new TextEncoder().encode(message.text);
      const body = new Uint8Array(2 + code.length + text.length);
      body[0] = keyActions.indexOf(message.action);
      body[1] = code.length;
      body.set(code, 2);
      body.set(text, 2 + code.length);
      return body;
    }
    case 'ping':
    case 'pong': {
      const body = new Uint8Array(4);
      new DataView(body.buffer).setUint32(0, message.id);
      return body;
    }
    case 'idle-warning': {
      if (message.state !== 'warning') return Uint8Array.of(idleStates.indexOf(message.state));
      const body = new Uint8Array(IDLE_WARNING_BYTES);
      const view = new DataView(body.buffer);
      view.setUint8(0, idleStates.indexOf(message.state));
      view.setUint32(1, message.secondsLeft);
      return body;
    }
    case 'asked': {
      const body = new Uint8Array(4);
      new DataView(body.buffer).setUint32(0, message.seconds);
      return body;
    }
    case 'resize': {
      const body = new Uint8Array(4);
      const view = new DataView(body.buffer);
      view.setUint16(0, message.cols);
      view.setUint16(2, message.rows);
      return body;
    }
    case 'deny':
    case 'request-control':
    case 'pause':
    case 'resume':
    case 'leave':
    case 'key-frame-request':
      return new Uint8Array(0);
  }
}

function decodeText(body: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new AssistMessageError('invalid-text', 'the text is not UTF-8');
  }
}

function requireLength(body: Uint8Array, length: number, type: AssistMessageType): void {
  if (body.length !== length) throw new AssistMessageError('malformed', `a ${type} message has a ${length}-byte body, not ${body.length}`);
}

/** Parses one message; any deviation from its one valid encoding throws AssistMessageError. */
export function decodeAssistMessage(bytes: Uint8Array): AssistMessage {
  if (bytes.length < HEADER_BYTES) throw new AssistMessageError('empty', 'the message is shorter than its header');
  if (bytes[0] !== ASSIST_MESSAGE_VERSION) {
    throw new AssistMessageError('unsupported-version', `message version ${bytes[0]} is not ${ASSIST_MESSAGE_VERSION}: update the program`);
  }
  const type = typeByCode.get(bytes[1]!);
  if (!type) throw new AssistMessageError('unknown-type', `unknown message type ${bytes[1]}`);
  const body = bytes.subarray(HEADER_BYTES);
  const message = decodeBody(type, body);
  check(message);
  return message;
}

function decodeBody(type: AssistMessageType, body: Uint8Array): AssistMessage {
  switch (type) {
    case 'hello':
      return { type, name: decodeText(body) };
    case 'chat':
      return { type, text: decodeText(body) };
    case 'approve': {
      requireLength(body, 1, type);
      const mode = modes[body[0]!];
      if (!mode) throw new AssistMessageError('out-of-range', 'the approval mode must be view or control');
      return { type, mode };
    }
    case 'control': {
      requireLength(body, 1, type);
      const state = controlStates[body[0]!];
      if (!state) throw new AssistMessageError('out-of-range', 'control is granted, revoked, refused or nothing-to-control');
      return { type, state };
    }
    case 'terminal-share': {
      requireLength(body, 1, type);
      const state = shareStates[body[0]!];
      if (!state) throw new AssistMessageError('out-of-range', 'a terminal share is started or stopped');
      return { type, state };
    }
    case 'screen-share': {
      // A stopped share may say why in a second byte (senders before it did not).
      if (body.length !== 1 && !(body.length === 2 && body[0] === shareStates.indexOf('stopped'))) {
        throw new AssistMessageError('malformed', 'a screen-share message is its state, and for a stopped share optionally why');
      }
      const state = shareStates[body[0]!];
      if (!state) throw new AssistMessageError('out-of-range', 'a screen share is started or stopped');
      if (state === 'started' || body.length === 1) return { type, state };
      const reason = shareStopReasons[body[1]!];
      if (!reason) throw new AssistMessageError('out-of-range', `a share stops ${shareStopReasons.join(', ')}`);
      return { type, state, reason };
    }
    case 'screen': {
      if (body.length < SCREEN_HEADER_BYTES) throw new AssistMessageError('malformed', `a screen message starts with its ${SCREEN_HEADER_BYTES}-byte size`);
      const view = new DataView(body.buffer, body.byteOffset, SCREEN_HEADER_BYTES);
      return { type, width: view.getUint16(0), height: view.getUint16(2), jpeg: body.slice(SCREEN_HEADER_BYTES) };
    }
    case 'output':
    case 'input':
      return { type, bytes: body.slice() };
    case 'video-config': {
      if (body.length <= VIDEO_CONFIG_HEADER_BYTES) throw new AssistMessageError('malformed', `a video-config message has a ${VIDEO_CONFIG_HEADER_BYTES}-byte header and a codec`);
      const view = new DataView(body.buffer, body.byteOffset, VIDEO_CONFIG_HEADER_BYTES);
      const source = videoSources[view.getUint8(0)];
      if (!source) throw new AssistMessageError('out-of-range', 'a video source is desktop or screen');
      const controllable = decodeFlag(view.getUint8(1), 'controllable');
      return { type, source, controllable, width: view.getUint16(2), height: view.getUint16(4), codec: decodeText(body.subarray(VIDEO_CONFIG_HEADER_BYTES)) };
    }
    case 'video-chunk': {
      if (body.length <= VIDEO_CHUNK_HEADER_BYTES) throw new AssistMessageError('malformed', `a video-chunk message has a ${VIDEO_CHUNK_HEADER_BYTES}-byte header and data`);
      const view = new DataView(body.buffer, body.byteOffset, VIDEO_CHUNK_HEADER_BYTES);
      return { type, key: decodeFlag(view.getUint8(0), 'key'), timestamp: view.getFloat64(1), data: body.slice(VIDEO_CHUNK_HEADER_BYTES) };
    }
    case 'cursor': {
      requireLength(body, 5, type);
      const view = new DataView(body.buffer, body.byteOffset, 5);
      return { type, visible: decodeFlag(view.getUint8(0), 'visible'), x: view.getUint16(1), y: view.getUint16(3) };
    }
    case 'cursor-shape': {
      if (body.length < CURSOR_SHAPE_ID_BYTES) throw new AssistMessageError('malformed', 'a cursor-shape message starts with its id');
      const id = new DataView(body.buffer, body.byteOffset, CURSOR_SHAPE_ID_BYTES).getUint16(0);
      if (body.length === CURSOR_SHAPE_ID_BYTES) return { type, id };
      if (body.length < CURSOR_SHAPE_HEADER_BYTES) throw new AssistMessageError('malformed', 'a cursor shape has a size and a hot spot');
      const [width, height, hotX, hotY] = body.subarray(CURSOR_SHAPE_ID_BYTES, CURSOR_SHAPE_HEADER_BYTES);
      return { type, id, shape: { width: width!, height: height!, hotX: hotX!, hotY: hotY!, rgba: body.slice(CURSOR_SHAPE_HEADER_BYTES) } };
    }
    case 'clipboard-allowed':
      requireLength(body, 1, type);
      return { type, allowed: decodeFlag(body[0]!, 'allowed') };
    case 'clipboard':
      return { type, text: decodeText(body) };
    case 'video-codecs':
      return { type, codecs: decodeText(body).split(',') };
    case 'pointer': {
      requireLength(body, POINTER_BYTES, type);
      const view = new DataView(body.buffer, body.byteOffset, POINTER_BYTES);
      const action = pointerActions[view.getUint8(0)];
      if (!action) throw new AssistMessageError('out-of-range', 'a pointer action is move, down, up or wheel');
      const [button, x, y, deltaX, deltaY] = [view.getUint8(1), view.getUint16(2), view.getUint16(4), view.getInt16(6), view.getInt16(8)];
      // One valid encoding: fields an action does not use are zero.
      const unused = action === 'wheel' ? button : action === 'move' ? button | deltaX | deltaY : deltaX | deltaY;
      if (unused !== 0) throw new AssistMessageError('malformed', `a ${action} pointer message has fields it does not use set`);
      if (action === 'move') return { type, action, x, y };
      if (action === 'wheel') return { type, action, x, y, deltaX, deltaY };
      const named = pointerButtons[button];
      if (!named) throw new AssistMessageError('out-of-range', 'a pointer button is left, middle or right');
      return { type, action, x, y, button: named };
    }
    case 'key': {
      if (body.length < 2) throw new AssistMessageError('malformed', 'a key message starts with its action and code length');
      const action = keyActions[body[0]!];
      if (!action) throw new AssistMessageError('out-of-range', 'a key goes down or up');
      const codeEnd = 2 + body[1]!;
      if (codeEnd > body.length) throw new AssistMessageError('malformed', "a key message is shorter than its code");
      return { type, action, code: decodeText(body.subarray(2, codeEnd)), text: decodeText(body.subarray(codeEnd)) };
    }
    case 'ping':
    case 'pong':
      requireLength(body, 4, type);
      return { type, id: new DataView(body.buffer, body.byteOffset, 4).getUint32(0) };
    case 'idle-warning': {
      const state = idleStates[body[0] ?? -1];
      if (body.length === 0) throw new AssistMessageError('malformed', 'an idle message starts with its state');
      if (!state) throw new AssistMessageError('out-of-range', 'an idle message is warning, cleared or still-here');
      if (state !== 'warning') {
        requireLength(body, 1, type);
        return { type, state };
      }
      requireLength(body, IDLE_WARNING_BYTES, type);
      return { type, state, secondsLeft: new DataView(body.buffer, body.byteOffset, IDLE_WARNING_BYTES).getUint32(1) };
    }
    case 'asked':
      requireLength(body, 4, type);
      return { type, seconds: new DataView(body.buffer, body.byteOffset, 4).getUint32(0) };
    case 'resize': {
      requireLength(body, 4, type);
      const view = new DataView(body.buffer, body.byteOffset, 4);
      return { type, cols: view.getUint16(0), rows: view.getUint16(2) };
    }
    case 'deny':
    case 'request-control':
    case 'pause':
    case 'resume':
    case 'leave':
    case 'key-frame-request':
      requireLength(body, 0, type);
      return { type };
  }
}

function decodeFlag(byte: number, what: string): boolean {
  if (byte > 1) throw new AssistMessageError('out-of-range', `${what} is 0 or 1, not ${byte}`);
  return byte === 1;
}
