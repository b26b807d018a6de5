import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { packageChart } from '../chart/index.js';
import type { ChartMetadata } from '../chart/index.js';
import { toWriteError, writeFileAtomic } from '../fs/atomic-write.js';
import { buildProvenanceMessage } from '../provenance/index.js';
import { resultOf } from './sign-chart.js';
import type { SignChartResult } from './sign-chart.js';
import { createSigner } from './signer.js';
import type { SignerOptions } from './signer.js';

export interface PackageOptions {
  chartDir: string;
  /** Output folder; default the current folder. */
  destination?: string;
  version?: string;
  appVersion?: string;
  /** Archive mtime; default SOURCE_DATE_EPOCH, else a fixed date (reproducible). */
  mtime?: Date;
  /** Sign as well (`--sign`): writes `<chart>.tgz.prov` beside the archive. */
  sign?: SignerOptions | false;
}

export interface PackageResult {
  path: string;
  fileName: string;
  metadata: ChartMetadata;
  sha256: string;
  size: number;
  /** Present when signed. */
  provenance?: SignChartResult;
}

/**
 * `chartprov package [--sign]`. With signing, the key is resolved and
 * unlocked first, and the archive is removed again if the .prov cannot be
 * written: the user never gets a tgz without the prov they asked for.
 */
export async function packageChartFlow(opts: PackageOptions): Promise<PackageResult> {
  const signer = opts.sign ? await createSigner(opts.sign) : undefined;
  const chartOpts = { chartDir: opts.chartDir, version: opts.version, appVersion: opts.appVersion, mtime: opts.mtime };
  const destination = resolve(opts.destination ?? '.');
  // Like `helm package -d`, a missing destination folder is created.
  await mkdir(destination, { recursive: true }).catch((err) => {
    throw toWriteError(destination, err);
  });
  if (!signer) return packageChart({ ...chartOpts, destination });

  // Package and sign inside a private folder next to the target, then move
  // both in: an existing tgz/prov pair is never replaced by a half pair.
  const staging = await mkdtemp(join(destination, '.chartprov-')).catch((err) => {
    throw toWriteError(destination, err);
  });
  try {
    const packaged = await packageChart({ ...chartOpts, destination: staging });
    const text = buildProvenanceMessage(packaged.metadata, basename(packaged.path), packaged.sha256);
    await writeFileAtomic(`${packaged.path}.prov`, await signer.sign(text));
    const path = join(destination, packaged.fileName);
    await rename(packaged.path, path);
    await rename(`${packaged.path}.prov`, `${path}.prov`);
    return { ...packaged, path, provenance: resultOf(path, `${path}.prov`, packaged.metadata, packaged.sha256, signer) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
