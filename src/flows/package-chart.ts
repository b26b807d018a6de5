import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packageChart } from '../chart/index.js';
import type { ChartMetadata } from '../chart/index.js';
import { toWriteError, writeFileAtomic } from '../fs/atomic-write.js';
import { movePairIn } from '../fs/move-into-place.js';
import { withStagingDir } from '../fs/staging.js';
import { buildProvenanceMessage } from '../provenance/index.js';
import type { SignChartResult } from './sign-chart.js';
import { createSigner, signAndCheck } from './signer.js';
import type { Signer, SignerOptions } from './signer.js';

export interface PackageOptions {
  chartDir: string;
  /** Output folder, created if missing (as `helm package -d`); default the current folder. */
  destination?: string;
  version?: string;
  appVersion?: string;
  /** Archive mtime; default SOURCE_DATE_EPOCH, else a fixed date (reproducible). */
  mtime?: Date;
  /** Sign as well (`--sign`): writes `<chart>.tgz.prov` beside the archive. Options, or a signer made with createSigner. */
  sign?: SignerOptions | Signer | false;
}

export interface PackageResult {
  path: string;
  fileName: string;
  metadata: ChartMetadata;
  sha256: string;
  size: number;
  warnings: string[];
  /** Present when signed. */
  provenance?: SignChartResult;
}

/**
 * `chartprov package [--sign]`. With signing, the key is resolved and
 * unlocked first; the archive and its .prov are made in a private folder and
 * moved in together, so the user never gets a tgz without the prov asked for.
 */
export async function packageChartFlow(opts: PackageOptions): Promise<PackageResult> {
  const signer = !opts.sign ? undefined : 'sign' in opts.sign ? opts.sign : await createSigner(opts.sign);
  const chartOpts = { chartDir: opts.chartDir, version: opts.version, appVersion: opts.appVersion, mtime: opts.mtime };
  const destination = resolve(opts.destination ?? '.');
  await mkdir(destination, { recursive: true }).catch((err) => {
    throw toWriteError(destination, err);
  });
  if (!signer) return packageChart({ ...chartOpts, destination });

  // Interrupted (Ctrl-C during a slow gpg or smartcard signature): the
  // unsigned archive goes with the staging folder.
  return withStagingDir(destination, async (staging) => {
    const packaged = await packageChart({ ...chartOpts, destination: staging });
    const message = buildProvenanceMessage(packaged.metadata, packaged.fileName, packaged.sha256);
    const signed = await signAndCheck(signer, message, packaged.fileName, packaged.sha256);
    await writeFileAtomic(`${packaged.path}.prov`, signed.prov);
    const path = join(destination, packaged.fileName);
    await movePairIn([
      [packaged.path, path],
      [`${packaged.path}.prov`, `${path}.prov`],
    ]);
    const { name, version } = packaged.metadata;
    const provenance = {
      chartPath: path,
      provPath: `${path}.prov`,
      name,
      version,
      sha256: packaged.sha256,
      signer: signed.signer,
      warnings: signer.warnings,
    };
    return { ...packaged, path, provenance };
  });
}
