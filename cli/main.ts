// `assist`: argument parsing, then one of four ways into a session (invite, accept, join, offer),
// run by the agent's or the expert's driver through the human or the JSON-lines interface; and
// `assist monitors`, which lists what `--desktop --monitor N` can share.

import { rmSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join as joinPath, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  acceptHelp,
  AgentSession,
  InvitationMixUpError,
  restoreAssistSession,
  SessionRestoreError,
  invitationShape,
  joinHelp,
  offerHelp,
  requestHelp,
  type ExpertSession,
  type HelpRequest,
} from '../sdk/node.js';
import { runAgent, type ShareOptions } from './agent.js';
import { DEFAULT_CONSENT_TIMEOUT_SECONDS } from '../sdk/device-offer.js';
import { CODEC_CHOICES, type CodecChoice } from './desktop/codecs.js';
import { DEFAULT_MAX_FPS, MAX_FPS_LIMIT, prepareDesktop, type PreparedDesktop } from './desktop/desktop-share.js';
import { describeMonitors } from './desktop/monitors.js';
import { checkDisplay, loadScreenCapture } from './desktop/native.js';
import { CodedError } from '../shared/core/coded-error.js';
import { parseDurationSeconds } from '../shared/core/durations.js';
import { CodeFormatError, normalizeInvitationPassword, parseCode } from '../shared/core/codes.js';
import { turnedDownBy, type TurnedDown } from '../shared/core/offer-outcome.js';
import { eventToJson, type Command, type SessionEvent } from './events.js';
import { errorEvent, type Frontend, type Outcome } from './frontend.js';
import { DEFAULT_RELAY, helpTexts, isCommandName, type CommandName } from './help.js';
import { HumanFrontend } from './human.js';
import { JsonLinesFrontend } from './json-lines.js';
import { runExpert } from './expert.js';
import { keepSessionState, loadSessionState } from './state.js';
import { enrol, runDeviceAgent } from './device.js';
import { login } from './technician.js';
import { listDevices, offerToNamedDevice } from './help-desk.js';
import { MAX_OFFER_REASON_CHARS } from '../shared/core/messages.js';
import { OPERATOR_KEY_FINGERPRINT_CHARS } from '../shared/core/operator-key.js';
import { unsafeTextCharacter } from '../shared/core/display-name.js';

/** Wrong arguments: the message, and the help to show with it. */
class UsageError extends CodedError<'invalid-usage'> {
  override readonly name = 'UsageError';

  constructor(
    message: string,
    readonly command: CommandName | 'main',
  ) {
    super('invalid-usage', message);
  }
}

const EXIT_ABNORMAL = 1;
const EXIT_USAGE = 2;
/** `assist offer --device` turned down, by how (the device's answer, as the relay passed it on). */
const EXIT_TURNED_DOWN: Record<TurnedDown, number> = { 'said-no': 3, 'no-answer': 4, 'device-refused': 5 };
/** As a shell reports a program ended by Ctrl-C (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

const commonOptions = {
  relay: { type: 'string' },
  name: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

const desktopOptions = {
  desktop: { type: 'boolean', default: false },
  clipboard: { type: 'boolean', default: false },
  monitor: { type: 'string' },
  'max-fps': { type: 'string' },
  codec: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

const commandOptions = {
  invite: {
    ...commonOptions,
    ...desktopOptions,
    'easy-connect': { type: 'boolean', default: false },
    file: { type: 'string' },
    email: { type: 'string' },
    'expires-in': { type: 'string' },
    command: { type: 'string' },
  },
  accept: { ...commonOptions, ...desktopOptions, command: { type: 'string' } },
  join: { ...commonOptions, password: { type: 'string' } },
  offer: { ...commonOptions, 'expires-in': { type: 'string' }, device: { type: 'string' }, reason: { type: 'string' } },
  devices: { relay: commonOptions.relay, search: { type: 'string' }, json: commonOptions.json, help: commonOptions.help },
  resume: { json: commonOptions.json, help: commonOptions.help },
  monitors: { json: commonOptions.json, help: commonOptions.help },
  enrol: { relay: commonOptions.relay, name: commonOptions.name, token: { type: 'string' }, json: commonOptions.json, help: commonOptions.help },
  agent: { json: commonOptions.json, help: commonOptions.help, 'consent-timeout': { type: 'string' }, 'no-browser': { type: 'boolean', default: false } },
  login: { relay: commonOptions.relay, 'operator-key': { type: 'string' }, json: commonOptions.json, help: commonOptions.help },
} as const satisfies Record<CommandName, ParseArgsConfig['options']>;

/** Longer than the technician's helper code lives would leave nothing to allow. */
const MAX_CONSENT_TIMEOUT_SECONDS = 10 * 60;

