/**
 * Where a pulled chart's signature comes from, and which one counts. A pull
 * may find a `.prov` in several places: the chart's provenance layer, (for
 * OCI, later) its referrers and the fallback tag, a `--prov-url` or
 * `--prov-file` the user gives, and for classic repositories
 * `<chart-url>.prov` (the tutorial's Option 1). They are tried in order, each
 * fetched only when the ones before it did not verify; the first whose
 * signature holds for this very archive wins, is written beside the chart,
 * and the result says which place it came from.
 */
import { rm, writeFile } from 'node:fs/promises';
import type { PublicKey } from 'openpgp';
import { ChartprovError, FileNotFoundError, ProvenanceInvalidError, ProvenanceMissingError, UsageError } from '../errors.js';
import { readSmallFile } from '../fs/read-file.js';
import type { TlsOptions } from '../oci/transport.js';
import type { SignerInfo } from '../provenance/index.js';
import { DEFAULT_MAX_PROV_BYTES } from '../provenance/parse.js';
import { HttpGetter } from './http-get.js';

/**
 * The kinds of place a signature comes from. `referrer` and `fallback-tag`
 * are the OCI referrers sources (issue 7, item 3).
 */
export type ProvSource = 'provenance-layer' | 'referrer' | 'fallback-tag' | 'prov-url' | 'prov-file' | 'chart-url';

export interface ProvCandidate {
  source: ProvSource;
  /** Where exactly, for the user: a reference, a path or a URL. */
  location: string;
  /** The prov's bytes; undefined when there is none at that place. Throws when it cannot tell. */
  load(): Promise<Buffer | undefined>;
  /** Named by the user (--prov-file, --prov-url): a failure to load it is an error even without --verify. */
  explicit?: boolean;
}

/** Which place the verifying signature came from (also in `pull -o json`). */
export interface VerifiedProvenance {
  sha256: string;
  signer: SignerInfo;
  source: ProvSource;
  location: string;
}

/** A prov already in memory (a provenance layer fetched beside the chart). */
export function knownProv(source: ProvSource, location: string, bytes: Buffer): ProvCandidate {
  return { source, location, load: async () => bytes };
}

export interface GivenProvOptions extends TlsOptions {
  /** A .prov on disk. */
  provFile?: string;
  /** A .prov at an http(s):// or file: URL; fetched without any credentials. */
  provUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** `--debug` lines for the request. */
  trace?: (line: string) => void;
  /** How long the server may stay silent (default 5 min). */
  timeoutMs?: number;
}

/** The `--prov-file` / `--prov-url` candidate, or undefined when neither is given. Checks the options at once. */
export function givenProvCandidate(opts: GivenProvOptions): ProvCandidate | undefined {
  if (opts.provFile !== undefined && opts.provUrl !== undefined) {
    throw new UsageError('--prov-file and --prov-url are alternatives', { hint: 'give the .prov one way' });
  }
  if (opts.provFile !== undefined) {
    const path = opts.provFile;
    return { source: 'prov-file', location: path, explicit: true, load: () => readProvFile(path) };
  }
  if (opts.provUrl === undefined) return undefined;
  const url = parseProvUrl(opts.provUrl);
  return {
    source: 'prov-url',
    location: url.href,
    explicit: true,
    load: async () => {
      // Its own connection, never the registry's or repository's credentials: the .prov may live anywhere.
      const getter = new HttpGetter({
        caFile: opts.caFile,
        certFile: opts.certFile,
        keyFile: opts.keyFile,
        insecureSkipTlsVerify: opts.insecureSkipTlsVerify,
        env: opts.env,
        trace: opts.trace,
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        loginHint: '--prov-url never sends credentials: download the .prov yourself and pass it with --prov-file',
      });
      try {
        const bytes = await getter.bytes(url, provLimit(url.href, 'download the .prov'));
        if (!bytes) throw new ProvenanceMissingError(`no .prov at ${url.href} (not found)`, { hint: 'check the --prov-url' });
        return bytes;
      } finally {
        await getter.close();
      }
    },
  };
}

/** `<chart-url>.prov`, as `helm pull --verify` fetches it from a chart repository; none there is not an error here. */
export function chartUrlProvCandidate(getter: HttpGetter, chartUrl: URL): ProvCandidate {
  const url = provUrlBeside(chartUrl);
  return { source: 'chart-url', location: url.href, load: () => getter.bytes(url, provLimit(url.href, 'download the .prov')) };
}

/**
 * `.prov` appended to the path, the query kept. (Helm appends it to the whole
 * URL string, after any query, which breaks signed URLs.)
 */
export function provUrlBeside(chartUrl: URL): URL {
  const url = new URL(chartUrl);
  url.pathname = `${url.pathname}.prov`;
  url.hash = '';
  return url;
}

function parseProvUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--prov-url ${JSON.stringify(text)} is not a URL`, { hint: 'give an http://, https:// or file:// URL' });
  }
  if (!['http:', 'https:', 'file:'].includes(url.protocol)) {
    throw new UsageError(`--prov-url takes http://, https:// or file: URLs, not ${url.protocol}`, {
      hint: 'for a local file use --prov-file PATH',
    });
  }
  if (url.username || url.password)
    throw new UsageError('--prov-url holds credentials', {
      hint: '--prov-url never sends credentials: download the .prov yourself and pass it with --prov-file',
    });
  return url;
}

