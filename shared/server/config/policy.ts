// Operator policy: every limit the relay enforces, with defaults and caps, and the browser origins it
// accepts. The same knobs are read from the environment by the Lambda functions (set by CDK context)
// and given to the local runtime.

import { MAX_FAILED_ATTEMPTS_CEILING, type InvitationKind } from '../../core/messages.js';

export interface RelayPolicy {
  /** Hard session lifetime, counted from approval, when the creator asks for none. */
  sessionTtlSeconds: number;
  /** Upper bound on any requested session lifetime. */
  maxSessionTtlSeconds: number;
  /**
   * A session in which nobody does anything for this long ends ('idle-timeout'). The person's side
   * keeps this limit, since only it sees activity (sdk/idle-limit.ts); the relay only ends sessions
   * that sent no frame at all, heartbeats included, for this long. At least MIN_IDLE_TIMEOUT_SECONDS.
   */
  idleTimeoutSeconds: number;
  /** How long a participant whose connection dropped may resume. */
  resumeGraceSeconds: number;
  /** How long a container trusts a cached frame route before re-reading it (each entry less up to a quarter, at random). */
  routeCacheSeconds: number;
  /** How long an invitation file (or emailed invitation) stays open when the creator asks for no lifetime. */
  fileInvitationTtlSeconds: number;
  maxFileInvitationTtlSeconds: number;
  easyConnectTtlSeconds: number;
  maxEasyConnectTtlSeconds: number;
  helperCodeTtlSeconds: number;
  maxHelperCodeTtlSeconds: number;
  /** Failed key confirmations that burn an invitation. */
  maxFailedAttempts: number;
  /**
   * Joins (and invitation-page lookups) per source address per rate window; an IPv6 address counts
   * by its /64. There is no per-invitation count of joins: anyone could use it to lock the real
   * helper out. What an invitation limits is failed key confirmations (maxFailedAttempts).
   */
  joinsPerSourceIp: number;
  /** Invitations created per source IP per rate window. */
  invitationsPerSourceIp: number;
  /**
   * Frames one connection may send before approval: the handshake, the hello and heartbeats while
   * the person decides take a few dozen. Caps what a joiner without the secret can make the relay
   * carry (and bill), besides the size cap per frame. Counted per frame-function container on AWS.
   */
  preApprovalFramesPerConnection: number;
  /** The window for the limits above. */
  rateWindowSeconds: number;
  /** Emails one invitation may send, ever. */
  emailsPerSession: number;
  /** Emails per source IP per hour. */
  emailsPerSourceIpPerHour: number;
  /** How long a session's audit log is kept. */
  auditRetentionSeconds: number;
  /**
   * Browser origins (scheme://host[:port]), besides the relay's own, whose pages may open a WebSocket to the
   * relay: say, a help desk page that embeds the SDK. Exact origins only, normalized (see normalizeOrigin).
   */
  allowedOrigins: readonly string[];
}

const minutes = 60;
const hours = 60 * minutes;

/**
 * The shortest idle limit: clients send a heartbeat after a minute without traffic (sdk/stream.ts),
 * and the relay notes traffic once per quarter limit, so a shorter one would end quiet sessions
 * whose clients are alive.
 */
export const MIN_IDLE_TIMEOUT_SECONDS = 2 * minutes;

export const defaultPolicy: RelayPolicy = {
  sessionTtlSeconds: 2 * hours,
  maxSessionTtlSeconds: 24 * hours,
  idleTimeoutSeconds: 15 * minutes,
  resumeGraceSeconds: 5 * minutes,
  routeCacheSeconds: 60,
  fileInvitationTtlSeconds: 6 * hours,
  maxFileInvitationTtlSeconds: 24 * hours,
  easyConnectTtlSeconds: 30 * minutes,
  maxEasyConnectTtlSeconds: 2 * hours,
  helperCodeTtlSeconds: 10 * minutes,
  maxHelperCodeTtlSeconds: 1 * hours,
  maxFailedAttempts: 3,
  joinsPerSourceIp: 20,
  invitationsPerSourceIp: 30,
  preApprovalFramesPerConnection: 300,
  rateWindowSeconds: 10 * minutes,
  emailsPerSession: 3,
  emailsPerSourceIpPerHour: 10,
  auditRetentionSeconds: 30 * 24 * hours,
  allowedOrigins: [],
};