type Values<C extends CommandName> = ReturnType<typeof parseArgs<{ options: (typeof commandOptions)[C]; allowPositionals: true; strict: true }>>['values'];

interface Context {
  json: boolean;
  frontend: Frontend;
  relay: string;
  /** --relay or $ASSIST_RELAY, when given. */
  explicitRelay: string | undefined;
  name: string;
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = rest[0];
    process.stdout.write(`${topic && isCommandName(topic) ? helpTexts[topic] : helpTexts.main}\n`);
    return first === undefined ? EXIT_USAGE : 0;
  }
  if (!isCommandName(first)) throw new UsageError(`unknown command "${first}"`, 'main');
  const command = first;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: commandOptions[command], allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
  const values = parsed.values as Values<typeof command>;
  if (values.help) {
    process.stdout.write(`${helpTexts[command]}\n`);
    return 0;
  }
  if (command === 'monitors') return monitors(values.json, parsed.positionals);
  if (command === 'resume') return resume(values.json, parsed.positionals);
  if (command === 'enrol') return enrolCommand(values as Values<'enrol'>, parsed.positionals);
  if (command === 'agent') {
    noPositionals('agent', parsed.positionals);
    const agentValues = values as Values<'agent'>;
    const consentTimeoutSeconds = agentValues['consent-timeout'] === undefined ? DEFAULT_CONSENT_TIMEOUT_SECONDS : parseDurationSeconds(agentValues['consent-timeout']);
    if (consentTimeoutSeconds === undefined || consentTimeoutSeconds > MAX_CONSENT_TIMEOUT_SECONDS) {
      throw new UsageError(`--consent-timeout takes a duration from 1s to ${MAX_CONSENT_TIMEOUT_SECONDS / 60}m, such as 60s or 2m`, 'agent');
    }
    return runDeviceAgent({ json: values.json, consentTimeoutSeconds, browser: !agentValues['no-browser'] });
  }
  if (command === 'login') return loginCommand(values as Values<'login'>, parsed.positionals);
  if (command === 'devices') {
    noPositionals('devices', parsed.positionals);
    const { relay, search } = values as Values<'devices'>;
    return listDevices({ relay: relay ?? (process.env.ASSIST_RELAY || undefined), search, json: values.json });
  }
  const sessionValues = values as Values<Exclude<CommandName, 'monitors' | 'resume' | 'enrol' | 'agent' | 'login' | 'devices'>>;
  const explicitRelay = sessionValues.relay ?? (process.env.ASSIST_RELAY || undefined);
  const role = command === 'invite' || command === 'accept' ? 'agent' : 'expert';
  const frontend: Frontend = values.json
    ? new JsonLinesFrontend(process.stdin, process.stdout)
    : new HumanFrontend({
        role,
        input: process.stdin,
        output: process.stdout,
        errors: process.stderr,
        desktop: 'desktop' in values && values.desktop === true,
        // --desktop alone shares the desktop only; --command adds a terminal.
        terminal: !('desktop' in values && values.desktop === true) || ('command' in values && values.command !== undefined),
      });
  const context: Context = { json: values.json, frontend, relay: explicitRelay ?? DEFAULT_RELAY, explicitRelay, name: sessionValues.name ?? defaultName() };

  let outcome: Outcome;
  try {
    switch (command) {
      case 'invite':
        outcome = await invite(context, values as Values<'invite'>, parsed.positionals);
        break;
      case 'accept':
        outcome = await accept(context, values as Values<'accept'>, parsed.positionals);
        break;
      case 'join':
        outcome = await join(context, values as Values<'join'>, parsed.positionals);
        break;
      case 'offer':
        outcome = await offer(context, values as Values<'offer'>, parsed.positionals);
        break;
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Could not start: a wrong code, an unreachable relay, a missing password…
    const event = errorEvent(error);
    await frontend.show(event);
    frontend.close();
    if (values.json) process.stderr.write(`assist: ${event.message}\n`);
    return EXIT_ABNORMAL;
  }
  frontend.close();
  if (!outcome.normal && values.json) process.stderr.write(`assist: the session ended: ${outcome.reason}\n`);
  if (outcome.normal) return 0;
  if (command !== 'offer' || (values as Values<'offer'>).device === undefined || outcome.reason !== 'denied') return EXIT_ABNORMAL;
  // A relay that does not say how: counted as a no, as before the kinds were told apart.
  return EXIT_TURNED_DOWN[outcome.offerAnswer ? turnedDownBy(outcome.offerAnswer) : 'said-no'];
}

