// Operator policy: every limit the relay enforces, with defaults and caps. The same knobs are read
// from the environment by the Lambda functions (set by CDK context) and by the local runtime.

export interface RelayPolicy {
  /** Hard session lifetime when the client asks for none. */
  sessionTtlSeconds: number;
  /** Upper bound on any requested session lifetime. */
  maxSessionTtlSeconds: number;
  /** A session with no traffic (frames or heartbeats) for this long ends. */
  idleTimeoutSeconds: number;
  /** How long a participant whose connection dropped may resume. */
  resumeGraceSeconds: number;
  /** How long a container trusts a cached frame route before re-reading it. */
  routeCacheSeconds: number;
}

export const defaultPolicy: RelayPolicy = {
  sessionTtlSeconds: 2 * 60 * 60,
  maxSessionTtlSeconds: 24 * 60 * 60,
  idleTimeoutSeconds: 15 * 60,
  resumeGraceSeconds: 5 * 60,
  routeCacheSeconds: 60,
};

/** The environment variable behind each policy field (CDK sets them from context). */
export const policyEnvironmentNames: Record<keyof RelayPolicy, string> = {
  sessionTtlSeconds: 'ASSIST_SESSION_TTL_SECONDS',
  maxSessionTtlSeconds: 'ASSIST_MAX_SESSION_TTL_SECONDS',
  idleTimeoutSeconds: 'ASSIST_IDLE_TIMEOUT_SECONDS',
  resumeGraceSeconds: 'ASSIST_RESUME_GRACE_SECONDS',
  routeCacheSeconds: 'ASSIST_ROUTE_CACHE_SECONDS',
};

/** Reads the policy from environment variables; a malformed value is a deployment error, so it throws. */
export function policyFromEnvironment(env: Record<string, string | undefined> = process.env): RelayPolicy {
  const overrides: Partial<RelayPolicy> = {};
  for (const [key, name] of Object.entries(policyEnvironmentNames) as [keyof RelayPolicy, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`${name} must be a positive whole number of seconds, got "${raw}"`);
    }
    overrides[key] = value;
  }
  return validatePolicy({ ...defaultPolicy, ...overrides });
}

export function validatePolicy(policy: RelayPolicy): RelayPolicy {
  if (policy.sessionTtlSeconds > policy.maxSessionTtlSeconds) {
    throw new Error(
      `session TTL (${policy.sessionTtlSeconds}s) exceeds the maximum session TTL (${policy.maxSessionTtlSeconds}s)`,
    );
  }
  return policy;
}

