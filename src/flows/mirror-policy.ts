/**
 * `mirror --policy FILE`: the trust policy (src/policy, loaded by
 * trust-policy.ts) as the mirror's trust level. Kept apart so that the
 * mirror's own checks do not load the policy code unless asked to.
 */
import { judgeSignatures } from '../policy/index.js';
import type { MirrorTrust } from './mirror-trust.js';
import { loadTrustPolicy } from './trust-policy.js';

export async function loadMirrorPolicy(file: string, keyrings: string[] | undefined): Promise<MirrorTrust> {
  const loaded = await loadTrustPolicy(file, keyrings?.length ? { keyrings } : {});
  return {
    mode: 'policy',
    requirementFor: (repository) => loaded.requirementFor(repository),
    judge: (req, checks, now) => judgeSignatures(req, checks, now),
  };
}