async function enrolCommand(values: Values<'enrol'>, positionals: string[]): Promise<number> {
  noPositionals('enrol', positionals);
  const token = values.token ?? (process.env.ASSIST_ENROLMENT_TOKEN || undefined);
  if (token === undefined) throw new UsageError('give the enrolment token the operator made: --token TOKEN (or $ASSIST_ENROLMENT_TOKEN)', 'enrol');
  const relay = values.relay ?? (process.env.ASSIST_RELAY || undefined);
  if (relay === undefined) throw new UsageError('say which relay to enrol with: --relay URL (its https:// address; or $ASSIST_RELAY)', 'enrol');
  return enrol({ relay, token: token.trim(), name: values.name, json: values.json });
}

async function loginCommand(values: Values<'login'>, positionals: string[]): Promise<number> {
  noPositionals('login', positionals);
  const operatorKey = values['operator-key']?.trim();
  if (operatorKey !== undefined && !new RegExp(`^[A-Za-z0-9_-]{${OPERATOR_KEY_FINGERPRINT_CHARS}}$`).test(operatorKey)) {
    throw new UsageError(`--operator-key takes the operator key's fingerprint (${OPERATOR_KEY_FINGERPRINT_CHARS} letters, digits, - and _, as npm run operator -- operator-key shows it), not "${operatorKey}"`, 'login');
  }
  return login({ relay: values.relay ?? (process.env.ASSIST_RELAY || DEFAULT_RELAY), json: values.json, ...(operatorKey && { operatorKey }) });
}

function defaultName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'anonymous';
  }
}

function noPositionals(command: CommandName, positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, command);
}

