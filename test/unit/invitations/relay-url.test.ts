import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodeFormatError } from '../../../shared/core/codes.js';
import {
  normalizeRelayUrl,
  parseRelayInfo,
  parseRelayJoinUrl,
  relayInfoUrl,
  relayJoinUrl,
  RelayUrlError,
} from '../../../shared/core/relay-url.js';
import { CODE_ALPHABET } from '../../../shared/core/code-alphabet.js';
import { refusal } from '../../support/refusal.js';

const secret = '6YNPZEY00H48SM8NB6EY49KANV';

const refusalOf = (parse: () => unknown) => refusal(RelayUrlError, parse);

describe('relayJoinUrl', () => {
  it.each([
    ['https://relay.example.org', 'https://relay.example.org/join/7KQ3#' + secret],
    ['https://relay.example.org/', 'https://relay.example.org/join/7KQ3#' + secret],
    ['https://relay.example.org/prod', 'https://relay.example.org/prod/join/7KQ3#' + secret],
    ['https://relay.example.org/prod//', 'https://relay.example.org/prod/join/7KQ3#' + secret],
    ['https://Relay.Example.org:443', 'https://relay.example.org/join/7KQ3#' + secret],
    ['http://localhost:8080', 'http://localhost:8080/join/7KQ3#' + secret],
  ])('puts the secret of %s in the fragment', (httpUrl, expected) => {
    expect(relayJoinUrl(httpUrl, '7kq3', secret.toLowerCase())).toBe(expected);
  });

  it('refuses a relay URL that is not http(s) or carries a query', () => {
    expect(refusalOf(() => relayJoinUrl('wss://relay.example.org', '7KQ3', secret)).code).toBe('invalid-url');
    expect(refusalOf(() => relayJoinUrl('https://relay.example.org/?a=1', '7KQ3', secret)).message).toContain('query');
    expect(refusalOf(() => relayJoinUrl('relay.example.org', '7KQ3', secret)).message).toContain('https://');
  });

  it('refuses a nameplate or secret that is not one', () => {
    expect(() => relayJoinUrl('https://relay.example.org', '7KQ', secret)).toThrow(CodeFormatError);
    expect(() => relayJoinUrl('https://relay.example.org', '7KQ3', 'ABCDEFGH')).toThrow(CodeFormatError);
  });
});

describe('relayInfoUrl', () => {
  it('appends /relay.json to the base, stage included', () => {
    expect(relayInfoUrl('https://relay.example.org/')).toBe('https://relay.example.org/relay.json');
    expect(relayInfoUrl('https://abc.execute-api.eu-west-1.amazonaws.com/prod')).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod/relay.json',
    );
  });
});

describe('normalizeRelayUrl', () => {
  it('gives one spelling per base URL', () => {
    expect(normalizeRelayUrl('WSS://relay.example.org:443/prod/', 'websocket')).toBe('wss://relay.example.org/prod');
    expect(normalizeRelayUrl('ws://localhost:8080', 'websocket')).toBe('ws://localhost:8080');
  });
});

