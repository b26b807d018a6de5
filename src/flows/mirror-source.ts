/**
 * Where `chartprov mirror` reads charts from: a classic chart repository
 * (index.yaml over http(s), as ChartMuseum and Harbor ≤ 2.7 serve it), a
 * local folder of `*.tgz` + `*.tgz.prov` (with or without index.yaml), or an
 * OCI repository (every tag of one chart). Each source lists its versions up
 * front and hands out, per version, the archive and its `.prov`; the classic
 * kinds go through the same index reading, downloads and credential rules as
 * `pull --repo`.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readChartArchive, type ChartArchiveInfo } from '../chart/archive.js';
import { MAX_CHART_BYTES } from '../chart/tar-read.js';
import {
  ChartArchiveError,
  ChartNotFoundError,
  DigestMismatchError,
  FileNotFoundError,
  ProvenanceInvalidError,
  UsageError,
} from '../errors.js';
import { parseOciReference, type OciReference } from '../oci/reference.js';
import type { TlsOptions } from '../oci/transport.js';
import { DEFAULT_MAX_PROV_BYTES } from '../provenance/parse.js';
import { HttpGetter, traced } from './http-get.js';
import { provUrlBeside } from './prov-source.js';
import { credentialsFor, loadRepoIndex, repositoryUrl, type RepoLoginOptions } from './repo-fetch.js';
import { resolveReferenceUrl } from './repo-index.js';

/** What the user named as SRC, before anything is read. */
export type MirrorSourceSpec = { kind: 'repository'; url: URL; local: boolean } | { kind: 'oci'; ref: OciReference };

/**
 * `oci://host/path/name` → an OCI repository; `http(s)://…` and `file:…` →
 * a chart repository; anything else is a local folder (or its index.yaml).
 */
export async function parseMirrorSource(text: string): Promise<MirrorSourceSpec> {
  if (/^oci:\/\//i.test(text)) {
    const ref = parseOciReference(text, { requireScheme: true });
    if (ref.tag || ref.digest) {
      throw new UsageError(`mirror copies every version of a chart; ${text} names one`, {
        hint: 'give oci://HOST/PATH/NAME (all its versions), or use chartprov copy for one version',
      });
    }
    return { kind: 'oci', ref };
  }
  if (/^(https?|file):/i.test(text)) {
    const url = repositoryUrl(text);
    return { kind: 'repository', url, local: url.protocol === 'file:' };
  }
  const path = resolve(text);
  const st = await stat(path).catch(() => undefined);
  if (!st)
    throw new FileNotFoundError(path, 'chart folder', {
      hint: 'give a folder of CHART.tgz (+ .prov) files, an http(s):// chart repository or oci://…',
    });
  // A path to index.yaml is read as its folder, as --repo URLs are.
  const dir = st.isDirectory() ? path : join(path, '..');
  return { kind: 'repository', url: pathToFileURL(`${dir}/`), local: true };
}

/** One chart version a classic source lists. */
export interface ClassicVersion {
  name: string;
  version: string;
  chartUrl: URL;
  /** The archive's sha256 (hex) as the index lists it: a re-run can tell it is mirrored without downloading. */
  indexDigest?: string;
  /** For messages: the URL (without query) or the path. */
  location: string;
}

export interface ClassicSourceOptions extends TlsOptions, RepoLoginOptions {
  trace?: (line: string) => void;
  /** How long the repository may stay silent per request (default 5 min). */
  timeoutMs?: number;
}

/**
 * The source's login: --username/--password only. Unlike pull --repo, a
 * mirror never falls back to CHARTPROV_USERNAME/CHARTPROV_PASSWORD for its
 * source: those log in to the destination registry, and must not be sent to
 * the repository the charts come from.
 */
function sourceCredentials(opts: ClassicSourceOptions, url: URL): ReturnType<typeof credentialsFor> {
  if (opts.username === undefined && opts.password === undefined) return {};
  return credentialsFor(opts, url.protocol === 'file:' ? [] : [url.origin]);
}

