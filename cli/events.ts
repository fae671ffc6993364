// The vocabulary both user interfaces share: what a session reports (events) and what a user or
// script asks of it (commands). The JSON-lines mode writes and reads exactly these; the human
// interface draws the same events and turns keys into the same commands.

import type { ShareStopReason } from '../sdk/assist-messages.js';
import type { ApprovalMode, EndReason, LocalEndReason } from '../shared/core/messages.js';
import * as v from 'valibot';
import { decodeBase64, encodeBase64, isBase64 } from '../shared/core/base64.js';
import { CodedError } from '../shared/core/coded-error.js';
import type { OfferRefusalAnswer } from '../shared/core/offer-outcome.js';

/** How an invitation reached the other side. */
export type InvitationChannel = 'file' | 'email' | 'easy-connect' | 'helper-code';

export type SessionEvent =
  /**
   * The invitation is open. `password` is what the user reads out or tells separately: the Easy
   * Connect password, the invitation file's password, or the helper code.
   */
  | {
      event: 'invitation';
      kind: InvitationChannel;
      password: string;
      file?: string;
      to?: string;
      url?: string;
      expiresAt: string;
      maxFailedAttempts: number;
      /** --expires-in asked for longer than the relay allows: what was asked, in seconds (expiresAt is what it allowed). */
      cappedFromSeconds?: number;
    }
  /**
   * Technician (`assist offer --device`): the relay took the offer to this enrolled device and passed it on; its
   * agent joins, then asks the person (`consent` ask) or only shows a notice; `level` is the most the policy allows.
   */
  | { event: 'offered'; device: string; deviceId: string; group: string; reason: string; level: ApprovalMode; consent: 'ask' | 'notice' }
  /** The other side is through the end-to-end handshake; both sides see the same `verification`. */
  | { event: 'connected'; peer: string; verification: string }
  /** Before approval: the other side left; the invitation is open again (when this side created it). */
  | { event: 'peer-left' }
  /** Someone tried the invitation with a wrong password or code; at the maximum it is burned. */
  | { event: 'attempt-failed'; failedAttempts: number; maxFailedAttempts: number }
  | { event: 'approved'; mode: ApprovalMode }
  | { event: 'denied' }
  /** Technician of an offer to a device: its person is asked now and has `seconds` to answer (the device's own time). */
  | { event: 'asked'; seconds: number }
  /**
   * Control granted or revoked; or (expert) the answer to a request for it: refused,
   * nothing-to-control (the person shares no terminal and no desktop), or unanswered (no answer in 60 s).
   */
  | { event: 'control'; state: 'granted' | 'revoked' | 'refused' | 'nothing-to-control' | 'unanswered' }
  /** Expert: the person started or stopped sharing a terminal (none with `assist invite --desktop` alone, or from the web console). */
  | { event: 'terminal-share'; state: 'started' | 'stopped' }
  /** Agent: the expert asks for control. */
  | { event: 'control-requested' }
  | { event: 'paused' }
  | { event: 'resumed' }
  /** Terminal bytes: on the expert's side the person's terminal, on the agent's side what it shares. */
  | { event: 'output'; bytes: Uint8Array }
  /** Expert: the person's terminal size. */
  | { event: 'resize'; cols: number; rows: number }
  /** A chat message from the other side. */
  | { event: 'chat'; text: string }
  /** Expert: the person started or stopped sharing their screen from the web console (images are not shown here). */
  | { event: 'screen-share'; state: 'started' | 'stopped'; reason?: ShareStopReason }
  /**
   * A desktop share started (again, with new figures, when its codec or size changes) or stopped.
   * Person: `monitor` is the shared monitor's number. Technician: the desktop is seen in the web console,
   * at `webConsole` when the relay's address is known.
   */
  | { event: 'desktop-share'; state: 'started' | 'stopped'; monitor?: number; width?: number; height?: number; codec?: string; webConsole?: string; reason?: ShareStopReason }
  /** Person: the desktop share failed or cannot start; `message` says what to do. The session goes on. */
  | { event: 'desktop-error'; code: string; message: string }
  /** Person: the technician's mouse or keys arrived without control or while paused and were not applied; `count` in all. */
  | { event: 'input-dropped'; count: number; why: string }
  /** The person allowed clipboard text both ways, or stopped it (both sides). */
  | { event: 'clipboard-allowed'; allowed: boolean }
  /**
   * Clipboard text went across: person, `sent` (what they copied) or `received` (put on their
   * clipboard), with its length; technician, `received` with the `text`, or `sent` (send-clipboard).
   */
  | { event: 'clipboard'; direction: 'sent' | 'received'; characters: number; text?: string }
  /** Person: clipboard text from the technician that arrived while not allowed or paused was not written; `count` in all. */
  | { event: 'clipboard-refused'; count: number; why: string }
  /**
   * Both sides, from the approval on and whenever it moves (the person added time): the session's
   * hard limit (ISO time), the seconds left then, and the latest it can be moved to, when known.
   */
  | { event: 'time-limit'; expiresAt: string; secondsLeft: number; maxExpiresAt?: string }
  /** Both sides: `secondsLeft` (300, then 60) before the hard limit. The person can still add time (extend). */
  | { event: 'expiry-warning'; secondsLeft: number; expiresAt: string }
  /**
   * Both sides: nobody did anything for a while; the session ends for inactivity at `endsAt` (ISO
   * time), `secondsLeft` (300, then 60) from now, unless someone does (any activity, or still-here).
   */
  | { event: 'idle-warning'; secondsLeft: number; endsAt: string }
  /** Both sides: activity after an idle warning; the session goes on. */
  | { event: 'idle-cleared' }
  /** The other side's connection dropped (it is reconnecting: the relay keeps its seat for 5 minutes) or is back. */
  | { event: 'peer'; state: 'disconnected' | 'connected' }
  /** This side's connection to the relay dropped and is being re-established (`attempt`), or is back. */
  | { event: 'connection'; state: 'reconnecting' | 'connected'; attempt?: number }
  /**
   * `assist resume`: back in the session a crashed assist process held, with the same decisions. The
   * person's program died with that process: a new one starts (with the same --command).
   */
  | { event: 'session-restored'; peer: string; mode: ApprovalMode; control: boolean; paused: boolean }
  /** offerAnswer: `assist offer --device` turned down, the device's answer (deny, no-answer, or its refusal's code). */
  | { event: 'ended'; reason: EndReason | LocalEndReason; offerAnswer?: OfferRefusalAnswer }
  /**
   * Person, after 'ended': the shared program still runs in this terminal, no longer shared. It goes
   * on until it exits or the person sends hang-up; 'program-exited' follows.
   */
  | { event: 'still-running' }
  /** Person: the program that outlived the session exited (`code` null when a signal ended it). */
  | { event: 'program-exited'; code: number | null }
  | { event: 'error'; code: string; message: string };