function onePositional(command: CommandName, positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`missing ${what}`, command);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`, command);
  return positionals[0]!;
}

/** "90s", "10m", "2h", or plain seconds. */
function parseDuration(text: string | undefined, command: CommandName): number | undefined {
  if (text === undefined) return undefined;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new UsageError(`--expires-in takes a duration such as 90s, 10m or 2h, not "${text}"`, command);
  return seconds;
}

function terminalSize(json: boolean): { cols: number; rows: number } {
  const out = process.stdout;
  return !json && out.isTTY ? { cols: out.columns, rows: out.rows } : { cols: 80, rows: 24 };
}

// ---- the person who needs help ----

async function invite(context: Context, values: Values<'invite'>, positionals: string[]): Promise<Outcome> {
  noPositionals('invite', positionals);
  const channels = [values['easy-connect'], values.file !== undefined, values.email !== undefined].filter(Boolean).length;
  if (channels === 0) throw new UsageError('say how to invite: --easy-connect, --file PATH or --email ADDRESS', 'invite');
  if (values['easy-connect'] && channels > 1) throw new UsageError('--easy-connect goes alone: a file or email invitation has its own password', 'invite');
  const invitationTtlSeconds = parseDuration(values['expires-in'], 'invite');
  // Before the invitation: where the file goes, and a machine that cannot share its desktop, are said
  // to be wrong before anyone is asked to help.
  const output = values.file === undefined ? undefined : await outputTarget(values.file);
  const desktop = desktopToShare(values, 'invite');
  const request = await requestHelp({
    relay: context.relay,
    kind: values['easy-connect'] ? 'easy-connect' : 'file',
    name: context.name,
    invitationTtlSeconds,
  });
  let event: SessionEvent;
  try {
    event = withCap(await handOver(request, values, output), invitationTtlSeconds);
  } catch (error) {
    await request.revoke().catch(() => {});
    throw error;
  }
  return share(context, request, { command: values.command, desktop, clipboard: values.clipboard }, event);
}

/** More than a request's round trip shorter than asked: the relay capped --expires-in. */
const CAP_SLACK_SECONDS = 30;

/** Says so on the invitation event when the relay gave the invitation less time than --expires-in asked. */
function withCap(event: SessionEvent, requestedSeconds: number | undefined): SessionEvent {
  if (event.event !== 'invitation' || requestedSeconds === undefined) return event;
  const grantedSeconds = (Date.parse(event.expiresAt) - Date.now()) / 1000;
  return grantedSeconds < requestedSeconds - CAP_SLACK_SECONDS ? { ...event, cappedFromSeconds: requestedSeconds } : event;
}

/** Where --file saves: into a folder (named after the invitation), or as a file in an existing folder. */
type OutputTarget = { folder: string } | { file: string };

async function outputTarget(path: string): Promise<OutputTarget> {
  const resolved = resolvePath(path);
  if ((await stat(resolved).catch(() => undefined))?.isDirectory()) return { folder: resolved };
  const folder = dirname(resolved);
  if (!(await stat(folder).catch(() => undefined))?.isDirectory()) {
    throw problem('output-folder-missing', `cannot save the invitation as ${resolved}: the folder ${folder} does not exist; create it, or give --file a folder that exists`);
  }
  return { file: resolved };
}

/** Writes or emails the invitation; returns what to show. */
async function handOver(request: HelpRequest, values: Values<'invite'>, output: OutputTarget | undefined): Promise<SessionEvent> {
  const { invitation } = request;
  const expiresAt = invitation.expiresAt.toISOString();
  // Fixed when the invitation was made, and enforced by this side whatever the relay says.
  const { maxFailedAttempts } = request;
  if (invitation.kind === 'easy-connect') return { event: 'invitation', kind: 'easy-connect', password: invitation.password, expiresAt, maxFailedAttempts };
  let file: string | undefined;
  if (output !== undefined) {
    file = 'folder' in output ? joinPath(output.folder, invitation.fileName) : output.file;
    // The file holds the invitation's secret: only its owner may read it.
    await writeFile(file, invitation.file, { mode: 0o600 });
  }
  if (values.email !== undefined) {
    const { to } = await request.emailInvitation(values.email);
    return { event: 'invitation', kind: 'email', to, ...(file ? { file } : {}), password: invitation.password, url: invitation.relayUrl, expiresAt, maxFailedAttempts };
  }
  return { event: 'invitation', kind: 'file', file, password: invitation.password, url: invitation.relayUrl, expiresAt, maxFailedAttempts };
}

/**
 * A secret the user gives: as the argument, or — so it never shows in `ps` — typed at a prompt or
 * read from stdin's first line (`-`), or from an environment variable.
 */
async function secretArgument(
  context: Context,
  command: CommandName,
  positionals: string[],
  secret: { what: string; prompt: string; variable: string },
): Promise<string> {
  const fromEnvironment = process.env[secret.variable] || undefined;
  if (positionals.length === 0 && fromEnvironment !== undefined) return fromEnvironment;
  const given = spacedCode(positionals) ?? onePositional(command, positionals, secret.what);
  if (given !== '-') return given;
  if (context.json) throw new UsageError(`with --json, stdin carries commands: set ${secret.variable} instead of giving -`, command);
  const line = await ask(process.stdin.isTTY ? secret.prompt : '');
  if (line === '') throw new UsageError(`no ${secret.what.replace(/ \(.*\)$/, '')} on stdin`, command);
  return line;
}

async function accept(context: Context, values: Values<'accept'>, positionals: string[]): Promise<Outcome> {
  const code = await secretArgument(context, 'accept', positionals, {
    what: 'the helper code (assist accept CODE, or - to type it)',
    prompt: 'Helper code (your technician reads it out): ',
    variable: 'ASSIST_CODE',
  });
  // An invitation file is for the technician: said before anything else goes wrong with it.
  if (await isInvitationFilePath(code)) throw new InvitationMixUpError('file', 'helper-code');
  const desktop = desktopToShare(values, 'accept');
  const session = await acceptHelp({ relay: context.relay, code, name: context.name });
  return share(context, session, { command: values.command, desktop, clipboard: values.clipboard });
}

async function share(context: Context, session: AgentSession, what: Omit<ShareOptions, 'size'>, invitation?: SessionEvent): Promise<Outcome> {
  // From the approval on, for `assist resume` after a crash.
  keepSessionState(session, { command: what.command });
  if (invitation) await context.frontend.show(invitation);
  return runAgent(session, endOnSignals(context.frontend), { ...what, size: terminalSize(context.json) });
}

/** --desktop: checks the display, loads the native packages and picks the monitor; nothing is captured yet. */
function desktopToShare(values: Values<'invite' | 'accept'>, command: 'invite' | 'accept'): PreparedDesktop | undefined {
  if (!values.desktop) {
    if (values.monitor !== undefined || values['max-fps'] !== undefined || values.codec !== undefined || values.clipboard) {
      throw new UsageError('--monitor, --max-fps, --codec and --clipboard go with --desktop', command);
    }
    return undefined;
  }
  const monitor = values.monitor === undefined ? undefined : wholeNumber(values.monitor, 1, Number.MAX_SAFE_INTEGER, '--monitor takes a monitor number (see `assist monitors`)', command);
  const maxFps = values['max-fps'] === undefined ? DEFAULT_MAX_FPS : wholeNumber(values['max-fps'], 1, MAX_FPS_LIMIT, `--max-fps takes a whole number from 1 to ${MAX_FPS_LIMIT}`, command);
  const codec = values.codec === undefined ? undefined : codecChoice(values.codec, command);
  return prepareDesktop({ monitor, maxFps, codec });
}

function codecChoice(text: string, command: CommandName): CodecChoice {
  const choice = text.trim().toLowerCase();
  if (!Object.hasOwn(CODEC_CHOICES, choice)) throw new UsageError(`--codec takes ${Object.keys(CODEC_CHOICES).join(' or ')}, not "${text}"`, command);
  return choice as CodecChoice;
}

function wholeNumber(text: string, min: number, max: number, rule: string, command: CommandName): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${rule}, not "${text}"`, command);
  return value;
}

