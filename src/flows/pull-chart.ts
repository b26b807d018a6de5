/**
 * `chartprov pull oci://… [--version V] [--verify] [--untar]`. Blobs are
 * checked against their digests while they stream into a private staging
 * folder; only then, and with `--verify` only once the signature holds, do
 * the chart and its prov appear at the destination (Helm 3 and 4 leave the
 * unverified archive behind when verification fails; we never do). The file
 * is named from the chart's own name and version, so pulling by digest and
 * verifying works (it cannot in Helm, which names it after the digest).
 */
import { mkdir, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PublicKey } from 'openpgp';
import { readChartArchive } from '../chart/archive.js';
import { MAX_CHART_BYTES } from '../chart/tar-read.js';
import { ChartArchiveError, ChartprovError, ProvenanceMissingError, UsageError } from '../errors.js';
import { toWriteError } from '../fs/atomic-write.js';
import { withStagingDir } from '../fs/staging.js';
import { DEFAULT_MAX_PROV_BYTES } from '../provenance/parse.js';
import type { RegistryClient } from '../oci/client.js';
import { parseOciReference } from '../oci/reference.js';
import { placePulledChart } from './place-pulled-chart.js';
import { runBatch, type CodedError } from './pool.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';
import { resolveChart, type ResolvedChart } from './resolve-chart.js';
import { versionFromTag } from '../oci/version.js';
import { givenProvCandidate, knownProv, settleProvenance, type ProvCandidate, type VerifiedProvenance } from './prov-source.js';
import { listedProvenances } from './referrer-provenance.js';
import { assertAllowed, judgeChart, type LoadedTrustPolicy } from './trust-policy.js';
import type { TrustRequirement, TrustVerdict } from '../policy/types.js';
import { checkSignatures, decideSignatures, type SignaturePolicy, type SignatureSource } from './chart-signatures.js';

export interface PullChartOptions extends RegistryOptions {
  /** `oci://host/path/name`, optionally `:tag` or `@sha256:…`. */
  ref: string;
  /** Exact version or SemVer range (Helm's `--version`); default the highest. */
  version?: string;
  /** Folder for the archive and its prov (default the current folder; created if missing). */
  destination?: string;
  /** Write nothing unless the prov's signature verifies with a key of `keyrings`. */
  verify?: boolean;
  keyrings?: string[];
  keys?: PublicKey[];
  /** Unpack the chart instead of keeping the archive (as Helm's `--untar`). */
  untar?: boolean;
  /** Where to unpack; relative to `destination` unless absolute (default `destination`). */
  untarDir?: string;
  now?: Date;
  /**
   * A .prov to verify with when the provenance layer is missing or does not
   * verify (single chart): a file, or an http(s)/file: URL fetched with the
   * TLS options but never with the registry's credentials.
   */
  provFile?: string;
  provUrl?: string;
  /**
   * With `verify`: stricter than one valid signature — N distinct signers,
   * or only signatures by these key ids. Every source is then checked, not
   * just the first that verifies.
   */
  policy?: SignaturePolicy;
  /**
   * With `verify`: a trust policy (--policy) decides instead — its rule for
   * the chart's repository, its keys. A chart it lets in unsigned is pulled
   * without a .prov.
   */
  trust?: LoadedTrustPolicy;
}

export interface PullChartResult {
  /** As resolved: `oci://host/path/name:tag` or `@sha256:…`. */
  reference: string;
  digest: string;
  name: string;
  version: string;
  /** The archive written (absent with `untar`). */
  chartPath?: string;
  /** The prov written beside it, when the chart carries one (absent with `untar`). */
  provPath?: string;
  /** The chart folder written by `untar`. */
  untarredTo?: string;
  /** Whether the chart carries a provenance layer. */
  hasProvenance: boolean;
  /** Things worth a look that did not stop the pull (e.g. a chart whose name differs from its repository). */
  warnings: string[];
  /** Set with `verify`: the signer, and which source's prov verified (provenance layer, --prov-file, …). */
  verified?: VerifiedProvenance;
  /** Set with `trust`: the policy's verdict. */
  verdict?: TrustVerdict;
}

