// Operator policy: every limit the relay enforces, with defaults and caps. The same knobs are read
// from the environment by the Lambda functions (set by CDK context) and by the local runtime.

import type { InvitationKind } from '../protocol/messages.js';

export interface RelayPolicy {
  /** Hard session lifetime, counted from approval, when the creator asks for none. */
  sessionTtlSeconds: number;
  /** Upper bound on any requested session lifetime. */
  maxSessionTtlSeconds: number;
  /** A session with no traffic (frames or heartbeats) for this long ends. */
  idleTimeoutSeconds: number;
  /** How long a participant whose connection dropped may resume. */
  resumeGraceSeconds: number;
  /** How long a container trusts a cached frame route before re-reading it. */
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
  /** Joins per source IP per rate window. */
  joinsPerSourceIp: number;
  /** Joins per nameplate per rate window. */
  joinsPerNameplate: number;
  /** Invitations created per source IP per rate window. */
  invitationsPerSourceIp: number;
  /** The window for the three limits above. */
  rateWindowSeconds: number;
  /** Emails one invitation may send, ever. */
  emailsPerSession: number;
  /** Emails per source IP per hour. */
  emailsPerSourceIpPerHour: number;
  /** How long a session's audit log is kept. */
  auditRetentionSeconds: number;
}

const minutes = 60;
const hours = 60 * minutes;

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
  joinsPerNameplate: 10,
  invitationsPerSourceIp: 30,
  rateWindowSeconds: 10 * minutes,
  emailsPerSession: 3,
  emailsPerSourceIpPerHour: 10,
  auditRetentionSeconds: 30 * 24 * hours,
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
  joinsPerNameplate: 'ASSIST_JOINS_PER_NAMEPLATE',
  invitationsPerSourceIp: 'ASSIST_INVITATIONS_PER_SOURCE_IP',
  rateWindowSeconds: 'ASSIST_RATE_WINDOW_SECONDS',
  emailsPerSession: 'ASSIST_EMAILS_PER_SESSION',
  emailsPerSourceIpPerHour: 'ASSIST_EMAILS_PER_SOURCE_IP_PER_HOUR',
  auditRetentionSeconds: 'ASSIST_AUDIT_RETENTION_SECONDS',
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

/** Reads the policy from environment variables; a malformed value is a deployment error, so it throws. */
export function policyFromEnvironment(env: Record<string, string | undefined> = process.env): RelayPolicy {
  const overrides: Partial<RelayPolicy> = {};
  for (const [key, name] of Object.entries(policyEnvironmentNames) as [keyof RelayPolicy, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`${name} must be a positive whole number, got "${raw}"`);
    }
    overrides[key] = value;
  }
  return validatePolicy({ ...defaultPolicy, ...overrides });
}

/** Each default must sit within its cap, or every request without an explicit lifetime would be capped silently. */
const defaultsAndCaps: [keyof RelayPolicy, keyof RelayPolicy][] = [
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
  return policy;
}
