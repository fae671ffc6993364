import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../shared/invitations/html.js';
import { renderJoinPage, renderRelayInfo, type JoinPageView } from '../../../shared/invitations/join-page.js';
import { parseRelayInfo } from '../../../shared/invitations/relay-url.js';

const openView: JoinPageView = {
  state: 'open',
  nameplate: '7KQ3',
  kind: 'file',
  expiresAt: new Date('2026-11-20T16:00:00.000Z'),
  httpUrl: 'https://relay.example.org/',
};

/** Text as a person reads it: tags dropped, entities decoded, whitespace collapsed. */
function visibleText(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

function expectStrictHeaders(headers: Record<string, string>, body: string): void {
  const style = /<style>([\s\S]*?)<\/style>/.exec(body)?.[1];
  expect(style).toBeDefined();
  const hash = createHash('sha256').update(style!, 'utf8').digest('base64');
  expect(headers['content-security-policy']).toMatch(new RegExp(`^default-src 'none'; style-src 'sha256-${hash.replace(/[+/]/g, '\\$&')}';`));
  expect(headers['content-security-policy']).not.toContain('unsafe');
  expect(headers).toMatchObject({
    'content-type': 'text/html; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  });
  expect(body.match(/<style>/g)).toHaveLength(1);
  // Every inserted value is escaped, so each "<" starts one of the page's own tags: no script, no
  // resource, no event handler, no inline style attribute.
  for (const [tag] of body.matchAll(/<[^>]*>/g)) {
    expect(tag).toMatch(/^<(!doctype html|\/?(html|head|meta|title|style|body|main|h1|h2|p|pre|code|time)\b)/);
    expect(tag).not.toMatch(/\s(on\w+|style|src|href)=/i);
  }
  expect(body).toMatch(/^<!doctype html>\n<html lang="en">/);
  expect(body.match(/<h1>/g)).toHaveLength(1);
}

describe('renderJoinPage, open invitation', () => {
  it('tells the technician what happened, until when, and how to join with the CLI', () => {
    const { statusCode, headers, body } = renderJoinPage(openView);
    expect(statusCode).toBe(200);
    expectStrictHeaders(headers, body);
    const text = visibleText(body);
    expect(text).toContain('Someone asked you for help');
    expect(text).toContain('valid until 2026-11-20 16:00 UTC');
    expect(body).toContain('<time datetime="2026-11-20T16:00:00.000Z">');
    expect(text).toContain("npx assist join '<the full link you received, including the part after #>'");
    expect(text).toContain('The link starts with https://relay.example.org/join/7KQ3#');
    expect(text).toContain('asked for the password');
    expect(text).toContain('after # stays on your computer');
    expect(body).toMatch(/<p id="join-command">[^<]+<\/p>\n<pre aria-labelledby="join-command">/);
  });

  it('keeps the stage path of the relay in the link it describes', () => {
    const { body } = renderJoinPage({ ...openView, httpUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod' });
    expect(visibleText(body)).toContain('starts with https://abc.execute-api.eu-west-1.amazonaws.com/prod/join/7KQ3#');
  });

  it.each([
    ['easy-connect', 'the 12-character password they read to you', '7KQ3-XXXX-XXXX'],
    ['helper-code', 'the 12-character code the technician read to you', '7KQ3-XXXX-XXXX'],
  ] as const)('explains a %s invitation with its own words', (kind, placeholder, shape) => {
    const { statusCode, headers, body } = renderJoinPage({ ...openView, kind });
    expect(statusCode).toBe(200);
    expectStrictHeaders(headers, body);
    const text = visibleText(body);
    expect(text).toContain(`npx assist join '<${placeholder}>'`);
    expect(text).toContain(shape);
    expect(text).not.toContain('#');
  });

  it('escapes every inserted value (fast-check)', () => {
    const hostile = fc.oneof(
      fc.constantFrom('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onload='x", '&lt;'),
      fc.string(),
    );
    fc.assert(
      fc.property(hostile, hostile, fc.constantFrom('file', 'easy-connect', 'helper-code'), (nameplate, httpUrl, kind) => {
        const { body, headers } = renderJoinPage({ ...openView, nameplate, httpUrl, kind });
        expectStrictHeaders(headers, body);
        expect(body).toContain(escapeHtml(nameplate));
        // visibleText collapses whitespace as a browser does, so the nameplate is compared the same way.
        expect(visibleText(body)).toContain(nameplate.replace(/\s+/g, ' '));
      }),
    );
  });
});

describe('renderJoinPage, unknown invitation', () => {
  it('answers 404 with what to do, the same whatever the reason', () => {
    const { statusCode, headers, body } = renderJoinPage({ state: 'unknown' });
    expect(statusCode).toBe(404);
    expectStrictHeaders(headers, body);
    const text = visibleText(body);
    expect(text).toContain('This invitation has expired or does not exist');
    expect(text).toContain('Ask the person who invited you for a new invitation');
    expect(renderJoinPage({ state: 'unknown' })).toEqual({ statusCode, headers, body });
  });

  it('gives each response its own headers object', () => {
    const first = renderJoinPage({ state: 'unknown' });
    first.headers['x-frame-options'] = 'SAMEORIGIN';
    expect(renderJoinPage({ state: 'unknown' }).headers['x-frame-options']).toBe('DENY');
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('renderRelayInfo', () => {
  it('answers public JSON that parseRelayInfo reads back', () => {
    const relay = { webSocketUrl: 'wss://relay.example.org/prod', httpUrl: 'https://relay.example.org' };
    const { statusCode, headers, body } = renderRelayInfo(relay);
    expect(statusCode).toBe(200);
    expect(headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    });
    expect(parseRelayInfo(body)).toEqual({ version: 1, ...relay });
  });
});
