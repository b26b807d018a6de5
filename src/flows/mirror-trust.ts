/**
 * Which chart versions `chartprov mirror` lets through, and why not. Three
 * levels, from what the user gives:
 *
 * - `--policy FILE`: the trust policy decides (keys, signers, unsigned, age)
 *   per destination repository;
 * - `--keyring K…`: every .prov must verify with those keys;
 * - neither: a signature cannot be checked, so only the pairing is (the
 *   .prov lists this archive's sha256, name and version) and the signer is
 *   reported `unchecked` — the key id the .prov claims, nothing more.
 *
 * At every level a .prov that fails its check makes the version `invalid`
 * (never mirrored with or without it); a policy that is not satisfied makes
 * it `refused`.
 */
import type { PublicKey } from 'openpgp';
import { isChartprovError } from '../errors.js';
import type { TrustRequirement, TrustVerdict } from '../policy/types.js';
import { checkProvenanceMatches, claimedSigner, parseProvenance } from '../provenance/index.js';
import { checkSignatures, type SignatureCandidate, type SignatureCheck } from './chart-signatures.js';
import { loadMirrorPolicy } from './mirror-policy.js';
import { toCodedError } from './pool.js';
import { loadVerificationKeys } from './verify-charts.js';

/** Who signed a mirrored version; `checked: false` when no key could check it (no --keyring, no --policy). */
export interface MirrorSigner {
  keyId: string;
  fingerprint?: string;
  userId?: string;
  signedAt?: string;
  checked: boolean;
}

export type MirrorTrust =
  | { mode: 'unchecked' }
  | { mode: 'keyring'; keys: PublicKey[] }
  | {
      mode: 'policy';
      requirementFor(repository: string): TrustRequirement;
      judge(req: TrustRequirement, checks: SignatureCheck[], now?: Date): TrustVerdict;
    };

export async function loadMirrorTrust(opts: { policy?: string; keyrings?: string[] }): Promise<MirrorTrust> {
  if (opts.policy) return loadMirrorPolicy(opts.policy, opts.keyrings);
  if (opts.keyrings?.length) return { mode: 'keyring', keys: await loadVerificationKeys(opts.keyrings) };
  return { mode: 'unchecked' };
}

/** The chart a .prov must be about. */
export interface JudgedChart {
  /** `<name>-<version>.tgz`, the name a .prov lists. */
  fileName: string;
  /** Hex sha256 of the archive (= the chart layer's digest). */
  sha256: string;
  name: string;
  version: string;
}

export type Judgement =
  | { status: 'signed'; signer: MirrorSigner; signers: MirrorSigner[]; reason?: string }
  | { status: 'unsigned'; reason?: string }
  | { status: 'invalid'; code: string; reason: string }
  | { status: 'refused'; code: string; reason: string };

/**
 * Checks every .prov of one version (a classic source has at most one; an
 * OCI chart may have a layer and several referrers) against the chart and
 * the trust level. `repository` is the destination's `host/path/name`.
 */
export async function judgeVersion(
  trust: MirrorTrust,
  candidates: SignatureCandidate[],
  chart: JudgedChart,
  repository: string,
  now?: Date,
): Promise<Judgement> {
  if (trust.mode === 'unchecked') return pairingOnly(candidates, chart);
  const req = trust.mode === 'policy' ? trust.requirementFor(repository) : undefined;
  const keys = req ? req.keys : (trust as { keys: PublicKey[] }).keys;
  const checks = await checkSignatures(candidates, chart, keys, now);
  const bad = checks.find((c): c is Extract<SignatureCheck, { ok: false }> => !c.ok);
  if (bad) return { status: 'invalid', code: bad.error.code, reason: `${bad.source} ${bad.location}: ${bad.error.message}` };
  const signers = checks.map((c) => signerOf(c));
  if (trust.mode === 'policy') {
    const verdict = trust.judge(req!, checks, now);
    if (!verdict.allowed) return { status: 'refused', code: 'SIGNATURE_POLICY', reason: `${verdict.rule}: ${verdict.reason}` };
    if (checks.length === 0) return { status: 'unsigned', reason: `${verdict.rule}: ${verdict.reason}` };
    const counted = verdict.signers[0];
    const first = counted ? { ...pick(counted), checked: true } : signers[0]!;
    return { status: 'signed', signer: first, signers, reason: `${verdict.rule}: ${verdict.reason}` };
  }
  if (checks.length === 0) return { status: 'unsigned' };
  return { status: 'signed', signer: signers[0]!, signers };
}

function signerOf(c: SignatureCheck): MirrorSigner {
  return { ...pick((c as Extract<SignatureCheck, { ok: true }>).signer), checked: true };
}

function pick(s: { keyId: string; fingerprint: string; userId: string; signedAt: string }): Omit<MirrorSigner, 'checked'> {
  return { keyId: s.keyId, fingerprint: s.fingerprint, userId: s.userId, signedAt: s.signedAt };
}

/** No keys: each .prov must still be well-formed and about this archive, name and version. */
async function pairingOnly(candidates: SignatureCandidate[], chart: JudgedChart): Promise<Judgement> {
  if (candidates.length === 0) return { status: 'unsigned' };
  const signers: MirrorSigner[] = [];
  for (const c of candidates) {
    try {
      const parsed = parseProvenance(c.text);
      checkProvenanceMatches(parsed, {
        fileName: chart.fileName,
        sha256: chart.sha256,
        chartMetadata: { name: chart.name, version: chart.version },
      });
      signers.push({ ...(await claimedSigner(parsed)), checked: false });
    } catch (err) {
      if (!isChartprovError(err)) throw err;
      const coded = toCodedError(err);
      return { status: 'invalid', code: coded.code, reason: `${c.source} ${c.location}: ${coded.message}` };
    }
  }
  return { status: 'signed', signer: signers[0]!, signers };
}
