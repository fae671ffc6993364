import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { escapeHtml } from '../../shared/server/html.js';
import { type ParsedMessage, parseMimeMessage } from '../../shared/server/email/mime.js';
import { CodedError } from '../../shared/core/coded-error.js';
import { decodeBase64, isBase64 } from '../../shared/core/base64.js';

// A local stand-in for SES v2: the real SESv2Client, its endpoint set to `<base URL>/ses`, sends
// here (the SDK keeps the endpoint's path: POST /ses/v2/email/outbound-emails), and each message
// lands as an .eml file in the outbox, listed at /outbox.

/** Path to append to the server's base URL for the SESv2Client `endpoint`. */
export const OUTBOX_SES_PATH = '/ses';
const SEND_EMAIL_PATH = `${OUTBOX_SES_PATH}/v2/email/outbound-emails`;
/** SES's own limit for a message is 40 MB; invitation emails are a few KB. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/**
 * `<ISO time with "-" for ":">-<message id>.eml`: colons are not allowed in Windows file names.
 * Only names of this form are served, which also rules out path traversal.
 */
const outboxFileName = /^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d\.\d{3}Z)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.eml$/;

export interface OutboxEntry {
  file: string;
  /** When the outbox received it, ISO 8601. */
  time: string;
  messageId: string;
  to: string;
  subject: string;
  /** Where the message is shown as a page (its links clickable), relative to the server. */
  url: string;
  /** Where the raw message (.eml) is served, relative to the server. */
  rawUrl: string;
}

export interface MailOutbox {
  dir: string;
  /** Answers the SES and outbox routes; false for any other request. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  /** Newest first. */
  messages(): Promise<OutboxEntry[]>;
  /** Removes the folder if the outbox made it (a temporary one); a folder it was given stays. */
  close(): Promise<void>;
}

export class OutboxFileError extends CodedError<'not-an-outbox-message'> {
  override readonly name = 'OutboxFileError';

  constructor(file: string) {
    super('not-an-outbox-message', `not an outbox message: ${JSON.stringify(file)}`);
  }
}

/** One outbox message's parts, for tests and the CLI. */
export async function readOutboxMessage(dir: string, file: string): Promise<ParsedMessage> {
  if (!outboxFileName.test(file)) throw new OutboxFileError(file);
  return parseMimeMessage(await readFile(join(dir, file), 'utf8'));
}

/** Answered the way SES does, so the SDK raises the named exception. */
function sesError(response: ServerResponse, type: 'BadRequestException' | 'MessageRejected', message: string): void {
  response.writeHead(400, { 'content-type': 'application/json', 'x-amzn-ErrorType': type });
  response.end(JSON.stringify({ message }));
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
  }
  return size <= MAX_REQUEST_BYTES ? Buffer.concat(chunks) : undefined;
}

function rawContent(body: Buffer): Buffer | string {
  let request: { Content?: { Raw?: { Data?: unknown } } };
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the request body is not JSON';
  }
  const data = request?.Content?.Raw?.Data;
  // The SDK sends a blob as canonical padded base64: anything else did not come from it.
  if (typeof data !== 'string' || data.length === 0 || !isBase64(data)) {
    return 'the local outbox accepts only Raw content (Content.Raw.Data, base64)';
  }
  return Buffer.from(decodeBase64(data));
}

/** The pages' one style element, allowed by its hash: the policy needs no 'unsafe-inline'. */
const style = `
body { font-family: system-ui, sans-serif; line-height: 1.5; margin: 1rem auto; max-width: 60rem; padding: 0 1rem; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 0.25rem 0.75rem 0.25rem 0; vertical-align: top; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 0.75rem; }
`;
const pagePolicy = `default-src 'none'; style-src 'sha256-${Buffer.from(sha256(new TextEncoder().encode(style))).toString('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function page(title: string, content: string): string {
  return [
    '<!DOCTYPE html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} – Assist Relay outbox</title><style>${style}</style></head>`,
    `<body><h1>${escapeHtml(title)}</h1>`,
    content,
    '</body></html>',
    '',
  ].join('\n');
}

