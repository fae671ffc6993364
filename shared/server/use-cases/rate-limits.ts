import type { RelayPolicy } from '../config/policy.js';
import type { RelayDeps } from './deps.js';
import { RelayError } from './errors.js';

export interface RateRule {
  /** Counter name, including what it is counted per (e.g. `join-ip#203.0.113.7`). */
  key: string;
  limit: number;
  windowSeconds: number;
  /** What the refused caller is told was too frequent. */
  what: string;
}

/**
 * Joins and every other nameplate lookup (the relay URL's page) share one count per address, or per
 * IPv6 /64, per rate window: listing nameplates costs the same whichever way it is tried.
 */
export function joinRateRule(policy: RelayPolicy, sourceIp: string): RateRule {
  return {
    key: `join-ip#${addressNetwork(sourceIp)}`,
    limit: policy.joinsPerSourceIp,
    windowSeconds: policy.rateWindowSeconds,
    what: 'join attempts from this network address',
  };
}

/** Counts one use against every rule; the first rule at its limit refuses with `rate-limited`. */
export async function enforceRateLimits(deps: Pick<RelayDeps, 'rateLimiter'>, now: number, rules: RateRule[]): Promise<void> {
  for (const rule of rules) {
    if (!(await deps.rateLimiter.consume(rule.key, rule.limit, rule.windowSeconds, now))) {
      const retryAfter = rule.windowSeconds - (now % rule.windowSeconds);
      throw new RelayError('rate-limited', `too many ${rule.what}; try again in ${formatWait(retryAfter)}`);
    }
  }
}

/**
 * What per-address limits count by: an IPv4 address, or an IPv6 address's /64 (one subscriber's
 * network usually has a whole /64, so counting single IPv6 addresses would not limit anyone).
 * Anything unparsable counts as itself.
 */
export function addressNetwork(sourceIp: string): string {
  if (!sourceIp.includes(':')) return sourceIp;
  const groups = expandIpv6(sourceIp);
  if (!groups) return sourceIp;
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address it carries.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part and a zone allowed), or undefined. */
function expandIpv6(address: string): number[] | undefined {
  let text = address.replace(/%.*$/, '').toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const bytes = dotted.slice(1).map(Number);
    if (bytes.some((byte) => byte > 255)) return undefined;
    text = `${text.slice(0, dotted.index)}${((bytes[0]! << 8) | bytes[1]!).toString(16)}:${((bytes[2]! << 8) | bytes[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return groups.map((group) => parseInt(group, 16));
}

function formatWait(seconds: number): string {
  return seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
}
