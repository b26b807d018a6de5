/**
 * `chartprov mirror SRC oci://DST/path`: every chart version of a classic
 * chart repository (Harbor's ChartMuseum, GitHub Pages, any index.yaml),
 * a local folder of archives and .prov files, or an OCI repository, into an
 * OCI registry with every signature intact — which Harbor 2.8's migration
 * script (`helm push`, .prov files dropped) does not do.
 *
 * Each version is judged before anything is written (mirror-trust.ts): a
 * .prov that does not verify, or is about another archive, name or version,
 * keeps the version out (`invalid`); a trust policy may refuse it
 * (`refused`); a version without any .prov goes in `unsigned`. Versions run
 * in parallel (--jobs); a re-run skips what the destination holds already
 * (same chart layer, same .prov) and completes what an interrupted run left.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { RegistryClient } from '../oci/client.js';
import { formatOciReference, parseOciReference } from '../oci/reference.js';
import { tagFromVersion } from '../oci/version.js';
import type { CopySideOptions } from './copy-charts.js';
import { MirrorDestination } from './mirror-destination.js';
import { settleDuplicates } from './mirror-duplicates.js';
import { mirrorOciVersions } from './mirror-oci.js';
import { ClassicSource, parseMirrorSource, type ClassicVersion } from './mirror-source.js';
import { loadMirrorTrust } from './mirror-trust.js';
import { failedResult, mirrorClassicVersion, type MirrorStatus, type MirrorVersionResult } from './mirror-version.js';
import { runBatch } from './pool.js';
import { withRegistryClient, type RegistryOptions } from './registry-client.js';

export type { MirrorSigner } from './mirror-trust.js';
export type { MirrorStatus, MirrorVersionResult } from './mirror-version.js';

export interface MirrorChartsOptions extends RegistryOptions {
  /**
   * A chart repository (`https://…`, `http://…`: its index.yaml), a local
   * folder of `*.tgz` + `*.tgz.prov` (a path or `file:` URL, with or without
   * index.yaml), or `oci://host/path/name` (every version of that chart).
   */
  source: string;
  /** `oci://host[:port]/path`: each chart lands in `path/<name>:<version>`, as with push. */
  destination: string;
  /** Public keyrings every .prov must verify with (with `policy`: keys besides the policy's). */
  keyrings?: string[];
  /** A trust policy file (YAML): it decides per destination repository. */
  policy?: string;
  /** Push each chart without a provenance layer and attach its .prov as a referrer (classic sources). */
  attach?: boolean;
  /** Read and check everything, write nothing; the results say what would happen. */
  dryRun?: boolean;
  /** Versions handled at once (default 4). */
  jobs?: number;
  /**
   * Basic auth for a chart repository source. Only these: unlike pull --repo, CHARTPROV_USERNAME/
   * CHARTPROV_PASSWORD are never sent to the source (they log in to the destination registry).
   */
  username?: string;
  password?: string;
  /** Send the repository's credentials to every host its index points at. */
  passCredentials?: boolean;
  /** The source's own plain-http/TLS settings (OCI source; TLS also for an https:// repository). */
  sourceOptions?: CopySideOptions;
  /** The destination's own plain-http/TLS settings. */
  destinationOptions?: CopySideOptions;
  /** `org.opencontainers.image.created` of pushed charts (default SOURCE_DATE_EPOCH, else the archive's time). */
  created?: Date;
  /** Time signatures are checked at (key expiry, policy ages). */
  now?: Date;
  /** Fallback referrers index tuning (tests). */
  settleMs?: number;
  onProgress?: (event: MirrorProgress) => void;
}

export type MirrorProgress =
  { type: 'start'; total: number } | { type: 'version'; done: number; total: number; result: MirrorVersionResult };

