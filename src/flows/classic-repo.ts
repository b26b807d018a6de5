/**
 * `chartprov pull CHART --repo URL` and `chartprov pull https://…/chart.tgz`:
 * classic Helm chart repositories (index.yaml + archives + .prov files over
 * HTTP, as ChartMuseum, GitHub Pages or any web server serve them, or a
 * `file:` folder) as a pull source, with the OCI pull's guarantees: the
 * archive streams into a private staging folder, is checked against the
 * index's digest and, with --verify, against a signature that holds, and
 * only then appears at the destination, with its prov, in one move.
 *
 * A `file:` folder with an index.yaml is read through it, as a web server
 * serving that folder would be; a folder without one is indexed on the fly
 * from its archives (`*.tgz` and `*\/*.tgz`, as `helm repo index` finds them).
 */
import { mkdir, rename } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { PublicKey } from 'openpgp';
import { readChartArchive } from '../chart/archive.js';
import { MAX_CHART_BYTES } from '../chart/tar-read.js';
import { ChartArchiveError, ChartNotFoundError, DigestMismatchError, UsageError } from '../errors.js';
import { toWriteError } from '../fs/atomic-write.js';
import { placePulledChart } from './place-pulled-chart.js';
import { withStagingDir } from '../fs/staging.js';
import type { HelmMajor } from '../oci/masterminds-semver.js';
import type { TlsOptions } from '../oci/transport.js';
import { HttpGetter, traced } from './http-get.js';
import type { CodedError } from './pool.js';
import { runBatch } from './pool.js';
import { chartUrlProvCandidate, givenProvCandidate, settleProvenance, type ProvSource } from './prov-source.js';
import type { PullChartResult } from './pull-chart.js';
import { chartArchiveUrl, credentialsFor, loadRepoIndex, repositoryUrl, type LoadedIndex } from './repo-fetch.js';
import { pickIndexVersion, resolveReferenceUrl, type IndexEntry } from './repo-index.js';

export interface RepoPullOptions extends TlsOptions {
  /**
   * The chart repository (http://, https:// or file:), as `helm pull --repo`:
   * the charts are then names in its index.yaml. Without it, each chart is
   * the URL of an archive.
   */
  repoUrl?: string;
  /** Exact version or SemVer range (Helm's `--version`); default the highest release. Only with `repoUrl`. */
  version?: string;
  /** Folder for the archive and its prov (default the current folder; created if missing). */
  destination?: string;
  /** Write nothing unless a prov's signature verifies with a key of `keyrings`. */
  verify?: boolean;
  keyrings?: string[];
  keys?: PublicKey[];
  untar?: boolean;
  /** Where to unpack; relative to `destination` unless absolute. */
  untarDir?: string;
  /** Basic auth for the repository (or the chart URLs' hosts); default CHARTPROV_USERNAME/CHARTPROV_PASSWORD. */
  username?: string;
  password?: string;
  /** Send the credentials to every host the index points at, not only the repository's (Helm's --pass-credentials). */
  passCredentials?: boolean;
  /** A .prov to verify with, tried before `<chart-url>.prov` (single chart). */
  provFile?: string;
  provUrl?: string;
  /** Prerelease rule for ranges: Helm 4 (default) or 3. */
  helm?: HelmMajor;
  env?: NodeJS.ProcessEnv;
  /** One line per HTTP exchange (`--debug`). */
  trace?: (line: string) => void;
  /** How long the repository may stay silent (no answer, no data) per request (default 5 min). */
  timeoutMs?: number;
  now?: Date;
}

/** A pulled chart, as `pullChart` reports one; `reference` is the archive's URL, `digest` its sha256. */
export interface RepoPullResult extends PullChartResult {
  chartUrl: string;
  /** The repository the chart was found in (with `repoUrl`). */
  repository?: string;
  /** Where the prov written beside the chart came from. */
  provenance?: { source: ProvSource; location: string };
}

export async function pullRepoChart(opts: RepoPullOptions & { chart: string }): Promise<RepoPullResult> {
  const session = await openSession(opts, [opts.chart]);
  try {
    return await session.pull(opts.chart);
  } finally {
    await session.close();
  }
}

