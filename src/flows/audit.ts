/**
 * `chartprov audit oci://host/project`: every version of every repository
 * under a path, with where its signatures live, who made them, whether they
 * hold and what the trust policy says — the report a CI gate or a security
 * review needs. Versions are audited in parallel on one keep-alive client;
 * a version the registry fails to serve is a row with status `error`, not
 * the end of the audit.
 */
import { UsageError } from '../errors.js';
import { RegistryClient } from '../oci/client.js';
import { parseOciReference } from '../oci/reference.js';
import type { Repository } from '../oci/repository.js';
import { sortTagsBySemver } from '../oci/version.js';
import { judgeSignatures } from '../policy/index.js';
import type { TrustRequirement } from '../policy/types.js';
import { auditVersion, type AuditedVersion } from './audit-version.js';
import { listAuditRepositories, type RepositoryListing } from './audit-list.js';
import { runPool, toCodedError } from './pool.js';
import { credentialStoreFor, withRegistryClient, type RegistryOptions } from './registry-client.js';
import { defaultRequirement, loadTrustPolicy } from './trust-policy.js';
import { loadVerificationKeys } from './verify-charts.js';

export type { AuditedVersion, AuditPolicyVerdict, AuditSignature, AuditSigner, AuditStatus } from './audit-version.js';
export type { RepositoryListing } from './audit-list.js';

export interface AuditOptions extends RegistryOptions {
  /**
   * `oci://host/project` (or any path prefix), `oci://host/project/name` for
   * one repository, `oci://host/project/name:tag` for one version.
   */
  target: string;
  /** Public keyrings to verify with (besides a policy's own). Default: Helm's ~/.gnupg/pubring.gpg. */
  keyrings?: string[];
  /** A trust policy file; without one every chart needs one valid signature by a key of the keyrings. */
  policyFile?: string;
  /** Versions audited at once (default 16). */
  jobs?: number;
  /** Verification time (signature age, key expiry); default now. */
  now?: Date;
  onProgress?: (event: AuditProgress) => void;
}

export type AuditProgress =
  | { type: 'listed'; repositories: number; listing: RepositoryListing }
  | { type: 'versions'; total: number }
  | { type: 'version'; done: number; total: number; version: AuditedVersion };

export interface AuditSummary {
  repositories: number;
  /** Rows: every tag audited (fallback-referrer tags excluded), plus one per repository whose tags could not be listed. */
  total: number;
  /** Charts with at least one signature, valid or not. */
  signed: number;
  unsigned: number;
  valid: number;
  invalid: number;
  unknownKey: number;
  notAChart: number;
  errors: number;
  /** Charts the policy refuses. */
  violations: number;
}

export interface AuditReport {
  /** As given, `oci://host/path`. */
  target: string;
  registry: string;
  path: string;
  listing: RepositoryListing;
  /** The policy file, or `default` (one valid signature by a key of the keyrings). */
  policy: string;
  generatedAt: string;
  durationMs: number;
  summary: AuditSummary;
  /** Repository by repository (sorted), versions highest first, then tags that are not versions. */
  versions: AuditedVersion[];
  /** Listings that were tried and refused. */
  notes: string[];
  /** No violation and no error: what a CI gate wants. */
  ok: boolean;
}

const DEFAULT_JOBS = 16;
// Tags that hold referrers of another manifest, not versions: the OCI fallback index, cosign's tag schema.
const NOT_A_VERSION = /^sha(?:256|512)-[0-9a-f]{64}(?:\.(?:sig|att|sbom))?$/;

