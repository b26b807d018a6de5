/**
 * `--policy FILE`: a trust policy loaded with its keyrings, answering for any
 * repository what its charts must satisfy (see src/policy/). Keyring paths in
 * the file are relative to the file's folder.
 */
import type { PublicKey } from 'openpgp';
import { dirname, resolve } from 'node:path';
import { ChartprovError, SignaturePolicyError, TrustPolicyInvalidError } from '../errors.js';
import { readSmallFile } from '../fs/read-file.js';
import { defaultKeyringPaths, loadKeyring } from '../keys/keyring.js';
import { isHexId, parseTrustPolicy } from '../policy/parse.js';
import { ruleFor } from '../policy/match.js';
import { judgeSignatures } from '../policy/judge.js';
import type { TrustPolicy, TrustRequirement, TrustVerdict } from '../policy/types.js';
import { checkSignatures, type SignatureCandidate, type SignatureCheck } from './chart-signatures.js';

/** Larger than any policy a person writes. */
const MAX_POLICY_BYTES = 1024 * 1024;

export interface LoadedTrustPolicy {
  policy: TrustPolicy;
  /** What a repository's charts must satisfy: `host/path/name`, or a local chart's name. */
  requirementFor(repository: string): TrustRequirement;
}

export interface LoadTrustPolicyOptions {
  /** Keyrings given besides the policy's (--keyring): their keys verify, but count only where a rule lets any key sign. */
  keyrings?: string[];
}

export async function loadTrustPolicy(file: string, opts: LoadTrustPolicyOptions = {}): Promise<LoadedTrustPolicy> {
  const text = (await readSmallFile(file, { what: 'trust policy', maxBytes: MAX_POLICY_BYTES })).toString('utf8');
  const policy = parseTrustPolicy(text, { source: file });
  const base = dirname(resolve(file));
  const named = new Map<string, PublicKey[]>();
  for (const [name, path] of Object.entries(policy.keyrings)) {
    try {
      named.set(name, (await loadKeyring([resolve(base, path)])).publicKeys);
    } catch (err) {
      if (!(err instanceof ChartprovError)) throw err;
      throw new TrustPolicyInvalidError(`${file}: keyring ${name} (${path}): ${err.message}`, { hint: err.hint, cause: err });
    }
  }
  // A policy that names no keyring verifies with the ones given, else Helm's default (~/.gnupg/pubring.gpg).
  const extraPaths = opts.keyrings?.length ? opts.keyrings : named.size === 0 ? defaultKeyringPaths() : [];
  const extra = extraPaths.length ? (await loadKeyring(extraPaths)).publicKeys : [];
  const allKeys = dedupe([...[...named.values()].flat(), ...extra]);
  return {
    policy,
    requirementFor(repository: string): TrustRequirement {
      const { label, rule } = ruleFor(policy, repository);
      const req: TrustRequirement = {
        rule: label,
        keys: allKeys,
        requireSigners: rule.requireSigners ?? 1,
        allowUnsigned: rule.allowUnsigned ?? false,
      };
      if (rule.maxSignatureAgeMs !== undefined) req.maxSignatureAgeMs = rule.maxSignatureAgeMs;
      if (rule.signers) {
        req.signers = rule.signers.flatMap((s) =>
          isHexId(s) ? [s.replace(/^0x/i, '').toUpperCase()] : (named.get(s) ?? []).map((k) => k.getFingerprint().toUpperCase()),
        );
      } else if (named.size > 0) {
        // No signers named: the policy's own keyrings are the trusted keys; --keyring alone cannot widen that.
        req.signers = [...named.values()].flat().map((k) => k.getFingerprint().toUpperCase());
      }
      return req;
    },
  };
}

/** The verdict on a chart's signatures: each checked with the requirement's keys, then judged. */
export async function judgeChart(
  req: TrustRequirement,
  candidates: SignatureCandidate[],
  chart: { fileName: string; sha256: string; name: string; version: string },
  now?: Date,
): Promise<{ checks: SignatureCheck[]; verdict: TrustVerdict }> {
  const checks = await checkSignatures(candidates, chart, req.keys, now);
  return { checks, verdict: judgeSignatures(req, checks, now) };
}

/** SIGNATURE_POLICY with the verdict's reason when the policy refuses `what`. */
export function assertAllowed(what: string, verdict: TrustVerdict): void {
  if (!verdict.allowed)
    throw new SignaturePolicyError(`${what}: ${verdict.reason}`, {
      hint: `the trust policy's ${verdict.rule} decides; have an allowed signer sign it (chartprov sign oci://…) or change the policy`,
    });
}

/** The valid signatures the verdict counted, in its order. */
export function countedChecks(checks: SignatureCheck[], verdict: TrustVerdict): Array<Extract<SignatureCheck, { ok: true }>> {
  return checks.filter((c, i): c is Extract<SignatureCheck, { ok: true }> => c.ok && verdict.signatures[i]!.counted);
}

/** Without a policy: at least one valid signature by any of `keys` (what --verify always meant). */
export function defaultRequirement(keys: PublicKey[]): TrustRequirement {
  return { rule: 'the default (one valid signature)', keys, requireSigners: 1, allowUnsigned: false };
}

function dedupe(keys: PublicKey[]): PublicKey[] {
  const byFp = new Map<string, PublicKey>();
  for (const k of keys) if (!byFp.has(k.getFingerprint())) byFp.set(k.getFingerprint(), k);
  return [...byFp.values()];
}