export interface RepoPullChartsOptions extends RepoPullOptions {
  /** Chart names (with `repoUrl`) or archive URLs. */
  charts: string[];
  /** Charts pulled at once (default 8). */
  jobs?: number;
  onResult?: (result: RepoPullBatchResult, done: number, total: number) => void;
}

export type RepoPullBatchResult = ({ ok: true; ref: string } & RepoPullResult) | { ok: false; ref: string; error: CodedError };

export interface RepoPullChartsResult {
  pulled: number;
  failed: number;
  results: RepoPullBatchResult[];
}

/**
 * Many charts: the index read once, one connection pool, keys read once. One
 * chart's failure is reported and the rest go on; each chart is written only
 * once complete (and verified).
 */
export async function pullRepoCharts(opts: RepoPullChartsOptions): Promise<RepoPullChartsResult> {
  const session = await openSession(opts, opts.charts);
  try {
    const results = await runBatch(
      opts.charts,
      opts.jobs ?? 8,
      async (chart): Promise<RepoPullBatchResult> => ({ ok: true, ref: chart, ...(await session.pull(chart)) }),
      (chart, error): RepoPullBatchResult => ({ ok: false, ref: chart, error }),
      opts.onResult,
    );
    const pulled = results.filter((r) => r.ok).length;
    return { pulled, failed: results.length - pulled, results };
  } finally {
    await session.close();
  }
}

interface Session {
  pull(chart: string): Promise<RepoPullResult>;
  close(): Promise<void>;
}

/** Checks the options, then holds what the charts of one call share: connections, keys, the index. */
async function openSession(opts: RepoPullOptions, charts: readonly string[]): Promise<Session> {
  if (charts.length === 0) throw new UsageError('no chart to pull', { hint: 'give one or more chart names with --repo, or chart URLs' });
  if ((opts.provFile !== undefined || opts.provUrl !== undefined) && charts.length > 1) {
    throw new UsageError('--prov-file and --prov-url apply to a single chart', { hint: 'pull the charts one at a time' });
  }
  const repo = opts.repoUrl === undefined ? undefined : repositoryUrl(opts.repoUrl);
  const targets = repo ? undefined : charts.map(chartArchiveUrl);
  if (targets && opts.version) {
    throw new UsageError(`--version ${opts.version} needs --repo: a chart URL already names one archive`, {
      hint: 'give --repo URL CHART --version V, or the URL of the version you want',
    });
  }
  if (repo) {
    const bad = charts.find((c) => c === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(c));
    if (bad !== undefined) {
      throw new UsageError(`with --repo, give chart names, not ${JSON.stringify(bad)}`, { hint: 'e.g. chartprov pull mychart --repo URL' });
    }
  }
  const given = givenProvCandidate(opts);
  const origins = repo ? [repo.origin] : [...new Set(targets!.map((u) => u.origin))];
  const keys = opts.verify ? (opts.keys ?? (await (await import('./verify-charts.js')).loadVerificationKeys(opts.keyrings))) : undefined;
  const getter = new HttpGetter({ ...opts, ...credentialsFor(opts, origins) });
  let index: Promise<LoadedIndex> | undefined;
  return {
    async pull(chart) {
      let located: Located;
      if (repo) {
        index ??= loadRepoIndex(getter, repo, charts);
        located = locate(await index, chart, opts);
      } else {
        located = { chartUrl: chartArchiveUrl(chart) };
      }
      return pullLocated(getter, located, opts, keys, given);
    },
    close: () => getter.close(),
  };
}

interface Located {
  chartUrl: URL;
  entry?: IndexEntry;
  repository?: string;
}

function locate(loaded: LoadedIndex, chart: string, opts: RepoPullOptions): Located {
  const repository = traced(loaded.repoUrl);
  const entry = pickIndexVersion(loaded.index, chart, opts.version, { repository, helm: opts.helm });
  if (entry.urls.length === 0) {
    throw new ChartNotFoundError(`${chart} ${entry.version} in ${repository} has no download URL in the index`, {
      hint: "the repository's index is incomplete: tell its maintainer",
    });
  }
  return { chartUrl: resolveReferenceUrl(loaded.repoUrl, entry.urls[0]!), entry, repository };
}