export async function pullChart(opts: PullChartOptions): Promise<PullChartResult> {
  const keys = await verificationKeys(opts);
  const { registry } = parseOciReference(opts.ref, { requireScheme: true });
  return withRegistryClient({ ...opts, registries: [registry] }, (client) => pullOne(client, opts.ref, opts, keys));
}

export interface PullChartsOptions extends Omit<PullChartOptions, 'ref'> {
  /** Charts to pull, each `oci://…/name[:tag|@digest]`; `version` applies to those without a tag. */
  refs: string[];
  /** Charts pulled at once (default 8). */
  jobs?: number;
  onResult?: (result: PullResult, done: number, total: number) => void;
}

export type PullResult = ({ ok: true; ref: string } & PullChartResult) | { ok: false; ref: string; error: CodedError };

export interface PullChartsResult {
  pulled: number;
  failed: number;
  results: PullResult[];
}

/**
 * Many charts in one call: one connection pool, keys read once, charts
 * fetched in parallel. One chart's failure is reported and the rest go on;
 * each chart is written only once it is complete (and verified).
 */
export async function pullCharts(opts: PullChartsOptions): Promise<PullChartsResult> {
  if (opts.refs.length === 0) throw new UsageError('no chart to pull', { hint: 'give one or more oci:// references' });
  if ((opts.provFile !== undefined || opts.provUrl !== undefined) && opts.refs.length > 1) {
    throw new UsageError('--prov-file and --prov-url apply to a single chart', { hint: 'pull the charts one at a time' });
  }
  const keys = await verificationKeys(opts);
  const registries = opts.refs.map((ref) => parseOciReference(ref, { requireScheme: true }).registry);
  return withRegistryClient({ ...opts, registries }, async (client) => {
    const results = await runBatch(
      opts.refs,
      opts.jobs ?? 8,
      async (ref): Promise<PullResult> => {
        return { ok: true, ref, ...(await pullOne(client, ref, opts, keys)) };
      },
      (ref, error): PullResult => ({ ok: false, ref, error }),
      opts.onResult,
    );
    const pulled = results.filter((r) => r.ok).length;
    return { pulled, failed: results.length - pulled, results };
  });
}

