import { rmSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packageChart } from '../chart/index.js';
import type { ChartMetadata } from '../chart/index.js';
import { FileWriteError } from '../errors.js';
import { toWriteError, writeFileAtomic } from '../fs/atomic-write.js';
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

  const staging = await mkdtemp(join(destination, '.chartprov-')).catch((err) => {
    throw toWriteError(destination, err);
  });
  // Interrupted (Ctrl-C during a slow gpg or smartcard signature): remove the
  // unsigned archive with the staging folder, then die of the same signal.
  const onSignal = (signal: NodeJS.Signals): void => {
    rmSync(staging, { recursive: true, force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const packaged = await packageChart({ ...chartOpts, destination: staging });
    const message = buildProvenanceMessage(packaged.metadata, packaged.fileName, packaged.sha256);
    const signed = await signAndCheck(signer, message, packaged.fileName, packaged.sha256);
    await writeFileAtomic(`${packaged.path}.prov`, signed.prov);
    const path = join(destination, packaged.fileName);
    await movePairIn(staging, [
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
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Moves files into place all or nothing: what they replace is set aside in
 * `staging` first and put back if any move fails.
 */
async function movePairIn(staging: string, moves: Array<[from: string, to: string]>): Promise<void> {
  const restored: Array<[backup: string, target: string]> = [];
  const placed: string[] = [];
  try {
    for (const [i, [, to]] of moves.entries()) {
      const existing = await lstat(to).catch(() => undefined);
      if (!existing) continue;
      // Only a previous archive or prov is replaced; a folder in the way is the user's data.
      if (existing.isDirectory())
        throw new FileWriteError(to, { hint: 'a folder has the name of the file to write; move it away or choose another -d' });
      const backup = join(staging, `previous-${i}`);
      await rename(to, backup);
      restored.push([backup, to]);
    }
    for (const [from, to] of moves) {
      await rename(from, to);
      placed.push(to);
    }
  } catch (err) {
    await Promise.all(placed.map((p) => rm(p, { force: true })));
    for (const [backup, target] of restored) await rename(backup, target).catch(() => undefined);
    throw toWriteError(moves[0]![1], err);
  }
}
