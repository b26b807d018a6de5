import { basename } from 'node:path';
import { readChartArchive, sha256File } from '../chart/index.js';
import type { ChartMetadata } from '../chart/index.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { buildProvenanceMessage } from '../provenance/index.js';
import { createSigner } from './signer.js';
import type { Signer, SignerIdentity, SignerOptions } from './signer.js';

export interface SignChartOptions extends SignerOptions {
  /** The chart archive (.tgz) to sign. */
  chartPath: string;
  /** Where to write the .prov; default `<chartPath>.prov`. */
  provPath?: string;
  /** A signer made earlier with createSigner (skips key resolution). */
  signer?: Signer;
}

export interface SignChartResult {
  chartPath: string;
  provPath: string;
  name: string;
  version: string;
  sha256: string;
  signer: SignerIdentity;
  warnings: string[];
}

/** Signs an existing chart archive into `<chart>.prov`, as `helm package --sign` would. */
export async function signChart(opts: SignChartOptions): Promise<SignChartResult> {
  const signer = opts.signer ?? (await createSigner(opts));
  const { metadata } = await readChartArchive(opts.chartPath);
  const sha256 = await sha256File(opts.chartPath);
  const provPath = opts.provPath ?? `${opts.chartPath}.prov`;
  const prov = await signer.sign(buildProvenanceMessage(metadata, basename(opts.chartPath), sha256));
  await writeFileAtomic(provPath, prov);
  return resultOf(opts.chartPath, provPath, metadata, sha256, signer);
}

export function resultOf(chartPath: string, provPath: string, metadata: ChartMetadata, sha256: string, signer: Signer): SignChartResult {
  return {
    chartPath,
    provPath,
    name: metadata.name,
    version: metadata.version,
    sha256,
    signer: signer.identity,
    warnings: signer.warnings,
  };
}