function listPage(entries: OutboxEntry[]): string {
  const rows = entries.map(
    (entry) =>
      `<tr><td>${escapeHtml(entry.time)}</td><td>${escapeHtml(entry.to)}</td><td><a href="${escapeHtml(entry.url)}">${escapeHtml(entry.subject)}</a></td>` +
      `<td><a href="${escapeHtml(entry.rawUrl)}">${escapeHtml(entry.file)}</a></td></tr>`,
  );
  return page(
    'Outbox',
    `<p>${entries.length} message(s), newest first.</p>` +
      '<table><thead><tr><th>Received</th><th>To</th><th>Subject</th><th>Raw message</th></tr></thead>' +
      `<tbody>${rows.join('\n')}</tbody></table>`,
  );
}

/** http(s) URLs in escaped text, made links; nothing else in the text becomes markup. */
function linkify(escapedText: string): string {
  return escapedText.replace(/https?:\/\/[^\s<>"'&]+/g, (url) => `<a href="${url}">${url}</a>`);
}

function messagePage(message: ParsedMessage, rawUrl: string): string {
  return page(
    message.subject,
    `<table><tbody><tr><th>From</th><td>${escapeHtml(message.from)}</td></tr><tr><th>To</th><td>${escapeHtml(message.to)}</td></tr>` +
      `<tr><th>Attachments</th><td>${message.attachments.map((attachment) => escapeHtml(attachment.filename)).join(', ') || 'none'}</td></tr></tbody></table>` +
      `<pre>${linkify(escapeHtml(message.text))}</pre>` +
      `<p><a href="/outbox">All messages</a> · <a href="${escapeHtml(rawUrl)}">Raw message</a></p>`,
  );
}

const pageHeaders = { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': pagePolicy, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

export function createMailOutbox(options: { dir?: string } = {}): MailOutbox {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'assist-relay-outbox-'));
  const temporary = options.dir === undefined;
  mkdirSync(dir, { recursive: true });

  async function messages(): Promise<OutboxEntry[]> {
    const files = (await readdir(dir)).filter((file) => outboxFileName.test(file)).sort().reverse();
    return Promise.all(
      files.map(async (file) => {
        const [, hour, minutes, seconds, messageId] = outboxFileName.exec(file)!;
        const { to, subject } = await readOutboxMessage(dir, file);
        return { file, time: `${hour}:${minutes}:${seconds}`, messageId: messageId!, to, subject, url: `/outbox/${file}`, rawUrl: `/outbox/${file}?raw` };
      }),
    );
  }

  async function store(response: ServerResponse, request: IncomingMessage): Promise<void> {
    const body = await readBody(request);
    if (!body) return sesError(response, 'MessageRejected', `the message is larger than ${MAX_REQUEST_BYTES} bytes`);
    const raw = rawContent(body);
    if (typeof raw === 'string') return sesError(response, 'BadRequestException', raw);
    const messageId = randomUUID();
    await writeFile(join(dir, `${new Date().toISOString().replace(/:/g, '-')}-${messageId}.eml`), raw);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ MessageId: messageId }));
  }

  async function serveFile(response: ServerResponse, file: string, raw: boolean): Promise<void> {
    if (!outboxFileName.test(file)) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('not an outbox message name\n');
      return;
    }
    let content: Buffer;
    try {
      content = await readFile(join(dir, file));
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('no such message\n');
      return;
    }
    if (raw) {
      response.writeHead(200, { 'content-type': 'message/rfc822', 'x-content-type-options': 'nosniff' }).end(content);
      return;
    }
    const view = messagePage(parseMimeMessage(content.toString('utf8')), `/outbox/${file}?raw`);
    response.writeHead(200, { ...pageHeaders }).end(view);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://local');
    const path = url.pathname;
    if (request.method === 'POST' && path === SEND_EMAIL_PATH) {
      await store(response, request);
      return true;
    }
    if (request.method !== 'GET') return false;
    if (path === '/outbox') {
      const page = listPage(await messages());
      response.writeHead(200, { ...pageHeaders }).end(page);
      return true;
    }
    if (path === '/outbox.json') {
      const listing = JSON.stringify(await messages());
      response.writeHead(200, { 'content-type': 'application/json' }).end(listing);
      return true;
    }
    if (path.startsWith('/outbox/')) {
      await serveFile(response, path.slice('/outbox/'.length), url.searchParams.has('raw'));
      return true;
    }
    return false;
  }

  async function close(): Promise<void> {
    if (temporary) await rm(dir, { recursive: true, force: true });
  }

  return { dir, handle, messages, close };
}
