import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MIN_IDLE_TIMEOUT_SECONDS,
  defaultPolicy,
  isAllowedBrowserOrigin,
  normalizeOrigin,
  parseAllowedOrigins,
  policyEnvironmentNames,
  policyFromEnvironment,
  policyToEnvironment,
  type RelayPolicy,
} from '../../../shared/server/config/policy.js';
import { MAX_FAILED_ATTEMPTS_CEILING } from '../../../shared/core/messages.js';

describe('policy from the environment', () => {
  it('is the default policy when nothing is set, and sets no origins variable for it', () => {
    expect(policyFromEnvironment({})).toEqual(defaultPolicy);
    expect(policyToEnvironment(defaultPolicy).ASSIST_ALLOWED_ORIGINS).toBeUndefined();
  });

  it('reads limits and a comma-separated list of allowed origins, normalized', () => {
    const policy = policyFromEnvironment({
      ASSIST_SESSION_TTL_SECONDS: '3600',
      ASSIST_ALLOWED_ORIGINS: 'https://help.example.org, HTTPS://Desk.Example.com:443,http://localhost:3000',
    });
    expect(policy.sessionTtlSeconds).toBe(3600);
    expect(policy.allowedOrigins).toEqual(['https://help.example.org', 'https://desk.example.com', 'http://localhost:3000']);
  });

  it.each([
    [{ ASSIST_MAX_FAILED_ATTEMPTS: 'three' }, /ASSIST_MAX_FAILED_ATTEMPTS must be a positive whole number, got "three"/],
    [{ ASSIST_MAX_FAILED_ATTEMPTS: '11' }, /maxFailedAttempts \(11\) exceeds 10, the most any client accepts/],
    [{ ASSIST_SESSION_TTL_SECONDS: '999999' }, /sessionTtlSeconds \(999999s\) exceeds maxSessionTtlSeconds/],
    [{ ASSIST_IDLE_TIMEOUT_SECONDS: '90' }, /idleTimeoutSeconds \(90s\) is below 120s: clients send a heartbeat only every minute/],
    [{ ASSIST_ALLOWED_ORIGINS: '*' }, /ASSIST_ALLOWED_ORIGINS: "\*": wildcards are not supported, list each origin/],
    [{ ASSIST_ALLOWED_ORIGINS: 'https://*.example.org' }, /wildcards are not supported/],
    [{ ASSIST_ALLOWED_ORIGINS: 'https://help.example.org,' }, /ASSIST_ALLOWED_ORIGINS has an empty entry/],
    [{ ASSIST_ALLOWED_ORIGINS: 'https://help.example.org/desk' }, /"https:\/\/help.example.org\/desk" must be an origin alone .* without a path/],
    [{ ASSIST_ALLOWED_ORIGINS: 'help.example.org' }, /"help.example.org" is not an origin like https:\/\/help.example.org/],
    [{ ASSIST_ALLOWED_ORIGINS: 'null' }, /"null" is not an origin/],
    [{ ASSIST_ALLOWED_ORIGINS: 'chrome-extension://abcdef' }, /not an http:\/\/ or https:\/\/ origin/],
  ])('refuses %o, saying why', (env, message) => {
    expect(() => policyFromEnvironment(env)).toThrow(message);
  });

  it('carries any valid policy through the environment unchanged', () => {
    const origin = fc
      .tuple(fc.constantFrom('http', 'https'), fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
      .map(([scheme, host, port]) => normalizeOrigin(`${scheme}://${host}${port === undefined ? '' : `:${port}`}`));
    const limits = Object.fromEntries(
      Object.keys(policyEnvironmentNames)
        .filter((key) => key !== 'allowedOrigins')
        .map((key) => [key, fc.integer({ min: 1, max: 10_000_000 })]),
    ) as Record<Exclude<keyof RelayPolicy, 'allowedOrigins'>, fc.Arbitrary<number>>;
    // Only policies whose defaults sit within their caps are valid: each cap is raised to its default.
    const policy = fc.record({ ...limits, allowedOrigins: fc.uniqueArray(origin, { maxLength: 4 }) }).map((p) => ({
      ...p,
      maxSessionTtlSeconds: Math.max(p.sessionTtlSeconds, p.maxSessionTtlSeconds),
      maxFileInvitationTtlSeconds: Math.max(p.fileInvitationTtlSeconds, p.maxFileInvitationTtlSeconds),
      maxEasyConnectTtlSeconds: Math.max(p.easyConnectTtlSeconds, p.maxEasyConnectTtlSeconds),
      maxHelperCodeTtlSeconds: Math.max(p.helperCodeTtlSeconds, p.maxHelperCodeTtlSeconds),
      maxFailedAttempts: 1 + (p.maxFailedAttempts % MAX_FAILED_ATTEMPTS_CEILING),
      idleTimeoutSeconds: Math.max(MIN_IDLE_TIMEOUT_SECONDS, p.idleTimeoutSeconds),
    }));
    fc.assert(
      fc.property(policy, (p) => {
        expect(policyFromEnvironment(policyToEnvironment(p))).toEqual(p);
      }),
    );
  });
});

describe('allowed browser origins', () => {
  it('normalizes an origin the way browsers send it: lowercase, no default port, no trailing slash', () => {
    expect(normalizeOrigin(' HTTPS://Help.Example.ORG/ ')).toBe('https://help.example.org');
    expect(normalizeOrigin('https://help.example.org:443')).toBe('https://help.example.org');
    expect(normalizeOrigin('http://help.example.org:80')).toBe('http://help.example.org');
    expect(normalizeOrigin('https://help.example.org:8443')).toBe('https://help.example.org:8443');
    expect(normalizeOrigin('https://bücher.example')).toBe('https://xn--bcher-kva.example');
  });

  it('refuses queries, fragments and credentials as well as paths', () => {
    for (const entry of ['https://help.example.org?x=1', 'https://help.example.org#top', 'https://user@help.example.org']) {
      expect(() => parseAllowedOrigins([entry], 'allowedOrigins'), entry).toThrow(/allowedOrigins: .* must be an origin alone/);
    }
  });

  it('lists each origin once', () => {
    expect(parseAllowedOrigins(['https://help.example.org', 'https://HELP.example.org:443/'], 'allowedOrigins')).toEqual(['https://help.example.org']);
  });

  it('lets the relay’s own pages and the allowed origins connect, and nothing else', () => {
    const relay = 'https://relay.example.org';
    const allowed = ['https://help.example.org'];
    expect(isAllowedBrowserOrigin('https://relay.example.org', relay, allowed)).toBe(true);
    expect(isAllowedBrowserOrigin('https://help.example.org', relay, allowed)).toBe(true);
    expect(isAllowedBrowserOrigin('https://help.example.org', relay, [])).toBe(false);
    expect(isAllowedBrowserOrigin('http://help.example.org', relay, allowed)).toBe(false);
    expect(isAllowedBrowserOrigin('https://help.example.org:8443', relay, allowed)).toBe(false);
    expect(isAllowedBrowserOrigin('https://evil-help.example.org', relay, allowed)).toBe(false);
    expect(isAllowedBrowserOrigin('https://help.example.org.evil.example', relay, allowed)).toBe(false);
    expect(isAllowedBrowserOrigin('null', relay, allowed)).toBe(false);
    expect(isAllowedBrowserOrigin('*', relay, allowed)).toBe(false);
    expect(isAllowedBrowserOrigin('', relay, allowed)).toBe(false);
  });
});