async function pullOne(
  client: RegistryClient,
  ref: string,
  opts: Omit<PullChartOptions, 'ref'>,
  keys: PublicKey[] | undefined,
): Promise<PullChartResult> {
  const destination = resolve(opts.destination ?? '.');
  const chart = await resolveChart(client, ref, opts.version);
  const given = givenProvSource(opts);
  // Signatures attached to the chart (chartprov attach / sign oci://…): looked up when they can matter.
  const lookupWarnings: string[] = [];
  let attached: ProvCandidate[] = [];
  if (opts.verify || !chart.prov) {
    try {
      attached = await attachedCandidates(chart);
    } catch (err) {
      // Without --verify a signature is a bonus: a registry that will not list referrers must not fail the pull.
      if (opts.verify || !(err instanceof ChartprovError)) throw err;
      lookupWarnings.push(`could not look for attached signatures: ${err.message}`);
    }
  }
  const requirement = opts.verify && opts.trust ? opts.trust.requirementFor(`${chart.ref.registry}/${chart.ref.repository}`) : undefined;
  if (requirement) keys = requirement.keys;
  if (opts.verify && !chart.prov && !given && attached.length === 0 && !requirement?.allowUnsigned) {
    throw new ProvenanceMissingError(`${chart.reference} has no signature: no provenance layer, no provenance referrer`, {
      hint: 'attach its .prov (chartprov attach) or sign it in place (chartprov sign oci://…), or give it with --prov-file / --prov-url',
    });
  }
  if (chart.chart.size > MAX_CHART_BYTES) {
    throw new ChartArchiveError(
      `${chart.reference}: its chart layer is ${chart.chart.size} bytes, more than Helm's limit of ${MAX_CHART_BYTES}`,
      {
        hint: 'nothing was downloaded: the manifest claims a chart larger than Helm loads; check what was pushed there',
      },
    );
  }
  await mkdir(destination, { recursive: true }).catch((err) => {
    throw toWriteError(destination, err);
  });
  return withStagingDir(destination, async (staging) => {
    const download = join(staging, 'download.tgz');
    const [, layerProv] = await Promise.all([
      // Helm's own limit on a chart: a descriptor claiming more never reaches the disk.
      chart.repo.fetchBlobToFile(chart.chart, download, { maxBytes: MAX_CHART_BYTES }),
      chart.prov ? chart.repo.fetchBlobBytes(chart.prov, DEFAULT_MAX_PROV_BYTES) : undefined,
    ]);
    // Named from the archive's own Chart.yaml (not the config blob, one request
    // fewer): the name a .prov lists, and a check that it is a chart at all.
    const { name, version } = (await readChartArchive(download)).metadata;
    const fileName = `${name}-${version}.tgz`;
    if (/[/\\\0]/.test(fileName) || fileName.startsWith('.')) {
      throw new ChartArchiveError(
        `${chart.reference}: the chart calls itself ${JSON.stringify(name)} ${JSON.stringify(version)}, not a file name`,
      );
    }
    const staged = join(staging, fileName);
    await rename(download, staged);
    let candidates = [
      ...(layerProv ? [knownProv('provenance-layer', chart.reference, layerProv)] : []),
      ...attached,
      ...(given ? [given] : []),
    ];
    let verdict: TrustVerdict | undefined;
    if (requirement) {
      ({ candidates, verdict } = await byTrust(candidates, staged, chart.reference, { name, version }, requirement, opts.now));
    } else if (opts.verify && keys && opts.policy)
      candidates = await byPolicy(candidates, staged, chart.reference, { name, version }, keys, opts);
    // The signature's sources in order; the first that verifies (without --verify: the first there is) is kept.
    const prov =
      verdict && candidates.length === 0
        ? { warnings: [] }
        : await settleProvenance({ staged, keys, now: opts.now, chart: chart.reference, candidates });
    const result: PullChartResult = {
      reference: chart.reference,
      digest: chart.digest,
      name,
      version,
      hasProvenance: Boolean(chart.prov),
      warnings: [...mismatches(chart, name, version), ...lookupWarnings, ...prov.warnings],
    };
    if (prov.verified) result.verified = prov.verified;
    if (verdict) result.verdict = verdict;
    Object.assign(
      result,
      await placePulledChart({ staged, destination, fileName, withProv: Boolean(prov.bytes), untar: opts.untar, untarDir: opts.untarDir }),
    );
    return result;
  });
}

/**
 * The keys for `--verify`, read once per batch. The OpenPGP code loads only
 * then: a pull without --verify does not pay for it.
 */
async function verificationKeys(opts: Pick<PullChartOptions, 'verify' | 'keys' | 'keyrings' | 'trust'>): Promise<PublicKey[] | undefined> {
  if (!opts.verify) return undefined;
  // The policy's requirement brings the keys, per repository.
  if (opts.trust) return [];
  if (opts.keys) return opts.keys;
  const { loadVerificationKeys } = await import('./verify-charts.js');
  return loadVerificationKeys(opts.keyrings);
}

/**
 * Helm names a pulled file after the reference; we name it after the chart
 * inside. When the two differ the registry chose which local file is
 * replaced: say so.
 */
function mismatches(chart: ResolvedChart, name: string, version: string): string[] {
  const warnings: string[] = [];
  const repoName = chart.ref.repository.split('/').pop();
  if (repoName !== name) warnings.push(`${chart.reference} holds a chart named ${JSON.stringify(name)}, not ${JSON.stringify(repoName)}`);
  if (chart.tag && versionFromTag(chart.tag) !== version) {
    warnings.push(`${chart.reference} holds version ${JSON.stringify(version)}, not ${JSON.stringify(versionFromTag(chart.tag))}`);
  }
  return warnings;
}

/**
 * `--prov-file` / `--prov-url` as a signature source for an OCI pull (issue 7
 * item 5): after the provenance layer, or in place of a missing one. Fetched
 * with the TLS options, never with the registry's credentials.
 */