describe('parseRelayJoinUrl', () => {
  it('reads the link it makes', () => {
    expect(parseRelayJoinUrl(`https://relay.example.org/prod/join/7KQ3#${secret}`)).toEqual({
      httpUrl: 'https://relay.example.org/prod',
      nameplate: '7KQ3',
      secret,
    });
  });

  it.each([
    `  https://relay.example.org/join/7kq3#${secret}\n`,
    `<https://relay.example.org/join/7KQ3#${secret}>`,
    ` < https://relay.example.org/join/7KQ3/#${secret.toLowerCase()} > `,
  ])('tolerates how %j was pasted', (text) => {
    expect(parseRelayJoinUrl(text)).toEqual({ httpUrl: 'https://relay.example.org', nameplate: '7KQ3', secret });
  });

  it('reads a link cut before the fragment without a secret', () => {
    expect(parseRelayJoinUrl('https://relay.example.org/join/7KQ3')).toEqual({
      httpUrl: 'https://relay.example.org',
      nameplate: '7KQ3',
    });
    expect(parseRelayJoinUrl('https://relay.example.org/join/7KQ3#')).toEqual({
      httpUrl: 'https://relay.example.org',
      nameplate: '7KQ3',
    });
  });

  it.each([
    ['not a URL', 'hello', 'should look like'],
    ['another scheme', `ftp://relay.example.org/join/7KQ3#${secret}`, 'https://'],
    ['credentials', `https://a:b@relay.example.org/join/7KQ3#${secret}`, 'user name'],
    ['a query', `https://relay.example.org/join/7KQ3?x=1#${secret}`, 'query'],
    ['another path', `https://relay.example.org/invite/7KQ3#${secret}`, '/join/'],
    ['a path after the nameplate', `https://relay.example.org/join/7KQ3/more#${secret}`, '/join/'],
    ['a long nameplate', `https://relay.example.org/join/7KQ3X#${secret}`, 'expected 4'],
    ['an encoded nameplate', `https://relay.example.org/join/%37KQ3#${secret}`, '"%"'],
    ['a short secret', 'https://relay.example.org/join/7KQ3#ABCDEF', 'expected 26'],
    ['a secret beyond 128 bits', `https://relay.example.org/join/7KQ3#Z${secret.slice(1)}`, '0 to 7'],
  ])('refuses %s, saying why without repeating the link', (_, text, mention) => {
    const error = refusalOf(() => parseRelayJoinUrl(text));
    expect(error.code).toBe('not-a-join-link');
    expect(error.message).toContain(mention);
    expect(error.message).not.toContain(secret.slice(1));
  });

  const symbols = (length: number) =>
    fc.array(fc.constantFrom(...CODE_ALPHABET), { minLength: length, maxLength: length }).map((s) => s.join(''));
  const joinParts = fc.record({
    httpUrl: fc.tuple(fc.constantFrom('https', 'http'), fc.domain(), fc.constantFrom('', '/', '/prod', '/a/b/')).map(
      ([scheme, host, path]) => `${scheme}://${host}${path}`,
    ),
    nameplate: symbols(4),
    secret: fc.tuple(fc.constantFrom(...'01234567'), symbols(25)).map(([first, rest]) => first + rest),
  });

  it('round-trips every link (fast-check)', () => {
    fc.assert(
      fc.property(joinParts, ({ httpUrl, nameplate, secret }) => {
        expect(parseRelayJoinUrl(relayJoinUrl(httpUrl, nameplate, secret))).toEqual({
          httpUrl: normalizeRelayUrl(httpUrl, 'http'),
          nameplate,
          secret,
        });
      }),
    );
  });

  it('throws nothing but RelayUrlError, and what it reads makes the same link (fast-check)', () => {
    const mangledLink = fc
      .tuple(joinParts, fc.nat(), fc.string({ maxLength: 3 }))
      .map(([parts, at, insert]) => {
        const link = relayJoinUrl(parts.httpUrl, parts.nameplate, parts.secret);
        const position = at % (link.length + 1);
        return link.slice(0, position) + insert + link.slice(position);
      });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl({ withFragments: true, withQueryParameters: true }), mangledLink), (text) => {
        let parsed: ReturnType<typeof parseRelayJoinUrl>;
        try {
          parsed = parseRelayJoinUrl(text);
        } catch (error) {
          expect(error).toBeInstanceOf(RelayUrlError);
          return;
        }
        if (parsed.secret !== undefined) {
          expect(parseRelayJoinUrl(relayJoinUrl(parsed.httpUrl, parsed.nameplate, parsed.secret))).toEqual(parsed);
        } else {
          expect(parsed.nameplate).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}$/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseRelayInfo', () => {
  it('reads what a relay answers, ignoring fields it does not know', () => {
    expect(
      parseRelayInfo('{"version":1,"webSocketUrl":"wss://relay.example.org/prod","httpUrl":"https://relay.example.org","name":"x"}'),
    ).toEqual({ version: 1, webSocketUrl: 'wss://relay.example.org/prod', httpUrl: 'https://relay.example.org' });
  });

  it('gives the URLs in canonical form', () => {
    expect(parseRelayInfo('{"version":1,"webSocketUrl":"wss://Relay.example.org/prod/","httpUrl":"https://relay.example.org:443/"}')).toEqual({
      version: 1,
      webSocketUrl: 'wss://relay.example.org/prod',
      httpUrl: 'https://relay.example.org',
    });
  });

  it.each([
    ['<html>', 'invalid-relay-info', 'not JSON'],
    ['[]', 'invalid-relay-info', 'not a JSON object'],
    ['{"webSocketUrl":"wss://r","httpUrl":"https://r"}', 'invalid-relay-info', '"version"'],
    ['{"version":2,"webSocketUrl":"wss://r","httpUrl":"https://r"}', 'unsupported-version', 'version 2'],
    ['{"version":1,"httpUrl":"https://r"}', 'invalid-relay-info', '"webSocketUrl"'],
    ['{"version":1,"webSocketUrl":"https://r","httpUrl":"https://r"}', 'invalid-relay-info', 'must start with wss:// or ws://, not https:'],
    ['{"version":1,"webSocketUrl":"wss://r","httpUrl":"javascript:alert(1)"}', 'invalid-relay-info', '"httpUrl"'],
  ])('refuses %s with %s', (json, code, mention) => {
    const error = refusalOf(() => parseRelayInfo(json));
    expect(error.code).toBe(code);
    expect(error.message).toContain(mention);
  });

  const withSignIn = (loopbackRedirect: unknown) =>
    JSON.stringify({ version: 1, webSocketUrl: 'wss://r/prod', httpUrl: 'https://r', technicianSignIn: { issuer: 'https://id.example.org', clientId: 'c', groupClaim: 'groups', loopbackRedirect } });

  it("reads assist login's exact loopback redirect, as written", () => {
    for (const redirect of ['http://localhost:8976/callback', 'http://127.0.0.1:7000/cb', 'http://[::1]:7000/a/b']) {
      expect(parseRelayInfo(withSignIn(redirect)).technicianSignIn).toEqual({ issuer: 'https://id.example.org', clientId: 'c', groupClaim: 'groups', loopbackRedirect: redirect });
    }
  });

  it.each(['https://localhost:8976/callback', 'http://relay.example.org:8976/callback', 'http://localhost/callback', 'http://localhost:8976/callback?x=1', 'http://LOCALHOST:8976/callback', 42])(
    'refuses the loopback redirect %s',
    (redirect) => {
      const error = refusalOf(() => parseRelayInfo(withSignIn(redirect)));
      expect(error.code).toBe('invalid-relay-info');
      expect(error.message).toContain('"technicianSignIn.loopbackRedirect"');
    },
  );

  it('throws nothing but RelayUrlError (fast-check)', () => {
    const infoShaped = fc
      .record({
        version: fc.oneof(fc.constant(1), fc.jsonValue()),
        webSocketUrl: fc.oneof(fc.webUrl(), fc.constant('wss://relay.example.org'), fc.string()),
        httpUrl: fc.oneof(fc.webUrl(), fc.string()),
      })
      .map((fields) => JSON.stringify(fields));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), infoShaped), (json) => {
        try {
          expect(parseRelayInfo(json).version).toBe(1);
        } catch (error) {
          expect(error).toBeInstanceOf(RelayUrlError);
        }
      }),
    );
  });
});