// ---- resume ----

/** Continues the session a crashed assist process kept in the state directory. */
async function resume(json: boolean, positionals: string[]): Promise<number> {
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`, 'resume');
  const fail = (event: Extract<SessionEvent, { event: 'error' }>, frontend?: Frontend) => {
    if (json) process.stdout.write(`${eventToJson(event)}\n`);
    else frontend?.close();
    process.stderr.write(`assist: ${event.message}\n`);
    return EXIT_ABNORMAL;
  };
  let kept: ReturnType<typeof loadSessionState>;
  try {
    kept = loadSessionState(positionals[0]);
  } catch (error) {
    return fail(errorEvent(error));
  }
  const { snapshot, command } = kept;
  let session: AgentSession | ExpertSession;
  try {
    session = await restoreAssistSession(snapshot);
  } catch (error) {
    if (!(error instanceof SessionRestoreError)) return fail(errorEvent(error));
    // Ended meanwhile, or the grace passed: nothing is left to resume from this file.
    if (error.end.reason !== 'connection-lost') rmSync(kept.file, { force: true });
    return fail({ event: 'error', code: 'resume-failed', message: `the session cannot be resumed: ${error.message}` });
  }
  keepSessionState(session, { command });
  const frontend: Frontend = json
    ? new JsonLinesFrontend(process.stdin, process.stdout)
    : new HumanFrontend({ role: snapshot.role, input: process.stdin, output: process.stdout, errors: process.stderr, desktop: false });
  const outcome =
    session instanceof AgentSession
      ? await runAgent(session, endOnSignals(frontend), { command, size: terminalSize(json), restored: true })
      : await runExpert(session as ExpertSession, endOnSignals(frontend), { restored: true });
  frontend.close();
  if (!outcome.normal && json) process.stderr.write(`assist: the session ended: ${outcome.reason}\n`);
  return outcome.normal ? 0 : EXIT_ABNORMAL;
}

// ---- monitors ----

async function monitors(json: boolean, positionals: string[]): Promise<number> {
  noPositionals('monitors', positionals);
  let listed;
  try {
    checkDisplay();
    listed = loadScreenCapture().monitors();
  } catch (error) {
    const event = errorEvent(error);
    if (json) process.stdout.write(`${eventToJson(event)}\n`);
    process.stderr.write(`assist: ${event.message}\n`);
    return EXIT_ABNORMAL;
  }
  process.stdout.write(json ? `${JSON.stringify({ event: 'monitors', monitors: listed })}\n` : `${describeMonitors(listed)}\n`);
  return 0;
}

// ---- the technician ----

async function join(context: Context, values: Values<'join'>, positionals: string[]): Promise<Outcome> {
  const target = await secretArgument(context, 'join', positionals, {
    what: 'the invitation: a password, a file or a link (assist join PASSWORD|FILE|URL, or - to type it)',
    prompt: 'Easy Connect password, invitation file or link: ',
    variable: 'ASSIST_INVITATION',
  });
  const invitation = await readInvitationArgument(target);
  const isCode = invitationShape(invitation) !== 'file';
  let password = values.password ?? (process.env.ASSIST_PASSWORD || undefined);
  const prompted = !isCode && password === undefined && !context.json && process.stdin.isTTY;
  if (prompted) password = await askPassword('Invitation password (the person tells you separately): ');
  const relay = isCode ? context.relay : (context.explicitRelay ?? invitation.match(/https?:\/\/[^\s"'#/]+/i)?.[0]);
  // A password typed at the prompt may be mistyped: a mismatch asks again, until it matches or the
  // invitation is blocked or gone (joinHelp then fails with its own sentence, or the session ends 'burned').
  const frontend = prompted ? retryOnMismatch(context.frontend) : context.frontend;
  for (;;) {
    const session = await joinHelp({
      invitation,
      password,
      // A file or link names its relay; a default would only make it refuse a file for another one.
      relay: isCode ? context.relay : context.explicitRelay,
      name: context.name,
    });
    const outcome = await help({ ...context, frontend }, session, relay);
    if (!prompted || outcome.reason !== 'confirmation-failed') return outcome;
    context.frontend.close();
    password = await askPassword(
      'That password did not match, so you were not connected. Check it with the person and type it again (a few wrong tries block the invitation): ',
    );
  }
}

/** Asks for an invitation password until what is typed has a password's shape (a typo of that kind costs no guess). */
async function askPassword(question: string): Promise<string> {
  for (;;) {
    const answer = await ask(question);
    try {
      normalizeInvitationPassword(answer);
      return answer;
    } catch (error) {
      if (!(error instanceof CodeFormatError)) throw error;
      question = `That is not a password: ${error.message}. Type it again: `;
    }
  }
}

/** Holds back the end sentence of a mismatched password, which join() answers by asking again. */
function retryOnMismatch(frontend: Frontend): Frontend {
  return {
    show: (event) => (event.event === 'ended' && event.reason === 'confirmation-failed' ? undefined : frontend.show(event)),
    listen: (onCommand) => frontend.listen(onCommand),
    close: () => frontend.close(),
  };
}

const isExistingFile = (path: string) =>
  stat(path).then(
    (info) => info.isFile(),
    () => false,
  );

async function isInvitationFilePath(text: string): Promise<boolean> {
  return text.endsWith('.assistinvite') || (await isExistingFile(text));
}

/** A failure people can fix, with a stable code for --json. */
const problem = (code: string, message: string) => Object.assign(new Error(message), { code });

/** A path to an existing file is read as an invitation file; anything else is a password or a link. */
async function readInvitationArgument(target: string): Promise<string> {
  const info = await stat(target).catch(() => undefined);
  if (info?.isDirectory()) throw problem('not-a-file', `${target} is a folder: give the invitation file (.assistinvite) in it`);
  if (info?.isFile()) {
    // Editors on some systems save text with a byte-order mark; it is not part of the invitation.
    const text = (await readFile(target, 'utf8')).replace(/^\uFEFF/, '');
    if (!text.trimStart().startsWith('{')) {
      throw problem('not-an-invitation', `${target} is not an invitation file: an .assistinvite file is a few lines of text starting with {; check it is the file the person sent`);
    }
    return text;
  }
  if (target.endsWith('.assistinvite')) throw problem('file-not-found', `no invitation file at ${target}`);
  return target;
}

/** Joins positionals that together are one code or password typed with spaces (assist join 7KQ3 VK4Q 9T2M). */
function spacedCode(positionals: string[]): string | undefined {
  if (positionals.length < 2) return undefined;
  const joined = positionals.join(' ');
  const shape = invitationShape(joined);
  if (shape === 'password' || (shape === 'code' && canParse(() => parseCode(joined)))) return joined;
  return undefined;
}

const canParse = (parse: () => unknown) => {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
};

async function offer(context: Context, values: Values<'offer'>, positionals: string[]): Promise<Outcome> {
  noPositionals('offer', positionals);
  const invitationTtlSeconds = parseDuration(values['expires-in'], 'offer');
  if (values.device !== undefined) return offerToDevice(context, values, invitationTtlSeconds);
  if (values.reason !== undefined) throw new UsageError('--reason goes with --device NAME: a helper code you read out needs none', 'offer');
  const session = await offerHelp({ relay: context.relay, name: context.name, invitationTtlSeconds });
  await context.frontend.show(
    withCap({ event: 'invitation', kind: 'helper-code', password: session.code, expiresAt: session.expiresAt.toISOString(), maxFailedAttempts: session.maxFailedAttempts }, invitationTtlSeconds),
  );
  return help(context, session, context.relay);
}

/** `assist offer --device NAME --reason TEXT`: help offered to an enrolled device (help-desk.ts), then the session as any other. */
async function offerToDevice(context: Context, values: Values<'offer'>, invitationTtlSeconds: number | undefined): Promise<Outcome> {
  const device = values.device!.trim();
  if (device === '') throw new UsageError('--device needs the name of a device (assist devices lists them)', 'offer');
  const reason = values.reason?.trim();
  if (!reason) throw new UsageError("--reason is required with --device: say why, or give a ticket number (the person sees it, the audit keeps it), e.g. --reason 'INC-4711: printer offline'", 'offer');
  if (reason.length > MAX_OFFER_REASON_CHARS) throw new UsageError(`--reason takes at most ${MAX_OFFER_REASON_CHARS} characters, not ${reason.length}: shorten it, or give the ticket number`, 'offer');
  if (unsafeTextCharacter.test(reason)) throw new UsageError('--reason takes plain text: no control or text-direction characters', 'offer');
  const { offer, device: offered, state } = await offerToNamedDevice({ relay: context.explicitRelay, device, reason, name: values.name, invitationTtlSeconds });
  const { deviceId, name, group, level, consent } = offered;
  await context.frontend.show({ event: 'offered', device: name, deviceId, group, reason, level, consent });
  return help(context, offer, state.relay.httpUrl);
}

function help(context: Context, session: ExpertSession, relay: string | undefined): Promise<Outcome> {
  keepSessionState(session, {});
  return runExpert(session, endOnSignals(context.frontend), { webConsole: webConsoleUrl(relay) });
}

/** The relay's web console, where a shared desktop is seen: the relay's HTTP(S) address. */
function webConsoleUrl(relay: string | undefined): string | undefined {
  if (relay === undefined) return undefined;
  try {
    const url = new URL(relay.trim());
    url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
    return new URL('/', url).href;
  } catch {
    return undefined;
  }
}

/**
 * Ctrl-C (outside raw mode), a closed terminal or a kill end the session in order, and the person's
 * program with it (nobody is left to use it); a second one does not wait.
 */
function endOnSignals(frontend: Frontend): Frontend {
  return {
    show: (event) => frontend.show(event),
    close: () => frontend.close(),
    listen(onCommand: (command: Command) => void) {
      let asked = false;
      const stop = () => {
        if (asked) process.exit(EXIT_ABNORMAL);
        asked = true;
        onCommand({ cmd: 'quit' });
      };
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
      frontend.listen(onCommand);
    },
  };
}

/** Asks for a secret (a code, a password): the question is shown, what is typed is not, as for sudo. */
function ask(question: string): Promise<string> {
  let typing = false;
  // Readline echoes what is typed to its output: once the question is out, the echo goes nowhere.
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!typing) process.stdout.write(chunk);
      done();
    },
  });
  const lines = createInterface({ input: process.stdin, output, terminal: process.stdin.isTTY === true });
  return new Promise((resolve) => {
    const answered = (answer: string) => {
      typing = false;
      if (process.stdin.isTTY) process.stdout.write('\n');
      resolve(answer.trim());
    };
    // stdin may end without a line: that is an empty answer. Only this listener is removed: readline's
    // own 'close' listener detaches it from stdin, so that a later question is not echoed by this one.
    const ended = () => answered('');
    lines.once('close', ended);
    // Ctrl-C at the question (readline takes it from the terminal): the person changed their mind.
    lines.once('SIGINT', () => {
      process.stdout.write('\nCancelled.\n');
      process.exit(EXIT_INTERRUPTED);
    });
    lines.question(question, (answer) => {
      lines.off('close', ended);
      answered(answer);
      lines.close();
    });
    typing = true;
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`assist: ${error.message}\n\n${helpTexts[error.command]}\n`);
  process.exitCode = EXIT_USAGE;
}
// stdin and the relay connection would keep the process alive; the session is over.
process.exit();
