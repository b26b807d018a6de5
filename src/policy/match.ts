/**
 * Which rule of a trust policy applies to a repository: the first with a
 * matching pattern. A pattern that starts with a registry host is matched
 * against `host/path/name`, any other against `path/name` alone — so
 * `evil.com/internal.example.com/x` cannot pass for `internal.example.com/**`.
 * Globs are picomatch's: `*` stays within a path segment, `**` crosses them.
 */
import picomatch from 'picomatch';
import type { TrustPolicy, TrustRule } from './types.js';

export interface MatchedRule {
  /** `rules[2] (helm-charts/infra-*)`, or `defaults`. */
  label: string;
  rule: Omit<TrustRule, 'name' | 'repositories'>;
}

interface RuleMatcher {
  /** Patterns that name a registry host: matched against `host/path/name` only. */
  withHost: (candidate: string) => boolean;
  /** The others: matched against `path/name` only, so a host name inside a path cannot pose as a registry. */
  withoutHost: (candidate: string) => boolean;
}

const compiled = new WeakMap<TrustRule, RuleMatcher>();
const NEVER = () => false;

/** Docker's rule for a reference's first segment: a host when it has a `.` or `:`, or is `localhost`. */
function isHost(segment: string): boolean {
  return /[.:]/.test(segment) || segment === 'localhost';
}

function matcherOf(rule: TrustRule): RuleMatcher {
  let m = compiled.get(rule);
  if (!m) {
    const hosted = rule.repositories.filter((p) => isHost(p.split('/')[0]!));
    const bare = rule.repositories.filter((p) => !hosted.includes(p));
    // Repository names are lower case (distribution-spec), hosts are not case-sensitive.
    const make = (patterns: string[]) => (patterns.length ? picomatch(patterns, { nocase: true, dot: true }) : NEVER);
    m = { withHost: make(hosted), withoutHost: make(bare) };
    compiled.set(rule, m);
  }
  return m;
}

/** `repository`: `host[:port]/path/name`, or a bare chart name for a local archive. */
export function ruleFor(policy: TrustPolicy, repository: string): MatchedRule {
  const slash = repository.indexOf('/');
  const host = slash > 0 && isHost(repository.slice(0, slash)) ? repository.slice(0, slash) : undefined;
  const path = host === undefined ? repository : repository.slice(slash + 1);
  for (const rule of policy.rules) {
    const m = matcherOf(rule);
    if ((host !== undefined && m.withHost(repository)) || m.withoutHost(path)) {
      const { name, repositories, ...requirement } = rule;
      // Unset fields fall back to the defaults, so a rule can say only what differs.
      return { label: `${name} (${repositories.join(', ')})`, rule: { ...policy.defaults, ...requirement } };
    }
  }
  return { label: 'defaults', rule: policy.defaults };
}