async function readProvFile(path: string): Promise<Buffer> {
  return readSmallFile(path, {
    what: 'provenance file',
    maxBytes: DEFAULT_MAX_PROV_BYTES,
    tooLarge: (size) => tooLarge(path, size),
    missing: () => new FileNotFoundError(path, 'provenance file', { hint: 'check the --prov-file path' }),
  });
}

function provLimit(where: string, what: string) {
  return { what, maxBytes: DEFAULT_MAX_PROV_BYTES, tooLarge: (size: number) => tooLarge(where, size) };
}

function tooLarge(where: string, size: number): ChartprovError {
  return new ProvenanceInvalidError(`${where} is ${size} bytes or more, larger than any provenance file (${DEFAULT_MAX_PROV_BYTES})`, {
    hint: 'point at the .prov made for this chart',
  });
}

export interface SettleProvenanceOptions {
  /** The staged archive, already named `<name>-<version>.tgz`; its prov is written to `<staged>.prov`. */
  staged: string;
  candidates: ProvCandidate[];
  /** With keys (--verify): only a prov that verifies counts. Without: the first there is. */
  keys?: PublicKey[];
  now?: Date;
  /** The chart as the user knows it, for messages. */
  chart: string;
  /** Hint when no place had a prov at all. */
  missingHint?: string;
}

export interface SettledProvenance {
  /** The prov now at `<staged>.prov`, if any. */
  bytes?: Buffer;
  source?: ProvSource;
  location?: string;
  /** Set when keys were given: the signature that holds. */
  verified?: VerifiedProvenance;
  /** Places tried before the one that counted, and why they did not. */
  warnings: string[];
}

interface Failure {
  candidate: ProvCandidate;
  /** Undefined: nothing there. */
  error?: ChartprovError;
  /** The prov was there but did not verify (as opposed to: could not be fetched). */
  verifying: boolean;
}

/**
 * Picks the chart's prov from the candidates, in order, and leaves it at
 * `<staged>.prov`. With keys, throws when none verifies: the error of the
 * first prov that was there but failed (the others named in its message),
 * else of the first that could not be fetched, else PROV_MISSING.
 */
export async function settleProvenance(opts: SettleProvenanceOptions): Promise<SettledProvenance> {
  const provPath = `${opts.staged}.prov`;
  const failures: Failure[] = [];
  const verifyChart = opts.keys ? (await import('./verify-charts.js')).verifyChart : undefined;
  for (const candidate of opts.candidates) {
    let bytes: Buffer | undefined;
    try {
      bytes = await candidate.load();
    } catch (err) {
      if (!(err instanceof ChartprovError) || (candidate.explicit && !opts.keys)) throw err;
      failures.push({ candidate, error: err, verifying: false });
      continue;
    }
    if (!bytes) {
      failures.push({ candidate, verifying: false });
      continue;
    }
    await writeFile(provPath, bytes, { mode: 0o644 });
    const from = { source: candidate.source, location: candidate.location };
    if (!verifyChart) return { bytes, ...from, warnings: warnings(failures) };
    try {
      const checked = await verifyChart({ chart: opts.staged, provPath, keys: opts.keys, now: opts.now });
      return { bytes, ...from, verified: { sha256: checked.sha256, signer: checked.signer, ...from }, warnings: warnings(failures) };
    } catch (err) {
      if (!(err instanceof ChartprovError)) throw err;
      failures.push({ candidate, error: err, verifying: true });
    }
  }
  await rm(provPath, { force: true });
  if (!opts.keys) return { warnings: warnings(failures) };
  throw failed(failures, opts);
}

function failed(failures: Failure[], opts: SettleProvenanceOptions): ChartprovError {
  const primary = failures.find((f) => f.verifying) ?? failures.find((f) => f.error);
  if (!primary) {
    const places = failures.map((f) => describe(f.candidate)).join(', ');
    return new ProvenanceMissingError(`no provenance for ${opts.chart}${places ? `: none at ${places}` : ''}`, {
      hint: opts.missingHint ?? 'give the .prov with --prov-file or --prov-url',
    });
  }
  const others = failures.filter((f) => f !== primary).map(explain);
  const error = primary.error!;
  // The failure keeps its class and code; the message says which prov it is about (unless the only
  // place was the chart's own provenance layer, as before there were other sources) and what else was tried.
  const only = failures.length === 1 && primary.candidate.source === 'provenance-layer';
  if (!only && !error.message.includes(primary.candidate.location)) error.message = `${describe(primary.candidate)}: ${error.message}`;
  if (others.length) error.message = `${error.message} (also tried ${others.join('; ')})`;
  return error;
}

function warnings(failures: Failure[]): string[] {
  return failures.filter((f) => f.error).map((f) => `skipped ${explain(f)}`);
}

function describe(c: ProvCandidate): string {
  return `${c.source} ${c.location}`;
}

function explain(f: Failure): string {
  return f.error ? `${describe(f.candidate)}: error[${f.error.code}] ${f.error.message}` : `${describe(f.candidate)}: none there`;
}
