/**
 * Which rule of a trust policy applies to a repository: the first whose
 * pattern matches `host/path/name` or `path/name` (patterns are written with
 * or without the registry host). Globs are picomatch's: `*` stays within a
 * path segment, `**` crosses them.
 */
import picomatch from 'picomatch';
import type { TrustPolicy, TrustRule } from './types.js';

export interface MatchedRule {
  /** `rules[2] (helm-charts/infra-*)`, or `defaults`. */
  label: string;
  rule: Omit<TrustRule, 'name' | 'repositories'>;
}

const compiled = new WeakMap<TrustRule, (candidate: string) => boolean>();

function matcherOf(rule: TrustRule): (candidate: string) => boolean {
  let m = compiled.get(rule);
  if (!m) {
    // Repository names are lower case (distribution-spec), hosts are not case-sensitive.
    m = picomatch(rule.repositories, { nocase: true, dot: true });
    compiled.set(rule, m);
  }
  return m;
}

/** `repository`: `host[:port]/path/name`, or a bare chart name for a local archive. */
export function ruleFor(policy: TrustPolicy, repository: string): MatchedRule {
  const slash = repository.indexOf('/');
  const withoutHost = slash > 0 && /[.:]|^localhost$/.test(repository.slice(0, slash)) ? repository.slice(slash + 1) : undefined;
  for (const rule of policy.rules) {
    const matches = matcherOf(rule);
    if (matches(repository) || (withoutHost !== undefined && matches(withoutHost))) {
      const { name, repositories, ...requirement } = rule;
      // Unset fields fall back to the defaults, so a rule can say only what differs.
      return { label: `${name} (${repositories.join(', ')})`, rule: { ...policy.defaults, ...requirement } };
    }
  }
  return { label: 'defaults', rule: policy.defaults };
}
