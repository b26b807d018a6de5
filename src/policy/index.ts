export { TRUST_POLICY_SCHEMA } from './schema.js';
export { parseTrustPolicy, durationMs } from './parse.js';
export { ruleFor } from './match.js';
export type { MatchedRule } from './match.js';
export { judgeSignatures } from './judge.js';
export type { CheckedSignature } from './judge.js';
export type { JudgedSignature, TrustPolicy, TrustRequirement, TrustRule, TrustVerdict } from './types.js';