/** A fetched archive: on this machine, read once (metadata and sha256 of the same bytes). */
export interface FetchedArchive {
  path: string;
  info: ChartArchiveInfo;
  /** Downloaded into the staging folder (removed after use); false for a local file read in place. */
  temporary: boolean;
}

/**
 * A chart repository or a local folder: its index read once, one connection
 * pool; archives downloaded (or read in place, for a local folder) one at a
 * time per version, each `.prov` fetched from beside its archive.
 */
export class ClassicSource {
  private constructor(
    readonly url: URL,
    readonly display: string,
    readonly versions: ClassicVersion[],
    private readonly getter: HttpGetter,
  ) {}

  static async open(url: URL, opts: ClassicSourceOptions): Promise<ClassicSource> {
    const getter = new HttpGetter({ ...opts, ...sourceCredentials(opts, url) });
    try {
      const loaded = await loadRepoIndex(getter, url);
      const versions: ClassicVersion[] = [];
      for (const [name, entries] of loaded.index.entries) {
        for (const e of [...entries].reverse()) {
          if (e.urls.length === 0) continue;
          const chartUrl = resolveReferenceUrl(loaded.repoUrl, e.urls[0]!);
          versions.push({
            name,
            version: e.version,
            chartUrl,
            ...(e.digest ? { indexDigest: e.digest } : {}),
            location: chartUrl.protocol === 'file:' ? fileURLToPath(chartUrl) : traced(chartUrl),
          });
        }
      }
      const display = url.protocol === 'file:' ? fileURLToPath(url) : traced(url);
      return new ClassicSource(url, display, versions, getter);
    } catch (err) {
      await getter.close();
      throw err;
    }
  }

  /** The archive, checked against the index's digest: a local file in place, else downloaded into `staging`. */
  async archive(v: ClassicVersion, staging: string, slot: number): Promise<FetchedArchive> {
    let path: string;
    let temporary = false;
    if (v.chartUrl.protocol === 'file:') {
      path = fileURLToPath(v.chartUrl);
      if (!(await stat(path).catch(() => undefined)))
        throw new ChartNotFoundError(`the index lists ${v.name} ${v.version} at ${path}, but it is not there`, {
          hint: 'regenerate index.yaml (helm repo index), or remove it to have the folder read as it is',
        });
    } else {
      path = join(staging, `${slot}.tgz`);
      temporary = true;
      const got = await this.getter.toFile(v.chartUrl, path, {
        what: `download ${v.name} ${v.version}`,
        maxBytes: MAX_CHART_BYTES,
        tooLarge: (size) =>
          new ChartArchiveError(`${v.location} is ${size} bytes or more, larger than a chart may be (${MAX_CHART_BYTES})`),
      });
      if (!got)
        throw new ChartNotFoundError(`the index lists ${v.name} ${v.version} at ${v.location}, but it is not there`, {
          hint: "the repository's index is out of date: tell its maintainer",
        });
    }
    const info = await readChartArchive(path);
    if (v.indexDigest && v.indexDigest !== info.sha256) {
      throw new DigestMismatchError(`${v.location} has sha256 ${info.sha256}, but the index lists ${v.indexDigest}`, {
        hint: 'the archive or the index was changed on the server: do not mirror it; tell the repository maintainer',
      });
    }
    return { path, info, temporary };
  }

  /** The text of `<chart-url>.prov`, or undefined when there is none. */
  async prov(v: ClassicVersion): Promise<{ text: string; location: string } | undefined> {
    const url = provUrlBeside(v.chartUrl);
    const location = url.protocol === 'file:' ? fileURLToPath(url) : traced(url);
    const bytes = await this.getter.bytes(url, {
      what: `download the .prov of ${v.name} ${v.version}`,
      maxBytes: DEFAULT_MAX_PROV_BYTES,
      tooLarge: (size) => new ProvenanceInvalidError(`${location} is ${size} bytes or more, larger than any provenance file`),
    });
    return bytes ? { text: bytes.toString('utf8'), location } : undefined;
  }

  close(): Promise<void> {
    return this.getter.close();
  }
}