export interface MirrorResult {
  /** The source as read: a URL without its query, a folder, or `oci://host/path/name`. */
  source: string;
  sourceKind: 'repository' | 'folder' | 'oci';
  /** `oci://host/path` (classic) or `oci://host/path/name` (OCI source). */
  destination: string;
  dryRun: boolean;
  attach: boolean;
  /** How signatures were checked: the trust policy, the keyrings, or not at all (pairing only; signer `unchecked`). */
  signatures: 'policy' | 'keyring' | 'unchecked';
  totals: { total: number } & Record<MirrorStatus, number>;
  /** Per version, in the source's order. */
  results: MirrorVersionResult[];
  warnings: string[];
}

export async function mirrorCharts(opts: MirrorChartsOptions): Promise<MirrorResult> {
  const jobs = opts.jobs ?? 4;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`jobs must be a positive integer, not ${jobs}`);
  const spec = await parseMirrorSource(opts.source);
  const dstBase = parseOciReference(opts.destination, { requireScheme: true, allowNoPath: true });
  if (dstBase.tag || dstBase.digest) {
    throw new UsageError(`the destination ${opts.destination} names a ${dstBase.tag ? 'tag' : 'digest'}; versions come from the source`, {
      hint: 'give the destination as oci://HOST/PATH: each chart lands in PATH/<name>:<version>',
    });
  }
  const trust = await loadMirrorTrust({ policy: opts.policy, keyrings: opts.keyrings });
  const signatures = trust.mode;
  const warnings: string[] = [];
  if (signatures === 'unchecked')
    warnings.push('no --keyring or --policy: signatures were not checked, only that each .prov is about its chart (signer "unchecked")');
  const progress = opts.onProgress;
  const onStart = (total: number) => progress?.({ type: 'start', total });
  const onResult = (result: MirrorVersionResult, done: number, total: number) => progress?.({ type: 'version', done, total, result });

  if (spec.kind === 'oci') {
    if (opts.username !== undefined || opts.password !== undefined)
      throw new UsageError('--username and --password-stdin are for a chart repository source', {
        hint: 'for an OCI source: chartprov registry login HOST, or CHARTPROV_USERNAME/CHARTPROV_PASSWORD with CHARTPROV_REGISTRY naming it',
      });
    if (opts.attach) warnings.push('--attach does not apply to an OCI source: each .prov is copied in the form it has there');
    const srcRef = spec.ref;
    if (srcRef.registry === dstBase.registry && `${dstBase.repository}/${srcRef.repository.split('/').at(-1)}` === srcRef.repository)
      throw new UsageError(`source and destination are the same repository (${opts.source})`, {
        hint: 'mirror into another path or registry',
      });
    const out = await withClients(opts, srcRef.registry, dstBase.registry, (srcClient, dstClient) =>
      mirrorOciVersions({
        srcClient,
        dstClient,
        srcRef,
        dstBase,
        trust,
        dryRun: Boolean(opts.dryRun),
        jobs,
        ...(opts.settleMs === undefined ? {} : { settleMs: opts.settleMs }),
        ...(opts.now ? { now: opts.now } : {}),
        onStart,
        onResult,
      }),
    );
    return summary(
      opts,
      { source: formatOciReference(srcRef), sourceKind: 'oci', destination: out.destination, signatures, warnings },
      out.results,
    );
  }

  const tls = { ...pickTls(opts), ...pickTls(opts.sourceOptions ?? {}) };
  const source = await ClassicSource.open(spec.url, {
    ...tls,
    username: opts.username,
    password: opts.password,
    passCredentials: opts.passCredentials,
    env: opts.env,
    trace: opts.clientOptions?.trace,
    ...(opts.clientOptions?.timeoutMs !== undefined ? { timeoutMs: opts.clientOptions.timeoutMs } : {}),
  });
  const staging = await mkdtemp(join(tmpdir(), 'chartprov-mirror-'));
  try {
    const dstOpts = { ...opts, ...definedOnly(opts.destinationOptions), registries: [dstBase.registry] };
    const results = await withRegistryClient(dstOpts, async (client) => {
      const destination = new MirrorDestination(client, dstBase.registry, opts.settleMs === undefined ? {} : { settleMs: opts.settleMs });
      const ctx = {
        source,
        destination,
        basePath: dstBase.repository,
        trust,
        attach: Boolean(opts.attach),
        dryRun: Boolean(opts.dryRun),
        staging,
        ...(opts.created ? { created: opts.created } : {}),
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.now ? { now: opts.now } : {}),
      };
      const referenceOf = (v: ClassicVersion) =>
        formatOciReference({
          registry: dstBase.registry,
          repository: dstBase.repository ? `${dstBase.repository}/${v.name}` : v.name,
          tag: tagFromVersion(v.version),
        });
      // A version listed twice goes to one tag: settled before anything is pushed.
      const decided = await settleDuplicates(source, staging, referenceOf);
      onStart(source.versions.length);
      return runBatch(
        source.versions,
        jobs,
        (v) => {
          const settled = decided.get(v);
          return settled ? Promise.resolve(settled) : mirrorClassicVersion(ctx, v);
        },
        (v, error) => failedResult(v, error),
        onResult,
      );
    });
    return summary(
      opts,
      {
        source: source.display,
        sourceKind: spec.local ? 'folder' : 'repository',
        destination: formatOciReference(dstBase),
        signatures,
        warnings,
      },
      results,
    );
  } finally {
    await source.close();
    await rm(staging, { recursive: true, force: true });
  }
}

