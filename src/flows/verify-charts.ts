import { basename } from 'node:path';
import type { PublicKey } from 'openpgp';
import { readChartArchive } from '../chart/index.js';
import { ProvenanceInvalidError, ProvenanceMissingError, UsageError } from '../errors.js';
import { readSmallFile } from '../fs/read-file.js';
import { runBatch } from './pool.js';
import { defaultKeyringPaths, loadKeyring } from '../keys/index.js';
import { DEFAULT_MAX_PROV_BYTES, verifyProvenance } from '../provenance/index.js';
import type { SignerInfo } from '../provenance/index.js';

export interface VerifyChartsOptions {
  /** Chart archives to verify. */
  charts: string[];
  /** Public keyrings (any format: .gpg, .asc, .kbx, gpg home); default Helm's, then the gpg home. */
  keyrings?: string[];
  /** Already-loaded public keys (skips keyrings). */
  keys?: PublicKey[];
  /** The .prov to use when verifying a single chart; default `<chart>.prov`. */
  provPath?: string;
  /** Verification time (expiry checks); default now. */
  now?: Date;
  /** Charts verified at once; default 8. */
  concurrency?: number;
  /** Called after each chart, e.g. for a progress line. */
  onResult?: (result: ChartVerification, done: number, total: number) => void;
}

/**
 * One chart's outcome; a stable, documented shape (`--output json`).
 * `ok: true` means: the .prov is validly signed by a key in the keyring, it
 * lists this file with this sha256, and its name/version match Chart.yaml.
 */
export type ChartVerification =
  | {
      ok: true;
      chart: string;
      provenance: string;
      name: string;
      version: string;
      sha256: string;
      signer: SignerInfo;
    }
  | {
      ok: false;
      chart: string;
      provenance: string;
      error: { code: string; message: string; hint?: string };
    };

export interface VerifyChartsResult {
  verified: number;
  failed: number;
  results: ChartVerification[];
  /** Keys the keyrings held that could not be read (skipped), and similar notes. */
  warnings: string[];
}

/** Loads the public keys for verification from keyrings or Helm's defaults. */
export async function loadVerificationKeys(keyrings: string[] | undefined): Promise<PublicKey[]> {
  return (await loadVerificationKeyring(keyrings)).publicKeys;
}

async function loadVerificationKeyring(keyrings: string[] | undefined): Promise<{ publicKeys: PublicKey[]; warnings?: string[] }> {
  const paths = keyrings?.length ? keyrings : defaultKeyringPaths();
  if (paths.length === 0) {
    throw new UsageError('no keyring given and none found in ~/.gnupg', {
      hint: "pass --keyring FILE with the signer's public key (pubring.gpg, .asc, pubring.kbx or a gpg home)",
    });
  }
  return loadKeyring(paths);
}

type Verified = Extract<ChartVerification, { ok: true }>;

/**
 * A .prov from disk as text, refused past the size of any provenance file;
 * missing → PROV_MISSING naming the chart, with `missingHint`.
 */
export async function readProvenanceFile(provPath: string, chartFileName: string, missingHint: string): Promise<string> {
  const bytes = await readSmallFile(provPath, {
    what: 'provenance file',
    maxBytes: DEFAULT_MAX_PROV_BYTES,
    tooLarge: (size) =>
      new ProvenanceInvalidError(`${provPath} is ${size} bytes, larger than any provenance file (${DEFAULT_MAX_PROV_BYTES})`, {
        hint: 'point --prov at the .prov made for this chart',
      }),
    missing: () => new ProvenanceMissingError(`no provenance file for ${chartFileName}: ${provPath} does not exist`, { hint: missingHint }),
  });
  return bytes.toString('utf8');
}

async function checkOne(chart: string, provPath: string, keys: PublicKey[], now: Date | undefined): Promise<Verified> {
  // One read: the name/version checked and the digest are of the same bytes.
  const archive = await readChartArchive(chart);
  const { sha256 } = archive;
  const provenance = await readProvenanceFile(
    provPath,
    basename(chart),
    'sign the chart (chartprov sign) or point to the .prov with --prov',
  );
  const result = await verifyProvenance({
    provenance,
    fileName: basename(chart),
    sha256,
    keys,
    chartMetadata: { name: archive.metadata.name, version: archive.metadata.version },
    now,
  });
  return {
    ok: true,
    chart,
    provenance: provPath,
    name: archive.metadata.name,
    version: archive.metadata.version,
    sha256,
    signer: result.signer,
  };
}

/**
 * Verifies many charts in one call: keys parsed once, charts hashed and
 * checked in parallel. Never throws for a single chart's failure: each result
 * says ok or why not. Throws only for problems with the keyring or options.
 */
export async function verifyCharts(opts: VerifyChartsOptions): Promise<VerifyChartsResult> {
  if (opts.charts.length === 0) throw new UsageError('no chart to verify', { hint: 'give one or more CHART.tgz files' });
  if (opts.provPath && opts.charts.length > 1) {
    throw new UsageError('--prov applies to a single chart', { hint: 'verify charts one at a time, or put each .prov beside its chart' });
  }
  const keyring = opts.keys ? { publicKeys: opts.keys } : await loadVerificationKeyring(opts.keyrings);
  const keys = keyring.publicKeys;
  const warnings = [...(keyring.warnings ?? [])];
  if (keys.length === 0) warnings.push('the keyrings hold no public keys: no signature can verify');
  const results = await runBatch(
    opts.charts,
    opts.concurrency ?? 8,
    (chart): Promise<ChartVerification> => checkOne(chart, opts.provPath ?? `${chart}.prov`, keys, opts.now),
    (chart, error): ChartVerification => ({ ok: false, chart, provenance: opts.provPath ?? `${chart}.prov`, error }),
    opts.onResult,
  );
  const verified = results.filter((r) => r.ok).length;
  return { verified, failed: results.length - verified, results, warnings };
}

/** Verifies one chart and throws its ChartprovError when it fails. */
export async function verifyChart(
  opts: Omit<VerifyChartsOptions, 'charts' | 'onResult' | 'concurrency'> & { chart: string },
): Promise<Verified> {
  const keys = opts.keys ?? (await loadVerificationKeys(opts.keyrings));
  return checkOne(opts.chart, opts.provPath ?? `${opts.chart}.prov`, keys, opts.now);
}