/** The environment variable behind each policy field (CDK sets them from context). */
export const policyEnvironmentNames: Record<keyof RelayPolicy, string> = {
  sessionTtlSeconds: 'ASSIST_SESSION_TTL_SECONDS',
  maxSessionTtlSeconds: 'ASSIST_MAX_SESSION_TTL_SECONDS',
  idleTimeoutSeconds: 'ASSIST_IDLE_TIMEOUT_SECONDS',
  resumeGraceSeconds: 'ASSIST_RESUME_GRACE_SECONDS',
  routeCacheSeconds: 'ASSIST_ROUTE_CACHE_SECONDS',
  fileInvitationTtlSeconds: 'ASSIST_FILE_INVITATION_TTL_SECONDS',
  maxFileInvitationTtlSeconds: 'ASSIST_MAX_FILE_INVITATION_TTL_SECONDS',
  easyConnectTtlSeconds: 'ASSIST_EASY_CONNECT_TTL_SECONDS',
  maxEasyConnectTtlSeconds: 'ASSIST_MAX_EASY_CONNECT_TTL_SECONDS',
  helperCodeTtlSeconds: 'ASSIST_HELPER_CODE_TTL_SECONDS',
  maxHelperCodeTtlSeconds: 'ASSIST_MAX_HELPER_CODE_TTL_SECONDS',
  maxFailedAttempts: 'ASSIST_MAX_FAILED_ATTEMPTS',
  joinsPerSourceIp: 'ASSIST_JOINS_PER_SOURCE_IP',
  invitationsPerSourceIp: 'ASSIST_INVITATIONS_PER_SOURCE_IP',
  preApprovalFramesPerConnection: 'ASSIST_PRE_APPROVAL_FRAMES_PER_CONNECTION',
  rateWindowSeconds: 'ASSIST_RATE_WINDOW_SECONDS',
  emailsPerSession: 'ASSIST_EMAILS_PER_SESSION',
  emailsPerSourceIpPerHour: 'ASSIST_EMAILS_PER_SOURCE_IP_PER_HOUR',
  auditRetentionSeconds: 'ASSIST_AUDIT_RETENTION_SECONDS',
  allowedOrigins: 'ASSIST_ALLOWED_ORIGINS',
};

/** An invitation kind's default lifetime and cap. */
export function invitationLifetime(policy: RelayPolicy, kind: InvitationKind): { ttlSeconds: number; maxTtlSeconds: number } {
  switch (kind) {
    case 'file':
      return { ttlSeconds: policy.fileInvitationTtlSeconds, maxTtlSeconds: policy.maxFileInvitationTtlSeconds };
    case 'easy-connect':
      return { ttlSeconds: policy.easyConnectTtlSeconds, maxTtlSeconds: policy.maxEasyConnectTtlSeconds };
    case 'helper-code':
      return { ttlSeconds: policy.helperCodeTtlSeconds, maxTtlSeconds: policy.maxHelperCodeTtlSeconds };
  }
}

/**
 * Reads the policy from text settings (environment variables, CDK context), each named by `describe` in
 * errors. Unset or empty settings keep their defaults; a malformed one is a deployment error, so it throws.
 * Allowed origins are a comma-separated list.
 */
export function parsePolicy(setting: (key: keyof RelayPolicy) => string | undefined, describe: (key: keyof RelayPolicy) => string): RelayPolicy {
  const policy: RelayPolicy = { ...defaultPolicy };
  for (const key of Object.keys(policyEnvironmentNames) as Array<keyof RelayPolicy>) {
    const raw = setting(key);
    if (raw === undefined || raw === '') continue;
    if (key === 'allowedOrigins') {
      policy.allowedOrigins = parseAllowedOrigins(raw.split(','), describe(key));
      continue;
    }
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`${describe(key)} must be a positive whole number, got "${raw}"`);
    }
    policy[key] = value;
  }
  return validatePolicy(policy);
}

