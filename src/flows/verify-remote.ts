/**
 * `chartprov verify oci://…`: a chart in a registry checked against every
 * signature it has (provenance layer, referrers, fallback tag, or a .prov
 * the caller adds), without downloading the chart: its layer digest is the
 * archive's sha256 and its config holds name and version.
 */
import { ProvenanceMismatchError } from '../errors.js';
import { checkSignatures, decideSignatures, registrySignatures, type SignatureCandidate, type SignatureCheck, type SignaturePolicy } from './chart-signatures.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';
import { readChartConfig, resolveChart } from './resolve-chart.js';
import { assertAllowed, countedChecks, judgeChart, type LoadedTrustPolicy } from './trust-policy.js';
import type { TrustVerdict } from '../policy/types.js';
import { loadVerificationKeys } from './verify-charts.js';

export interface VerifyRemoteOptions extends RegistryOptions {
  /** `oci://host/path/name:tag`, `…@sha256:…`, or `oci://…/name` with `version`. */
  reference: string;
  version?: string;
  keyrings?: string[];
  policy?: SignaturePolicy;
  /** A trust policy (--policy): its rule for this repository decides instead of `policy`; its keys verify. */
  trust?: LoadedTrustPolicy;
  /** Signatures from elsewhere (--prov-file, --prov-url), checked with the registry's. */
  extraSignatures?: SignatureCandidate[];
  now?: Date;
}

export interface VerifyRemoteResult {
  reference: string;
  digest: string;
  name: string;
  version: string;
  /** sha256 of the chart archive (its layer digest). */
  sha256: string;
  /** The valid signatures that satisfied the policy, one per signer. */
  accepted: Array<Extract<SignatureCheck, { ok: true }>>;
  /** Every signature found, valid or not. */
  checks: SignatureCheck[];
  /** With `trust`: the policy's verdict (allowed, or SIGNATURE_POLICY was thrown). */
  verdict?: TrustVerdict;
}

export async function verifyRemoteChart(opts: VerifyRemoteOptions): Promise<VerifyRemoteResult> {
  const keys = opts.trust ? [] : await loadVerificationKeys(opts.keyrings);
  const registry = opts.reference.replace(/^oci:\/\//, '').split('/')[0] ?? '';
  return withRegistryClient({ ...opts, registries: [registry] }, async (client) => {
    const chart = await resolveChart(client, opts.reference, opts.version);
    const meta = await readChartConfig(chart);
    const candidates = [...(await registrySignatures(chart)), ...(opts.extraSignatures ?? [])];
    if (!chart.chart.digest.startsWith('sha256:'))
      throw new ProvenanceMismatchError(`${chart.reference}: its chart layer is named by ${chart.chart.digest.split(':')[0]}, and a .prov lists sha256 digests`, {
        hint: 'pull the chart and verify the archive: chartprov pull --verify',
      });
    const sha256 = chart.chart.digest.slice('sha256:'.length);
    const about = { fileName: `${meta.name}-${meta.version}.tgz`, sha256, ...meta };
    const result = { reference: chart.reference, digest: chart.digest, ...meta, sha256 };
    if (opts.trust) {
      const { checks, verdict } = await judgeChart(opts.trust.requirementFor(`${chart.ref.registry}/${chart.ref.repository}`), candidates, about, opts.now);
      assertAllowed(chart.reference, verdict);
      return { ...result, accepted: countedChecks(checks, verdict), checks, verdict };
    }
    const checks = await checkSignatures(candidates, about, keys, opts.now);
    const { accepted } = decideSignatures(chart.reference, checks, opts.policy);
    return { ...result, accepted, checks };
  });
}
