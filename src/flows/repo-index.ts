/**
 * A classic Helm chart repository's `index.yaml`, read as Helm reads it
 * (helm pkg/repo: loadIndex, IndexFile.Get, ResolveReferenceURL): entries
 * with a bad name or version are skipped, versions sorted highest first,
 * `--version` matched exactly first and then as a Masterminds constraint, and
 * relative chart URLs resolved against the repository URL. Pure: text in,
 * values out; fetching lives in classic-repo.ts.
 */
import { parse } from 'yaml';
import { ChartNotFoundError, RepoIndexInvalidError, VersionNotFoundError } from '../errors.js';
import { listed, versionConstraints } from '../oci/version.js';
import { compareVersions, parseLooseVersion, satisfies, type HelmMajor } from '../oci/masterminds-semver.js';

/** index.yaml files of the largest public repositories are tens of MiB; more is refused before parsing. */
export const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface IndexEntry {
  name: string;
  version: string;
  /** As listed: absolute or relative to the repository URL. */
  urls: string[];
  /** Hex sha256 of the archive, when the index gives a well-formed one. */
  digest?: string;
  appVersion?: string;
  description?: string;
}

export interface RepoIndex {
  apiVersion: string;
  /** Chart name → versions, highest first (Helm's SortEntries). Only the charts asked for when parsed for some. */
  entries: Map<string, IndexEntry[]>;
  /** Every chart name the index holds (for messages). */
  names: string[];
  /** Entries Helm would skip too, with the reason. */
  skipped: string[];
}

/**
 * Parses index.yaml (or its JSON form). Every scalar is read as a string
 * (YAML's failsafe schema), as Go reads them into Helm's string fields: a
 * `version: 1.10` stays "1.10", not the number 1.1.
 *
 * With `only`, just those charts' entries are read (`names` still lists
 * every chart): the yaml package needs about a second per MiB, and the
 * index of a large repository is tens of MiB while a pull needs one chart.
 * The cut is made only for the layout Go writes (helm repo index,
 * ChartMuseum, Harbor); any other text is parsed whole.
 */