/** Reads the policy from the environment variables the stack sets (policyEnvironmentNames). */
export function policyFromEnvironment(env: Record<string, string | undefined> = process.env): RelayPolicy {
  return parsePolicy((key) => env[policyEnvironmentNames[key]], (key) => policyEnvironmentNames[key]);
}

/** The environment variables that carry a policy to the functions; no allowed origins means none set. */
export function policyToEnvironment(policy: RelayPolicy): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [key, name] of Object.entries(policyEnvironmentNames) as Array<[keyof RelayPolicy, string]>) {
    const value = policy[key];
    if (typeof value === 'number') environment[name] = String(value);
    else if (value.length > 0) environment[name] = value.join(',');
  }
  return environment;
}

const originExample = 'https://help.example.org';

/**
 * An origin the way browsers send it in the Origin header: lowercase scheme and host, the port only when it
 * is not the scheme's default. Throws, saying what is wrong, for anything that is not one http(s) origin.
 * A wildcard is refused: it would let any website drive its visitors' browsers into the relay.
 */
export function normalizeOrigin(text: string): string {
  const trimmed = text.trim();
  if (trimmed.includes('*')) {
    throw new Error(`"${trimmed}": wildcards are not supported, list each origin (a wildcard would let any website use its visitors’ browsers as relay clients)`);
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(`"${trimmed}" is not an origin like ${originExample}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`"${trimmed}" is not an http:// or https:// origin`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new Error(`"${trimmed}" must be an origin alone (scheme, host and optional port, like ${originExample}), without a path or query`);
  }
  return url.origin;
}

/** Normalizes a list of allowed origins, without duplicates; `source` names the setting in errors. */
export function parseAllowedOrigins(entries: readonly string[], source: string): string[] {
  return [
    ...new Set(
      entries.map((entry) => {
        if (entry.trim() === '') throw new Error(`${source} has an empty entry (a stray comma?)`);
        try {
          return normalizeOrigin(entry);
        } catch (error) {
          throw new Error(`${source}: ${(error as Error).message}`);
        }
      }),
    ),
  ];
}

/**
 * Whether a page from `origin` (a browser's Origin header) may open a WebSocket to the relay: the relay's own
 * pages (served from `relayHttpUrl`) and the allowed origins may, nothing else ("null" included).
 */
export function isAllowedBrowserOrigin(origin: string, relayHttpUrl: string, allowedOrigins: readonly string[]): boolean {
  let normalized: string;
  try {
    normalized = normalizeOrigin(origin);
  } catch {
    return false;
  }
  return normalized === new URL(relayHttpUrl).origin || allowedOrigins.includes(normalized);
}

/** Each default must sit within its cap, or every request without an explicit lifetime would be capped silently. */
const defaultsAndCaps: Array<[Exclude<keyof RelayPolicy, 'allowedOrigins'>, Exclude<keyof RelayPolicy, 'allowedOrigins'>]> = [
  ['sessionTtlSeconds', 'maxSessionTtlSeconds'],
  ['fileInvitationTtlSeconds', 'maxFileInvitationTtlSeconds'],
  ['easyConnectTtlSeconds', 'maxEasyConnectTtlSeconds'],
  ['helperCodeTtlSeconds', 'maxHelperCodeTtlSeconds'],
];

export function validatePolicy(policy: RelayPolicy): RelayPolicy {
  for (const [value, cap] of defaultsAndCaps) {
    if (policy[value] > policy[cap]) {
      throw new Error(`policy ${value} (${policy[value]}s) exceeds ${cap} (${policy[cap]}s)`);
    }
  }
  if (policy.idleTimeoutSeconds < MIN_IDLE_TIMEOUT_SECONDS) {
    throw new Error(`policy idleTimeoutSeconds (${policy.idleTimeoutSeconds}s) is below ${MIN_IDLE_TIMEOUT_SECONDS}s: clients send a heartbeat only every minute`);
  }
  // Clients burn an invitation at this many failures whatever the relay says; a higher policy would only mislead.
  if (policy.maxFailedAttempts > MAX_FAILED_ATTEMPTS_CEILING) {
    throw new Error(`policy maxFailedAttempts (${policy.maxFailedAttempts}) exceeds ${MAX_FAILED_ATTEMPTS_CEILING}, the most any client accepts`);
  }
  return policy;
}