function givenProvSource(opts: Omit<PullChartOptions, 'ref'>): ProvCandidate | undefined {
  return givenProvCandidate({
    provFile: opts.provFile,
    provUrl: opts.provUrl,
    caFile: opts.caFile,
    certFile: opts.certFile,
    keyFile: opts.keyFile,
    insecureSkipTlsVerify: opts.insecureSkipTlsVerify,
    env: opts.env,
    trace: opts.clientOptions?.trace,
    ...(opts.clientOptions?.timeoutMs !== undefined ? { timeoutMs: opts.clientOptions.timeoutMs } : {}),
  });
}

/** The chart's provenance referrers (referrers API or fallback tag), as candidates after its layer. */
async function attachedCandidates(chart: ResolvedChart): Promise<ProvCandidate[]> {
  const found = await listedProvenances(chart.repo, chart.digest);
  return found.map((p) => ({
    source: p.mode === 'api' ? 'referrer' : 'fallback-tag',
    location: p.referrer,
    load: async () => {
      const text = await p.read();
      return text === undefined ? undefined : Buffer.from(text, 'utf8');
    },
  }));
}

/**
 * Checks every source against the policy (N signers, key ids) and returns
 * the candidates with the first accepted one in front, so that it is the one
 * kept beside the chart. Throws SIGNATURE_POLICY (or the first failure) when
 * the policy is not met.
 */
async function byPolicy(
  candidates: ProvCandidate[],
  staged: string,
  reference: string,
  meta: { name: string; version: string },
  keys: PublicKey[],
  opts: Pick<PullChartOptions, 'policy' | 'now'>,
): Promise<ProvCandidate[]> {
  const { sha256 } = await readChartArchive(staged);
  const loaded: Array<{ candidate: ProvCandidate; text: string }> = [];
  for (const candidate of candidates) {
    const bytes = await candidate.load();
    if (bytes) loaded.push({ candidate, text: bytes.toString('utf8') });
  }
  const checks = await checkSignatures(
    loaded.map((l) => ({ source: signatureSource(l.candidate.source), location: l.candidate.location, text: l.text })),
    { fileName: `${meta.name}-${meta.version}.tgz`, sha256, ...meta },
    keys,
    opts.now,
  );
  const { accepted } = decideSignatures(reference, checks, opts.policy);
  const first = loaded.find((l) => l.candidate.location === accepted[0]!.location)!.candidate;
  return [first, ...candidates.filter((c) => c !== first)];
}

/**
 * Every source judged by the trust policy's requirement; throws
 * SIGNATURE_POLICY when it refuses. Returns the candidates with the first
 * counted one in front (kept beside the chart), or none when the policy lets
 * the chart in without a signature that counts.
 */
async function byTrust(
  candidates: ProvCandidate[],
  staged: string,
  reference: string,
  meta: { name: string; version: string },
  requirement: TrustRequirement,
  now: Date | undefined,
): Promise<{ candidates: ProvCandidate[]; verdict: TrustVerdict }> {
  const { sha256 } = await readChartArchive(staged);
  const loaded: Array<{ candidate: ProvCandidate; text: string }> = [];
  for (const candidate of candidates) {
    const bytes = await candidate.load();
    if (bytes) loaded.push({ candidate, text: bytes.toString('utf8') });
  }
  const { verdict } = await judgeChart(
    requirement,
    loaded.map((l) => ({ source: signatureSource(l.candidate.source), location: l.candidate.location, text: l.text })),
    { fileName: `${meta.name}-${meta.version}.tgz`, sha256, ...meta },
    now,
  );
  assertAllowed(reference, verdict);
  const counted = verdict.signatures.findIndex((s) => s.counted);
  if (counted < 0) return { candidates: [], verdict };
  const first = loaded[counted]!.candidate;
  return { candidates: [first, ...candidates.filter((c) => c !== first)], verdict };
}

function signatureSource(source: ProvCandidate['source']): SignatureSource {
  switch (source) {
    case 'provenance-layer':
      return 'layer';
    case 'referrer':
    case 'fallback-tag':
      return source;
    case 'prov-file':
      return 'file';
    default:
      return 'url';
  }
}
