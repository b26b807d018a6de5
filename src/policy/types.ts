/**
 * A trust policy says which keys may sign which repositories, how many
 * signers a chart needs, whether unsigned charts pass and how old a
 * signature may be. It is a small YAML file (schema: docs/trust-policy.schema.json),
 * applied by verify, pull --verify, audit and mirror with `--policy FILE`.
 */
import type { PublicKey } from 'openpgp';
import type { SignerInfo } from '../provenance/index.js';

/** One rule of the file, as written (after validation). */
export interface TrustRule {
  /** Where it is in the file, for messages: `rules[2]`. */
  name: string;
  /** Glob patterns (`*` within a path segment, `**` across segments) matched against `host/path/name` and `path/name`. */
  repositories: string[];
  /** Keyring names (from `keyrings:`) and key ids / fingerprints (8–40 hex); absent: the defaults' signers. */
  signers?: string[];
  requireSigners?: number;
  allowUnsigned?: boolean;
  /** Milliseconds; absent: no limit. */
  maxSignatureAgeMs?: number;
}

export interface TrustPolicy {
  /** The file, for messages. */
  source: string;
  /** Keyring name → path as written (relative to the policy file's folder). */
  keyrings: Record<string, string>;
  /** What applies where no rule matches. */
  defaults: Omit<TrustRule, 'name' | 'repositories'>;
  /** In file order; the first rule with a matching pattern applies. */
  rules: TrustRule[];
}

/** What one repository's charts must satisfy, with the keys loaded. */
export interface TrustRequirement {
  /** `rules[2] (helm-charts/infra-*)`, or `defaults`. */
  rule: string;
  /** Public keys to verify signatures with: those of the rule's keyrings, plus every key the caller gave. */
  keys: PublicKey[];
  /**
   * Fingerprints (upper-case hex, 40) and key ids (16) whose signatures count;
   * undefined: any key in `keys`.
   */
  signers?: string[];
  requireSigners: number;
  allowUnsigned: boolean;
  maxSignatureAgeMs?: number;
}

/** One signature as the policy saw it. */
export interface JudgedSignature {
  source: string;
  location: string;
  /** Valid and counted toward the requirement. */
  counted: boolean;
  signer?: SignerInfo;
  /** One line: `counted`, `signer not allowed by rules[0]`, `older than 90d`, `CHART_TAMPERED: …`. */
  reason: string;
  /** The error code when the signature itself did not verify. */
  code?: string;
}

export interface TrustVerdict {
  allowed: boolean;
  /** The rule that applied. */
  rule: string;
  /** One line saying why: `2 of 2 required signers (Jane, John)`, `unsigned, and rules[1] requires a signature`. */
  reason: string;
  /** The distinct signers that counted. */
  signers: SignerInfo[];
  signatures: JudgedSignature[];
}