export async function auditRegistry(opts: AuditOptions): Promise<AuditReport> {
  const started = Date.now();
  const jobs = opts.jobs ?? DEFAULT_JOBS;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`jobs must be a whole number ≥ 1, not ${jobs}`);
  const ref = parseOciReference(opts.target, { requireScheme: true });
  if (ref.digest)
    throw new UsageError(`audit takes a project, a repository or a tag, not a digest (${opts.target})`, {
      hint: 'give oci://HOST/PROJECT, oci://HOST/PROJECT/NAME or oci://HOST/PROJECT/NAME:TAG',
    });
  // Keys and policy first: a bad keyring or policy fails before any network traffic.
  const requirementFor = await loadRequirements(opts);
  const registries = [ref.registry];
  const connections = opts.clientOptions?.connections ?? Math.min(64, Math.max(16, jobs * 2));
  return withRegistryClient({ ...opts, registries, clientOptions: { ...opts.clientOptions, connections } }, async (client) => {
    const listed = ref.tag
      ? { repositories: [ref.repository], listing: 'given' as const, notes: [] }
      : await listAuditRepositories({
          client,
          apiClient: (withCredentials) => apiClient(opts, registries, withCredentials),
          registry: ref.registry,
          path: ref.repository,
        });
    opts.onProgress?.({ type: 'listed', repositories: listed.repositories.length, listing: listed.listing });

    const perRepo = await runPool(listed.repositories, jobs, (name) => tagsOf(client.repository(ref.registry, name), ref.tag));
    const work = perRepo.flatMap((r) => r.tags.map((tag) => ({ repo: r.repo, tag, all: r.all })));
    opts.onProgress?.({ type: 'versions', total: work.length });
    let done = 0;
    const audited = await runPool(work, jobs, async (w) => {
      const row = await auditVersion(
        { repo: w.repo, tags: w.all, requirement: requirementFor(`${ref.registry}/${w.repo.name}`), judge: judgeSignatures, now: opts.now },
        w.tag,
      );
      opts.onProgress?.({ type: 'version', done: ++done, total: work.length, version: row });
      return row;
    });
    // Rows in the order the repositories were listed: a repository whose tags failed stands where it belongs.
    const byRepo = new Map<string, AuditedVersion[]>();
    for (const row of audited) byRepo.set(row.repository, [...(byRepo.get(row.repository) ?? []), row]);
    const versions = perRepo.flatMap((r) => (r.error ? [r.error] : (byRepo.get(r.repo.name) ?? [])));

    const summary = summarize(listed.repositories.length, versions);
    return {
      target: opts.target,
      registry: ref.registry,
      path: ref.repository,
      listing: listed.listing,
      policy: opts.policyFile ?? 'default',
      generatedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      summary,
      versions,
      notes: listed.notes,
      ok: summary.violations === 0 && summary.errors === 0,
    };
  });
}

async function loadRequirements(opts: AuditOptions): Promise<(repository: string) => TrustRequirement> {
  if (opts.policyFile) {
    const policy = await loadTrustPolicy(opts.policyFile, { keyrings: opts.keyrings });
    const cache = new Map<string, TrustRequirement>();
    return (repository) => {
      let req = cache.get(repository);
      if (!req) cache.set(repository, (req = policy.requirementFor(repository)));
      return req;
    };
  }
  const req = defaultRequirement(await loadVerificationKeys(opts.keyrings));
  return () => req;
}

interface RepoTags {
  repo: Repository;
  /** The tags to audit, versions highest first. */
  tags: string[];
  /** Every tag, for the fallback-referrers shortcut. */
  all: ReadonlySet<string>;
  /** The row that stands for the repository when its tags could not be listed. */
  error?: AuditedVersion;
}

async function tagsOf(repo: Repository, only: string | undefined): Promise<RepoTags> {
  try {
    const all = await repo.listTags();
    const versions = all.filter((t) => !NOT_A_VERSION.test(t));
    const semver = sortTagsBySemver(versions);
    const rest = versions.filter((t) => !semver.includes(t)).sort();
    // One version asked for: audited even when the tag list does not show it yet (it is read by tag).
    return { repo, tags: only ? [only] : [...semver, ...rest], all: new Set(all) };
  } catch (err) {
    const row: AuditedVersion = {
      repository: repo.name,
      reference: `oci://${repo.registry}/${repo.name}`,
      tag: '',
      version: '',
      status: 'error',
      signatures: [],
      error: toCodedError(err),
    };
    return { repo, tags: [], all: new Set(), error: row };
  }
}

function summarize(repositories: number, versions: AuditedVersion[]): AuditSummary {
  const count = (status: AuditedVersion['status']) => versions.filter((v) => v.status === status).length;
  const valid = count('valid');
  const invalid = count('invalid');
  const unknownKey = count('unknown-key');
  return {
    repositories,
    total: versions.length,
    signed: valid + invalid + unknownKey,
    unsigned: count('unsigned'),
    valid,
    invalid,
    unknownKey,
    notAChart: count('not-a-chart'),
    errors: count('error'),
    violations: versions.filter((v) => v.policy && !v.policy.allowed).length,
  };
}

/**
 * The client for Harbor's API: its own auth state (Basic up front, see
 * harborApiAuth), the same connection settings; the credentials only when
 * `withCredentials` (none at all to ask whether the registry is Harbor).
 */
function apiClient(opts: AuditOptions, registries: string[], withCredentials: boolean): Promise<RegistryClient> {
  return RegistryClient.create({
    plainHttp: opts.plainHttp,
    caFile: opts.caFile,
    certFile: opts.certFile,
    keyFile: opts.keyFile,
    insecureSkipTlsVerify: opts.insecureSkipTlsVerify,
    ...(withCredentials ? { credentials: credentialStoreFor({ ...opts, registries }) } : {}),
    env: opts.env,
    connections: 2,
    ...(withCredentials && opts.clientOptions?.credential ? { credential: opts.clientOptions.credential } : {}),
    ...(opts.clientOptions?.trace ? { trace: opts.clientOptions.trace } : {}),
    ...(opts.clientOptions?.timeoutMs !== undefined ? { timeoutMs: opts.clientOptions.timeoutMs } : {}),
  });
}