/**
 * What a script (or a key) asks of the session: one of the commands below, as parseCommand reads it, or
 * 'quit', which nobody types: the user is gone (stdin closed, a signal). It ends the session and, with
 * nobody left to use it, the person's program.
 */
export type Command = { [C in ScriptCommandName]: v.InferOutput<(typeof commands)[C][0]> }[ScriptCommandName] | { cmd: 'quit' };

/** The same names everywhere: `"data"` carries terminal bytes as base64 on the wire. */
export function eventToJson(event: SessionEvent): string {
  if (event.event === 'output') return JSON.stringify({ event: 'output', data: encodeBase64(event.bytes) });
  return JSON.stringify(event);
}

/** A command line a script sent that cannot be carried out as written. */
export class CommandError extends CodedError<'invalid-command'> {
  override readonly name = 'CommandError';

  constructor(message: string, options?: ErrorOptions) {
    super('invalid-command', message, options);
  }
}

const wholeNumber = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const bare = <const C extends string>(cmd: C) => v.object({ cmd: v.literal(cmd) });

/** What a script may send, by `cmd` ('quit' is the interface's own), and the sentence for one sent wrong. */
const commands = {
  approve: [v.object({ cmd: v.literal('approve'), mode: v.picklist(['view', 'control'] as const satisfies readonly ApprovalMode[]) }), 'approve needs "mode": "view" or "control"'],
  deny: [bare('deny')],
  chat: [v.object({ cmd: v.literal('chat'), text: v.pipe(v.string(), v.minLength(1)) }), 'chat needs a non-empty "text"'],
  /** Keystrokes: the expert's (with control), or the agent typing into its own terminal. */
  input: [
    v.pipe(
      v.object({ cmd: v.literal('input'), data: v.pipe(v.string(), v.check(isBase64)) }),
      v.transform(({ data }) => ({ cmd: 'input' as const, bytes: decodeBase64(data) })),
    ),
    'input needs "data": the bytes as base64',
  ],
  /** Agent: the shared terminal's size. */
  resize: [v.object({ cmd: v.literal('resize'), cols: wholeNumber(1, 10_000), rows: wholeNumber(1, 10_000) }), 'resize needs whole numbers "cols" and "rows" from 1 to 10000'],
  'request-control': [bare('request-control')],
  'grant-control': [bare('grant-control')],
  'revoke-control': [bare('revoke-control')],
  /** Agent: says no to the expert's request for control. */
  'refuse-control': [bare('refuse-control')],
  pause: [bare('pause')],
  resume: [bare('resume')],
  /** Agent: lets clipboard text follow both ways, or stops it. */
  clipboard: [v.object({ cmd: v.literal('clipboard'), allowed: v.boolean() }), 'clipboard needs "allowed": true or false'],
  /** Technician: puts `text` on the person's clipboard (they must share it); without `text`, what is on the technician's own clipboard. */
  'send-clipboard': [
    v.object({ cmd: v.literal('send-clipboard'), text: v.optional(v.string()) }),
    'send-clipboard takes "text": the text for the person\'s clipboard (leave it out to send what is on your own clipboard)',
  ],
  /** Agent: stops sharing the desktop; the session (terminal, chat) goes on. */
  'stop-desktop': [bare('stop-desktop')],
  end: [bare('end')],
  /** Person: ends the shared program, as closing its terminal window would (SIGHUP); during the session that ends the session too. */
  'hang-up': [bare('hang-up')],
  /** Person: adds `minutes` (default 30) to the session's hard limit, up to the relay's cap. */
  extend: [v.object({ cmd: v.literal('extend'), minutes: v.optional(wholeNumber(1, 24 * 60)) }), 'extend takes "minutes": a whole number from 1 to 1440 (default 30)'],
  /** Either side: says they are still there, which puts off the idle end as any activity does. */
  'still-here': [bare('still-here')],
} as const satisfies Record<string, readonly [v.GenericSchema<unknown, { cmd: string }>, string?]>;
type ScriptCommandName = keyof typeof commands;
const scriptCommandNames = Object.keys(commands) as ScriptCommandName[];

/** Parses one JSON line from a script; throws CommandError saying what is wrong. */
export function parseCommand(line: string): Command {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new CommandError('not JSON: send one JSON object per line, e.g. {"cmd":"end"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CommandError('a command is a JSON object with a "cmd" field');
  const cmd = (value as { cmd?: unknown }).cmd;
  if (typeof cmd !== 'string' || !Object.hasOwn(commands, cmd)) throw new CommandError(`"cmd" must be one of ${scriptCommandNames.join(', ')}`);
  const [schema, problem] = commands[cmd as ScriptCommandName];
  const result = v.safeParse(schema, value);
  // A command without fields has no sentence of its own: only its "cmd" could be wrong, and that was checked.
  if (!result.success) throw new CommandError(problem ?? `"cmd" must be one of ${scriptCommandNames.join(', ')}`);
  return result.output as Command;
}