export function parseRepoIndex(text: string, source: string, only?: readonly string[]): RepoIndex {
  if (text.trim() === '') throw new RepoIndexInvalidError(`${source} is empty`);
  const cut = only && !/^\s*\{/.test(text) ? cutEntries(text, only) : undefined;
  let doc: unknown;
  try {
    // JSON first, as Helm does: much faster for the large JSON indexes some servers write.
    doc = /^\s*\{/.test(text) ? jsonOrUndefined(text) : undefined;
    doc ??= parse(cut?.text ?? text, { schema: 'failsafe', prettyErrors: false });
  } catch (err) {
    throw new RepoIndexInvalidError(`${source} is not YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (!isMap(doc)) {
    const looksHtml = /^\s*</.test(text);
    throw new RepoIndexInvalidError(
      `${source} is not a chart repository index${looksHtml ? ' (the server sent an HTML page)' : ' (not a YAML mapping)'}`,
    );
  }
  if (typeof doc.apiVersion !== 'string' || doc.apiVersion === '' || doc.apiVersion === '~') {
    throw new RepoIndexInvalidError(`${source} is not a chart repository index: no apiVersion`);
  }
  const entries = new Map<string, IndexEntry[]>();
  const skipped: string[] = [];
  const raw = doc.entries === undefined || doc.entries === '' ? {} : doc.entries;
  if (!isMap(raw)) throw new RepoIndexInvalidError(`${source} is not a chart repository index: entries is not a mapping`);
  for (const [name, list] of Object.entries(raw)) {
    const versions: IndexEntry[] = [];
    for (const item of Array.isArray(list) ? list : []) {
      const entry = readEntry(item);
      if (typeof entry === 'string') skipped.push(`${name}: ${entry}`);
      else versions.push(entry);
    }
    entries.set(name, sortedHighestFirst(versions));
  }
  return { apiVersion: doc.apiVersion, entries, names: cut?.names ?? [...entries.keys()], skipped };
}

/**
 * The top-level fields of a Go-written index plus the blocks of the charts
 * named, as a small YAML text; undefined when the text is not laid out that
 * way (then it is parsed whole). Go writes a column-0 `entries:`, each chart
 * name as a key one indentation level in, its list items at that same level
 * (`  - apiVersion: …`) and everything inside them deeper.
 */
function cutEntries(text: string, only: readonly string[]): { text: string; names: string[] } | undefined {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^entries:[ \t]*(#.*)?$/.test(l));
  if (start < 0 || lines.some((l) => /^(---|\.\.\.)(\s|$)/.test(l) && l !== lines[0])) return undefined;
  let end = start + 1;
  while (end < lines.length && !/^[^\s#]/.test(lines[end]!)) end++;
  const names: string[] = [];
  const seen = new Set<string>();
  const blocks = new Map<string, string[]>();
  let indent = -1;
  let current: string[] | undefined;
  for (let i = start + 1; i < end; i++) {
    const line = lines[i]!;
    const content = line.trimStart();
    if (content === '' || content.startsWith('#')) continue;
    const at = line.length - content.length;
    if (line.slice(0, at).includes('\t')) return undefined;
    if (indent < 0) indent = at;
    if (at < indent) return undefined;
    if (at === indent && !/^-(\s|$)/.test(content)) {
      // A chart name: plain, or quoted without escapes; anything fancier is left to the full parse.
      const m = /^(?:([A-Za-z0-9_][A-Za-z0-9_.\-/]*)|"([^"\\]*)"|'([^']*)'):[ \t]*(#.*)?$/.exec(content);
      if (!m) return undefined;
      const name = m[1] ?? m[2] ?? m[3]!;
      if (seen.has(name)) return undefined;
      seen.add(name);
      names.push(name);
      current = only.includes(name) ? [line] : undefined;
      if (current) blocks.set(name, current);
      continue;
    }
    if (indent < 0 || names.length === 0) return undefined;
    current?.push(line);
  }
  const kept = [...lines.slice(0, start), 'entries:', ...[...blocks.values()].flat(), ...lines.slice(end)];
  return { text: kept.join('\n'), names };
}

/** An index made from entries found some other way (a folder's archives), as `helm repo index` would list them. */
export function buildRepoIndex(found: readonly IndexEntry[], skipped: string[] = []): RepoIndex {
  const byName = new Map<string, IndexEntry[]>();
  for (const entry of found) {
    if (!parseLooseVersion(entry.version)) {
      skipped.push(`${entry.name}: chart.metadata.version ${JSON.stringify(entry.version)} is invalid`);
      continue;
    }
    byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
  }
  const entries = new Map([...byName].map(([name, versions]) => [name, sortedHighestFirst(versions)] as const));
  return { apiVersion: 'v1', entries, names: [...entries.keys()], skipped };
}

/** Helm's SortEntries: highest version first (versions equal but for build metadata keep their order). */
function sortedHighestFirst(versions: readonly IndexEntry[]): IndexEntry[] {
  return versions
    .map((entry) => ({ entry, parsed: parseLooseVersion(entry.version)! }))
    .sort((a, b) => compareVersions(b.parsed, a.parsed))
    .map((v) => v.entry);
}

/** One `entries.<name>[i]`: the entry, or why Helm skips it (chart Metadata.Validate's checks). */
function readEntry(item: unknown): IndexEntry | string {
  if (!isMap(item)) return 'empty entry';
  const name = str(item.name);
  const version = str(item.version);
  if (!name) return 'chart.metadata.name is required';
  if (/[/\\]/.test(name)) return `chart.metadata.name ${JSON.stringify(name)} is invalid`;
  if (!version) return 'chart.metadata.version is required';
  if (!parseLooseVersion(version)) return `chart.metadata.version ${JSON.stringify(version)} is invalid`;
  const type = str(item.type);
  if (type && type !== 'application' && type !== 'library') return `${version}: chart.metadata.type must be application or library`;
  const urls = Array.isArray(item.urls) ? item.urls.filter((u): u is string => typeof u === 'string' && u !== '') : [];
  const digest = str(item.digest)
    ?.toLowerCase()
    .replace(/^sha256:/, '');
  return {
    name,
    version,
    urls,
    ...(digest && /^[0-9a-f]{64}$/.test(digest) ? { digest } : {}),
    ...(str(item.appVersion) ? { appVersion: str(item.appVersion) } : {}),
    ...(str(item.description) ? { description: str(item.description) } : {}),
  };
}

export interface PickVersionOptions {
  /** Prerelease rule of Helm 4 (default) or Helm 3; see masterminds-semver.ts. */
  helm?: HelmMajor;
  /** The repository, for messages. */
  repository: string;
}

/**
 * IndexFile.Get: no version → the highest release (prereleases skipped, as
 * `*` does); a version equal to a listed one → that one; otherwise the
 * highest meeting the constraint.
 */
export function pickIndexVersion(index: RepoIndex, name: string, version: string | undefined, opts: PickVersionOptions): IndexEntry {
  const versions = index.entries.get(name);
  if (!versions) {
    const names = [...index.names].sort();
    const holds = names.length ? `it holds ${listed(names)}` : 'it holds no charts';
    throw new ChartNotFoundError(`chart ${JSON.stringify(name)} not found in ${opts.repository} (${holds})`, {
      hint: names.length ? 'check the chart name against the ones listed' : 'check the --repo URL',
    });
  }
  const wanted = version ?? '';
  if (wanted !== '') {
    const exact = versions.find((v) => v.version === wanted);
    if (exact) return exact;
  }
  const constraints = versionConstraints(wanted);
  const match = versions.find((v) => satisfies(parseLooseVersion(v.version)!, constraints, opts.helm ?? 4));
  if (match) return match;
  const where = `${name} in ${opts.repository}`;
  if (versions.length === 0) throw new VersionNotFoundError(`no versions of ${where}`, { hint: 'check the --repo URL and the chart name' });
  const available = `available: ${listed(versions.map((v) => v.version))}`;
  if (wanted === '') {
    throw new VersionNotFoundError(`no release version of ${where}, only prereleases (${available})`, {
      hint: 'ask for one with --version, e.g. --version ">=0.0.0-0" for the highest prerelease',
    });
  }
  throw new VersionNotFoundError(`no version of ${where} matches "${wanted}" (${available})`, {
    hint: 'pick one of the versions listed, or a range such as ^1.2',
  });
}

/**
 * Helm's ResolveReferenceURL: an absolute URL is used as is; a relative one
 * is resolved against the repository URL read as a folder (a trailing `/`
 * added), and takes the repository URL's query string (Helm keeps signed or
 * tokenised repository URLs working that way).
 */
export function resolveReferenceUrl(repoUrl: string | URL, ref: string): URL {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(ref)) {
    const url = new URL(ref);
    // A remote index must not make us read this machine's files.
    if (url.protocol === 'file:' && new URL(repoUrl).protocol !== 'file:')
      throw new RepoIndexInvalidError(`the repository index points at a local file (${url.href}); only a file: repository may`, {
        hint: 'the index.yaml of this repository is wrong or hostile; do not use it',
      });
    return url;
  }
  const base = new URL(repoUrl);
  base.pathname = `${base.pathname.replace(/\/$/, '')}/`;
  const resolved = new URL(ref, base);
  resolved.search = base.search;
  resolved.hash = '';
  return resolved;
}

/** Where index.yaml is for a repository URL (Helm: ResolveReferenceURL(url, "index.yaml")). */
export function indexUrlFor(repoUrl: string | URL): URL {
  return resolveReferenceUrl(repoUrl, 'index.yaml');
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A scalar as Go would read it into a string field: YAML's null forms are empty. */
function str(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return v === '~' || v === 'null' || v === 'Null' || v === 'NULL' ? undefined : v;
}