function summary(
  opts: MirrorChartsOptions,
  head: Pick<MirrorResult, 'source' | 'sourceKind' | 'destination' | 'signatures' | 'warnings'>,
  results: MirrorVersionResult[],
): MirrorResult {
  const totals = { total: results.length, copied: 0, skipped: 0, unsigned: 0, invalid: 0, refused: 0, failed: 0 };
  for (const r of results) totals[r.status]++;
  return { ...head, dryRun: Boolean(opts.dryRun), attach: Boolean(opts.attach), totals, results };
}

function pickTls(o: CopySideOptions): CopySideOptions {
  return definedOnly({ caFile: o.caFile, certFile: o.certFile, keyFile: o.keyFile, insecureSkipTlsVerify: o.insecureSkipTlsVerify });
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * One client per side with its own connection settings; one for both on the same registry (mounts, one token cache).
 * CHARTPROV_USERNAME/PASSWORD log in to the destination: the source gets them only when CHARTPROV_REGISTRY names it.
 */
async function withClients<T>(
  opts: MirrorChartsOptions,
  srcRegistry: string,
  dstRegistry: string,
  fn: (src: RegistryClient, dst: RegistryClient) => Promise<T>,
): Promise<T> {
  const srcOpts = { ...opts, ...definedOnly(opts.sourceOptions), registries: mirrorEnvRegistries('source', srcRegistry, dstRegistry) };
  const dstOpts = {
    ...opts,
    ...definedOnly(opts.destinationOptions),
    registries: mirrorEnvRegistries('destination', srcRegistry, dstRegistry),
  };
  if (opts.client) return fn(opts.client, opts.client);
  if (srcRegistry === dstRegistry) return withRegistryClient(srcOpts, (client) => fn(client, client));
  return withRegistryClient(srcOpts, (src) => withRegistryClient(dstOpts, (dst) => fn(src, dst)));
}

/**
 * The registries a side's client may send CHARTPROV_USERNAME/PASSWORD to
 * (RegistryOptions.registries; CHARTPROV_REGISTRY, when set, decides instead):
 * the destination's, never the source's — the source is someone else's
 * registry unless it is the destination's own.
 */
export function mirrorEnvRegistries(side: 'source' | 'destination', srcRegistry: string, dstRegistry: string): string[] {
  if (side === 'destination' || srcRegistry === dstRegistry) return [dstRegistry];
  return [];
}
