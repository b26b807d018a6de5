/**
 * Finding charts in a classic chart repository: its index (index.yaml over
 * http(s) or file:, or for a `file:` folder without one, built from the
 * archives as `helm repo index` would), the URLs a user gives, and which
 * hosts may receive the repository's credentials.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readChartArchive } from '../chart/archive.js';
import { ChartNotFoundError, ChartprovError, FileNotFoundError, FileReadError, RepoIndexInvalidError, UsageError } from '../errors.js';
import { normalizeRegistryHost } from '../oci/credentials/host.js';
import { HttpGetter, traced, type BasicCredential } from './http-get.js';
import { MAX_INDEX_BYTES, buildRepoIndex, indexUrlFor, parseRepoIndex, type IndexEntry, type RepoIndex } from './repo-index.js';

export interface LoadedIndex {
  index: RepoIndex;
  /** The repository URL relative chart URLs resolve against. */
  repoUrl: URL;
  /** Where the index came from: its URL, or the folder read in its place. */
  source: string;
  /** True when a `file:` folder had no index.yaml and its archives were read instead. */
  scanned: boolean;
}

/**
 * A repository's index: its index.yaml (at most 64 MiB), or for a `file:`
 * folder without one, its archives. With `only`, index.yaml is read for
 * those charts alone (much faster on a large index; `names` still lists all).
 */
export async function loadRepoIndex(getter: HttpGetter, repoUrl: URL, only?: readonly string[]): Promise<LoadedIndex> {
  const indexUrl = indexUrlFor(repoUrl);
  const shown = traced(indexUrl);
  const bytes = await getter.bytes(indexUrl, {
    what: 'download index.yaml',
    maxBytes: MAX_INDEX_BYTES,
    tooLarge: (size) => new RepoIndexInvalidError(`${shown} is ${size} bytes or more, larger than the ${MAX_INDEX_BYTES} allowed`),
  });
  if (bytes) return { index: parseRepoIndex(utf8(bytes, shown), shown, only), repoUrl, source: shown, scanned: false };
  if (repoUrl.protocol === 'file:') {
    const dir = fileURLToPath(repoUrl);
    return { index: await indexFolder(dir), repoUrl, source: dir, scanned: true };
  }
  throw new ChartNotFoundError(`no chart repository at ${traced(repoUrl)}: ${shown} was not found`, {
    hint: 'check the --repo URL: it must be the folder that holds index.yaml',
  });
}

/** What `helm repo index DIR` would list, read from the archives themselves; unreadable ones are skipped. */
async function indexFolder(dir: string): Promise<RepoIndex> {
  const top = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new FileNotFoundError(dir, 'chart repository folder');
    throw new FileReadError(dir, 'chart repository folder', { cause: err });
  });
  const archives: string[] = [];
  for (const entry of top) {
    if (entry.isFile() && entry.name.endsWith('.tgz')) archives.push(entry.name);
    if (entry.isDirectory()) {
      const inner = await readdir(join(dir, entry.name), { withFileTypes: true }).catch(() => []);
      for (const file of inner) if (file.isFile() && file.name.endsWith('.tgz')) archives.push(`${entry.name}/${file.name}`);
    }
  }
  const skipped: string[] = [];
  const found: IndexEntry[] = [];
  for (const relative of archives.sort()) {
    try {
      const { metadata, sha256 } = await readChartArchive(join(dir, relative));
      found.push({
        name: metadata.name,
        version: metadata.version,
        urls: [relative.split('/').map(encodeURIComponent).join('/')],
        digest: sha256,
      });
    } catch (err) {
      if (!(err instanceof ChartprovError)) throw err;
      skipped.push(`${relative}: ${err.message}`);
    }
  }
  return buildRepoIndex(found, skipped);
}

/** `--repo` as given; a URL naming index.yaml itself is read as its folder. */
export function repositoryUrl(text: string): URL {
  const url = parseUrl(text, '--repo');
  if (/\/index\.yaml$/.test(url.pathname)) url.pathname = url.pathname.replace(/index\.yaml$/, '');
  return url;
}

export function chartArchiveUrl(text: string): URL {
  if (!/^(https?|file):/i.test(text)) {
    throw new UsageError(`${text} is neither an oci:// reference nor a chart URL`, {
      hint: 'give --repo URL to pull a chart by name from a chart repository, or the chart archive’s http(s):// or file: URL',
    });
  }
  return parseUrl(text, 'chart URL');
}

function parseUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what} ${JSON.stringify(text)} is not a URL`, {
      hint: 'write it as https://HOST/PATH, http://… or file:///PATH',
    });
  }
  if (!['http:', 'https:', 'file:'].includes(url.protocol)) {
    throw new UsageError(`${what} must be http://, https:// or file:, not ${url.protocol}`, {
      hint: 'OCI registries are pulled as oci://HOST/PATH/NAME, without --repo',
    });
  }
  if (url.username || url.password) {
    throw new UsageError(`${what} holds credentials`, { hint: 'pass --username and --password-stdin instead of putting them in the URL' });
  }
  return url;
}

/**
 * The Basic credential and where it may go: --username/--password, else
 * CHARTPROV_USERNAME/CHARTPROV_PASSWORD — those only for the hosts the
 * command names (and, when CHARTPROV_REGISTRY is set, only those it lists).
 */
export function credentialsFor(
  opts: Pick<RepoLoginOptions, 'username' | 'password' | 'passCredentials' | 'env'>,
  origins: string[],
): { credential?: BasicCredential; credentialOrigins?: readonly string[] | 'all' } {
  const env = opts.env ?? process.env;
  if (opts.username !== undefined || opts.password !== undefined) {
    if (!opts.username || opts.password === undefined) {
      throw new UsageError('a repository login needs both a user name and a password', { hint: 'pass --username USER --password-stdin' });
    }
    return { credential: { username: opts.username, password: opts.password }, credentialOrigins: opts.passCredentials ? 'all' : origins };
  }
  const { CHARTPROV_USERNAME: username, CHARTPROV_PASSWORD: password } = env;
  if (!username || !password) return {};
  const named = env.CHARTPROV_REGISTRY?.split(',')
    .map((h) => h.trim())
    .filter(Boolean)
    .map((h) => normalizeRegistryHost(h));
  const listed = named?.length ? origins.filter((o) => o !== 'null' && named.includes(normalizeRegistryHost(new URL(o).host))) : origins;
  // Credentials from the environment are meant for registries: never in clear text, except to this machine.
  const allowed = listed.filter((o) => o !== 'null' && (o.startsWith('https:') || isLoopbackOrigin(o)));
  if (allowed.length === 0) return {};
  return { credential: { username, password }, credentialOrigins: allowed };
}

function isLoopbackOrigin(origin: string): boolean {
  const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function utf8(bytes: Buffer, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (err) {
    throw new RepoIndexInvalidError(`${source} is not UTF-8 text`, { cause: err });
  }
}

export interface RepoLoginOptions {
  username?: string;
  password?: string;
  passCredentials?: boolean;
  env?: NodeJS.ProcessEnv;
}