async function pullLocated(
  getter: HttpGetter,
  at: Located,
  opts: RepoPullOptions,
  keys: PublicKey[] | undefined,
  given: ReturnType<typeof givenProvCandidate>,
): Promise<RepoPullResult> {
  const destination = resolve(opts.destination ?? '.');
  const url = at.chartUrl;
  const shown = traced(url);
  await mkdir(destination, { recursive: true }).catch((err) => {
    throw toWriteError(destination, err);
  });
  return withStagingDir(destination, async (staging) => {
    const download = join(staging, 'download.tgz');
    const got = await getter.toFile(url, download, {
      what: `download ${at.entry ? `${at.entry.name} ${at.entry.version}` : shown}`,
      maxBytes: MAX_CHART_BYTES,
      tooLarge: (size) => new ChartArchiveError(`${shown} is ${size} bytes or more, larger than a chart may be (${MAX_CHART_BYTES})`),
    });
    if (!got) {
      throw new ChartNotFoundError(
        at.entry ? `${at.repository} lists ${at.entry.name} ${at.entry.version} at ${shown}, but it is not there` : `no chart at ${shown}`,
        { hint: at.entry ? "the repository's index is out of date: tell its maintainer" : 'check the URL' },
      );
    }
    if (at.entry?.digest && at.entry.digest !== got.sha256) {
      throw new DigestMismatchError(
        `${shown} has sha256 ${got.sha256}, but the index lists ${at.entry.digest} for ${at.entry.name} ${at.entry.version}`,
        {
          hint: 'the archive or the index was changed on the server: do not use it, and tell the repository maintainer',
        },
      );
    }
    const { name, version } = (await readChartArchive(download)).metadata;
    // Named after the chart inside, as the OCI pull does: the name its .prov lists.
    const fileName = `${name}-${version}.tgz`;
    if (/[/\\\0]/.test(fileName) || fileName.startsWith('.')) {
      throw new ChartArchiveError(`${shown}: the chart calls itself ${JSON.stringify(name)} ${JSON.stringify(version)}, not a file name`);
    }
    const staged = join(staging, fileName);
    await rename(download, staged);
    const prov = await settleProvenance({
      staged,
      keys,
      now: opts.now,
      chart: shown,
      candidates: [...(given ? [given] : []), chartUrlProvCandidate(getter, url)],
      missingHint:
        'the repository publishes no signature for this chart: ask for one (helm package --sign), or give it with --prov-file / --prov-url',
    });
    const result: RepoPullResult = {
      reference: url.href,
      chartUrl: url.href,
      ...(at.repository ? { repository: at.repository } : {}),
      digest: `sha256:${got.sha256}`,
      name,
      version,
      hasProvenance: Boolean(prov.bytes),
      warnings: [...mismatches(at, url, name, version), ...prov.warnings],
      ...(prov.source ? { provenance: { source: prov.source, location: prov.location! } } : {}),
      ...(prov.verified ? { verified: prov.verified } : {}),
    };
    Object.assign(
      result,
      await placePulledChart({ staged, destination, fileName, withProv: Boolean(prov.bytes), untar: opts.untar, untarDir: opts.untarDir }),
    );
    return result;
  });
}

/** A URL's file name as a person reads it; a malformed escape (`%zz`) is left as written. */
function decodedName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The index or the URL promised one chart and the archive is another: worth saying (the prov check catches forgeries). */
function mismatches(at: Located, url: URL, name: string, version: string): string[] {
  const warnings: string[] = [];
  if (at.entry && (at.entry.name !== name || at.entry.version !== version)) {
    warnings.push(`the index lists ${at.entry.name} ${at.entry.version} at ${traced(url)}, but the archive holds ${name} ${version}`);
  }
  const file = decodedName(basename(url.pathname));
  if (!at.entry && file !== `${name}-${version}.tgz`)
    warnings.push(`${traced(url)} holds ${name} ${version}: saved as ${name}-${version}.tgz`);
  return warnings;
}
